"""Runs: every bulk run, finished or not, started here or with `python -m leadstream send`.

The list shows a page of runs at a time, newest first, with the exact count. Clicking a run, or
opening the page with `?run=<id>`, shows its run panel (`ui.run_panel`): progress, Pause /
Resume / Cancel, results and their download. Everything comes from the journal through the
engine, so a run the CLI is sending in another process shows here too.
"""

from __future__ import annotations

import streamlit as st

from leadstream import views as view
from leadstream.deliver.engine import engine_for
from ui import state as ui
from ui.entry import through_app
from ui.run_panel import run_panel, runs_frame

through_app()  # before anything is drawn: see ui/entry.py

PER_PAGE = 25
RUN_PARAM = "run"
LIST_VERSION = "runs.list_version"  # a new list widget after closing a run: no row selected

state = st.session_state


def _close_run() -> None:
    st.query_params.pop(RUN_PARAM, None)
    state[LIST_VERSION] = state.get(LIST_VERSION, 0) + 1


def _open_run(run_id: int) -> None:
    st.query_params[RUN_PARAM] = str(run_id)
    st.rerun()


def _asked_run() -> int | None:
    """The run named in the address (`?run=12`), or None; a malformed one is said."""
    asked = st.query_params.get(RUN_PARAM)
    if asked is None:
        return None
    try:
        run_id = int(asked)
    except ValueError:
        run_id = 0
    if run_id < 1:
        st.error(f"“{asked}” in the address is not a run number; choose a run below.")
        return None
    return run_id


def _run_list() -> None:
    engine = engine_for(ui.get_journal())
    total = engine.run_count()
    if total == 0:
        st.info(
            "No bulk runs yet. Send a file on the Bulk upload page, or from a terminal with "
            "`python -m leadstream send`.",
            icon=":material/info:",
        )
        st.page_link("pages/bulk_upload.py", label="Bulk upload", icon=":material/upload_file:")
        return
    pages = view.page_count(total, PER_PAGE)
    # The page stays chosen while a run is open, so "All runs" comes back to it.
    page = st.pagination(pages, key="runs.page", persist_state="page") if pages > 1 else 1
    start, stop = view.page_bounds(total, page or 1, PER_PAGE)
    runs = engine.runs(offset=start, limit=stop - start)
    st.caption(
        f"Runs {start + 1:,}–{start + len(runs):,} of {total:,}, newest first. "
        "Click a run to see its progress and results."
    )
    event = st.dataframe(
        runs_frame(runs),
        key=f"runs.list.{state.get(LIST_VERSION, 0)}.{page}",
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "Run": st.column_config.NumberColumn(width=60, format="#%d"),
            "Unsent": st.column_config.NumberColumn(help="Rows not sent yet."),
            "Uncertain": st.column_config.NumberColumn(
                help="Rows with no clear answer: look for them in PhoneBurner before resending."
            ),
            "Kept back": st.column_config.NumberColumn(help="Invalid rows and duplicates."),
        },
    )
    chosen = event.selection.rows
    if chosen and chosen[0] < len(runs):
        _open_run(runs[chosen[0]].id)


st.title("Runs")
st.caption(
    "Every bulk run sent from this computer, from this app or the command line. Open one to "
    "follow it, pause, resume or cancel it, and download its results."
)
asked = _asked_run()
if asked is None:
    _run_list()
else:
    st.button("All runs", key="runs.back", on_click=_close_run, icon=":material/arrow_back:")
    run_panel(ui.get_journal(), ui.connection(), asked)
