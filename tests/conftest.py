"""Shared fixtures: one real sandbox server on 127.0.0.1 for the whole session, and a guard
that keeps every connection the tests make on this machine's loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis_profiles import load as load_hypothesis_profile

from leadstream.sandbox import Account, SandboxServer

# PostgreSQL fixtures (`pg_url`, `backend`, `database_url`) for the journal on both backends.
pytest_plugins = ["pg_fixtures"]

# Before any test module builds its settings: `ci` (derandomized) unless HYPOTHESIS_PROFILE says.
load_hypothesis_profile()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The demo account's sandbox on a free loopback port, no faults, no log."""
    with SandboxServer(Account.demo(), port=0, log=None) as server:
        yield server


@pytest.fixture
def fresh_sandbox(sandbox: SandboxServer) -> SandboxServer:
    """The session sandbox with no stored leads and zeroed counts."""
    sandbox.reset()
    return sandbox


class OffLoopbackConnection(AssertionError):
    """A test tried to reach an address off this machine."""


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # a Unix socket path
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it would need a DNS look-up


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_loopback(address):
        raise OffLoopbackConnection(f"tests may only connect to 127.0.0.1, not {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_loopback(address):
        raise OffLoopbackConnection(f"tests may only connect to 127.0.0.1, not {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _only_loopback() -> Iterator[None]:
    """Fail any test (in this process) that opens a connection off the loopback."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
