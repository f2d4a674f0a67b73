"""History: every lead sent from this computer (form, legend tests, bulk runs, the CLI), with
filters, a CSV export of everything the filters match, and "Open in form" to fix and send one
again.

Everything comes from the journal a page at a time: counts and filter choices are SQL, the
table is one page of 100, and the export is written from the journal when it is clicked, so
History reads the same with 100 leads or 100,000. No vendor key is stored there, so none can
show here.
"""

from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

from leadstream import views as view
from leadstream.deliver import reports
from leadstream.deliver.journal import HistoryEntry, HistoryFilter
from leadstream.deliver.outcomes import DeliveryOutcome
from ui import state as ui
from ui.widgets import OUTCOME_ICONS, md, outcome_text

K = "keep.history."
SEARCH_KEY = K + "search"
OUTCOMES_KEY = K + "outcomes"
SOURCES_KEY = K + "sources"
TARGETS_KEY = K + "targets"
PEOPLE_KEY = K + "people"
SINCE_KEY = K + "since"
PICK_KEY = K + "pick"
PAGE_KEY = "history.page"  # not kept across pages: each visit starts at page 1
PAGE_SIZE = 100
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
for name in (SEARCH_KEY, OUTCOMES_KEY, SOURCES_KEY, TARGETS_KEY, PEOPLE_KEY):
    state.setdefault(name, "" if name == SEARCH_KEY else [])
state.setdefault(SINCE_KEY, None)

st.title("History")
st.caption(
    "Every lead sent from this computer (from every desk of the team when the journal is "
    "shared), newest first. Choose one that did not go through and open it in the form to fix "
    "and send it again."
)

search_col, outcome_col, source_col, target_col, people_col, since_col = st.columns(
    [2, 2, 1, 1, 1, 1]
)
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
# Choices are every value the journal holds (plus what is chosen, should it be gone).
sources = sorted({*journal.history_sources(), "form", *state[SOURCES_KEY]})
source_col.multiselect("Sent from", sources, key=SOURCES_KEY, placeholder="Anywhere")
targets = sorted({*journal.history_targets(), *state[TARGETS_KEY]})
target_col.multiselect("Sent to", targets, key=TARGETS_KEY, placeholder="Any target")
people = sorted({*journal.history_people(), *state[PEOPLE_KEY]})
people_col.multiselect(
    "Sent by",
    people,
    key=PEOPLE_KEY,
    placeholder="Anyone",
    help="The signed-in person, or the computer's user@host when nobody signs in.",
)
since_col.date_input(
    "Sent since",
    key=SINCE_KEY,
    format="YYYY-MM-DD",
    help="Only leads sent on or after this day (this computer's time zone).",
)
since = state[SINCE_KEY]

wanted = HistoryFilter(
    search=state[SEARCH_KEY],
    outcomes=tuple(state[OUTCOMES_KEY]),
    sources=tuple(state[SOURCES_KEY]),
    targets=tuple(state[TARGETS_KEY]),
    since=None if since is None else datetime.combine(since, time.min),
    people=tuple(state[PEOPLE_KEY]),
)
by_outcome = journal.history_outcome_counts(wanted)
total = sum(by_outcome.values())

if not total:
    filtered = wanted != HistoryFilter()
    st.info(
        "No lead matches these filters; clear them to see everything."
        if filtered
        else "Nothing sent yet. Leads you send from Post a lead, legend tests and bulk uploads "
        "appear here.",
        icon=":material/description:",
    )
    st.stop()

ordered = sorted(by_outcome.items(), key=lambda item: (-item[1], view.outcome_rank(item[0])))
st.caption(
    f"{view.plural(total, 'lead')}: " + ", ".join(f"{n:,} {outcome}" for outcome, n in ordered)
)
st.download_button(
    f"Download {view.plural(total, 'lead')} (CSV)",
    data=lambda: reports.history_csv_bytes(journal, wanted),
    file_name=f"leadstream-history-{datetime.now():%Y%m%d-%H%M}.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    key="history.download",
    help="Every lead these filters match (not only this page), with every column, for a "
    "spreadsheet.",
)

pages = view.page_count(total, PAGE_SIZE)
page = 1
if pages > 1:
    # A new filter starts again at its first page.
    page_key = f"{PAGE_KEY}.{hash(wanted)}"
    page = st.pagination(pages, key=page_key) or 1
start, stop = view.page_bounds(total, page, PAGE_SIZE)
entries = journal.history_page(wanted, start, stop - start)
if pages > 1:
    st.caption(f"Leads {start + 1:,}–{stop:,} of {total:,}.")

table = pd.DataFrame(
    [
        {
            "Time": _local_time(e.time),
            "Sent from": e.source,
            "Target": e.target,
            "Sent by": e.sender,
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
    help="The leads of the page shown above; the newest that did not go through is chosen first.",
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
