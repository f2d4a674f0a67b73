"""The README's set-up stays two commands, each making its virtual environment, and CI runs the
test command the README shows."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = "python3 -m venv .venv && . .venv/bin/activate && "


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.DOTALL)


def test_the_readme_sets_up_in_two_commands_each_in_a_virtual_environment() -> None:
    app, tests = setup_commands()
    assert app == VENV + "pip install -r requirements.txt && streamlit run app.py"
    assert tests == VENV + "pip install -r requirements-dev.txt && python -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    steps = [step.strip() for step in setup_commands()[1].split("&&")]
    lines = [line.split() for line in script.splitlines() if not line.lstrip().startswith("#")]
    at = 0
    for step in steps:
        # CI may add flags (pip's -q, pytest's -q) but each step is there, in the README's order.
        words = set(step.split())
        found = next((i for i in range(at, len(lines)) if words <= set(lines[i])), None)
        assert found is not None, f".ci/run lacks the README's step {step!r}"
        at = found + 1
    assert "LEADSTREAM_E2E=1" in script
    assert "HYPOTHESIS_PROFILE=ci" in script
