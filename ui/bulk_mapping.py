"""Step 2 of the Bulk upload page: match the file's columns to lead fields.

`mapping_step()` draws the legend picker, the values for every row (cm_id, user ID, tags), the
column → field editor and the save/load of mapping files, then the mapping's problems; it
returns the mapping and the legend, or None while an error stops the check. Matching itself is
`leadstream.prepare.mapping`; what the editor shows is `leadstream.views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from leadstream import views as view
from leadstream.deliver.journal import Journal
from leadstream.deliver.target import TargetKind
from leadstream.prepare.files import Table
from leadstream.prepare.form import default_legend_name
from leadstream.prepare.headers import confidence_labels
from leadstream.prepare.legend import Legend
from leadstream.prepare.mapping import (
    ColumnMapping,
    MappingError,
    auto_match,
    remember_choices,
)
from ui import state as ui
from ui.bulk_keys import (
    CARRIED,
    CM_ID,
    LEGEND,
    MAP_UPLOAD_VERSION,
    MAP_VERSION,
    MAPPING,
    MAPPING_FOR,
    OTHER_CONSTANTS,
    REMEMBERED,
    SIDEBAR_IDS,
    TAGS,
    USER_ID,
    StoredFile,
    bump,
    notify,
)
from ui.widgets import md

__all__ = ["mapping_step"]

state = st.session_state

# The mapping editor's column of how sure each automatic match is.
HOW_SURE = "How sure"

# The legend picker's values: no legend, a legend saved in the journal, a sandbox LeadStream's.
NO_LEGEND = ""
SAVED = "saved:"
SANDBOX_LEGEND = "sandbox:"


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
    state[MAPPING] = ColumnMapping(dict(fitted.columns), {}, dict(fitted.day_first))
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
