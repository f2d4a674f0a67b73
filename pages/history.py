"""History: every lead sent from this computer (form, legend tests, bulk runs, the CLI), with
filters, a CSV export, and "Open in form" to fix and send one again.

Everything comes from the journal; no vendor key is stored there, so none can show here.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from leadstream.deliver.journal import HistoryEntry, history_csv
from leadstream.deliver.outcomes import DeliveryOutcome
from ui import state as ui
from ui.widgets import OUTCOME_ICONS, md, outcome_text

K = "keep.history."
SEARCH_KEY = K + "search"
OUTCOMES_KEY = K + "outcomes"
SOURCES_KEY = K + "sources"
PICK_KEY = K + "pick"
LOAD = ui.FORM_LOAD_KEY
FORM_PAGE = "pages/post_lead.py"

state = st.session_state


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _label(entry: HistoryEntry) -> str:
    who = entry.name or entry.email or "(no name)"
    return f"#{entry.id} · {_local_time(entry.time)} · {who} · {entry.outcome} {entry.code}"


def _open_in_form(entry: HistoryEntry) -> None:
    state[LOAD] = {
        "lead": entry.lead,
        "note": f"Opened from History: {entry.name or entry.email or 'a lead'} sent "
        f"{_local_time(entry.time)}, answer {entry.code or entry.outcome}. {entry.help} "
        "Fix what is needed and press Send.",
    }


journal = ui.get_journal()
state.setdefault(SEARCH_KEY, "")
state.setdefault(OUTCOMES_KEY, [])
state.setdefault(SOURCES_KEY, [])

st.title("History")
st.caption(
    "Every lead sent from this computer, newest first. Choose one that did not go through and "
    "open it in the form to fix and send it again."
)

all_sources = sorted({e.source for e in journal.history(limit=5000)} | {"form"})
search_col, outcome_col, source_col = st.columns([2, 2, 1])
search_col.text_input(
    "Search",
    key=SEARCH_KEY,
    placeholder="Name, email, code, cm_id…",
    help="Looks in names, emails, user and LeadStream IDs, answer codes and lead links.",
)
outcome_col.multiselect(
    "Outcome",
    [o.value for o in DeliveryOutcome],
    key=OUTCOMES_KEY,
    format_func=outcome_text,
    placeholder="All outcomes",
)
source_col.multiselect("Sent from", all_sources, key=SOURCES_KEY, placeholder="Anywhere")

entries = journal.history(
    search=state[SEARCH_KEY], outcomes=state[OUTCOMES_KEY], sources=state[SOURCES_KEY]
)

if not entries:
    filtered = state[SEARCH_KEY] or state[OUTCOMES_KEY] or state[SOURCES_KEY]
    st.info(
        "No lead matches these filters; clear them to see everything."
        if filtered
        else "Nothing sent yet. Leads you send from Post a lead, legend tests and bulk uploads "
        "appear here.",
        icon=":material/description:",
    )
    st.stop()

table = pd.DataFrame(
    [
        {
            "Time": _local_time(e.time),
            "Sent from": e.source,
            "Target": e.target,
            "Name": e.name,
            "Email": e.email,
            "Outcome": outcome_text(e.outcome),
            "Code": e.code,
            "Lead link": e.lead_url or "",
            "Tries": e.attempts,
        }
        for e in entries
    ]
)
counts = pd.Series([e.outcome for e in entries]).value_counts()
st.caption(
    f"{len(entries):,} lead{'s' if len(entries) != 1 else ''}: "
    + ", ".join(f"{n:,} {outcome}" for outcome, n in counts.items())
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(entries), 420),
    column_config={
        "Lead link": st.column_config.LinkColumn("Lead link", display_text="open"),
        "Tries": st.column_config.NumberColumn("Tries", format="%d"),
    },
)
st.download_button(
    "Download as CSV",
    data=history_csv(entries),
    file_name=f"leadstream-history-{datetime.now():%Y%m%d-%H%M}.csv",
    mime="text/csv",
    icon=":material/download:",
    help="The leads shown, with every column, for a spreadsheet.",
)

st.subheader("Fix and send again")
by_id = {e.id: e for e in entries}
not_delivered = [e for e in entries if e.outcome != DeliveryOutcome.DELIVERED]
if state.get(PICK_KEY) not in by_id:
    state[PICK_KEY] = (not_delivered or entries)[0].id
st.selectbox(
    "Lead",
    list(by_id),
    key=PICK_KEY,
    format_func=lambda i: _label(by_id[i]),
    help="Leads that did not go through are listed with the rest; the newest is chosen first.",
)
picked = by_id[state[PICK_KEY]]
box = st.container(border=True)
box.markdown(
    f"**{md(picked.name or picked.email or '(no name)')}** · {md(picked.email)} · to "
    f"{md(picked.target)} (user {md(picked.user_id)}, cm_id {md(picked.cm_id)})"
)
message = f"**{md(picked.code or picked.outcome)}**: {md(picked.help)}"
if picked.outcome == DeliveryOutcome.DELIVERED:
    box.success(message, icon=":material/check_circle:")
    box.caption("This lead went through; opening it in the form makes a new lead to send.")
else:
    box.error(message, icon=OUTCOME_ICONS.get(picked.outcome, ":material/block:"))
if box.button("Open in form", type="primary", icon=":material/edit:"):
    _open_in_form(picked)
    st.switch_page(FORM_PAGE)
if picked.attempt_log:
    with box.expander("Details of each try"):
        for number, attempt in enumerate(picked.attempt_log, start=1):
            status = attempt.get("status")
            answer = f"HTTP {status}" if status is not None else "no answer"
            st.text(
                f"Try {number}: {attempt.get('code') or answer} ({answer})"
                + (f" — {attempt['error']}" if attempt.get("error") else "")
            )
