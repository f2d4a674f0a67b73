"""The runner: sends one journal run on a background thread, and the registry of runs this
process is sending.

Every row's state lives in the journal, so a run stopped at any moment (pause, cancel, a closed
window, `kill -9`) resumes without losing a row or sending a delivered one twice. A
`RunController` claims the run (`Journal.begin_run`: one live process at a time), sends its
pending rows `concurrency` at a time through a `Client`, and settles it as finished, paused or
cancelled. It pauses by itself when the first row fails (the canary), after a streak of
failures, and at once when the server refuses the request itself (a non-429 4xx: every other
row would get the same).

Pause and cancel reach a run from anywhere: in this process through its controller (found in
`REGISTRY`), from another process as a request written in the journal (`Journal.ask_run`) that
the sending controller polls. Which rows may be sent again after an unclear send is
`outcomes.may_send_again` (applied by `Journal.requeue_unsure`); a `DUPLICATE EMAIL` answer to a
row that may have been sent before means delivered, which `outcomes.decide` says when the
client is told `maybe_sent`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Self

from leadstream.deliver.client import Client, Delivery
from leadstream.deliver.journal import FINAL_STATES, Journal, RunInfo, RunRow, utc_now
from leadstream.deliver.outcomes import AttemptKind, DeliveryOutcome
from leadstream.protocol.response import Code

__all__ = [
    "ACCOUNT_WIDE_CODES",
    "REGISTRY",
    "ControllerState",
    "Progress",
    "Registry",
    "RunController",
    "RunnerError",
    "Sending",
    "journal_key",
    "progress_from_info",
    "run_progress",
    "start_run",
]

log = logging.getLogger(__name__)

# Answers about the account or the request's routing rather than the lead: when they repeat,
# the other rows will most likely get the same, so they count towards pausing the run. (Not a
# pause at once: a file may route one row to a wrong cm_id and the rest correctly.)
ACCOUNT_WIDE_CODES = frozenset(
    code.reason
    for code in (
        Code.IDNUMBER_IS_REQUIRED,
        Code.UNKNOWN_USER,
        Code.CANCELLED_USER,
        Code.CM_ID_IS_REQUIRED,
        Code.CM_ID_IS_INVALID,
        Code.BAD_RESPONSE_TYPE,
    )
)

# How often a sending controller looks for a pause or cancel asked by another process.
_REQUEST_POLL_S = 0.2


class RunnerError(ValueError):
    """A run that cannot be sent as asked; the message says what to do."""


# --- Progress -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """Where a run stands, read from the journal (so any process can show it)."""

    run_id: int
    total: int
    done: int
    by_outcome: dict[str, int]
    pending: int
    in_flight: int
    rate_per_s: float
    elapsed_s: float
    state: str
    message: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def _seconds_between(start: str, end: str) -> float:
    if not start or not end:
        return 0.0
    return max((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 0.0)


def progress_from_info(info: RunInfo, *, now: str | None = None, message: str = "") -> Progress:
    if info.status == "running" and now is not None:
        end = now
    else:
        end = info.last_finished_at or info.finished_at
    elapsed = _seconds_between(info.started_at, end)
    rate = info.sent_since_start / elapsed if elapsed > 0 else 0.0
    if not message and info.status == "running" and info.request:
        verb = "Pausing" if info.request == "pause" else "Cancelling"
        sender = info.owner or "the sending program"
        message = f"{verb}: asked {sender} to stop after the leads on the way."
    return Progress(
        run_id=info.id,
        total=info.total,
        done=info.done,
        by_outcome={state: n for state, n in info.counts.items() if state in FINAL_STATES},
        pending=info.counts.get("pending", 0),
        in_flight=info.counts.get("in_flight", 0),
        rate_per_s=rate,
        elapsed_s=elapsed,
        state=info.status,
        message=message or info.message,
    )


def run_progress(journal: Journal, run_id: int) -> Progress:
    """A run's progress as the journal has it."""
    return progress_from_info(journal.run(run_id), now=utc_now())


# --- The registry ---------------------------------------------------------------------------------


def journal_key(journal: Journal) -> str:
    """Tells journals apart within the process: their file, or the object for `:memory:`."""
    return str(journal.path) if journal.path is not None else f"memory:{id(journal)}"


@dataclass(slots=True)
class Sending:
    """A run being sent by this process: its controller and the client it sends with."""

    controller: RunController
    client: Client
    owns_client: bool = False


class Registry:
    """The runs this process is sending, found again by any caller (a reloaded browser tab, the
    Runs page, the CLI's watcher). One controller per run: two tabs cannot both send it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int], Sending] = {}

    def get(self, journal: Journal, run_id: int) -> Sending | None:
        with self._lock:
            return self._entries.get((journal_key(journal), run_id))

    def claim(self, journal: Journal, run_id: int, sending: Sending) -> None:
        """Register `sending` as the run's sender; refuse while another controller sends it."""
        slot = (journal_key(journal), run_id)
        with self._lock:
            current = self._entries.get(slot)
            if current is not None and current.controller is not sending.controller:
                raise RunnerError(
                    f"Bulk run {run_id} is already being sent in this program; wait for it to "
                    "finish or pause it there."
                )
            self._entries[slot] = sending

    def release(self, journal: Journal, run_id: int, controller: RunController) -> None:
        """Forget the run's sender once it settled, closing the client it owned."""
        slot = (journal_key(journal), run_id)
        with self._lock:
            current = self._entries.get(slot)
            if current is None or current.controller is not controller:
                return
            del self._entries[slot]
        if current.owns_client:
            current.client.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


REGISTRY = Registry()


# --- Sending ------------------------------------------------------------------------------------

ControllerState = Literal[
    "idle", "running", "pausing", "paused", "cancelling", "cancelled", "finished", "error"
]


@dataclass(slots=True)
class _Finished:
    line: int
    outcome: str
    code: str
    refused: bool  # the server refused the request itself: every row would get the same
    help: str = field(repr=False)

    @property
    def is_failure(self) -> bool:
        """An outcome that suggests the next rows will fare no better."""
        if self.outcome in (DeliveryOutcome.FAILED, DeliveryOutcome.UNCERTAIN):
            return True
        return self.outcome == DeliveryOutcome.REJECTED and self.code in ACCOUNT_WIDE_CODES

    @property
    def what(self) -> str:
        return f"{self.outcome} ({self.code})" if self.code else self.outcome


class RunController:
    """Sends one journal run on a background thread; pause, resume, cancel, wait, progress.

    The controller owns neither the journal nor, unless `owns_client`, the client: the caller
    closes them after the run has settled (`wait` returned True). An owned client is closed
    when the run settles.
    """

    def __init__(
        self,
        journal: Journal,
        client: Client,
        run_id: int,
        *,
        concurrency: int = 4,
        canary: bool = True,
        pause_after_failures: int = 5,
        on_progress: Callable[[Progress], None] | None = None,
        progress_interval_s: float = 0.1,
        owns_client: bool = False,
        registry: Registry = REGISTRY,
    ) -> None:
        if concurrency < 1:
            raise RunnerError(f"Concurrency is {concurrency}; send at least 1 lead at a time.")
        self.journal = journal
        self.client = client
        self.run_id = run_id
        self.concurrency = concurrency
        self.pause_after_failures = pause_after_failures
        self._canary_due = canary
        self._on_progress = on_progress
        self._progress_interval_s = progress_interval_s
        self._owns_client = owns_client
        self._registry = registry
        self._lock = threading.Lock()
        self._state: ControllerState = "idle"
        self._message = ""
        self._settled = threading.Event()
        self._settled.set()
        self._thread: threading.Thread | None = None
        self._failures_in_row = 0
        self._last_progress = 0.0
        self._last_poll = 0.0
        self.error: BaseException | None = None

    # -- control -----------------------------------------------------------------------------

    @property
    def state(self) -> ControllerState:
        return self._state

    def start(self) -> Self:
        """Claim the run in the journal and start sending (also used by `resume`)."""
        with self._lock:
            if self._state in ("running", "pausing", "cancelling"):
                return self
            info = self.journal.run(self.run_id)
            if info.status == "finished":
                self._state = "finished"
                return self
            sending = Sending(self, self.client, self._owns_client)
            self._registry.claim(self.journal, self.run_id, sending)
            try:
                self.journal.begin_run(self.run_id)
            except BaseException:
                self._registry.release(self.journal, self.run_id, self)
                raise
            self._state = "running"
            self._message = ""
            self._failures_in_row = 0
            self.error = None
            self._settled.clear()
            self._thread = threading.Thread(
                target=self._main, name=f"leadstream-run-{self.run_id}", daemon=True
            )
            self._thread.start()
        return self

    def pause(self, message: str = "Paused.") -> None:
        """Stop taking new rows; rows in flight finish, then the run is `paused`."""
        with self._lock:
            if self._state == "running":
                self._state = "pausing"
                self._message = message

    def carry_on(self) -> bool:
        """Take back a pause not yet settled (rows still on the way); False if it settled."""
        with self._lock:
            if self._state != "pausing":
                return self._state == "running"
            self._state = "running"
            self._message = ""
            self._failures_in_row = 0
            return True

    def resume(self) -> None:
        """Carry on after a pause (or a cancel): unsure rows with an email are sent again.

        For a controller given its client; the engine starts a settled run with a new
        controller (an owned client is closed when the run settles).
        """
        if self.carry_on():
            return
        self._settled.wait()
        self._canary_due = False  # the person chose to go on
        self.start()

    def cancel(self) -> None:
        """Stop taking new rows; rows in flight finish; rows not sent stay unsent."""
        with self._lock:
            if self._state in ("running", "pausing"):
                self._state = "cancelling"
                self._message = "Cancelled."
                return
            if self._state not in ("paused", "idle", "error"):
                return
            self._state = "cancelled"
        self.journal.ask_run(self.run_id, "cancel")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run is paused, cancelled, finished or stopped by an error; True then."""
        return self._settled.wait(timeout)

    def progress(self) -> Progress:
        info = self.journal.run(self.run_id)
        message = ""
        with self._lock:
            if self._state in ("pausing", "cancelling"):
                flying = info.counts.get("in_flight", 0)
                verb = "Pausing" if self._state == "pausing" else "Cancelling"
                message = f"{verb}: waiting for {flying} lead{'s' * (flying != 1)} on the way."
        return progress_from_info(info, now=utc_now(), message=message)

    # -- the sending thread ------------------------------------------------------------------

    def _main(self) -> None:
        try:
            counts = self.journal.run(self.run_id).counts
            if any(counts[state] for state in ("delivered", "rejected", "failed", "in_flight")):
                # The run has been under way before (a resume): the first row was sent alone then.
                self._canary_due = False
            self.journal.requeue_unsure(self.run_id)
            if self._canary_due:
                self._canary_due = False
                if not self._send_canary():
                    return
            self._send_all()
        except BaseException as error:  # the run must settle whatever happened
            self.error = error
            log.exception("bulk run %s stopped by an error", self.run_id)
            with self._lock:
                self._state = "error"
            try:
                self.journal.set_run_status(
                    self.run_id,
                    "paused",
                    f"Stopped by an unexpected error ({type(error).__name__}: {error}). "
                    "Resume to try again.",
                )
            except Exception:  # the journal itself may be the problem
                log.exception("could not record the error of run %s", self.run_id)
        finally:
            self._registry.release(self.journal, self.run_id, self)
            self._report(force=True)
            self._settled.set()

    def _stop_soon(self, state: Literal["pausing", "cancelling"], message: str) -> None:
        with self._lock:
            if self._state == "running" or (state == "cancelling" and self._state == "pausing"):
                self._state = state
                self._message = message

    def _send_canary(self) -> bool:
        """Send the first pending row alone; False (run paused) if its answer would repeat."""
        rows = self.journal.claim_next_rows(self.run_id, 1)
        if not rows:
            return True
        done = self._send(rows[0])
        self._report()
        if not done.is_failure:
            return True
        self._stop_soon(
            "pausing",
            f"Paused after the first row (row {done.line}): {done.what}. {done.help} "
            "Nothing else was sent. Fix this, then resume the run.",
        )
        self._settle()
        return False

    def _poll_requests(self) -> None:
        """Act on a pause or cancel asked by another process (`Journal.ask_run`)."""
        now = time.monotonic()
        if now - self._last_poll < _REQUEST_POLL_S:
            return
        self._last_poll = now
        request = self.journal.run_request(self.run_id)
        if request == "pause":
            self._stop_soon("pausing", "Paused from another window or program.")
        elif request == "cancel":
            self._stop_soon("cancelling", "Cancelled from another window or program.")

    def _send_all(self) -> None:
        flying: dict[Future[_Finished], RunRow] = {}
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="leadstream-bulk") as pool:
            while True:
                self._poll_requests()
                if self._state == "running":
                    free = self.concurrency - len(flying)
                    if free > 0:
                        for row in self.journal.claim_next_rows(self.run_id, free):
                            flying[pool.submit(self._send, row)] = row
                if not flying:
                    if self._settle():
                        return
                    # Rows remain but none could be taken (in flight elsewhere): look again soon.
                    time.sleep(0.05)
                    continue
                done, _ = wait(flying, timeout=_REQUEST_POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    flying.pop(future)
                    self._count(future.result())
                self._report()

    def _settle(self) -> bool:
        """Nothing in flight: finish, pause or cancel as asked; False to carry on sending."""
        info = self.journal.run(self.run_id)
        with self._lock:
            left = info.counts.get("pending", 0) + info.counts.get("in_flight", 0)
            if left == 0:
                self._state = "finished"
                status, message = "finished", ""
            elif self._state == "pausing":
                self._state = "paused"
                status, message = "paused", self._message
            elif self._state == "cancelling":
                self._state = "cancelled"
                status, message = "cancelled", self._message
            else:
                return False
        self.journal.set_run_status(self.run_id, status, message)
        return True

    def _send(self, row: RunRow) -> _Finished:
        # `maybe_sent` lets the delivery rules count a DUPLICATE EMAIL as the earlier send.
        delivery: Delivery = self.client.post(row.lead, maybe_sent=row.maybe_sent)
        self.journal.finish_row(self.run_id, row.row, delivery, lead=row.lead)
        last = delivery.attempts[-1] if delivery.attempts else None
        return _Finished(
            line=row.line,
            outcome=str(delivery.outcome),
            code=delivery.code,
            refused=last is not None and last.kind is AttemptKind.REFUSED,
            help=delivery.help,
        )

    def _count(self, done: _Finished) -> None:
        if done.refused:
            self._stop_soon(
                "pausing",
                f"Paused: the server refused row {done.line} itself ({done.code}), so every "
                f"other row would be refused too. {done.help} Then resume the run.",
            )
            return
        if not done.is_failure:
            self._failures_in_row = 0
            return
        self._failures_in_row += 1
        limit = self.pause_after_failures
        if limit > 0 and self._failures_in_row >= limit:
            self._stop_soon(
                "pausing",
                f"Paused after {self._failures_in_row} rows in a row went wrong; the last, row "
                f"{done.line}, was {done.what}. {done.help} Check the connection and settings, "
                "then resume the run.",
            )

    def _report(self, *, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < self._progress_interval_s:
            return
        self._last_progress = now
        try:
            self._on_progress(self.progress())
        except Exception:  # a broken progress display must not stop the run
            log.exception("progress callback failed")


def start_run(
    journal: Journal,
    client: Client,
    run_id: int,
    *,
    concurrency: int = 4,
    canary: bool = True,
    pause_after_failures: int = 5,
    on_progress: Callable[[Progress], None] | None = None,
    owns_client: bool = False,
) -> RunController:
    """Start (or resume) sending run `run_id` on a background thread; returns its controller.

    Raises `JournalError` when another live process is sending the same run, `RunnerError`
    when a controller of this process is.
    """
    controller = RunController(
        journal,
        client,
        run_id,
        concurrency=concurrency,
        canary=canary,
        pause_after_failures=pause_after_failures,
        on_progress=on_progress,
        owns_client=owns_client,
    )
    return controller.start()
