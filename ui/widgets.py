"""Small display helpers shared by the pages: field notes, outcomes, where leads go.

Only presentation lives here; what an outcome means comes from `leadstream.deliver.outcomes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import streamlit as st

from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.target import TargetKind
from leadstream.words import field_heading
from ui.state import Connection

__all__ = [
    "OUTCOME_ICONS",
    "OUTCOME_MARKS",
    "SentLead",
    "md",
    "note",
    "outcome_text",
    "show_sent",
    "target_label",
]

# Material icons for st.* `icon=` parameters (they need no emoji font on the computer).
OUTCOME_ICONS: dict[str, str] = {
    DeliveryOutcome.DELIVERED: ":material/check_circle:",
    DeliveryOutcome.REJECTED: ":material/block:",
    DeliveryOutcome.FAILED: ":material/replay:",
    DeliveryOutcome.INVALID: ":material/edit:",
    DeliveryOutcome.DUPLICATE: ":material/skip_next:",
    DeliveryOutcome.UNCERTAIN: ":material/help:",
}
# Plain marks for table cells and option lists, where icons are not drawn.
OUTCOME_MARKS: dict[str, str] = {
    DeliveryOutcome.DELIVERED: "✔",
    DeliveryOutcome.REJECTED: "✖",
    DeliveryOutcome.FAILED: "↻",
    DeliveryOutcome.INVALID: "✎",
    DeliveryOutcome.DUPLICATE: "=",
    DeliveryOutcome.UNCERTAIN: "?",
}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~:])")


def md(text: str) -> str:
    """`text` shown literally inside Streamlit markdown (names and answers may hold `*`, `$`…)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def outcome_text(outcome: str) -> str:
    return f"{OUTCOME_MARKS.get(outcome, '•')} {outcome}"


def target_label(conn: Connection) -> str:
    """Where leads go, for a person: `Built-in sandbox (127.0.0.1:54321)`."""
    kind = conn.target.kind
    if kind is TargetKind.SANDBOX:
        parts = urlsplit(conn.target.url)
        return f"{kind.label} ({parts.hostname}:{parts.port})"
    if kind is TargetKind.LIVE:
        return f"{kind.label} (real leads)"
    return f"{kind.label}: {conn.target.url or '(not set)'}"


def note(messages: Iterable[tuple[str, str]]) -> None:
    """Short notes under a field: `(level, message)` with level `error` or `warning`."""
    for level, message in messages:
        if level == "error":
            st.markdown(f":red[✖ {md(message)}]")
        else:
            st.markdown(f":orange[⚠ {md(message)}]")


@dataclass(frozen=True, slots=True)
class SentLead:
    """What the page remembers about the last send, to show until the next one."""

    time: str
    target: str
    sandbox: bool
    name: str
    outcome: str
    code: str
    help: str
    field: str
    field_label: str
    lead_url: str
    attempts: int
    attempt_lines: tuple[str, ...] = ()
    journal_problem: str = ""


def show_sent(sent: SentLead) -> None:
    """The answer to a send: success with its link, or the code with what to do."""
    outcome = sent.outcome
    where = f"{md(sent.name)} → {md(sent.target)} at {sent.time}"
    tries = f" after {sent.attempts} tries" if sent.attempts > 1 else ""
    if outcome == DeliveryOutcome.DELIVERED:
        st.success(
            f"**{sent.code}**{tries}: {md(sent.help)}\n\n{where}", icon=":material/check_circle:"
        )
        if sent.lead_url:
            st.link_button(
                "Open the lead in PhoneBurner", sent.lead_url, icon=":material/open_in_new:"
            )
            if sent.sandbox:
                st.caption(
                    "The sandbox makes up lead links like PhoneBurner's; they open no real lead."
                )
    elif outcome == DeliveryOutcome.REJECTED:
        heading = field_heading(sent.code)
        fix = f"\n\n**{heading}: {md(sent.field_label)}**" if sent.field_label else ""
        st.error(f"**{md(sent.code)}**: {md(sent.help)}{fix}\n\n{where}", icon=":material/block:")
    else:
        st.warning(
            f"**{md(sent.outcome)} ({md(sent.code)})**{tries}: {md(sent.help)}\n\n{where}",
            icon=OUTCOME_ICONS.get(outcome, ":material/warning:"),
        )
    if sent.journal_problem:
        st.warning(sent.journal_problem, icon=":material/description:")
    if sent.attempt_lines:
        with st.expander("Details of each try"):
            st.code("\n".join(sent.attempt_lines), language=None, wrap_lines=True)
