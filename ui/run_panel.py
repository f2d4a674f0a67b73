"""The run panel: one bulk run's progress, controls and results, wherever the run was started.

`run_panel(journal, conn, run_id)` is what the Runs page (and the Bulk upload page, right after
a send) shows for a run: a progress fragment that reads the journal every second while the run
is being sent, Pause / Resume / Cancel, the results a page at a time with their download, and
"Re-send failed rows". `unfinished_notice(journal)` lists runs left paused or interrupted.

Every decision (may this run resume here, with which key, what may be re-sent, how to pause a
run another process sends) is the engine's (`leadstream.deliver.engine`); this module only lays
out widgets and reports the engine's errors in its words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from leadstream import views as view
from leadstream.deliver.engine import Engine, EngineError, engine_for
from leadstream.deliver.journal import Journal, JournalError, RunInfo, utc_now
from leadstream.deliver.run_settings import RunSettings
from leadstream.deliver.run_summary import sending_seconds, skipped_by_reason
from leadstream.deliver.runner import Progress
from leadstream.deliver.target import TargetKind
from ui import state as ui
from ui.phoneburner import check_phoneburner_button, was_checked
from ui.results import results_table
from ui.widgets import OUTCOME_ICONS, md

__all__ = [
    "RUNS_PAGE",
    "open_run_page",
    "run_panel",
    "runs_frame",
    "send_run",
    "unfinished_notice",
]

RUNS_PAGE = "pages/runs.py"

state = st.session_state

K = "run."
RESUME_ASKED = K + "resume_asked"
NOTICES = K + "notices"
UNFINISHED_SHOWN = 3

# The errors the engine and the journal report in words: shown, never raised.
RunProblem = (EngineError, JournalError)


def open_run_page(run_id: int) -> None:
    """Show `run_id` on the Runs page (ends this script run)."""
    st.switch_page(RUNS_PAGE, query_params={"run": str(run_id)})


def _notify(level: str, text: str) -> None:
    """A message for the next run (callbacks cannot draw)."""
    state.setdefault(NOTICES, []).append((level, text))


def _show_notices() -> None:
    for level, text in state.pop(NOTICES, []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(level, st.info)(text)


# ---------------------------------------------------------------------------- callbacks


def _ask_resume(run_id: int) -> None:
    state[RESUME_ASKED] = run_id


def _pause(journal: Journal, run_id: int) -> None:
    try:
        engine_for(journal).pause(run_id)
    except RunProblem as error:
        _notify("error", str(error))


def _cancel(journal: Journal, run_id: int) -> None:
    try:
        engine_for(journal).cancel(run_id)
    except RunProblem as error:
        _notify("error", str(error))


def send_run(engine: Engine, run_id: int) -> None:
    """Start or resume `run_id` in this process with the person's configured key (the engine
    decides which key a target gets), the built-in sandbox wherever it listens now."""
    info = engine.run(run_id)
    url = ui.get_sandbox().url if info.target_kind == TargetKind.SANDBOX else None
    key, _ = ui.configured_key()
    engine.start(run_id, key=key, url=url)


def _settings(info: RunInfo) -> RunSettings | None:
    try:
        return info.run_settings
    except ValueError:  # unreadable settings: the engine says so on resume
        return None


def _resume_if_asked(journal: Journal, conn: ui.Connection, info: RunInfo) -> None:
    """A Resume click: for the live target, the live confirmation first, then the engine."""
    if state.get(RESUME_ASKED) != info.id:
        return
    action = f"run-resume-{info.id}"
    if state.get(f"conn.cancel_live.{action}"):  # "Cancel" in the live confirmation
        state.pop(RESUME_ASKED, None)
        return
    settings = _settings(info)
    # Confirmed for the run's own target and LeadStream, whatever the sidebar points at.
    for_run = dataclasses.replace(
        conn, target=info.target, cm_id=settings.cm_id if settings else conn.cm_id
    )
    if not ui.confirm_live(for_run, action=action):
        return
    state.pop(RESUME_ASKED, None)
    ui.confirmed_now(action)
    try:
        send_run(engine_for(journal), info.id)
    except RunProblem as error:
        _notify("error", str(error))
    st.rerun()


# ---------------------------------------------------------------------------- progress


def _outcome_line(by_outcome: dict[str, int]) -> str:
    parts = [
        f"{OUTCOME_ICONS.get(outcome, '•')} {n:,} {outcome}"
        for outcome, n in view.outcome_counts(by_outcome)
    ]
    return " · ".join(parts) if parts else "Nothing sent yet."


def _controls(journal: Journal, progress: Progress, info: RunInfo) -> None:
    run_id = progress.run_id
    status = progress.state
    buttons = st.columns([1, 1, 3])
    if status == "running":
        buttons[0].button(
            "Pause",
            key=f"run.pause.{run_id}",
            on_click=_pause,
            args=(journal, run_id),
            icon=":material/pause:",
            help="Finishes the leads on the way, then stops; resume it whenever you like.",
        )
        buttons[1].button(
            "Cancel",
            key=f"run.cancel.{run_id}",
            on_click=_cancel,
            args=(journal, run_id),
            icon=":material/stop:",
            help="Stops taking new rows; rows not sent yet stay unsent.",
        )
        if not engine_for(journal).sending_here(run_id):
            who = md(info.owner or "another program")
            # Another process acts on the request between two leads: say it is on its way.
            asked = journal.run_request(run_id)
            waiting = f" {asked.capitalize()} asked: it stops once the leads on their way are "
            waiting += "answered."
            buttons[2].caption(f"Being sent by {who}.{waiting if asked else ''}")
    elif status == "cancelled" and progress.pending:
        buttons[0].button(
            f"Send the {view.plural(progress.pending, 'row')} not sent yet",
            key=f"run.resume.{run_id}",
            on_click=_ask_resume,
            args=(run_id,),
            icon=":material/play_arrow:",
        )
    elif status in ("paused", "interrupted"):
        buttons[0].button(
            "Resume",
            key=f"run.resume.{run_id}",
            type="primary",
            on_click=_ask_resume,
            args=(run_id,),
            icon=":material/play_arrow:",
        )
        buttons[1].button(
            "Cancel the run",
            key=f"run.cancel.{run_id}",
            on_click=_cancel,
            args=(journal, run_id),
            icon=":material/stop:",
            help="Marks the run as cancelled; rows not sent stay unsent.",
        )


def _progress_view(journal: Journal, run_id: int) -> str:
    """Progress bar, counts, the run's message and its buttons; returns the run's state."""
    try:
        engine = engine_for(journal)
        progress = engine.progress(run_id)
        info = engine.run(run_id)
    except RunProblem as error:
        st.error(str(error))
        return "error"
    # The whole run's sending time, not the span since the last Resume.
    progress = dataclasses.replace(
        progress, elapsed_s=sending_seconds(journal, info, now=utc_now())
    )
    st.progress(progress.fraction, text=view.progress_caption(progress))
    st.markdown(_outcome_line(progress.by_outcome))
    if progress.message:
        if progress.state == "paused" and progress.message != "Paused by you.":
            st.warning(progress.message, icon=":material/pause_circle:")
        else:
            st.info(progress.message)
    _controls(journal, progress, info)
    return progress.state


@st.fragment(run_every=1)
def _live_progress(journal: Journal, run_id: int) -> None:
    """Redrawn every second from the journal while the run is sent (here or by another
    process); once it stops, the whole page reruns so the results replace it."""
    # An unreadable run stays as it is: a rerun would only draw the same error again.
    if _progress_view(journal, run_id) not in ("running", "error"):
        st.rerun()


# ---------------------------------------------------------------------------- results


def _retry(journal: Journal, run_id: int, open_run: Callable[[int], None]) -> None:
    try:
        new_id = engine_for(journal).retry(run_id, ("failed",))
    except RunProblem as error:
        st.error(str(error))
        return
    # Sent like a resume, so that the live target asks for its confirmation first.
    state[RESUME_ASKED] = new_id
    open_run(new_id)


def _results(journal: Journal, info: RunInfo, open_run: Callable[[int], None]) -> None:
    run_id = info.id
    counts = info.counts
    if info.status == "finished":
        skipped = skipped_by_reason(journal, run_id)
        text = view.finished_message(run_id, counts, skipped)
        if view.finished_cleanly(counts, skipped):
            st.success(text, icon=":material/check_circle:")
        else:
            st.warning(
                text + " The table says what happened to the others.", icon=":material/warning:"
            )
    failed = counts.get("failed", 0)
    # Once rows are unsure (or were just checked), "Check PhoneBurner" offers the re-send, as
    # "Send the missing ones", after the look-up; one button for it is enough.
    check_key = f"run.check.{run_id}"
    checking = bool(counts.get("uncertain", 0)) or was_checked(check_key)
    if (
        failed
        and not checking
        and info.status in ("finished", "cancelled")
        and st.button(
            f"Re-send the {failed:,} failed rows",
            key=f"run.retry.{run_id}",
            icon=":material/replay:",
            help="They were certainly not taken (the server could not be reached or was "
            "busy), so sending them again is safe. They go out as a new run.",
        )
    ):
        _retry(journal, run_id, open_run)
    if counts.get("uncertain", 0):
        st.info(
            f"{counts['uncertain']:,} rows got no clear answer and may or may not be in "
            "PhoneBurner. Check PhoneBurner looks each one up there (with the access token in "
            "the sidebar); those not there can then be sent again.",
            icon=":material/help:",
        )
    if checking and info.status in ("finished", "cancelled", "paused", "interrupted"):
        check_phoneburner_button(
            journal,
            run_id,
            vendor_key=ui.configured_key()[0],
            url=ui.get_sandbox().url if info.target_kind == TargetKind.SANDBOX else None,
            key=check_key,
            open_run=open_run,
        )
    st.markdown("#### Results")
    results_table(journal, run_id, key=f"run.results.{run_id}")


# ---------------------------------------------------------------------------- the panel


def _where(info: RunInfo) -> str:
    where = TargetKind(info.target_kind).label
    if info.target_kind != TargetKind.SANDBOX:
        where += f" ({info.target_url})"
    return where


def run_panel(
    journal: Journal,
    conn: ui.Connection,
    run_id: int,
    *,
    open_run: Callable[[int], None] = open_run_page,
) -> None:
    """One run: heading, progress (live while it is sent), controls, results.

    `open_run` shows another run (the one "Re-send failed rows" creates); by default the Runs
    page with `?run=<id>`.
    """
    _show_notices()
    try:
        info = engine_for(journal).run(run_id)
    except RunProblem as error:
        st.error(str(error))
        return
    _resume_if_asked(journal, conn, info)
    st.subheader(f"Run #{run_id} · {info.source_name or 'file'}")
    origin = "the command line" if info.origin == "cli" else "this app"
    settings = _settings(info)
    where = _where(info)
    if settings is not None and settings.cm_id:
        where += f" · LeadStream {settings.cm_id}"
    lines = [
        f"To {md(where)}. Created {view.local_time(info.created)} from {origin}; "
        f"{view.plural(info.total, 'row')}."
    ]
    if settings is not None and settings.retry_of is not None:
        lines.append(f"Re-sends rows of run #{settings.retry_of}.")
    if settings is not None and settings.held_back:
        were = "was" if settings.held_back == 1 else "were"
        lines.append(
            f"{view.plural(settings.held_back, 'row')} with warnings {were} not part of this "
            "run (ready rows only were chosen)."
        )
    st.caption(" ".join(lines))
    if info.status == "running":
        _live_progress(journal, run_id)
        return
    _progress_view(journal, run_id)
    _results(journal, info, open_run)


def unfinished_notice(journal: Journal, *, exclude: int | None = None) -> None:
    """Runs left running, paused or interrupted (a closed window, a restart, the CLI), the
    newest few each with a button that opens it on the Runs page, and how many more there are."""
    engine = engine_for(journal)
    try:
        runs = engine.unfinished_runs(limit=UNFINISHED_SHOWN + 1)
        total = engine.unfinished_count()
    except RunProblem as error:
        st.error(str(error))
        return
    if exclude is not None and any(info.id == exclude for info in runs):
        runs = [info for info in runs if info.id != exclude]
        total -= 1
    for info in runs[:UNFINISHED_SHOWN]:
        title = f"Run #{info.id} · {info.source_name or 'file'} → {_where(info)}"
        done = f"{info.done:,} of {info.total:,} done"
        box = st.container(border=True)
        text, button = box.columns([5, 1], vertical_alignment="center")
        if info.status == "running":
            text.markdown(f":material/sync: {md(title)}: being sent ({done}).")
        else:
            why = "interrupted" if info.status == "interrupted" else "paused"
            message = f" {info.message}" if info.message else ""
            text.markdown(f":material/pause_circle: {md(title)}: {why} with {done}.{md(message)}")
        if button.button("Open", key=f"run.open.{info.id}", icon=":material/open_in_new:"):
            open_run_page(info.id)
    if total > UNFINISHED_SHOWN:
        more = total - UNFINISHED_SHOWN
        st.page_link(
            RUNS_PAGE,
            label=f"{view.plural(more, 'more unfinished run')} on the Runs page",
            icon=":material/list:",
        )


# ---------------------------------------------------------------------------- the list of runs

RUNS_COLUMNS = (
    "Run",
    "Created",
    "File",
    "Sent to",
    "From",
    "Status",
    "Rows",
    "Delivered",
    "Rejected",
    "Failed",
    "Uncertain",
    "Unsent",
    "Kept back",
)


def runs_frame(runs: Sequence[RunInfo]) -> pd.DataFrame:
    """One line per run for the Runs page's list: when (local time), what, where, how far."""
    records = []
    for info in runs:
        counts = info.counts
        records.append(
            (
                info.id,
                view.local_time(info.created),
                info.source_name,
                TargetKind(info.target_kind).label,
                "CLI" if info.origin == "cli" else "App",
                info.status,
                info.total,
                counts.get("delivered", 0),
                counts.get("rejected", 0),
                counts.get("failed", 0),
                counts.get("uncertain", 0),
                counts.get("pending", 0) + counts.get("in_flight", 0),
                counts.get("invalid", 0) + counts.get("duplicate", 0),
            )
        )
    return pd.DataFrame.from_records(records, columns=list(RUNS_COLUMNS))
