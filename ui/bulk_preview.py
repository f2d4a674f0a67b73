"""Step 3 of the Bulk upload page: check every row before anything is sent.

`preview_step()` checks the rows against the mapping (`leadstream.prepare.mapping`), plans
them against the journal (duplicates, earlier sends), and draws the notes on date and name
columns, which rows go, the count tiles, the filter bar with the problem-rows download and one
page of rows. The checked rows and the plan are kept in the session under a key of what they
depend on, so a click that changes none of it redoes none of it.
"""

from __future__ import annotations

import zlib
from typing import Any

import streamlit as st

from leadstream import views as view
from leadstream.deliver.engine import engine_for
from leadstream.deliver.journal import Journal
from leadstream.prepare.files import Table
from leadstream.prepare.legend import Legend
from leadstream.prepare.mapping import (
    ColumnMapping,
    DateColumn,
    PreparedRow,
    date_columns,
    date_notes,
    full_name_note,
    prepare_rows,
)
from ui import state as ui
from ui.bulk_keys import (
    DATE_NOTES,
    DATE_ORDER,
    FILTER,
    INCLUDE_DUPLICATES,
    MAPPING,
    PREPARED,
    PREVIEW,
    SEND_WARNINGS,
    TABLE,
    StoredFile,
)
from ui.widgets import md

__all__ = ["preview_step"]

state = st.session_state


def _legend_key(legend: Legend | None) -> tuple[Any, ...]:
    if legend is None:
        return ()
    return (legend.name, legend.cm_id, tuple((f.id, f.name, str(f.type)) for f in legend.fields))


def _journal_marker(journal: Journal) -> int:
    """Changes whenever something is posted, so the duplicate check is planned again."""
    latest = journal.history(limit=1)
    return latest[0].id if latest else 0


def _prepared(
    stored: StoredFile, table: Table, mapping: ColumnMapping, legend: Legend | None
) -> tuple[tuple[Any, ...], list[PreparedRow]]:
    key = (state[TABLE][0], mapping.to_json(), _legend_key(legend))
    cached = state.get(PREPARED)
    if cached is None or cached[0] != key:
        with st.spinner(f"Checking {len(table):,} rows…"):
            rows = prepare_rows(table.frame, mapping, legend=legend, row_numbers=table.row_numbers)
        cached = (key, rows)
        state[PREPARED] = cached
    return cached


def _preview(
    prepared_key: tuple[Any, ...],
    prepared: list[PreparedRow],
    conn: ui.Connection,
    journal: Journal,
) -> tuple[tuple[Any, ...], view.Preview]:
    send_warnings = state.get(SEND_WARNINGS, "warnings") == "warnings"
    include_duplicates = bool(state.get(INCLUDE_DUPLICATES, False))
    key = (
        prepared_key,
        conn.target.name,
        send_warnings,
        include_duplicates,
        _journal_marker(journal),
    )
    cached = state.get(PREVIEW)
    if cached is None or cached[0] != key:
        delivered, uncertain = engine_for(journal).known(conn.target, prepared)
        cached = (
            key,
            view.plan_preview(
                prepared,
                delivered=delivered,
                uncertain=uncertain,
                send_warnings=send_warnings,
                include_duplicates=include_duplicates,
            ),
        )
        state[PREVIEW] = cached
    return cached


def preview_step(
    stored: StoredFile,
    table: Table,
    mapping: ColumnMapping,
    legend: Legend | None,
    conn: ui.Connection,
    journal: Journal,
) -> tuple[tuple[Any, ...], view.Preview]:
    st.subheader("3 · Check every row")
    prepared_key, prepared = _prepared(stored, table, mapping, legend)
    noted = state.get(DATE_NOTES)
    if noted is None or noted[0] != prepared_key:
        columns = date_columns(table.frame, mapping, legend)
        noted = (prepared_key, date_notes(columns), columns)
        state[DATE_NOTES] = noted
    for date_note in noted[1]:
        st.info(md(date_note), icon=":material/calendar_month:")
    for column in noted[2]:
        if column.two_ways:
            _date_order_choice(column)
    if name_note := full_name_note(table.frame, mapping):
        st.info(md(name_note), icon=":material/badge:")
    # Planned before the choices are drawn (their values are already in the session), so the
    # radio's count of rows with warnings is the tile's: duplicates are counted as duplicates.
    key, preview = _preview(prepared_key, prepared, conn, journal)
    _row_choices(preview.counts.warnings)
    _count_tiles(preview.counts)
    if state.get(INCLUDE_DUPLICATES):
        st.warning(
            "Duplicates will be sent. PhoneBurner refuses a second lead with the same email in "
            "one LeadStream (DUPLICATE EMAIL); rows without an email may be stored twice.",
            icon=":material/warning:",
        )
    choice, shown = _filter_bar(stored, table, preview)
    _preview_rows(choice, shown, conn, legend)
    return key, preview


def _date_order_choice(column: DateColumn) -> None:
    """Month first or day first, for a date column whose dates read two ways (1/5/2025)."""
    # The choice in the mapping is part of the key: when the mapping changes by another way
    # (matched again, loaded from a file), the radio starts from it again.
    key = f"{DATE_ORDER}{zlib.crc32(column.header.encode())}.{column.chosen}"
    example = column.example
    st.radio(
        f"How are the dates in “{md(column.header)}” written?",
        [False, True],
        index=int(column.day_first),
        format_func=lambda day_first: (
            f"{'Day' if day_first else 'Month'} first: {example} is "
            f"{column.reads(example, day_first)}"
        ),
        horizontal=True,
        key=key,
        on_change=_choose_date_order,
        args=(column.header, key),
    )


def _choose_date_order(header: str, key: str) -> None:
    state[MAPPING] = state[MAPPING].with_date_order(header, bool(state[key]))


def _row_choices(warned: int) -> None:
    """Which rows go: ready only or with warnings; duplicates or not."""
    choices = st.columns([3, 2])
    choices[0].radio(
        "Rows to send",
        ["ready", "warnings"],
        format_func=lambda v: {
            "ready": "Ready rows only",
            "warnings": f"Ready rows and rows with warnings ({warned:,})",
        }[v],
        key=SEND_WARNINGS,
        horizontal=True,
        help="A warning (a missing email, an unusual ZIP code) does not stop a lead; "
        "PhoneBurner decides. Rows with errors are never sent.",
    )
    choices[1].checkbox(
        "Send duplicates too",
        key=INCLUDE_DUPLICATES,
        help="Duplicates are rows whose email (or, without one, every value) appears earlier in "
        "the file, or that were already delivered to this LeadStream from this computer.",
    )


def _count_tiles(counts: view.PreviewCounts) -> None:
    tiles = view.count_tiles(counts)
    for column, (label, number, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(label, f"{number:,}", help=help_text)


def _filter_bar(
    stored: StoredFile, table: Table, preview: view.Preview
) -> tuple[str, list[view.RowPlan]]:
    """The rows-to-show filter and the problem-rows download; the filter and its rows."""
    bar = st.columns([3, 2], vertical_alignment="bottom")
    choice = bar[0].radio(
        "Show",
        list(view.FILTERS),
        format_func=lambda v: f"{view.FILTERS[v]} ({len(preview.selected(v)):,})",
        key=FILTER,
        horizontal=True,
    )
    choice = choice or "all"
    problems = preview.problem_rows
    if problems:
        bar[1].download_button(
            f"Download the {len(problems):,} rows with problems (CSV)",
            data=lambda: view.problem_rows_csv(preview, table.columns),
            file_name=f"{view.stem(stored.name)}-problems.csv",
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
            help="The file's own columns plus the problems, to fix in a spreadsheet and upload "
            "again. Cells starting with = + - @ get a leading ' so they are not run as formulas.",
        )
    return choice, preview.selected(choice)


def _preview_rows(
    choice: str, shown: list[view.RowPlan], conn: ui.Connection, legend: Legend | None
) -> None:
    """One page of the filtered rows, with the pagination when there is more than one."""
    if not shown:
        st.caption("No rows to show here.")
        return
    pages = view.page_count(len(shown))
    page = 1
    if pages > 1:
        page = st.pagination(pages, key=f"bulk.page.{choice}.{len(shown)}") or 1
    start, stop = view.page_bounds(len(shown), page)
    st.caption(f"Rows {start + 1:,}–{stop:,} of {len(shown):,}. Values as they will be sent.")
    rows = view.preview_table(
        shown[start:stop], key=conn.key, base_url=conn.target.url, legend=legend
    )
    st.dataframe(
        view.coloured(rows, "What will happen"),
        hide_index=True,
        column_config={
            "Row": st.column_config.NumberColumn(width="small", format="%d"),
            "What will happen": st.column_config.TextColumn(width="medium"),
            "Problems": st.column_config.TextColumn(width="large"),
            "Other values": st.column_config.TextColumn(width="medium"),
            "Request (key hidden)": st.column_config.TextColumn(width="large"),
        },
    )
