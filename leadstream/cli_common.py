"""What every command of `leadstream` shares: exit statuses, the stop-with-a-message error,
argument types and the one way to speak on standard error."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

__all__ = [
    "EXIT_OK",
    "EXIT_UNFINISHED",
    "EXIT_USAGE",
    "CliError",
    "positive_float",
    "positive_int",
    "say",
]

EXIT_OK = 0
EXIT_UNFINISHED = 1
EXIT_USAGE = 2


class CliError(ValueError):
    """A reason to stop before or after sending; `code` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small; use 1 or more")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number above 0")
    return value


def say(message: str, stream: TextIO | None = None) -> None:
    """A line for the person at the terminal: standard error unless told, flushed at once."""
    print(message, file=stream or sys.stderr, flush=True)
