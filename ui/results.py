"""A bulk run's results on screen, at any size: an outcome filter with exact counts, the
download of what the filter shows (above the table, so it is there before the table is drawn),
and one page of rows at a time, coloured by outcome.

Counts come from SQL and the page from `LIMIT/OFFSET` on the journal, so a 100,000-row run
costs one page of rows here; the download is written from the journal when it is clicked.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from leadstream import views as view
from leadstream.deliver import reports
from leadstream.deliver.journal import Journal, JournalError

__all__ = ["PAGE_SIZE", "page_frame", "results_table"]

PAGE_SIZE = 100
ALL = "all"

state = st.session_state

_COLUMN_CONFIG = {
    "row": st.column_config.NumberColumn("Row", width="small", format="%d"),
    "outcome": st.column_config.TextColumn("Outcome", width="small"),
    "code": st.column_config.TextColumn("Code", width="medium"),
    "detail": st.column_config.TextColumn("Detail", width="large"),
    "lead_url": st.column_config.LinkColumn("Lead link", display_text="Open", width="small"),
    "attempts": st.column_config.NumberColumn("Tries", width="small", format="%d"),
}


def page_frame(rows: Sequence[reports.ResultRow]) -> pd.DataFrame:
    """One page of results as a table: row, outcome, code, detail, lead link and tries first,
    then the file's own columns."""
    originals: dict[str, None] = {}
    for row in rows:
        originals.update(dict.fromkeys(row.source))
    names = [*reports.RESULT_COLUMNS, *reports.file_column_names(list(originals))]
    records = [[*row.cells(), *(row.source.get(n, "") for n in originals)] for row in rows]
    return pd.DataFrame.from_records(records, columns=names)


def _choice_title(choice: str) -> str:
    return "All rows" if choice == ALL else choice.capitalize()


def results_table(journal: Journal, run_id: int, *, key: str, page_size: int = PAGE_SIZE) -> None:
    """The run's results: filter by outcome, download what is shown, read a page at a time.
    `key` prefixes this table's widget keys (one table per key on a page)."""
    try:
        info = journal.run(run_id)
    except JournalError as error:
        st.error(str(error))
        return
    by_state = {name: n for name, n in info.counts.items() if n}
    total = sum(by_state.values())
    if not total:
        st.caption("This run has no rows.")
        return
    by_label: dict[str, int] = {}
    for name, n in by_state.items():
        label = reports.outcome_label(name)
        by_label[label] = by_label.get(label, 0) + n
    counts = {ALL: total, reports.NOT_DELIVERED: total - by_label.get("delivered", 0), **by_label}
    choices = [ALL, reports.NOT_DELIVERED, *sorted(by_label, key=view.outcome_rank)]
    filter_key = f"{key}.show"
    if state.get(filter_key) not in choices:
        state[filter_key] = ALL
    picked = str(
        st.radio(
            "Show",
            choices,
            format_func=lambda c: f"{_choice_title(c)} ({counts[c]:,})",
            key=filter_key,
            horizontal=True,
        )
    )
    states = None if picked == ALL else reports.states_for([picked], by_state)
    shown = counts[picked]

    what = "all the results" if picked == ALL else f"the {shown:,} rows shown ({picked})"
    suffix = "" if picked == ALL else "-" + picked.replace(" ", "-")
    st.download_button(
        f"Download {'the results' if picked == ALL else 'these rows'} (CSV)",
        data=lambda: reports.results_csv(journal, run_id, states),
        file_name=f"{view.stem(info.source_name or 'leads')}-results-run{run_id}{suffix}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=f"{key}.download",
        disabled=shown == 0,
        help=f"Downloads {what}: the file's columns plus row, outcome, code, detail, lead link "
        "and tries.",
    )
    if not shown:
        st.caption("No rows here.")
        return
    pages = view.page_count(shown, page_size)
    page = 1
    if pages > 1:
        page_key = f"{key}.page.{picked}"
        if int(state.get(page_key) or 1) > pages:  # the run moved on and the filter shrank
            state[page_key] = pages
        page = st.pagination(pages, key=page_key) or 1
    start, stop = view.page_bounds(shown, page, page_size)
    st.caption(f"Rows {start + 1:,}–{stop:,} of {shown:,}.")
    rows = reports.run_rows_page(journal, run_id, states, start, stop - start)
    st.dataframe(
        view.coloured(page_frame(rows), "outcome"),
        hide_index=True,
        column_config=_COLUMN_CONFIG,
    )
