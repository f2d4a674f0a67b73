"""The row plan of a bulk run: what will happen to each prepared row before anything is sent.

A row with errors is `invalid`; a row repeating an earlier row of the file, or a lead already
delivered to the same target and LeadStream, is a `duplicate` (unless the person asks to send
duplicates too); a lead whose earlier send may have arrived is sent again only as the resend
rule allows, and is otherwise held back as `uncertain`; every other row is `pending`.

"The same lead" is `prepare.identity`'s rule. What may be sent again is the delivery layer's
rule (`deliver.outcomes.may_send_again`); planning sits below delivery, so the rule is handed
in rather than imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from leadstream.prepare.identity import fingerprint, has_email
from leadstream.prepare.mapping import PreparedRow, find_duplicates

__all__ = [
    "PLANNED_STATES",
    "PlannedRow",
    "PlannedState",
    "ResendRule",
    "Seen",
    "plan_rows",
    "plan_summary",
]

PlannedState = Literal["pending", "invalid", "duplicate", "uncertain"]
PLANNED_STATES: tuple[PlannedState, ...] = ("pending", "invalid", "duplicate", "uncertain")

# Fingerprints known from earlier sends: one set for every cm_id, or a set per cm_id.
Seen = set[str] | frozenset[str] | Mapping[str, set[str]]

_HELD_UNSURE = (
    "An earlier send of this lead got no clear answer and it has no email, so sending it again "
    "could store it twice. Look for it in PhoneBurner first."
)


class ResendRule(Protocol):
    """Whether a lead left in `state` may be sent again (`deliver.outcomes.may_send_again`)."""

    def __call__(self, state: str, /, *, has_email: bool) -> bool: ...


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """What will happen to one prepared row: sent (`pending`) or kept back, and why."""

    row: PreparedRow
    state: PlannedState
    reason: str = ""
    maybe_sent: bool = False  # an earlier send may have arrived: DUPLICATE EMAIL then = delivered


def _seen(known: Seen, cm_id: str) -> set[str] | frozenset[str]:
    if isinstance(known, set | frozenset):
        return known
    return known.get(cm_id, set())


def plan_rows(
    prepared_rows: Sequence[PreparedRow],
    *,
    delivered: Seen,
    uncertain: Seen = frozenset(),
    include_duplicates: bool = False,
    may_send_again: ResendRule,
) -> list[PlannedRow]:
    """Each row's plan, in file order.

    `delivered` and `uncertain` are fingerprints of leads delivered before, and of leads whose
    earlier send may have arrived, to the run's target. `may_send_again` decides for the
    latter: allowed, the row is sent with `maybe_sent` (a `DUPLICATE EMAIL` answer then means
    the earlier send arrived); refused, it is held back as `uncertain`, unless the person
    chose to send duplicates too.
    """
    # Each lead's fingerprint worked out once, for the file's repeats and the journal's sends.
    marks = {row.index: fingerprint(row.lead) for row in prepared_rows if not row.errors}
    repeats = find_duplicates(prepared_rows, fingerprints=marks)
    lines = {row.index: row.line for row in prepared_rows}
    plans: list[PlannedRow] = []
    for row in prepared_rows:
        if row.errors:
            reason = "; ".join(problem.message for problem in row.errors)
            plans.append(PlannedRow(row, "invalid", reason))
            continue
        mark = marks[row.index]
        cm_id = row.lead.cm_id
        emailed = has_email(row.lead)
        if not include_duplicates:
            if mark in _seen(delivered, cm_id):
                what = "this email" if emailed else "these exact details"
                # The journal may be the team's: History says who sent it and when.
                reason = (
                    f"A lead with {what} was already delivered to this LeadStream (History "
                    "shows who sent it and when)."
                )
                plans.append(PlannedRow(row, "duplicate", reason))
                continue
            if row.index in repeats:
                first = lines.get(repeats[row.index], repeats[row.index] + 2)
                same = "Same email as" if emailed else "Identical to"
                plans.append(PlannedRow(row, "duplicate", f"{same} row {first}."))
                continue
        if mark in _seen(uncertain, cm_id):
            if may_send_again("uncertain", has_email=emailed):
                plans.append(PlannedRow(row, "pending", maybe_sent=True))
                continue
            if not include_duplicates:
                plans.append(PlannedRow(row, "uncertain", _HELD_UNSURE))
                continue
        plans.append(PlannedRow(row, "pending"))
    return plans


def plan_summary(plans: Sequence[PlannedRow]) -> dict[str, int]:
    """How many rows each plan state has: `{"pending": 97, "invalid": 2, "duplicate": 1, …}`."""
    counts: dict[str, int] = dict.fromkeys(PLANNED_STATES, 0)
    for plan in plans:
        counts[plan.state] += 1
    return counts
