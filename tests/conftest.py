"""Shared fixtures: one real sandbox server on 127.0.0.1 for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadstream.sandbox import Account, SandboxServer


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
