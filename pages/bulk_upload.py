"""Bulk upload: file → column mapping → checked preview → send (background, resumable) → results.

The page only draws. Reading files is `leadstream.prepare.files`, matching and checking rows
`leadstream.prepare.mapping`, planning and sending the run engine, what the tables show
`leadstream.views`. Once sent, the run shows in `ui.run_panel` (the same panel as on the Runs
page): the engine sends on a background thread of the process, every row's state kept in the
journal, and the panel polls it. Runs left unfinished are listed at the top with a way to them.

State: plain values under `bulk.*` (the file, the parsed table, the canonical mapping, the
cached preview, the run on screen); widgets whose values must survive a page switch under
`keep.bulk.*` (app.py keeps those).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from leadstream import views as view
from leadstream.deliver.engine import EngineError, engine_for
from leadstream.deliver.journal import Journal, JournalError
from leadstream.deliver.run_settings import RunSettings, RunSettingsError
from leadstream.deliver.target import TargetKind
from leadstream.prepare.files import FileReadError, Table, read_table
from leadstream.prepare.form import default_legend_name
from leadstream.prepare.headers import confidence_labels
from leadstream.prepare.legend import Legend
from leadstream.prepare.mapping import (
    ColumnMapping,
    MappingError,
    PreparedRow,
    auto_match,
    date_notes,
    full_name_note,
    mismatched_columns,
    prepare_rows,
    remember_choices,
)
from leadstream.prepare.plan import plan_summary
from ui import state as ui
from ui.run_panel import run_panel, send_run, unfinished_notice
from ui.widgets import md, target_label

state = st.session_state

K = "bulk."
W = "keep.bulk."
FILE = K + "file"
TABLE = K + "table"
SHEETS = K + "sheets"
UPLOAD_VERSION = K + "upload_version"
MAPPING = K + "mapping"
MAPPING_FOR = K + "mapping_for"
MAP_VERSION = K + "map_version"
MAP_UPLOAD_VERSION = K + "map_upload_version"
OTHER_CONSTANTS = K + "other_constants"
SIDEBAR_IDS = K + "sidebar_ids"
PREPARED = K + "prepared"
PREVIEW = K + "preview"
CONFIRM = K + "confirm"
RUN = K + "run_id"
NOTICES = K + "notices"
DETECTED = K + "detected"
CARRIED = K + "carried"
REMEMBERED = K + "remembered"  # header → choice, over every sheet and file seen
DATE_NOTES = K + "date_notes"  # (prepared key, how the date columns are read)
GUARD = K + "guard"  # (prepared key, columns whose values mostly fail their field's check)
HOW_SURE = "How sure"

ENCODING = W + "encoding"
DELIMITER = W + "delimiter"
SHEET = W + "sheet"
LEGEND = W + "legend"
CM_ID = W + "cm_id"
USER_ID = W + "user_id"
TAGS = W + "tags"
SEND_WARNINGS = W + "send_warnings"
INCLUDE_DUPLICATES = W + "include_duplicates"
FILTER = W + "filter"
CONCURRENCY = W + "concurrency"
CANARY = W + "canary"
PAUSE_AFTER = W + "pause_after"
RATE = W + "rate"

NO_LEGEND = ""
SAVED = "saved:"
SANDBOX_LEGEND = "sandbox:"


# ---------------------------------------------------------------------------- small helpers


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The uploaded file, kept in session state so a page switch (which empties the uploader)
    does not lose it."""

    name: str
    data: bytes
    file_id: str

    @property
    def is_workbook(self) -> bool:
        return self.data.startswith(b"PK\x03\x04")


def notify(level: str, text: str) -> None:
    """A message to show once, at the top of the next run (callbacks cannot draw)."""
    state.setdefault(NOTICES, []).append((level, text))


def show_notices() -> None:
    for level, text in state.pop(NOTICES, []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(level, st.info)(text)


def bump(name: str) -> int:
    state[name] = state.get(name, 0) + 1
    return state[name]


def forget_downstream() -> None:
    """A new file: the mapping, the preview and any open confirmation start over."""
    # The mapping stays: the next file (often the same one, fixed) keeps the shared columns'.
    for name in (TABLE, SHEETS, MAPPING_FOR, PREPARED, PREVIEW, CONFIRM):
        state.pop(name, None)
    bump(MAP_VERSION)


# ---------------------------------------------------------------------------- 1. the file


def _on_upload(key: str) -> None:
    uploaded = state.get(key)
    if uploaded is None:  # the person removed the file (a page switch does not call this)
        state.pop(FILE, None)
        forget_downstream()


def _store_upload(uploaded: Any) -> None:
    stored: StoredFile | None = state.get(FILE)
    if stored is not None and stored.file_id == uploaded.file_id:
        return
    state[FILE] = StoredFile(uploaded.name, uploaded.getvalue(), uploaded.file_id)
    forget_downstream()
    # A new file is read with fresh guesses, not the last file's choices.
    for name in (ENCODING, DELIMITER, SHEET, DETECTED):
        state.pop(name, None)


def _forget_file() -> None:
    state.pop(FILE, None)
    forget_downstream()
    bump(UPLOAD_VERSION)


def file_step() -> tuple[StoredFile, Table] | None:
    st.subheader("1 · Choose the file")
    key = f"bulk.upload.{state.get(UPLOAD_VERSION, 0)}"
    uploaded = st.file_uploader(
        "Lead file: CSV, TSV, text or Excel (.xlsx)",
        type=["csv", "tsv", "txt", "xlsx"],
        key=key,
        on_change=_on_upload,
        args=(key,),
        help="The first row must hold the column names. Up to 100,000 rows.",
    )
    if uploaded is not None:
        _store_upload(uploaded)
    stored: StoredFile | None = state.get(FILE)
    if stored is None:
        st.caption(
            "Nothing is sent until you have checked the rows and confirmed. "
            "Try a file on the built-in sandbox first."
        )
        return None
    if uploaded is None:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info(f"Using **{md(stored.name)}**, chosen earlier.", icon=":material/description:")
        right.button("Choose another file", key="bulk.forget_file", on_click=_forget_file)

    encoding = None if stored.is_workbook else view.read_option(state.get(ENCODING))
    delimiter = None if stored.is_workbook else view.read_option(state.get(DELIMITER))
    sheet = state.get(SHEET) if stored.is_workbook else None
    read_key = (stored.file_id, encoding, delimiter, sheet)
    cached = state.get(TABLE)
    if cached is None or cached[0] != read_key:
        try:
            with st.spinner(f"Reading {stored.name}…"):
                read = read_table(
                    stored.data, stored.name, encoding=encoding, delimiter=delimiter, sheet=sheet
                )
            # Filed under the sheet actually read: the sheet box shows it from now on, and the
            # next rerun must find this table, not read (and check) the workbook a second time.
            if stored.is_workbook and sheet is None and read.sheet:
                read_key = (stored.file_id, encoding, delimiter, read.sheet)
            cached = (read_key, read, "")
            if read.sheet_names:
                state[SHEETS] = list(read.sheet_names)
            if encoding is None and delimiter is None:
                state[DETECTED] = (read.encoding, read.delimiter)
        except FileReadError as failure:
            cached = (read_key, None, str(failure))
        state[TABLE] = cached
    table: Table | None = cached[1]
    _read_options(stored, table)
    if table is None:
        st.error(cached[2], icon=":material/description:")
        return None
    found = view.describe_table(table)
    if not stored.is_workbook and (encoding is None or delimiter is None):
        found += " Found automatically: change it above if the sample values look wrong."
    st.success(f"**{md(stored.name)}**: {md(found)}", icon=":material/description:")
    if table.notes:
        st.info("\n".join(f"- {md(note)}" for note in table.notes), icon=":material/info:")
    with st.expander("Show the first rows as read"):
        st.dataframe(table.frame.head(20), hide_index=True)
    return stored, table


def _read_options(stored: StoredFile, table: Table | None) -> None:
    """The choices that re-read the file: the sheet of a workbook, or the encoding and the
    delimiter of a text file, each saying what was found when left to detection."""
    options = st.columns(3)
    if stored.is_workbook:
        sheets: list[str] = state.get(SHEETS, [])
        if not sheets:
            return
        if state.get(SHEET) not in sheets:
            state[SHEET] = table.sheet if table is not None and table.sheet else sheets[0]
        options[0].selectbox("Sheet", sheets, key=SHEET, help="The sheet that holds the leads.")
        return
    found_encoding, found_delimiter = state.get(DETECTED, (None, None))
    options[0].selectbox(
        "Text encoding",
        [code for code, _ in view.ENCODING_CHOICES],
        format_func=lambda code: view.encoding_label(code, found_encoding),
        key=ENCODING,
        help="Change it if accented letters look wrong in the sample values below.",
    )
    options[1].selectbox(
        "Columns separated by",
        [d for d, _ in view.DELIMITER_CHOICES],
        format_func=lambda choice: view.delimiter_label(choice, found_delimiter),
        key=DELIMITER,
        help="Change it if the columns below are not split as in your spreadsheet.",
    )


# ---------------------------------------------------------------------------- 2. the mapping


def _legend_options(conn: ui.Connection, journal: Journal) -> dict[str, str]:
    options = {NO_LEGEND: "No legend (custom fields by ID only)"}
    for legend in journal.legends():
        where = f" · cm_id {legend.cm_id}" if legend.cm_id else ""
        options[SAVED + legend.name] = f"{legend.name}{where}"
    if conn.target.kind is TargetKind.SANDBOX:
        for stream in ui.get_sandbox().account.leadstreams:
            options[SANDBOX_LEGEND + stream.cm_id] = (
                f"Sandbox: {stream.name} · cm_id {stream.cm_id}"
            )
    return options


def _legend_for(choice: str, journal: Journal) -> Legend | None:
    if choice.startswith(SAVED):
        return journal.legend(choice.removeprefix(SAVED))
    if choice.startswith(SANDBOX_LEGEND):
        stream = ui.get_sandbox().account.leadstream(choice.removeprefix(SANDBOX_LEGEND))
        return stream.legend if stream is not None else None
    return None


def _default_legend(options: dict[str, str], journal: Journal, cm_id: str) -> str:
    if cm_id:
        name = default_legend_name(journal.legends(), cm_id, preferred=ui.DEMO_LEGEND_NAME)
        if name is not None:
            return SAVED + name
        if SANDBOX_LEGEND + cm_id in options:
            return SANDBOX_LEGEND + cm_id
    return NO_LEGEND


def _sync_ids(conn: ui.Connection) -> None:
    """The values-for-every-row inputs start from the sidebar's defaults and follow them until
    the person types something else."""
    last: dict[str, str] | None = state.get(SIDEBAR_IDS)
    for name, key, value in (("cm_id", CM_ID, conn.cm_id), ("user_id", USER_ID, conn.user_id)):
        follows = last is not None and state.get(key) == last.get(name)
        if key not in state or (follows and value != last.get(name)):  # type: ignore[union-attr]
            state[key] = value
    state[SIDEBAR_IDS] = {"cm_id": conn.cm_id, "user_id": conn.user_id}


def _canonical(table: Table, legend: Legend | None) -> ColumnMapping:
    """The mapping of column → target for this table, auto-matched on first sight."""
    columns = tuple(table.columns)
    if state.get(MAPPING_FOR) != columns or MAPPING not in state:
        # Choices of every sheet and file seen, so that a visit to another sheet loses none.
        state[REMEMBERED] = remember_choices(state.get(REMEMBERED), state.get(MAPPING))
        remembered = ColumnMapping(dict(state[REMEMBERED]), {})
        mapping, kept = view.carry_mapping(remembered, columns, legend)
        state[MAPPING] = mapping
        state[MAPPING_FOR] = columns
        bump(MAP_VERSION)
        state[CARRIED] = kept
    if kept := state.get(CARRIED, 0):
        st.info(
            f"Kept your choices for the {view.plural(kept, 'column')} this sheet or file shares "
            "with the one before. Check them below, or match the columns again automatically "
            "(under “Save or load this mapping”).",
            icon=":material/info:",
        )
    return state[MAPPING]


def _editor_key() -> str:
    return f"bulk.map_editor.{state.get(MAP_VERSION, 0)}"


def _commit_map_edits(key: str, columns: tuple[str, ...], menu: view.TargetMenu) -> None:
    """Apply the data editor's edits to the canonical mapping, then show a fresh editor (a new
    key) drawn from it, so that edits are never fed back into the editor (streamlit#7749)."""
    edits = state.get(key)
    if not isinstance(edits, dict) or not edits.get("edited_rows"):
        return
    try:
        state[MAPPING] = view.apply_mapping_edits(
            state[MAPPING], columns, edits["edited_rows"], menu
        )
    except (view.BulkViewError, MappingError) as error:
        notify("error", str(error))
    bump(MAP_VERSION)


def _on_legend_change(columns: tuple[str, ...]) -> None:
    journal = ui.get_journal()
    legend = _legend_for(state.get(LEGEND, NO_LEGEND), journal)
    if MAPPING in state:
        state[MAPPING] = view.merge_legend_matches(state[MAPPING], columns, legend)
        bump(MAP_VERSION)


def _on_mapping_upload(key: str, columns: tuple[str, ...]) -> None:
    uploaded = state.get(key)
    if uploaded is None:
        return
    try:
        loaded = ColumnMapping.from_json(uploaded.getvalue().decode("utf-8-sig"))
    except UnicodeDecodeError:
        notify("error", f"{uploaded.name} is not a text file; choose a mapping saved as JSON.")
        return
    except MappingError as error:
        notify("error", f"{uploaded.name}: {error}")
        return
    fitted, missing = view.fit_mapping(loaded, columns)
    state[MAPPING] = ColumnMapping(dict(fitted.columns), {})
    constants = dict(fitted.constants)
    state[CM_ID] = constants.pop("cm_id", state.get(CM_ID, ""))
    state[USER_ID] = constants.pop("user_id", state.get(USER_ID, ""))
    state[TAGS] = constants.pop("tags", "")
    state[OTHER_CONSTANTS] = constants
    state.pop(CARRIED, None)
    bump(MAP_VERSION)
    bump(MAP_UPLOAD_VERSION)
    notify("success", f"Mapping loaded from {uploaded.name}.")
    if missing:
        listed = ", ".join(f"“{m}”" for m in missing)
        notify(
            "warning",
            f"The mapping uses columns this file does not have: {listed}. Those fields will be "
            "empty; map other columns to them if the file calls them differently.",
        )


def _reset_mapping(columns: tuple[str, ...], legend: Legend | None) -> None:
    state[MAPPING] = ColumnMapping(dict(auto_match(columns, legend).columns), {})
    state.pop(CARRIED, None)
    bump(MAP_VERSION)


def _clear_other_constants() -> None:
    state[OTHER_CONSTANTS] = {}


def mapping_step(
    stored: StoredFile, table: Table, conn: ui.Connection, journal: Journal
) -> tuple[ColumnMapping, Legend | None] | None:
    st.subheader("2 · Match the columns to lead fields")
    columns = tuple(table.columns)
    top = st.columns([2, 1, 1, 2])
    legend = _legend_picker(top[0], columns, conn, journal)
    mapping_columns = _canonical(table, legend)
    _row_value_inputs(top[1:])
    if mismatch := view.legend_mismatch(legend, str(state.get(CM_ID, ""))):
        st.warning(md(mismatch), icon=":material/warning:")
    other: dict[str, str] = state.get(OTHER_CONSTANTS, {})
    _other_constants_line(other, legend)
    mapping_columns = _mapping_editor(table, legend)
    # Every column is matched or named here as not sent, where it cannot be missed.
    if unsent := view.unsent_columns_warning(columns, mapping_columns):
        st.warning(md(unsent), icon=":material/visibility_off:")
    else:
        st.caption(md(view.mapping_summary(columns, mapping_columns)))
    mapping = view.with_row_values(
        mapping_columns,
        other,
        cm_id=str(state.get(CM_ID, "")),
        user_id=str(state.get(USER_ID, "")),
        tags=str(state.get(TAGS, "")),
    )
    _save_or_load(stored, mapping, columns, legend)
    if _mapping_problems(mapping, columns, legend):
        st.caption("Fix the mapping above to check the rows.")
        return None
    return mapping, legend


def _legend_picker(
    where: Any, columns: tuple[str, ...], conn: ui.Connection, journal: Journal
) -> Legend | None:
    """The legend select box (defaulting to the legend that fits the cm_id); the legend chosen."""
    _sync_ids(conn)
    options = _legend_options(conn, journal)
    if state.get(LEGEND) not in options:
        state[LEGEND] = _default_legend(options, journal, str(state.get(CM_ID, "")))
    where.selectbox(
        "Custom-field legend",
        list(options),
        format_func=options.__getitem__,
        key=LEGEND,
        on_change=_on_legend_change,
        args=(columns,),
        help="Columns named like a field of the legend fill that custom field. Save legends "
        "on the Custom-field legend page.",
    )
    return _legend_for(state[LEGEND], journal)


def _row_value_inputs(where: Sequence[Any]) -> None:
    """cm_id, user ID and tags for every row, side by side."""
    where[0].text_input(
        "cm_id for every row",
        key=CM_ID,
        help="The LeadStream ID, for rows whose cm_id column is empty (or when no column gives "
        "it). Starts from the sidebar's default.",
    )
    where[1].text_input(
        "User ID for every row",
        key=USER_ID,
        help="The PhoneBurner user who receives the leads, for rows that do not say.",
    )
    where[2].text_input(
        "Tags for every row",
        key=TAGS,
        placeholder="e.g. Spring mailing, Imported",
        help="Separate tags with commas. Added to each row's own tags.",
    )


def _other_constants_line(other: dict[str, str], legend: Legend | None) -> None:
    """The loaded mapping's other values for every row, with a button to drop them."""
    if not other:
        return
    listed = "; ".join(f"{view.target_menu(legend).label(t)} = {v}" for t, v in other.items())
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"Also for every row (from the loaded mapping): {md(listed)}")
    right.button("Remove these", key="bulk.clear_other", on_click=_clear_other_constants)


def _mapping_editor(table: Table, legend: Legend | None) -> ColumnMapping:
    """The column → field table; returns the canonical mapping after any pending edits."""
    columns = tuple(table.columns)
    menu = view.target_menu(legend, extra=state[MAPPING].columns.values())
    _commit_map_edits(_editor_key(), columns, menu)  # edits the callback did not see (tests)
    mapping_columns: ColumnMapping = state[MAPPING]
    menu = view.target_menu(legend, extra=mapping_columns.columns.values())
    key = _editor_key()
    shown = view.mapping_table(table, mapping_columns, menu)
    sure = confidence_labels(columns, mapping_columns.columns, legend)
    shown.insert(2, HOW_SURE, [sure.get(column, "") for column in columns])
    st.data_editor(
        shown,
        key=key,
        hide_index=True,
        num_rows="fixed",
        disabled=[view.MAPPING_COLUMNS[0], HOW_SURE, view.MAPPING_COLUMNS[2]],
        height=min(35 * (len(columns) + 1) + 3, 528),
        column_config={
            view.MAPPING_COLUMNS[0]: st.column_config.TextColumn(width="medium"),
            view.MAPPING_COLUMNS[1]: st.column_config.SelectboxColumn(
                options=list(menu.labels),
                required=True,
                width="medium",
                help="Click a cell to choose the lead field this column fills.",
            ),
            HOW_SURE: st.column_config.TextColumn(
                width="medium",
                help="Exact: the field's own name. Known header: how an export (HubSpot, "
                "Salesforce…) names it. Close to: a near spelling, check it.",
            ),
            view.MAPPING_COLUMNS[2]: st.column_config.TextColumn(width="large"),
        },
        on_change=_commit_map_edits,
        args=(key, columns, menu),
    )
    return mapping_columns


def _save_or_load(
    stored: StoredFile, mapping: ColumnMapping, columns: tuple[str, ...], legend: Legend | None
) -> None:
    with st.expander("Save or load this mapping"):
        left, right = st.columns(2)
        left.download_button(
            "Save the mapping (JSON)",
            data=mapping.to_json(),
            file_name=f"{view.stem(stored.name)}.mapping.json",
            mime="application/json",
            on_click="ignore",
            icon=":material/download:",
            help="Use it next time here, or with `python -m leadstream send --mapping`.",
        )
        left.button(
            "Match the columns again automatically",
            key="bulk.rematch",
            on_click=_reset_mapping,
            args=(columns, legend),
        )
        upload_key = f"bulk.mapping_upload.{state.get(MAP_UPLOAD_VERSION, 0)}"
        right.file_uploader(
            "Load a saved mapping",
            type=["json"],
            key=upload_key,
            on_change=_on_mapping_upload,
            args=(upload_key, columns),
        )


def _mapping_problems(
    mapping: ColumnMapping, columns: tuple[str, ...], legend: Legend | None
) -> bool:
    """Shows the mapping's errors, then its warnings; True when an error stops the check."""
    problems = mapping.problems(list(columns), legend)
    errors = [p for p in problems if p.level == "error"]
    for problem in errors:
        st.error(problem.message, icon=":material/error:")
    for problem in problems:
        if problem.level != "error":
            st.warning(problem.message, icon=":material/warning:")
    return bool(errors)


# ---------------------------------------------------------------------------- 3. the preview


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
        noted = (prepared_key, date_notes(table.frame, mapping, legend))
        state[DATE_NOTES] = noted
    for date_note in noted[1]:
        st.info(md(date_note), icon=":material/calendar_month:")
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


# ---------------------------------------------------------------------------- 4. send


def _sending_options() -> None:
    with st.expander("Sending options"):
        cols = st.columns(4)
        cols[0].number_input(
            "Leads at a time",
            min_value=1,
            max_value=16,
            key=CONCURRENCY,
            help="How many leads are on the way at once.",
        )
        cols[1].number_input(
            "Leads a second at most (0: no limit)",
            min_value=0.0,
            max_value=100.0,
            step=1.0,
            key=RATE,
        )
        cols[2].number_input(
            "Pause after this many failures in a row (0: never)",
            min_value=0,
            max_value=100,
            key=PAUSE_AFTER,
        )
        cols[3].checkbox(
            "Send the first lead alone and stop if it fails",
            key=CANARY,
            help="Catches a wrong key, user ID or cm_id after one lead instead of a thousand.",
        )


def _guard(mapping: ColumnMapping, legend: Legend | None) -> str:
    """Columns whose values mostly fail their field's check (phone numbers matched to State)
    stop the send until the match is fixed or “Send anyway” is ticked; why, or ""."""
    cached = state.get(PREPARED)
    if cached is None:
        return ""
    prepared_key, rows = cached
    guard = state.get(GUARD)
    if guard is None or guard[0] != prepared_key:
        guard = (prepared_key, mismatched_columns(rows, mapping))
        state[GUARD] = guard
    found = guard[1]
    if not found:
        return ""
    for mismatch in found:
        st.error(md(mismatch.message(legend)), icon=":material/rule:")
    # A new set of doubtful columns asks again: the tick is for these columns only.
    asked = "|".join(f"{m.column}>{m.target}" for m in found)
    if st.checkbox(
        "Send anyway: these columns are matched as I want",
        key=f"bulk.send_anyway.{zlib.crc32(asked.encode())}",
    ):
        return ""
    listed = ", ".join(f"“{m.column}”" for m in found)
    return (
        f"Not sent yet: {listed} {'looks' if len(found) == 1 else 'look'} matched to the wrong "
        "field. Fix the match in step 2, or tick “Send anyway”."
    )


def _blocked(conn: ui.Connection, preview: view.Preview) -> str:
    """Why the Send button is off, or ""."""
    if conn.problem:
        return conn.problem
    if preview.counts.to_send == 0:
        return "No row will be sent: every row is invalid, a duplicate or held back."
    return view.routing_problem(preview)


def _confirmation_text(preview: view.Preview, where: str) -> str:
    counts = preview.counts
    lines = [f"**Send {view.plural(counts.to_send, 'lead')} to {md(where)}?**"]
    for cm_id, user_id, n in view.routing_counts(preview.rows):
        lines.append(
            f"- LeadStream (cm_id) **{md(cm_id)}**, user **{md(user_id)}**: "
            f"{view.plural(n, 'lead')}"
        )
    kept = [
        (counts.invalid, "invalid"),
        (counts.duplicates, "duplicate" if counts.duplicates == 1 else "duplicates"),
        (counts.uncertain, "held back (earlier send unclear)"),
    ]
    kept_text = ", ".join(f"{n:,} {what}" for n, what in kept if n)
    if kept_text:
        lines.append(f"\nNot sent: {kept_text}. The results list them with the reason.")
    if counts.held:
        lines.append(
            f"\n{view.plural(counts.held, 'row')} with warnings stay out of this run (you "
            "chose ready rows only); the problem-rows download has them."
        )
    lines.append(
        "\nSending runs in the background: you can pause or cancel it, and resume it later, "
        "even after closing the app."
    )
    return "\n".join(lines)


def _confirmed(conn: ui.Connection, preview: view.Preview, where: str) -> bool:
    """The "Send … ?" box; true on the run where "Yes, send" was clicked."""
    n = preview.counts.to_send
    with st.container(border=True):
        st.markdown(_confirmation_text(preview, where))
        if not ui.confirm_live(conn, action="bulk"):
            return False
        ui.confirmed_now("bulk")
        left, right = st.columns(2)
        go = left.button(
            f"Yes, send {view.plural(n, 'lead')}", type="primary", key="bulk.confirm_send"
        )
        if right.button("Cancel", key="bulk.cancel_send"):
            state.pop(CONFIRM, None)
            st.rerun()
    return go


def send_step(
    stored: StoredFile,
    preview_key: tuple[Any, ...],
    preview: view.Preview,
    mapping: ColumnMapping,
    legend: Legend | None,
    conn: ui.Connection,
    journal: Journal,
) -> None:
    st.subheader("4 · Send")
    _sending_options()
    blocked = _guard(mapping, legend) or _blocked(conn, preview)
    if blocked:
        st.error(blocked, icon=":material/back_hand:")
    where = target_label(conn)
    if st.button(
        f"Send {view.plural(preview.counts.to_send, 'lead')} to {where}…",
        type="primary",
        disabled=bool(blocked),
        key="bulk.send",
        icon=":material/send:",
    ):
        state[CONFIRM] = preview_key
    asked = state.get(CONFIRM)
    if asked != preview_key or blocked:
        state.pop(CONFIRM, None)
        if asked is not None and not blocked:
            st.info(
                "The mapping or the rows changed after you clicked Send. Check the counts above, "
                "then click Send again.",
                icon=":material/refresh:",
            )
        return
    if _confirmed(conn, preview, where):
        _start_new_run(stored, preview, mapping, legend, conn, journal)


def _run_settings(
    mapping: ColumnMapping, legend: Legend | None, conn: ui.Connection, held: int
) -> RunSettings:
    """The page's choices as the run keeps them (the CLI writes the same form)."""
    rate = float(state.get(RATE, 0.0))
    return RunSettings(
        target=conn.target,
        user_id=mapping.constants.get("user_id", ""),
        cm_id=mapping.constants.get("cm_id", ""),
        legend=legend,
        mapping=mapping,
        concurrency=int(state.get(CONCURRENCY, 4)),
        rate_per_s=rate if rate > 0 else None,
        canary=bool(state.get(CANARY, True)),
        pause_after_failures=int(state.get(PAUSE_AFTER, 5)),
        include_duplicates=bool(state.get(INCLUDE_DUPLICATES, False)),
        held_back=held,
    )


def _start_new_run(
    stored: StoredFile,
    preview: view.Preview,
    mapping: ColumnMapping,
    legend: Legend | None,
    conn: ui.Connection,
    journal: Journal,
) -> None:
    engine = engine_for(journal)
    try:
        settings = _run_settings(mapping, legend, conn, preview.counts.held)
        run_id, plans = engine.create_run(
            settings,
            source_name=stored.name,
            prepared_rows=preview.prepared_to_run,
            origin="bulk",
        )
        pending = plan_summary(plans)["pending"]
        if pending != preview.counts.to_send:
            notify(
                "info",
                f"Something was sent since the check, so {pending:,} rows (not "
                f"{preview.counts.to_send:,}) were left to send; the others were already "
                "delivered.",
            )
        send_run(engine, run_id)
    except (EngineError, JournalError, RunSettingsError) as error:
        st.error(str(error))
        return
    state.pop(CONFIRM, None)
    state[RUN] = run_id
    st.rerun()


# ---------------------------------------------------------------------------- the run sent


def _new_upload() -> None:
    state.pop(RUN, None)
    state.pop(FILE, None)
    forget_downstream()
    bump(UPLOAD_VERSION)


def _back_to_file() -> None:
    state.pop(RUN, None)
    state.pop(PREVIEW, None)  # the journal now knows of deliveries: plan the rows again


def run_view(journal: Journal, conn: ui.Connection, run_id: int) -> None:
    """The run just sent, in the same panel as on the Runs page, with the way back."""
    left, right, _ = st.columns([1, 1, 4])
    left.button("Back to the file", key="bulk.back", on_click=_back_to_file)
    right.button("New upload", key="bulk.new", on_click=_new_upload, type="tertiary")
    run_panel(journal, conn, run_id)


# ---------------------------------------------------------------------------- the page


DEFAULTS: dict[str, Any] = {
    ENCODING: view.AUTO,
    DELIMITER: view.AUTO,
    SEND_WARNINGS: "warnings",
    INCLUDE_DUPLICATES: False,
    FILTER: "all",
    CONCURRENCY: 4,
    RATE: 0.0,
    PAUSE_AFTER: 5,
    CANARY: True,
}


def main() -> None:
    for name, value in DEFAULTS.items():
        state.setdefault(name, value)
    st.title("Bulk upload")
    st.caption(
        "Send a spreadsheet of leads: choose the file, match its columns, check every row, "
        "then send. Nothing is sent until you confirm."
    )
    conn = ui.connection()
    journal = ui.get_journal()
    show_notices()
    current = state.get(RUN)
    unfinished_notice(journal, exclude=current)
    if current is not None:
        run_view(journal, conn, current)
        return
    chosen = file_step()
    if chosen is None:
        return
    stored, table = chosen
    mapped = mapping_step(stored, table, conn, journal)
    if mapped is None:
        return
    mapping, legend = mapped
    preview_key, preview = preview_step(stored, table, mapping, legend, conn, journal)
    send_step(stored, preview_key, preview, mapping, legend, conn, journal)


main()
