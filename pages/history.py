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
from leadstream.deliver.target import TargetKind
from ui import state as ui
from ui.entry import through_app
from ui.phoneburner import check_phoneburner_button, was_checked
from ui.run_panel import open_run_page
from ui.widgets import OUTCOME_ICONS, md, outcome_text

through_app()  # before anything is drawn: see ui/entry.py

K = "keep.history."
SEARCH_KEY = K + "search"
OUTCOMES_KEY = K + "outcomes"
SOURCES_KEY = K + "sources"
TARGETS_KEY = K + "targets"
PEOPLE_KEY = K + "people"
SINCE_KEY = K + "since"
PICK_KEY = K + "pick"
CHECK_RUN_KEY = "history.check_run"
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


def _check_key(run_id: int) -> str:
    return f"history.check.{run_id}"


def _unsure_leads(entries: list[HistoryEntry], unsure: int) -> None:
    """The "Check PhoneBurner" button for the bulk runs of this page's uncertain leads (those
    runs still holding uncertain rows, or checked in this session); `unsure` is how many
    uncertain leads the filters match."""
    st.subheader("Leads with no clear answer")
    here = [e for e in entries if e.outcome == DeliveryOutcome.UNCERTAIN]
    if not here:
        st.caption(
            f"{view.plural(unsure, 'lead')} got no clear answer; choose Outcome: uncertain "
            "above to list them and check their runs in PhoneBurner."
        )
        return
    in_runs = sorted({e.run_id for e in here if e.run_id}, reverse=True)
    runs = [journal.run(run_id) for run_id in in_runs]
    runs = [r for r in runs if r.counts.get("uncertain", 0) or was_checked(_check_key(r.id))]
    if not runs:
        st.caption(
            "The uncertain leads on this page were sent one at a time (look for each one in "
            "PhoneBurner, by its email, before sending it again), or belong to bulk runs checked "
            "already, whose newer lines say what was found."
        )
        return
    st.caption(
        "They may or may not be in PhoneBurner. Check PhoneBurner looks up each uncertain row "
        "of a bulk run there (with the access token in the sidebar): found ones become "
        "delivered; the ones not there can then be sent again. A lead that might be there is "
        "never sent again."
    )
    by_id = {r.id: r for r in runs}
    if state.get(CHECK_RUN_KEY) not in by_id:
        state[CHECK_RUN_KEY] = runs[0].id
    if len(runs) > 1:
        st.selectbox(
            "Run",
            list(by_id),
            key=CHECK_RUN_KEY,
            format_func=lambda i: (
                f"Run #{i} · {by_id[i].source_name or 'file'} · "
                f"{by_id[i].counts.get('uncertain', 0):,} uncertain"
            ),
            help="The bulk runs of the uncertain leads on the page shown above.",
        )
    else:
        st.caption(f"Run #{runs[0].id} · {runs[0].source_name or 'file'}.")
    info = by_id[state[CHECK_RUN_KEY]]
    check_phoneburner_button(
        journal,
        info.id,
        vendor_key=ui.configured_key()[0],
        url=ui.get_sandbox().url if info.target_kind == TargetKind.SANDBOX else None,
        key=_check_key(info.id),
        open_run=open_run_page,
    )


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

if unsure := by_outcome.get(DeliveryOutcome.UNCERTAIN, 0):
    _unsure_leads(entries, unsure)

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
