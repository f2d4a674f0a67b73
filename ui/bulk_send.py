"""Step 4 of the Bulk upload page: send, and the run just sent.

`send_step()` draws the sending options, what stops the send (columns matched to the wrong
field, no row to send, a connection problem), the Send button and its confirmation, then
creates and starts the run through the engine. `run_view()` shows that run in the same panel as
the Runs page (`ui.run_panel`), with the way back to the file or to a new upload.
"""

from __future__ import annotations

import zlib
from typing import Any

import streamlit as st

from leadstream import views as view
from leadstream.deliver.engine import EngineError, engine_for
from leadstream.deliver.journal import Journal, JournalError
from leadstream.deliver.run_settings import RunSettings, RunSettingsError
from leadstream.prepare.legend import Legend
from leadstream.prepare.mapping import ColumnMapping, mismatched_columns
from leadstream.prepare.plan import plan_summary
from ui import state as ui
from ui.bulk_keys import (
    CANARY,
    CONCURRENCY,
    CONFIRM,
    FILE,
    GUARD,
    INCLUDE_DUPLICATES,
    PAUSE_AFTER,
    PREPARED,
    PREVIEW,
    RATE,
    RUN,
    UPLOAD_VERSION,
    StoredFile,
    bump,
    forget_downstream,
    notify,
)
from ui.run_panel import run_panel, send_run
from ui.widgets import md, target_label

__all__ = ["run_view", "send_step"]

state = st.session_state


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
