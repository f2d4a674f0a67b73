"""The run engine: the calls the pages and the CLI make about bulk runs, and sending one lead.

`engine_for(journal)` gives the `Engine` over a journal: plan rows against what the journal
knows, create a run from `RunSettings`, start or resume it in this process, pause or cancel it
wherever it is being sent, read its progress, list runs, re-send rows, write its results. The
runs this process sends live in the process-wide `runner.REGISTRY`, so every `Engine` of a
journal sees the same runs (a reloaded browser tab, the Runs page and the Bulk upload page
alike), and the journal carries requests to runs other processes send.

`send_one` posts a single lead and journals it: the Post a lead form and the legend test.

Which key goes where is `target.key_for` (the sandbox only ever gets its demo key); what may be
sent again is `outcomes.may_send_again`; what "the same lead" means is `prepare.identity`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO, Literal

from leadstream.deliver.client import Client, ClientError, Delivery
from leadstream.deliver.journal import Journal, JournalError, NewRow, RunInfo
from leadstream.deliver.outcomes import may_send_again
from leadstream.deliver.run_settings import RunSettings
from leadstream.deliver.runner import (
    REGISTRY,
    Progress,
    Registry,
    RunController,
    RunnerError,
    run_progress,
    start_run,
)
from leadstream.deliver.target import Target, key_for
from leadstream.prepare.mapping import PreparedRow
from leadstream.prepare.plan import PlannedRow, Seen, plan_rows
from leadstream.protocol.lead import Lead

__all__ = [
    "RETRY_STATES",
    "ClientFactory",
    "Engine",
    "EngineError",
    "NotRecorded",
    "engine_for",
    "plan_with",
    "send_one",
]

# Rows a person may ask to send again in a new run; delivered and duplicate rows never are.
RETRY_STATES = ("failed", "uncertain", "rejected", "invalid")

# Makes the client a run sends with: (url, key, settings) -> Client. Tests give a fast retry
# policy or a mock transport this way.
ClientFactory = Callable[[str, str, RunSettings], Client]

Asked = Literal["here", "asked", "done", "nothing"]


class EngineError(ValueError):
    """A run request that cannot be carried out; the message says why and what to do."""


class NotRecorded(EngineError):
    """The lead was sent, but the journal could not record it; `delivery` says what happened."""

    def __init__(self, message: str, delivery: Delivery) -> None:
        super().__init__(message)
        self.delivery = delivery


def _new_client(url: str, key: str, settings: RunSettings) -> Client:
    return Client(url=url, key=key, concurrency=settings.concurrency, rate=settings.rate_per_s)


class Engine:
    """Bulk runs over one journal. Cheap to make: the runs being sent live in the registry."""

    def __init__(
        self,
        journal: Journal,
        *,
        new_client: ClientFactory = _new_client,
        registry: Registry = REGISTRY,
    ) -> None:
        self.journal = journal
        self._new_client = new_client
        self._registry = registry

    # -- planning ------------------------------------------------------------------------------

    def known(
        self, target: Target, rows: Sequence[PreparedRow]
    ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """The journal's delivered and uncertain fingerprints, per cm_id of `rows`."""
        cm_ids = {row.lead.cm_id for row in rows}
        delivered = {cm: self.journal.delivered_fingerprints(target.name, cm) for cm in cm_ids}
        uncertain = {cm: self.journal.uncertain_fingerprints(target.name, cm) for cm in cm_ids}
        return delivered, uncertain

    def plan(
        self,
        prepared_rows: Sequence[PreparedRow],
        *,
        target: Target,
        include_duplicates: bool = False,
    ) -> list[PlannedRow]:
        """Each row's plan against what the journal knows of `target` (see `prepare.plan`)."""
        delivered, uncertain = self.known(target, prepared_rows)
        return plan_with(prepared_rows, delivered, uncertain, include_duplicates)

    def create_run(
        self,
        settings: RunSettings,
        *,
        source_name: str,
        prepared_rows: Sequence[PreparedRow],
        origin: str,
    ) -> tuple[int, list[PlannedRow]]:
        """Plan `prepared_rows` and store them as a new run (paused until `start`)."""
        plans = self.plan(
            prepared_rows, target=settings.target, include_duplicates=settings.include_duplicates
        )
        rows = [
            NewRow(
                p.row.index, p.row.line, p.row.lead, p.row.source, p.state, p.reason, p.maybe_sent
            )
            for p in plans
        ]
        run_id = self.journal.create_run(
            target=settings.target,
            source_name=source_name,
            rows=rows,
            settings=settings,
            origin=origin,
        )
        return run_id, plans

    def retry(self, run_id: int, states: Sequence[str] = ("failed",)) -> int:
        """A new run of the rows of `run_id` that ended in `states` ("Re-send failed rows").

        Each row goes as `may_send_again` allows: rows whose earlier send may have arrived go
        only with an email (and then a `DUPLICATE EMAIL` means delivered); the others are
        carried over as `uncertain`, not sent.
        """
        if not states or not set(states) <= set(RETRY_STATES):
            raise EngineError(
                f"Only rows that ended as {', '.join(RETRY_STATES)} can be sent again; "
                "delivered rows never are."
            )
        info = self._info(run_id)

        def plan(state: str, has_email: bool) -> tuple[str, bool]:
            if not may_send_again(state, has_email=has_email):
                return "uncertain", False
            return "pending", state in ("uncertain", "in_flight")

        settings = dataclasses.replace(info.run_settings, retry_of=run_id)
        try:
            new_id = self.journal.copy_run(run_id, states=states, plan=plan, settings=settings)
        except JournalError as error:
            raise EngineError(str(error)) from None
        if not new_id:
            raise EngineError(f"Run {run_id} has no {' or '.join(states)} rows to send again.")
        return new_id

    # -- sending -------------------------------------------------------------------------------

    def start(
        self,
        run_id: int,
        *,
        key: str,
        url: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        """Start or resume sending `run_id` in this process, as its stored settings say.

        `key` is the configured vendor key (the sandbox gets its demo key whatever is given);
        `url` is where the target listens now when it moved (the built-in sandbox takes a new
        port each time a program starts it). A run already being sent here carries on.
        """
        info = self._info(run_id)
        if info.status == "finished":
            return
        sending = self._registry.get(self.journal, run_id)
        if sending is not None:
            if sending.controller.carry_on():
                return
            # Settling (a cancel, or a pause that just ended): start afresh once it has.
            sending.controller.wait()
        settings = info.run_settings
        key = key_for(info.target, key)
        if not key:
            raise EngineError(
                f"Run {run_id} sends to {info.target_name}, and no vendor key is configured. "
                "Set LEADSTREAM_KEY or put the key in .streamlit/secrets.toml."
            )
        try:
            client = self._new_client(url or info.target_url, key, settings)
        except ClientError as error:
            raise EngineError(str(error)) from None
        try:
            start_run(
                self.journal,
                client,
                run_id,
                concurrency=settings.concurrency,
                canary=settings.canary,
                pause_after_failures=settings.pause_after_failures,
                on_progress=on_progress,
                owns_client=True,
            )
        except (JournalError, RunnerError) as error:
            client.close()
            raise EngineError(str(error)) from None
        except BaseException:
            client.close()
            raise

    def controller(self, run_id: int) -> RunController | None:
        """The controller sending `run_id` in this process, if any."""
        sending = self._registry.get(self.journal, run_id)
        return sending.controller if sending is not None else None

    def sending_here(self, run_id: int) -> bool:
        return self._registry.get(self.journal, run_id) is not None

    def pause(self, run_id: int, message: str = "Paused by you.") -> Asked:
        """Pause `run_id`: here through its controller (`"here"`), or by asking the process
        that sends it (`"asked"`); `"nothing"` when it is not being sent."""
        controller = self.controller(run_id)
        if controller is not None:
            controller.pause(message)
            return "here"
        return self._ask(run_id, "pause")

    def cancel(self, run_id: int) -> Asked:
        """Cancel `run_id`: rows not sent stay unsent. Here (`"here"`), by asking its sender
        (`"asked"`), or at once when nobody sends it (`"done"`)."""
        controller = self.controller(run_id)
        if controller is not None:
            controller.cancel()
            return "here"
        return self._ask(run_id, "cancel")

    def _ask(self, run_id: int, request: str) -> Asked:
        try:
            answer = self.journal.ask_run(run_id, request)
        except JournalError as error:
            raise EngineError(str(error)) from None
        if answer == "asked":
            return "asked"
        return "done" if answer == "done" else "nothing"

    def progress(self, run_id: int) -> Progress:
        controller = self.controller(run_id)
        if controller is not None:
            return controller.progress()
        try:
            return run_progress(self.journal, run_id)
        except JournalError as error:
            raise EngineError(str(error)) from None

    def wait(self, run_id: int, timeout: float | None = None) -> bool:
        """Wait until the run is no longer being sent, here or elsewhere; True then."""
        controller = self.controller(run_id)
        if controller is not None:
            return controller.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._status(run_id) == "running":
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    # -- reading -------------------------------------------------------------------------------

    def run(self, run_id: int) -> RunInfo:
        return self._info(run_id)

    def runs(self, *, offset: int = 0, limit: int = 50) -> list[RunInfo]:
        """A page of runs, newest first, finished or not, from the app or the CLI."""
        return self.journal.runs(offset=offset, limit=limit)

    def run_count(self) -> int:
        return self.journal.run_count()

    def unfinished_runs(self, *, limit: int | None = None) -> list[RunInfo]:
        """Runs running, paused or interrupted, newest first (the newest `limit` when given)."""
        return self.journal.unfinished_runs(limit=limit)

    def unfinished_count(self) -> int:
        return self.journal.unfinished_count()

    def write_results(self, run_id: int, out: BinaryIO) -> None:
        """The run's results as CSV (UTF-8 with BOM), streamed from the journal to `out`."""
        from leadstream.deliver.reports import write_results_csv  # pandas-free, but not needed

        self._info(run_id)
        write_results_csv(self.journal, run_id, out)

    def _status(self, run_id: int) -> str:
        try:
            return self.journal.run_status(run_id)
        except JournalError as error:
            raise EngineError(str(error)) from None

    def _info(self, run_id: int) -> RunInfo:
        try:
            return self.journal.run(run_id)
        except JournalError as error:
            raise EngineError(str(error)) from None


def plan_with(
    prepared_rows: Sequence[PreparedRow],
    delivered: Seen,
    uncertain: Seen,
    include_duplicates: bool = False,
) -> list[PlannedRow]:
    """`prepare.plan.plan_rows` under the delivery layer's resend rule."""
    return plan_rows(
        prepared_rows,
        delivered=delivered,
        uncertain=uncertain,
        include_duplicates=include_duplicates,
        may_send_again=may_send_again,
    )


def engine_for(journal: Journal) -> Engine:
    """The engine over `journal` (every engine of one journal shares the runs being sent)."""
    return Engine(journal)


def send_one(
    journal: Journal, client: Client, lead: Lead, *, source: str, target: Target
) -> Delivery:
    """Post one lead and record it in the journal's history as `source`.

    Network trouble never raises (it is the delivery's outcome). A journal that cannot record
    the post raises `NotRecorded`, which carries the delivery: the lead has gone either way.
    """
    delivery = client.post(lead)
    try:
        journal.record_post(source=source, target=target, lead=lead, delivery=delivery)
    except Exception as error:
        raise NotRecorded(
            f"The lead was sent, but the history could not be saved ({type(error).__name__}). "
            "Check that the LeadStream Desk folder is writable.",
            delivery,
        ) from None
    return delivery
