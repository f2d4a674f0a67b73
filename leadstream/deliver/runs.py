"""Bulk sending: which rows to send, the resumable sender, and the results table.

Shared by the bulk upload page and the CLI. `plan_rows` decides each row's fate before anything
is sent (invalid rows and duplicates are kept back); `create_planned_run` stores the plan in the
journal; `start_run` sends the pending rows on a background thread, every row's state kept in
the journal, so that a run stopped at any moment (pause, cancel, a closed window, `kill -9`)
resumes without losing a row or sending a delivered one twice.

Resume rules (DESIGN, "Delivery rules"): a row left in flight or uncertain is sent again only
when it has an email, and then a `DUPLICATE EMAIL` answer means the earlier send arrived.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Self

from leadstream.deliver.client import Client, Delivery
from leadstream.deliver.journal import (
    FINAL_STATES,
    Journal,
    NewRow,
    RunInfo,
    RunRow,
    utc_now,
)
from leadstream.prepare.identity import fingerprint
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.reports import RESULT_COLUMNS, results_csv, results_frame
from leadstream.deliver.target import Target
from leadstream.prepare.mapping import PreparedRow, find_duplicates
from leadstream.protocol.response import Code

__all__ = [
    "ACCOUNT_WIDE_CODES",
    "RESULT_COLUMNS",
    "BulkError",
    "PlannedRow",
    "Progress",
    "RunController",
    "Seen",
    "create_planned_run",
    "create_retry_run",
    "known_fingerprints",
    "plan_rows",
    "plan_summary",
    "progress_from_info",
    "results_csv",
    "results_frame",
    "run_progress",
    "start_run",
]

log = logging.getLogger(__name__)

# Answers about the account or the request's routing rather than the lead: every other row of
# the run would get the same answer, so the run stops instead of sending them all.
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

_RESENT_DUPLICATE_HELP = (
    "An earlier send of this row got no clear answer; sent again, PhoneBurner said the email is "
    "already in this LeadStream, so the earlier send delivered it."
)


class BulkError(ValueError):
    """A bulk run that cannot be planned or started as asked; the message says what to do."""


# --- Planning ---------------------------------------------------------------------------------

PlannedState = Literal["pending", "invalid", "duplicate", "uncertain"]


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """What will happen to one prepared row: sent (`pending`) or kept back, and why."""

    row: PreparedRow
    state: PlannedState
    reason: str = ""
    maybe_sent: bool = False  # an earlier send from this machine may have arrived

    def to_new_row(self) -> NewRow:
        return NewRow(
            self.row.index,
            self.row.line,
            self.row.lead,
            self.row.source,
            self.state,
            self.reason,
            self.maybe_sent,
        )


Seen = set[str] | frozenset[str] | Mapping[str, set[str]]


def _seen(known: Seen, cm_id: str) -> set[str] | frozenset[str]:
    if isinstance(known, set | frozenset):
        return known
    return known.get(cm_id, set())


def plan_rows(
    prepared_rows: Sequence[PreparedRow],
    *,
    delivered: Seen,
    uncertain: Seen = frozenset(),
    include_duplicates: bool = False,
) -> list[PlannedRow]:
    """Each row's plan, in file order.

    `delivered` (and `uncertain`) are journal fingerprints, either one set or a set per cm_id.
    A row with errors is `invalid`; a row repeating an earlier row of the file, or already
    delivered from this machine, is `duplicate` unless `include_duplicates`. A row without an
    email whose earlier send may have arrived is held back as `uncertain`; with an email it is
    sent, and a `DUPLICATE EMAIL` answer will then count as delivered.
    """
    repeats = find_duplicates(prepared_rows)
    lines = {row.index: row.line for row in prepared_rows}
    plans: list[PlannedRow] = []
    for row in prepared_rows:
        if row.errors:
            reason = "; ".join(problem.message for problem in row.errors)
            plans.append(PlannedRow(row, "invalid", reason))
            continue
        mark = fingerprint(row.lead)
        cm_id = row.lead.cm_id
        has_email = bool(row.lead.email.strip())
        if not include_duplicates:
            if mark in _seen(delivered, cm_id):
                what = "this email" if has_email else "these exact details"
                plans.append(
                    PlannedRow(
                        row,
                        "duplicate",
                        f"A lead with {what} was already delivered to this LeadStream from "
                        "this computer.",
                    )
                )
                continue
            if row.index in repeats:
                first = lines.get(repeats[row.index], repeats[row.index] + 2)
                same = "Same email as" if has_email else "Identical to"
                plans.append(PlannedRow(row, "duplicate", f"{same} row {first}."))
                continue
        if mark in _seen(uncertain, cm_id):
            if has_email:
                plans.append(PlannedRow(row, "pending", maybe_sent=True))
                continue
            if not include_duplicates:
                plans.append(
                    PlannedRow(
                        row,
                        "uncertain",
                        "An earlier send of this lead got no clear answer and it has no email, "
                        "so sending it again could store it twice. Look for it in PhoneBurner "
                        "first.",
                    )
                )
                continue
        plans.append(PlannedRow(row, "pending"))
    return plans


def plan_summary(plans: Sequence[PlannedRow]) -> dict[str, int]:
    """How many rows each plan state has: `{"pending": 97, "invalid": 2, "duplicate": 1, …}`."""
    counts = dict.fromkeys(("pending", "invalid", "duplicate", "uncertain"), 0)
    for plan in plans:
        counts[plan.state] += 1
    return counts


def known_fingerprints(
    journal: Journal, target: Target, rows: Sequence[PreparedRow]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The journal's delivered and uncertain fingerprints for every cm_id in `rows`."""
    cm_ids = {row.lead.cm_id for row in rows}
    delivered = {cm: journal.delivered_fingerprints(target.name, cm) for cm in cm_ids}
    uncertain = {cm: journal.uncertain_fingerprints(target.name, cm) for cm in cm_ids}
    return delivered, uncertain


def create_planned_run(
    journal: Journal,
    *,
    target: Target,
    source_name: str,
    prepared_rows: Sequence[PreparedRow],
    settings: Mapping[str, Any] | None = None,
    include_duplicates: bool = False,
    origin: str = "bulk",
) -> tuple[int, list[PlannedRow]]:
    """Plan `prepared_rows` against the journal and store the run; returns (run id, plan)."""
    delivered, uncertain = known_fingerprints(journal, target, prepared_rows)
    plans = plan_rows(
        prepared_rows,
        delivered=delivered,
        uncertain=uncertain,
        include_duplicates=include_duplicates,
    )
    run_id = journal.create_run(
        target=target,
        source_name=source_name,
        rows=[plan.to_new_row() for plan in plans],
        settings=dict(settings or {}, include_duplicates=include_duplicates),
        origin=origin,
    )
    return run_id, plans


def create_retry_run(journal: Journal, run_id: int, states: Sequence[str] = ("failed",)) -> int:
    """A new run with the rows of `run_id` that ended in `states` ("Re-send failed rows").

    Uncertain rows without an email are carried over as `uncertain`, not sent: a second copy
    could be stored. Rows with an email are sent and a `DUPLICATE EMAIL` then means delivered.
    """
    allowed = {"failed", "uncertain", "rejected", "invalid"}
    if not states or not set(states) <= allowed:
        raise BulkError(
            f"Only rows that ended as {', '.join(sorted(allowed))} can be sent again; "
            "delivered rows never are."
        )
    info = journal.run(run_id)
    rows = journal.run_rows(run_id, states=list(states))
    if not rows:
        raise BulkError(f"Run {run_id} has no {' or '.join(states)} rows to send again.")
    new_rows: list[NewRow] = []
    for row in rows:
        unsure = row.state == "uncertain"
        if unsure and not row.has_email:
            new_rows.append(NewRow(row.row, row.line, row.lead, row.source, "uncertain", row.help))
            continue
        new_rows.append(NewRow(row.row, row.line, row.lead, row.source, maybe_sent=unsure))
    return journal.create_run(
        target=info.target,
        source_name=info.source_name,
        rows=new_rows,
        settings=dict(info.settings, retry_of=run_id, retry_states=list(states)),
        origin=info.origin,
    )


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


# --- Sending ------------------------------------------------------------------------------------

ControllerState = Literal[
    "idle", "running", "pausing", "paused", "cancelling", "cancelled", "finished", "error"
]


def _is_failure(outcome: str, code: str) -> bool:
    """A row outcome that suggests the next rows will fare no better."""
    if outcome in (DeliveryOutcome.FAILED, DeliveryOutcome.UNCERTAIN):
        return True
    return outcome == DeliveryOutcome.REJECTED and code in ACCOUNT_WIDE_CODES


# Runs being sent by a controller of this process: the journal's owner check tells processes
# apart, this tells two controllers of one process (two browser tabs) apart.
_ACTIVE: set[tuple[str, int]] = set()
_ACTIVE_LOCK = threading.Lock()


@dataclass(slots=True)
class _Finished:
    row: int
    outcome: str
    code: str
    help: str = field(repr=False)


class RunController:
    """Sends one journal run on a background thread; pause, resume, cancel, wait, progress.

    The controller owns neither the journal nor the client: the caller closes them after the
    run has settled (`wait` returned True).
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
    ) -> None:
        if concurrency < 1:
            raise BulkError(f"Concurrency is {concurrency}; send at least 1 lead at a time.")
        self.journal = journal
        self.client = client
        self.run_id = run_id
        self.concurrency = concurrency
        self.pause_after_failures = pause_after_failures
        self._canary_due = canary
        self._on_progress = on_progress
        self._progress_interval_s = progress_interval_s
        self._lock = threading.Lock()
        self._state: ControllerState = "idle"
        self._message = ""
        self._settled = threading.Event()
        self._settled.set()
        self._thread: threading.Thread | None = None
        self._failures_in_row = 0
        self._last_progress = 0.0
        self.error: BaseException | None = None
        self._slot = (str(journal.path), run_id)

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
            with _ACTIVE_LOCK:
                if self._slot in _ACTIVE:
                    raise BulkError(
                        f"Bulk run {self.run_id} is already being sent in this app; wait for it "
                        "to finish or pause it there."
                    )
                _ACTIVE.add(self._slot)
            try:
                self.journal.begin_run(self.run_id)
            except BaseException:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(self._slot)
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

    def resume(self) -> None:
        """Carry on after a pause (or a cancel): unsure rows with an email are sent again."""
        with self._lock:
            if self._state == "pausing":
                self._state = "running"
                self._message = ""
                self._failures_in_row = 0
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
        info = self.journal.run(self.run_id)
        if info.status != "finished":
            self.journal.set_run_status(self.run_id, "cancelled", "Cancelled.")

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
            with _ACTIVE_LOCK:
                _ACTIVE.discard(self._slot)
            self._report(force=True)
            self._settled.set()

    def _send_canary(self) -> bool:
        """Send the first pending row alone; False (run paused) if its answer would repeat."""
        rows = self.journal.claim_next_rows(self.run_id, 1)
        if not rows:
            return True
        done = self._send(rows[0])
        self._report()
        if not _is_failure(done.outcome, done.code):
            return True
        what = f"{done.outcome} ({done.code})" if done.code else done.outcome
        message = (
            f"Paused after the first row (row {rows[0].line}): {what}. {done.help} "
            "Nothing else was sent. Fix this, then resume the run."
        )
        with self._lock:
            if self._state == "running":
                self._state = "pausing"
                self._message = message
        self._settle()
        return False

    def _send_all(self) -> None:
        flying: dict[Future[_Finished], RunRow] = {}
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="leadstream-bulk") as pool:
            while True:
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
                done, _ = wait(flying, return_when=FIRST_COMPLETED)
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
        delivery: Delivery = self.client.post(row.lead)
        outcome = str(delivery.outcome)
        help_text: str | None = None
        if (
            row.maybe_sent
            and delivery.outcome is DeliveryOutcome.REJECTED
            and delivery.code == Code.DUPLICATE_EMAIL.reason
        ):
            outcome, help_text = str(DeliveryOutcome.DELIVERED), _RESENT_DUPLICATE_HELP
        self.journal.finish_row(self.run_id, row.row, delivery, outcome=outcome, help=help_text)
        return _Finished(row.line, outcome, delivery.code, help_text or delivery.help)

    def _count(self, done: _Finished) -> None:
        if not _is_failure(done.outcome, done.code):
            self._failures_in_row = 0
            return
        self._failures_in_row += 1
        limit = self.pause_after_failures
        if limit > 0 and self._failures_in_row >= limit:
            what = f"{done.outcome} ({done.code})" if done.code else done.outcome
            message = (
                f"Paused after {self._failures_in_row} rows in a row went wrong; the last, row "
                f"{done.row}, was {what}. {done.help} Check the connection and settings, then "
                "resume the run."
            )
            with self._lock:
                if self._state == "running":
                    self._state = "pausing"
                    self._message = message

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
) -> RunController:
    """Start (or resume) sending run `run_id` on a background thread; returns its controller.

    Raises `JournalError` when another live process is sending the same run.
    """
    controller = RunController(
        journal,
        client,
        run_id,
        concurrency=concurrency,
        canary=canary,
        pause_after_failures=pause_after_failures,
        on_progress=on_progress,
    )
    return controller.start()
