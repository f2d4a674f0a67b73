"""Step 1 of the Bulk upload page: choose the file, and how it is read.

`file_step()` draws the uploader, keeps the file in the session across page switches, reads it
once per choice of sheet, encoding and delimiter (`leadstream.prepare.files`), and shows what
was found; it returns the file and its table, or None while there is none to go on with.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from leadstream import views as view
from leadstream.prepare.files import FileReadError, Table, read_table
from ui.bulk_keys import (
    DELIMITER,
    DETECTED,
    ENCODING,
    FILE,
    SHEET,
    SHEETS,
    TABLE,
    UPLOAD_VERSION,
    StoredFile,
    bump,
    forget_downstream,
)
from ui.widgets import md

__all__ = ["file_step"]

state = st.session_state


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
