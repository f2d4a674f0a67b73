"""Bulk upload: file → column mapping → checked preview → send (background, resumable) → results.

The page only draws. Reading files is `leadstream.prepare.files`, matching and checking rows
`leadstream.prepare.mapping`, planning and sending the run engine, what the tables show
`leadstream.views`. Once sent, the run shows in `ui.run_panel` (the same panel as on the Runs
page): the engine sends on a background thread of the process, every row's state kept in the
journal, and the panel polls it. Runs left unfinished are listed at the top with a way to them.

This page sets the defaults and wires the steps together; each step is drawn by its own module
under `ui/`: `ui.bulk_file` (1, the file), `ui.bulk_mapping` (2, the columns), `ui.bulk_preview`
(3, every row checked) and `ui.bulk_send` (4, the send, then the run just sent).

State (its keys and the helpers the steps share are `ui.bulk_keys`): plain values under
`bulk.*` (the file, the parsed table, the canonical mapping, the cached preview, the run on
screen); widgets whose values must survive a page switch under `keep.bulk.*` (app.py keeps
those).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from leadstream import views as view
from ui import state as ui
from ui.bulk_file import file_step
from ui.bulk_keys import (
    CANARY,
    CONCURRENCY,
    DELIMITER,
    ENCODING,
    FILTER,
    INCLUDE_DUPLICATES,
    PAUSE_AFTER,
    RATE,
    RUN,
    SEND_WARNINGS,
    show_notices,
)
from ui.bulk_mapping import mapping_step
from ui.bulk_preview import preview_step
from ui.bulk_send import run_view, send_step
from ui.entry import through_app
from ui.run_panel import unfinished_notice

through_app()  # before anything is drawn: see ui/entry.py

state = st.session_state


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
