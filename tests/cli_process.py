"""Shared set-up for the tests that run the CLI in a child process (no tests here): its
environment, its command lines, and waiting for a sender to store some leads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from leadstream.deliver.target import DEMO_KEY
from leadstream.sandbox import SandboxServer

REPO = Path(__file__).resolve().parents[1]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment with LEADSTREAM_HOME `home`, the demo key, this checkout
    importable, and `extra` on top."""
    return {
        **os.environ,
        "LEADSTREAM_HOME": str(home),
        "LEADSTREAM_KEY": DEMO_KEY,
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra,
    }


def cli_argv(*args: str) -> list[str]:
    """`python -m leadstream ARGS…` with this interpreter."""
    return [sys.executable, "-m", "leadstream", *args]


def send_argv(leads: Path, server: SandboxServer, *more: str, concurrency: int = 4) -> list[str]:
    """`leadstream send LEADS` to `server` for the demo user and contact owner."""
    return cli_argv(
        "send",
        str(leads),
        "--url",
        server.url,
        "--user-id",
        "377310706",
        "--cm-id",
        "576846",
        "--concurrency",
        str(concurrency),
        *more,
    )


def run_cli(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`argv` run to its end, its output captured as text."""
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def wait_for_stored(
    server: SandboxServer,
    sender: subprocess.Popen[str] | subprocess.Popen[bytes],
    count: int,
    stuck: str,
    *,
    every: float = 0.01,
) -> None:
    """Until `server` holds `count` leads, while `sender` still runs (its output shown if it
    ended); fails with `stuck` after a minute."""
    deadline = time.monotonic() + 60
    while len(server.leads()) < count:
        assert sender.poll() is None, sender.communicate()
        assert time.monotonic() < deadline, stuck
        time.sleep(every)
