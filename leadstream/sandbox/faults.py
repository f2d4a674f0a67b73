"""Faults the sandbox can inject into put_contact, and the seeded dice that pick them.

A real endpoint is sometimes slow, overloaded, silent, or answers with somebody's error page.
`Faults` says how often; `FaultPlan` decides, per request, which fault (at most one) happens:
the rate limit first, then one random draw over the other four.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

__all__ = ["FAULT_KINDS", "FaultKind", "FaultPlan", "Faults", "FaultsError"]

FaultKind = Literal["fail", "timeout", "lost_reply", "garbage", "rate_limited"]
FAULT_KINDS: tuple[FaultKind, ...] = ("fail", "timeout", "lost_reply", "garbage", "rate_limited")


class FaultsError(ValueError):
    """A fault setting out of range; the message names the setting and its allowed range."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """How the sandbox misbehaves. All off by default; rates are probabilities per request."""

    latency_ms: float = 0
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    lost_reply_rate: float = 0.0
    garbage_rate: float = 0.0
    rate_limit: float | None = None  # requests per second; over it → 429
    seed: int | None = None
    timeout_hold_s: float = 30.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise FaultsError(f"{f.name} must be a finite number, not {value}.")
        rates = {name: getattr(self, name) for name in _RATE_FIELDS}
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise FaultsError(f"{name} is {rate}; a rate is between 0 and 1 (0.1 = 10%).")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise FaultsError(
                "The fault rates add up to more than 1; at most one fault happens per request, "
                "so lower some of them."
            )
        if self.latency_ms < 0:
            raise FaultsError(f"latency_ms is {self.latency_ms}; use 0 or more milliseconds.")
        if self.timeout_hold_s < 0:
            raise FaultsError(f"timeout_hold_s is {self.timeout_hold_s}; use 0 or more seconds.")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise FaultsError(
                f"rate_limit is {self.rate_limit}; use a positive number of requests a second, "
                "or leave it out for no limit."
            )

    def describe(self) -> str:
        """The faults in force, for a banner: `latency 50 ms, fail 10%, rate limit 5/s`."""
        parts = [f"latency {self.latency_ms:g} ms"] if self.latency_ms else []
        parts += [
            f"{kind.replace('_', ' ')} {getattr(self, name):.0%}"
            for kind, name in _DRAWN
            if getattr(self, name)
        ]
        if self.rate_limit is not None:
            parts.append(f"rate limit {self.rate_limit:g}/s")
        return ", ".join(parts) or "no faults"


# The faults drawn at random, in the order their shares of the draw are laid out.
_DRAWN: tuple[tuple[FaultKind, str], ...] = (
    ("fail", "fail_rate"),
    ("timeout", "timeout_rate"),
    ("lost_reply", "lost_reply_rate"),
    ("garbage", "garbage_rate"),
)
_RATE_FIELDS = tuple(name for _, name in _DRAWN)


class FaultPlan:
    """Draws the fault of each request from `faults`; thread-safe, repeatable with a seed."""

    def __init__(self, faults: Faults, *, clock: Callable[[], float] = time.monotonic):
        self.faults = faults
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(self.faults.seed)
            self._tokens = self._capacity
            self._last = self._clock()

    @property
    def _capacity(self) -> float:
        # A burst of up to R requests is allowed, refilled at R a second.
        return max(1.0, self.faults.rate_limit or 0.0)

    def draw(self) -> FaultKind | None:
        """The fault for the next request, or None to answer it normally."""
        f = self.faults
        with self._lock:
            if f.rate_limit is not None:
                now = self._clock()
                elapsed = max(0.0, now - self._last)
                self._tokens = min(self._capacity, self._tokens + elapsed * f.rate_limit)
                self._last = now
                if self._tokens < 1.0 - 1e-9:  # 1e-9: R tokens in 1/R s must make one
                    return "rate_limited"
                self._tokens -= 1.0
            if not any(getattr(f, name) for name in _RATE_FIELDS):
                return None
            roll = self._rng.random()
        for kind, name in _DRAWN:
            rate: float = getattr(f, name)
            if roll < rate:
                return kind
            roll -= rate
        return None
