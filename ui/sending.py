"""Sending one lead from a page: the engine's `send_one` through the cached client, then a
summary for the page.

Used by the Post a lead form and the legend test. Network trouble never raises (the client
turns it into an outcome); a journal that cannot be written is reported, not fatal, because the
lead has already gone.
"""

from __future__ import annotations

import time

from leadstream.deliver.client import Attempt, Delivery
from leadstream.deliver.engine import NotRecorded, send_one
from leadstream.protocol.lead import LEAD_FIELDS, Lead
from ui.state import Connection, get_client, get_journal
from ui.widgets import SentLead, target_label

__all__ = ["field_label", "send_lead"]

_LABELS = {spec.name: spec.label for spec in LEAD_FIELDS}


def _attempt_line(attempt: Attempt) -> str:
    answer = f"HTTP {attempt.status}" if attempt.status is not None else "no answer"
    line = f"Try {attempt.number}: {attempt.code or answer} ({answer}, "
    line += f"{attempt.duration_s * 1000:.0f} ms)"
    if attempt.error:
        line += f" — {attempt.error}"
    return f"{line}\n  {attempt.masked_url}"


def field_label(name: str) -> str:
    """A person's name for a lead field or setting that an answer asks to fix."""
    if name in ("user_id", "cm_id"):
        return f"{_LABELS[name]} (in the form, or the default under Connection)"
    if name == "key":
        return "Vendor key (under Connection)"
    return _LABELS.get(name, name)


def send_lead(conn: Connection, lead: Lead, *, source: str) -> tuple[Delivery, SentLead]:
    """Post `lead` to the connection's target and record it in the journal as `source`."""
    journal_problem = ""
    try:
        delivery = send_one(
            get_journal(), get_client(conn), lead, source=source, target=conn.target
        )
    except NotRecorded as problem:  # the lead has gone; losing its history must not hide that
        delivery, journal_problem = problem.delivery, str(problem)
    result = delivery.result
    field = result.code.field if result is not None and not result.ok else ""
    sent = SentLead(
        time=time.strftime("%H:%M:%S"),
        target=target_label(conn),
        sandbox=conn.target.kind.value == "sandbox",
        name=lead.display_name,
        outcome=str(delivery.outcome),
        code=delivery.code,
        help=delivery.help,
        field=field,
        field_label=field_label(field) if field else "",
        lead_url=delivery.lead_url or "",
        attempts=len(delivery.attempts),
        attempt_lines=tuple(_attempt_line(a) for a in delivery.attempts),
        journal_problem=journal_problem,
    )
    return delivery, sent
