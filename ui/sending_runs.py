"""Stand-in for the run engine while `leadstream.deliver.engine` is being built: the calls the
run panel makes (progress, start, pause, cancel, retry, results), on the current sender.

Temporary: each function becomes one engine call.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from leadstream import views as view
from leadstream.deliver.client import Client
from leadstream.deliver.journal import Journal, JournalError, RunInfo
from leadstream.deliver.reports import results_csv, run_rows_page
from leadstream.deliver.runs import (
    Progress,
    RunController,
    create_retry_run,
    run_progress,
    start_run,
)
from leadstream.deliver.target import DEMO_KEY, TargetKind
from ui import state as ui


@dataclass(slots=True)
class Sending:
    controller: RunController
    client: Client


class Registry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, int], Sending] = {}

    def get(self, journal: Journal, run_id: int) -> Sending | None:
        with self.lock:
            return self.entries.get((str(journal.path), run_id))

    def put(self, journal: Journal, run_id: int, sending: Sending) -> None:
        with self.lock:
            old = self.entries.get((str(journal.path), run_id))
            self.entries[(str(journal.path), run_id)] = sending
        if old is not None and old.client is not sending.client:
            old.client.close()


@st.cache_resource(show_spinner=False)
def registry() -> Registry:
    return Registry()


def progress(journal: Journal, run_id: int) -> Progress:
    sending = registry().get(journal, run_id)
    if sending is not None:
        return sending.controller.progress()
    return run_progress(journal, run_id)


def sending_here(journal: Journal, run_id: int) -> bool:
    return registry().get(journal, run_id) is not None


def pause(journal: Journal, run_id: int) -> None:
    sending = registry().get(journal, run_id)
    if sending is not None:
        sending.controller.pause("Paused by you.")
        return
    journal.ask_run(run_id, "pause")


def cancel(journal: Journal, run_id: int) -> None:
    sending = registry().get(journal, run_id)
    if sending is not None:
        sending.controller.cancel()
        return
    journal.ask_run(run_id, "cancel")


def _launch(journal: Journal, run_id: int, url: str, key: str) -> None:
    info = journal.run(run_id)
    if hasattr(info, "run_settings"):
        rs = info.run_settings
        rate, concurrency, canary, after = (
            rs.rate_per_s or 0.0,
            rs.concurrency,
            rs.canary,
            rs.pause_after_failures,
        )
    else:
        settings = info.settings  # type: ignore[attr-defined]
        rate = float(settings.get("rate") or 0.0)
        concurrency = int(settings.get("concurrency") or 4)
        canary = bool(settings.get("canary", True))
        after = int(settings.get("pause_after_failures", 5))
    client = Client(url=url, key=key, concurrency=concurrency, rate=rate if rate > 0 else None)
    try:
        controller = start_run(
            journal,
            client,
            run_id,
            concurrency=concurrency,
            canary=canary,
            pause_after_failures=after,
        )
    except BaseException:
        client.close()
        raise
    registry().put(journal, run_id, Sending(controller, client))


def start(journal: Journal, conn: ui.Connection, info: RunInfo) -> None:
    sending = registry().get(journal, info.id)
    if sending is not None and sending.controller.state != "finished":
        if sending.controller.state != "running":
            sending.controller.resume()
        return
    if info.target_kind == TargetKind.SANDBOX:
        _launch(journal, info.id, ui.get_sandbox().url, DEMO_KEY)
        return
    if conn.target.name != info.target_name or conn.problem:
        where = TargetKind(info.target_kind).label
        raise JournalError(
            f"Run #{info.id} sends to {where} ({info.target_url}). Choose that target under "
            "Connection in the sidebar to resume it."
        )
    _launch(journal, info.id, info.target_url, conn.key)


def retry(journal: Journal, run_id: int, states: Sequence[str]) -> int:
    return create_retry_run(journal, run_id, states)


def results_table(journal: Journal, run_id: int, *, key: str) -> None:
    info = journal.run(run_id)
    total = info.total
    pages = view.page_count(total)
    page = st.pagination(pages, key=f"{key}.page") if pages > 1 else 1
    start_at, stop = view.page_bounds(total, page or 1)
    rows = run_rows_page(journal, run_id, offset=start_at, limit=stop - start_at)
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "row": r.row,
                "outcome": r.outcome,
                "code": r.code,
                "detail": r.detail,
                "lead_url": r.lead_url,
                "attempts": r.attempts,
                **r.source,
            }
            for r in rows
        ]
    )
    st.download_button(
        "Download the results (CSV)",
        data=lambda: results_csv(journal, run_id),
        file_name=f"{view.stem(info.source_name or 'leads')}-results-run{run_id}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=f"{key}.csv",
    )
    st.dataframe(frame, hide_index=True)


def run_count(journal: Journal) -> int:
    return journal.run_count()


def runs(journal: Journal, *, offset: int = 0, limit: int = 50) -> list[RunInfo]:
    return journal.runs(offset=offset, limit=limit)
