"""Custom-field legend: paste PhoneBurner's legend (or import a file), check and edit it as a
table, save it by name for a LeadStream, export it, and test it with one sample lead.

The table's rows live in `st.session_state` (the editor draws them and its edits are copied
to a draft on every run), so a visit to another page loses nothing. Saved legends live in the
journal and survive restarts.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import streamlit as st

from leadstream.deliver.target import TargetKind
from leadstream.prepare.form import Match, compare_fields, sample_lead
from leadstream.prepare.legend import (
    FieldType,
    Legend,
    LegendError,
    legend_from_rows,
    parse_legend,
    read_legend,
)
from ui import state as ui
from ui.entry import through_app
from ui.phoneburner import fetch_legend_button
from ui.sending import send_lead
from ui.widgets import SentLead, md, show_sent, target_label

through_app()  # before anything is drawn: see ui/entry.py

K = "keep.legend."
PASTE_KEY = K + "paste"
NAME_KEY = K + "name"
CM_ID_KEY = K + "cm_id"
SAVED_KEY = K + "saved"
NEW_NAME_KEY = K + "new_name"
ROWS = "legend.rows"  # the table's rows as last loaded: a list of {"id", "name", "type"}
DRAFT = "legend.draft"  # the rows as last edited
VERSION = "legend.version"  # bumped to give the editor a fresh key when new rows are loaded
MESSAGE = "legend.message"  # (level, text) about the last read, save, rename or delete
PASTE_PROBLEMS = "legend.paste_problems"
SKIPPED = "legend.skipped"  # lines of the last paste skipped as headings or comments
STALE = "legend.stale"  # the last read failed: the table still shows what was read before
UPLOADED = "legend.uploaded"  # file ids already read, so a rerun does not read them again
TEST = "legend.test"  # the last legend test: {"sent": SentLead, "checks": [...], "note": str}
CONFIRM_DELETE = "legend.confirm_delete"
FETCH_NOTES = "legend.fetch_notes"  # what the last fetch from PhoneBurner had to say (types)
FETCHED_NAME = "PhoneBurner fields"
CLEAR_PASTE = "legend.clear_paste"
TYPES = [t.value for t in FieldType]

state = st.session_state


def _editor_key() -> str:
    return f"legend.editor.{state.get(VERSION, 0)}"


def _rows_of(legend: Legend) -> list[dict[str, str]]:
    return [{"id": f.id, "name": f.name, "type": f.type.value} for f in legend.fields]


def _load_rows(legend: Legend, *, message: str) -> None:
    """Put `legend` in the editor (a new editor key, so no old edits are replayed on it).

    Its name and cm_id replace the ones typed, so a pasted legend is never saved over the one
    opened before by accident; a legend without a cm_id gets the connection's default."""
    rows = _rows_of(legend)
    state[ROWS] = rows
    state[DRAFT] = rows
    state[VERSION] = state.get(VERSION, 0) + 1
    state[NAME_KEY] = legend.name
    state[CM_ID_KEY] = legend.cm_id or ui.connection().cm_id
    state[MESSAGE] = ("success", message)
    state.pop(TEST, None)
    state.pop(FETCH_NOTES, None)


def _read_paste(*, from_button: bool = False) -> None:
    text = str(state.get(PASTE_KEY, ""))
    state.pop(SKIPPED, None)
    if not text.strip():
        state.pop(PASTE_PROBLEMS, None)
        if from_button:  # emptying the box is no request; pressing the button on it is
            state[PASTE_PROBLEMS] = [
                "The box is empty: paste PhoneBurner's legend into it first (the lines that look "
                "like custom_field[195481]=Follow Up Date&)."
            ]
        return
    try:
        read = read_legend(text)
    except LegendError as error:
        state[PASTE_PROBLEMS] = list(error.problems)
        state[STALE] = bool(state.get(ROWS))
        state.pop(MESSAGE, None)
        return
    state.pop(PASTE_PROBLEMS, None)
    state.pop(STALE, None)
    if read.skipped:
        state[SKIPPED] = list(read.skipped)
    count = len(read.legend.fields)
    _load_rows(
        read.legend,
        message=f"Read {count} field{'s' if count != 1 else ''}. Check the types in the table "
        "(dates are guessed from the names; mark checkboxes yourself), then save.",
    )


def _read_upload() -> None:
    upload = state.get("legend.upload_widget")
    if upload is None:
        return
    try:
        text = upload.getvalue().decode("utf-8-sig")
    except UnicodeDecodeError:
        state[PASTE_PROBLEMS] = [
            f"{upload.name} is not a text file in UTF-8. Export the legend again as JSON, CSV "
            "or plain text."
        ]
        return
    try:
        legend = parse_legend(text)
    except LegendError as error:
        state[PASTE_PROBLEMS] = [f"{upload.name}: {p}" for p in error.problems]
        state[STALE] = bool(state.get(ROWS))
        return
    state.pop(PASTE_PROBLEMS, None)
    state.pop(STALE, None)
    state.pop(SKIPPED, None)
    state[PASTE_KEY] = ""  # the box no longer shows what the table holds
    if not legend.name:
        stem = re.sub(r"\.(json|csv|txt)$", "", upload.name, flags=re.IGNORECASE)
        legend = Legend(legend.fields, name=stem, cm_id=legend.cm_id)
    _load_rows(legend, message=f"Imported {len(legend.fields)} fields from {upload.name}.")


def _open_saved() -> None:
    name = state.get(SAVED_KEY)
    legend = ui.get_journal().legend(name) if name else None
    if legend is not None:
        _load_rows(legend, message=f"Opened the saved legend {legend.name!r}.")


def _rename_saved() -> None:
    old, new = state.get(SAVED_KEY), str(state.get(NEW_NAME_KEY, "")).strip()
    if not old:
        return
    try:
        ui.get_journal().rename_legend(old, new)
    except ValueError as error:
        state[MESSAGE] = ("error", str(error))
        return
    state[SAVED_KEY] = new
    state[NEW_NAME_KEY] = ""
    if state.get(NAME_KEY) == old:
        state[NAME_KEY] = new
    state[MESSAGE] = ("success", f"Renamed {old!r} to {new!r}.")


def _delete_saved() -> None:
    name = state.get(SAVED_KEY)
    if not name:
        return
    try:
        ui.get_journal().delete_legend(name)
    except ValueError as error:
        state[MESSAGE] = ("error", str(error))
        return
    state.pop(SAVED_KEY, None)
    state.pop(CONFIRM_DELETE, None)
    state[MESSAGE] = ("success", f"Deleted the legend {name!r}. Its fields are still in the table.")


def _edited_rows() -> list[dict[str, Any]]:
    """The table as edited, trailing empty rows left out (an added row not yet filled in)."""
    rows = [dict(r) for r in state.get(DRAFT, state.get(ROWS, []))]
    while (
        rows
        and not str(rows[-1].get("id") or "").strip()
        and not str(rows[-1].get("name") or "").strip()
    ):
        rows.pop()
    return rows


def _table_legend() -> tuple[Legend | None, list[str]]:
    rows = _edited_rows()
    if not rows:
        return None, []
    try:
        legend = legend_from_rows(
            rows, name=str(state.get(NAME_KEY, "")), cm_id=str(state.get(CM_ID_KEY, ""))
        )
    except LegendError as error:
        return None, list(error.problems)
    return legend, []


def _save() -> None:
    legend, problems = _table_legend()
    if legend is None:
        state[MESSAGE] = (
            "error",
            "Not saved: fix the problems shown under the table first."
            if problems
            else "Not saved: the table is empty. Paste a legend or add rows first.",
        )
        return
    if not legend.name:
        state[MESSAGE] = ("error", "Not saved: type a name for the legend first.")
        return
    existed = ui.get_journal().legend(legend.name) is not None
    try:
        ui.get_journal().save_legend(legend)
    except ValueError as error:
        state[MESSAGE] = ("error", str(error))
        return
    state[SAVED_KEY] = legend.name
    state[ui.FORM_LEGEND_KEY] = legend.name
    verb = "Updated" if existed else "Saved"
    state[MESSAGE] = (
        "success",
        f"{verb} the legend {legend.name!r} ({len(legend.fields)} fields). The Post a lead "
        "form now shows its fields.",
    )


def _upc(lead_url: str) -> str:
    values = parse_qs(urlsplit(lead_url).query).get("upc", [""])
    return values[0].strip()


def _run_test(conn: ui.Connection, legend: Legend) -> None:
    sandbox = conn.target.kind is TargetKind.SANDBOX
    cm_id = conn.cm_id if sandbox else (legend.cm_id or conn.cm_id)
    lead, sent_values = sample_lead(
        legend,
        user_id=conn.user_id,
        cm_id=cm_id,
        today=date.today(),
        token=f"{time.time_ns():x}",
    )
    with st.spinner(f"Sending a sample lead to {target_label(conn)}…"):
        delivery, sent = send_lead(conn, lead, source="legend test")
    received: dict[str, str] | None = None
    ignored: tuple[str, ...] = ()
    note = ""
    if sandbox:
        upc = _upc(delivery.lead_url or "")
        stored = next((s for s in ui.get_sandbox().leads() if s.upc == upc), None) if upc else None
        if stored is not None:
            custom = stored.params.get("custom_field")
            received = dict(custom) if isinstance(custom, dict) else {}
            ignored = tuple(stored.ignored_fields)
        else:
            note = "The sandbox did not store the lead, so nothing arrived to compare."
            received = {}
    else:
        note = (
            "PhoneBurner does not show what arrived; open the lead from the link above to check "
            "the fields there."
        )
    checks = compare_fields(legend, sent_values, received, ignored=ignored)
    state[TEST] = {"sent": sent, "checks": checks, "note": note, "cm_id": cm_id}


# ---------------------------------------------------------------------------- the page

state.setdefault(ROWS, [])
state.setdefault(VERSION, 0)
state.setdefault(PASTE_KEY, "")
if state.pop(CLEAR_PASTE, False):
    state[PASTE_KEY] = ""
state.setdefault(NAME_KEY, "")
state.setdefault(CM_ID_KEY, "")
if _editor_key() not in state and DRAFT in state:
    # Back from another page: the editor forgot its edits, the draft did not.
    state[ROWS] = state[DRAFT]

conn = ui.connection()
journal = ui.get_journal()
saved = journal.legends()
saved_names = [lg.name for lg in saved]

st.title("Custom-field legend")
st.caption(
    "PhoneBurner lists a LeadStream's custom fields as a legend (on the Distribution Folder "
    "step when you create the LeadStream). Paste it here, or fetch the account's fields with "
    "Fetch from PhoneBurner; check the field types, and save it: its fields then appear on the "
    "Post a lead form."
)

if message := state.pop(MESSAGE, None):
    level, text = message
    if level == "success":
        st.success(text, icon=":material/check_circle:")
    else:
        st.error(text, icon=":material/front_hand:")

left, right = st.columns([3, 2], gap="large")

with left:
    st.subheader("1. Paste or import the legend")
    st.text_area(
        "PhoneBurner's legend",
        key=PASTE_KEY,
        height=140,
        placeholder="custom_field[297989]=Reference #&\ncustom_field[195481]=Follow Up Date&",
        on_change=_read_paste,
        help="Paste the lines that look like custom_field[195481]=Follow Up Date&. A CSV with "
        "the columns id,name,type or this app's JSON export work too.",
    )
    paste_col, upload_col = st.columns([1, 2], vertical_alignment="bottom")
    paste_col.button(
        "Read legend",
        on_click=_read_paste,
        kwargs={"from_button": True},
        icon=":material/table_view:",
    )
    upload_col.file_uploader(
        "Or import a file (JSON, CSV or text)",
        type=["json", "csv", "txt"],
        key="legend.upload_widget",
        on_change=_read_upload,
        max_upload_size=5,
    )
    if problems := state.get(PASTE_PROBLEMS):
        st.error(
            "**The legend could not be read.** Fix these and read it again:\n"
            + "\n".join(f"- {md(p)}" for p in problems),
            icon=":material/front_hand:",
        )
    if skipped := state.get(SKIPPED):
        st.info(
            "Skipped as headings or comments, not fields: " + "; ".join(md(s) for s in skipped),
            icon=":material/info:",
        )
    st.caption(
        f"Or read the fields and their types from the account behind "
        f"**{md(target_label(conn))}**, with the access token in the sidebar."
    )
    fetched = fetch_legend_button(conn.target, key="legend.fetch")
    if fetched is not None:
        # The box no longer shows what the table holds; it is drawn already, so emptied on
        # the rerun below.
        state[CLEAR_PASTE] = True
        state.pop(PASTE_PROBLEMS, None)
        state.pop(STALE, None)
        state.pop(SKIPPED, None)
        count = len(fetched.legend.fields)
        _load_rows(
            Legend(fetched.legend.fields, name=FETCHED_NAME, cm_id=fetched.legend.cm_id),
            message=f"Fetched {count} field{'s' if count != 1 else ''} from PhoneBurner with "
            "their types. Name the legend and check its LeadStream ID, then save.",
        )
        state[FETCH_NOTES] = list(fetched.notes)
        st.rerun()
    if notes := state.get(FETCH_NOTES):
        st.info("\n".join(f"- {md(n)}" for n in notes), icon=":material/text_fields:")

    st.subheader("2. Check and edit the fields")
    st.caption("Change a type if the guess is wrong; add or delete rows with the table's controls.")
    edited = st.data_editor(
        pd.DataFrame(state[ROWS], columns=["id", "name", "type"]),
        key=_editor_key(),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "id": st.column_config.TextColumn("Field ID", help="The digits of custom_field[…]"),
            "name": st.column_config.TextColumn("Name", help="The field's name in PhoneBurner"),
            "type": st.column_config.SelectboxColumn(
                "Type", options=TYPES, required=True, default=FieldType.TEXT.value
            ),
        },
    )
    state[DRAFT] = edited.to_dict("records")
    if edited.empty:
        st.caption("The table fills when you paste a legend, import a file or open a saved one.")
    table_legend, table_problems = _table_legend()
    if table_problems:
        st.error(
            "**Problems in the table** (rows count from 1):\n"
            + "\n".join(f"- {md(p)}" for p in table_problems),
            icon=":material/edit:",
        )
    elif table_legend is not None and state.get(STALE):
        st.caption(
            "The table still shows the legend read before: the new one could not be read (see "
            "above)."
        )
    elif table_legend is not None:
        counts = {t: sum(f.type is t for f in table_legend.fields) for t in FieldType}
        st.caption(
            "✔ "
            + ", ".join(f"{n} {t.label.lower()}" for t, n in counts.items() if n)
            + f" field{'s' if len(table_legend.fields) != 1 else ''}, ready to save."
        )

    name_col, cm_col = st.columns(2)
    name_col.text_input("Legend name", key=NAME_KEY, placeholder="e.g. Web leads")
    cm_col.text_input(
        "LeadStream ID (cm_id)",
        key=CM_ID_KEY,
        placeholder="e.g. 576846",
        help="The LeadStream these field IDs belong to; the form picks this legend for it.",
    )
    st.button("Save legend", type="primary", on_click=_save, icon=":material/save:")

with right:
    st.subheader("Saved legends")
    if not saved_names:
        st.caption("None saved yet.")
    else:
        if state.get(SAVED_KEY) not in saved_names:
            state[SAVED_KEY] = saved_names[0]
        st.selectbox(
            "Saved legend",
            saved_names,
            key=SAVED_KEY,
            format_func=lambda n: next(
                (f"{n} (cm_id {lg.cm_id})" if lg.cm_id else n for lg in saved if lg.name == n), n
            ),
        )
        chosen = next(lg for lg in saved if lg.name == state[SAVED_KEY])
        st.caption(", ".join(f"{f.name} ({f.type.value})" for f in chosen.fields) or "No fields.")
        open_col, json_col, csv_col = st.columns(3)
        open_col.button(
            "Open",
            on_click=_open_saved,
            icon=":material/edit:",
            help="Put this legend in the table to edit or test it.",
        )
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", chosen.name).strip("-") or "legend"
        json_col.download_button(
            "JSON",
            data=chosen.to_json(),
            file_name=f"{slug}.json",
            mime="application/json",
            icon=":material/download:",
            help="Download this legend as JSON (it keeps the name, cm_id and types).",
        )
        csv_col.download_button(
            "CSV",
            data=chosen.to_csv(),
            file_name=f"{slug}.csv",
            mime="text/csv",
            icon=":material/download:",
            help="Download this legend as CSV: id,name,type.",
        )
        with st.expander("Rename or delete"):
            st.text_input("New name", key=NEW_NAME_KEY)
            st.button("Rename", on_click=_rename_saved)
            if st.session_state.get(CONFIRM_DELETE) == chosen.name:
                st.warning(f"Delete the legend {chosen.name!r}? This cannot be undone.")
                yes, no = st.columns(2)
                yes.button("Yes, delete", type="primary", on_click=_delete_saved)
                no.button("Keep it", on_click=lambda: state.pop(CONFIRM_DELETE, None))
            else:
                st.button(
                    "Delete",
                    on_click=lambda name=chosen.name: state.update({CONFIRM_DELETE: name}),
                )

    st.subheader("Test this legend")
    st.caption(
        f"Sends one sample lead with a value in every field of the table to "
        f"**{md(target_label(conn))}**, then shows field by field what was sent and what "
        "arrived."
    )
    test_clicked = st.button(
        "Send a test lead",
        icon=":material/science:",
        disabled=table_legend is None or not table_legend.fields,
        help="Paste or open a legend first." if table_legend is None else None,
    )
    if test_clicked or ui.confirmed_now("legend-test"):
        if conn.problem:
            st.error(f"Not sent: {conn.problem}", icon=":material/front_hand:")
        elif table_legend is not None and ui.confirm_live(conn, action="legend-test"):
            _run_test(conn, table_legend)


def _test_result(test: dict[str, Any]) -> None:
    """The legend test, full width: the narrow column cut off what arrived and the result."""
    sent: SentLead = test["sent"]
    st.subheader("Test result")
    show_sent(sent)
    checks = test["checks"]
    if checks:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Field": c.name,
                        "ID": c.id,
                        "Type": c.type.value,
                        "Sent": c.sent,
                        "Arrived": "—" if c.received is None else c.received,
                        "Result": ("✔ " if c.match.ok else "✖ ") + c.match.value,
                    }
                    for c in checks
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        bad = [c for c in checks if not c.match.ok]
        ignored = [c for c in bad if c.match is Match.IGNORED]
        if ignored:
            listed = ", ".join(f"{c.name} ({c.id})" for c in ignored)
            st.warning(
                f"{'This field is' if len(ignored) == 1 else 'These fields are'} not in "
                f"LeadStream {test['cm_id']}, so PhoneBurner drops the values: {md(listed)}. "
                "Check that this legend belongs to that LeadStream.",
                icon=":material/warning:",
            )
        elif sent.outcome == "delivered" and not bad:
            st.caption("✔ Every field arrived as sent.")
    if test["note"]:
        st.caption(test["note"])


if (test := state.get(TEST)) is not None:
    _test_result(test)
