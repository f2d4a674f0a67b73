"""Hypothesis profiles for the whole suite, chosen with HYPOTHESIS_PROFILE (tests/conftest.py
loads one before any test module is imported):

- `ci` (the default, and what .ci/run uses): derandomized, so every run tries the same examples
  and a property test cannot turn CI red by chance; no example database, no deadline (a shared
  2-core machine is slow at random; hangs are caught by explicit time limits in the tests).
- `explore`: random examples, EXPLORE_FACTOR times as many per test, failures kept in
  .hypothesis/ and replayed first next time. For hunting: `HYPOTHESIS_PROFILE=explore python -m
  pytest tests/property`; HYPOTHESIS_SCALE=N hunts N times longer instead.

A test that sets its own count writes `max_examples=examples(N)`, so that `explore` scales it too
(an explicit count would otherwise override the profile's).
"""

from __future__ import annotations

import os

from hypothesis import settings

__all__ = ["EXPLORE_FACTOR", "PROFILES", "examples", "load"]

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
SCALE_VARIABLE = "HYPOTHESIS_SCALE"
EXPLORE_FACTOR = 20
BASE_EXAMPLES = 100
PROFILES = ("ci", "explore")

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=BASE_EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
)


def profile() -> str:
    name = os.environ.get(PROFILE_VARIABLE, "").strip() or "ci"
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_VARIABLE}={name!r}: choose one of {', '.join(PROFILES)}.")
    return name


def _explore_scale() -> float:
    text = os.environ.get(SCALE_VARIABLE, "").strip()
    if not text:
        return float(EXPLORE_FACTOR)
    try:
        scale = float(text)
    except ValueError:
        raise ValueError(f"{SCALE_VARIABLE}={text!r} is not a number.") from None
    if scale <= 0:
        raise ValueError(f"{SCALE_VARIABLE}={text!r} must be above 0.")
    return scale


def examples(count: int) -> int:
    """`count` examples under `ci`; scaled up under `explore`."""
    scale = _explore_scale() if profile() == "explore" else 1.0
    return max(1, round(count * scale))


settings.register_profile(
    "explore",
    derandomize=False,
    max_examples=round(BASE_EXAMPLES * _explore_scale()),
    deadline=None,
    print_blob=True,
)


def load() -> str:
    """Load the chosen profile; its name."""
    name = profile()
    settings.load_profile(name)
    return name
