"""The conftest guard: tests cannot open a connection off the loopback, by mistake or not."""

import socket

import pytest


@pytest.mark.parametrize("address", [("192.0.2.1", 9), ("10.0.0.1", 80), ("example.com", 80)])
def test_the_guard_refuses_addresses_off_the_loopback(address: tuple[str, int]) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with probe, pytest.raises(AssertionError, match="tests may only connect to"):
        probe.connect(address)


def test_the_guard_lets_loopback_through(sandbox) -> None:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5):
        pass
