"""The row plan of a run: invalid rows, duplicates in the file and against the journal, and
leads whose earlier send may have arrived, decided by the one resend rule."""

from __future__ import annotations

import dataclasses

import pytest

from leadstream.deliver.engine import plan_with
from leadstream.deliver.outcomes import may_send_again
from leadstream.deliver.target import DEMO_CM_ID, DEMO_USER_ID
from leadstream.prepare.identity import fingerprint
from leadstream.prepare.mapping import PreparedRow
from leadstream.prepare.plan import PlannedRow, plan_rows, plan_summary
from leadstream.prepare.validate import Problem
from leadstream.protocol.lead import Lead

BAD = Problem("email", "Row 4: not an email address", "error")
WARN = Problem("phone", "Row 5: short phone", "warning")


def lead(n: int, *, email: bool = True) -> Lead:
    return Lead(
        firstname=f"Person{n}",
        email=f"person{n}@example.com" if email else "",
        phone=f"716555{n:04d}",
        user_id=DEMO_USER_ID,
        cm_id=DEMO_CM_ID,
    )


def prepared(n: int, lead_: Lead, *problems: Problem) -> PreparedRow:
    return PreparedRow(index=n, line=n + 2, lead=lead_, problems=tuple(problems), source={})


ROWS = [
    prepared(0, lead(0)),
    prepared(1, dataclasses.replace(lead(1), email="PERSON0@example.com")),  # repeats row 0
    prepared(2, dataclasses.replace(lead(2), email="bad"), BAD),
    prepared(3, lead(3), WARN),  # a warning does not hold a row back
    prepared(4, lead(4)),  # delivered before
    prepared(5, lead(5, email=False)),  # uncertain before, no email
    prepared(6, lead(6)),  # uncertain before, with email
    prepared(7, lead(5, email=False)),  # identical to row 5
    prepared(8, dataclasses.replace(lead(8), email="STRASSE@x.de")),  # delivered as straße@
]
DELIVERED = {fingerprint(lead(4)), fingerprint(Lead(email="straße@x.de"))}
UNCERTAIN = {DEMO_CM_ID: {fingerprint(lead(5, email=False)), fingerprint(lead(6))}}

# include_duplicates, then (state, maybe_sent) of each row
PLANS = [
    (
        False,
        [
            ("pending", False),
            ("duplicate", False),
            ("invalid", False),
            ("pending", False),
            ("duplicate", False),
            ("uncertain", False),
            ("pending", True),
            ("duplicate", False),
            ("duplicate", False),
        ],
    ),
    (
        True,
        [
            ("pending", False),
            ("pending", False),
            ("invalid", False),
            ("pending", False),
            ("pending", False),
            ("pending", False),  # the person chose to send it anyway
            ("pending", True),
            ("pending", False),
            ("pending", False),
        ],
    ),
]


@pytest.mark.parametrize(("include_duplicates", "expected"), PLANS)
def test_plan_decides_each_row(include_duplicates: bool, expected: list[tuple[str, bool]]) -> None:
    plans = plan_with(ROWS, DELIVERED, UNCERTAIN, include_duplicates)
    assert [(p.state, p.maybe_sent) for p in plans] == expected


def test_reasons_name_the_row_and_the_cause() -> None:
    reasons = {p.row.index: p.reason for p in plan_with(ROWS, DELIVERED, UNCERTAIN)}
    assert reasons[1] == "Same email as row 2."
    assert reasons[2] == "Row 4: not an email address"
    assert "already delivered" in reasons[4]
    assert "no email" in reasons[5]
    assert reasons[7] == "Identical to row 7."
    assert reasons[0] == reasons[3] == reasons[6] == ""


def test_summary_counts_every_state() -> None:
    plans = plan_with(ROWS, DELIVERED, UNCERTAIN)
    assert plan_summary(plans) == {"pending": 3, "invalid": 1, "duplicate": 4, "uncertain": 1}
    assert plan_summary([]) == {"pending": 0, "invalid": 0, "duplicate": 0, "uncertain": 0}


def test_delivered_is_scoped_by_cm_id() -> None:
    rows = [prepared(0, lead(0)), prepared(1, dataclasses.replace(lead(1), cm_id="999"))]
    seen = {DEMO_CM_ID: {fingerprint(lead(0))}, "999": set()}
    assert [p.state for p in plan_with(rows, seen, frozenset())] == ["duplicate", "pending"]
    seen = {"999": {fingerprint(lead(0)), fingerprint(lead(1))}}
    assert [p.state for p in plan_with(rows, seen, frozenset())] == ["pending", "duplicate"]


# What the planner asks of the resend rule, and what it then does with the row.
RULES = [
    ("never", "uncertain", False),
    ("always", "pending", True),
    ("the delivery rule", "pending", True),
]


@pytest.mark.parametrize(("rule", "state", "maybe_sent"), RULES)
def test_the_resend_rule_is_the_one_handed_in(rule: str, state: str, maybe_sent: bool) -> None:
    asked: list[tuple[str, bool]] = []

    def decide(current: str, /, *, has_email: bool) -> bool:
        asked.append((current, has_email))
        if rule == "never":
            return False
        if rule == "always":
            return True
        return may_send_again(current, has_email=has_email)

    rows = [prepared(0, lead(0))]
    plans = plan_rows(
        rows, delivered=set(), uncertain={fingerprint(lead(0))}, may_send_again=decide
    )
    assert [(p.state, p.maybe_sent) for p in plans] == [(state, maybe_sent)]
    assert asked == [("uncertain", True)]


def test_planned_rows_are_values() -> None:
    row = prepared(0, lead(0))
    assert PlannedRow(row, "pending") == PlannedRow(row, "pending")
    with pytest.raises(dataclasses.FrozenInstanceError):
        PlannedRow(row, "pending").state = "invalid"  # type: ignore[misc]
