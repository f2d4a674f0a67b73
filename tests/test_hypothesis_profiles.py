"""The Hypothesis profiles: CI derandomized by default, `explore` scaling every count up."""

from __future__ import annotations

import os

import hypothesis_profiles as profiles
import pytest
from hypothesis import settings


def test_the_suite_runs_derandomized_unless_asked_to_explore() -> None:
    if os.environ.get(profiles.PROFILE_VARIABLE, "ci") in ("", "ci"):
        assert settings.default.derandomize is True
        assert settings.default.database is None
    assert settings.default.deadline is None


EXAMPLES = [
    # HYPOTHESIS_PROFILE, HYPOTHESIS_SCALE, count asked → count run
    ("", "", 60, 60),
    ("ci", "50", 60, 60),  # the scale only applies when exploring
    ("explore", "", 60, 60 * profiles.EXPLORE_FACTOR),
    ("explore", "2.5", 60, 150),
    ("explore", "0.001", 60, 1),
]


@pytest.mark.parametrize(("profile", "scale", "count", "run"), EXAMPLES)
def test_examples(
    monkeypatch: pytest.MonkeyPatch, profile: str, scale: str, count: int, run: int
) -> None:
    monkeypatch.setenv(profiles.PROFILE_VARIABLE, profile)
    monkeypatch.setenv(profiles.SCALE_VARIABLE, scale)
    assert profiles.examples(count) == run


WRONG = [
    ("fast", "", "HYPOTHESIS_PROFILE='fast': choose one of ci, explore"),
    ("explore", "lots", "HYPOTHESIS_SCALE='lots' is not a number"),
    ("explore", "-1", "must be above 0"),
]


@pytest.mark.parametrize(("profile", "scale", "message"), WRONG)
def test_wrong_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, profile: str, scale: str, message: str
) -> None:
    monkeypatch.setenv(profiles.PROFILE_VARIABLE, profile)
    monkeypatch.setenv(profiles.SCALE_VARIABLE, scale)
    with pytest.raises(ValueError, match=message):
        profiles.examples(10)
