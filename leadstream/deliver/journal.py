"""The journal: every post, the saved legends and the bulk runs, in SQLite or PostgreSQL.

History answers "what did I send, when, and what came back"; saved legends survive restarts;
bulk runs keep every row's state so that a run stopped half-way (closed window, `kill -9`,
power cut after the last commit) can be resumed without losing or doubling a row. The journal
also answers "was this lead already delivered" (from this desk, or from any desk of the team),
which the bulk planner asks, by each lead's fingerprint (`prepare.identity`). A run records
which process sends it, and a pause or cancel another process asked of it (`ask_run`), which
its sender polls.

The schema is versioned (`deliver.database`): opening an older SQLite journal upgrades it in
place, an older team database asks for `leadstream db upgrade`, and a newer one is refused
with a message.

The vendor key is never stored: leads are kept as their query pairs without the key, and URLs
only in masked form. Times are stored and returned as UTC ISO 8601 text (`…+00:00`).

Where it lives is `deliver.database`'s business: an SQLite file under `LEADSTREAM_HOME` (one
connection guarded by a lock serves the process; other processes share the file through
SQLite's locking), or a team's PostgreSQL database (`LEADSTREAM_DATABASE_URL`) that every desk
shares. The SQL here is portable and runs unchanged on both.

Team mode, the same on both backends:
- a lead is *claimed* (table `claims`, one row per target name, cm_id and identity
  fingerprint) in the transaction that takes its run row to `in_flight`; a lead another run
  holds (in flight, or delivered since this run was made) becomes this run's `duplicate`,
  naming who sent it and when, and is not sent;
- a run being sent holds a *lease* (`runs.lease_until`) that this process renews every few
  seconds; a `running` run whose lease ran out is `interrupted`, and any desk may resume it;
- every post and run records its *sender*: the person signed in to the app (`acting_as`),
  else this computer's user@host.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from leadstream.deliver.database import (
    SCHEMA_VERSION,
    Database,
    DbRow,
    JournalError,
    Tx,
    database_url,
)
from leadstream.deliver.outcomes import DeliveryOutcome, may_send_again
from leadstream.deliver.target import Target, TargetKind, leadstream_home
from leadstream.prepare.identity import fingerprint, has_email, params_json
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import (
    QueryPairs,
    decode_pairs,
    lead_from_query,
)

if TYPE_CHECKING:  # only for annotations: the journal opens fast in helper processes
    from leadstream.deliver.client import Attempt, Delivery
    from leadstream.deliver.run_settings import RunSettings

__all__ = [
    "JOURNAL_FILENAME",
    "ROW_STATES",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "HistoryEntry",
    "HistoryFilter",
    "Journal",
    "JournalError",
    "NewRow",
    "RunInfo",
    "RunRow",
    "act_as",
    "acting_as",
    "default_sender",
    "history_csv",
    "lease_seconds",
    "utc_now",
]

JOURNAL_FILENAME = "journal.sqlite3"

# Row states of a bulk run: `pending` and `in_flight` are on the way, the rest are the final
# outcomes, taken from `DeliveryOutcome` so the two lists cannot drift apart.
ROW_STATES: tuple[str, ...] = (
    "pending",
    "in_flight",
    *(outcome.value for outcome in DeliveryOutcome),
)
FINAL_STATES = frozenset(ROW_STATES[2:])
# `interrupted` is never stored: it is a `running` run whose sending process is gone.
RUN_STATUSES = ("running", "paused", "cancelled", "finished", "interrupted")
_STORED_STATUSES = frozenset({"running", "paused", "cancelled", "finished"})
_REQUESTS = frozenset({"pause", "cancel"})

_BODY_SNIPPET = 200
_INTERRUPTED_HELP = (
    "The sending stopped while this lead was on its way and it has no email address, so "
    "sending it again could store it twice. Look for it in PhoneBurner before sending it again."
)


# A run's sender renews its lease this often; a lease not renewed for `lease_seconds()` (30 s,
# or LEADSTREAM_LEASE_SECONDS for tests) has run out and the run may be resumed anywhere.
LEASE_SECONDS = 30.0
_RENEW_EVERY = 1 / 3

# Who is sending, for the posts and runs this thread records: the app sets the signed-in
# person for each page run; anything else is recorded as this computer's user@host.
_acting: ContextVar[str] = ContextVar("leadstream_sender", default="")


def lease_seconds() -> float:
    try:
        return max(float(os.environ.get("LEADSTREAM_LEASE_SECONDS", LEASE_SECONDS)), 0.5)
    except ValueError:
        return LEASE_SECONDS


def default_sender() -> str:
    """This computer's user and host name, `ann@desk-3`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "someone"
    return f"{user}@{socket.gethostname()}"


@contextmanager
def acting_as(person: str) -> Iterator[None]:
    """Record posts and runs made inside the block (in this thread) as `person`'s."""
    token = _acting.set(person.strip())
    try:
        yield
    finally:
        _acting.reset(token)


def act_as(person: str) -> None:
    """Record what this thread sends from now on as `person`'s ("" for this computer's user):
    the app calls it at the top of every page run with the signed-in person."""
    _acting.set(person.strip())


def _sender() -> str:
    return _acting.get() or default_sender()


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def utc_now() -> str:
    """The current time as the journal stores it: UTC ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


_now = utc_now


def _utc_text(moment: datetime) -> str:
    """`moment` as stored text; a naive datetime is taken as local time."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _lead_from_json(text: str) -> Lead:
    pairs: QueryPairs = [(str(name), str(value)) for name, value in json.loads(text or "[]")]
    # The pairs as a PHP server would read them, without the round trip through a URL.
    return lead_from_query(decode_pairs(pairs))


def _attempt_record(attempt: Attempt) -> dict[str, Any]:
    body = " ".join(attempt.body.split())[:_BODY_SNIPPET]
    return {
        "number": attempt.number,
        "time": datetime.fromtimestamp(attempt.started_at, UTC).isoformat(timespec="milliseconds"),
        "status": attempt.status,
        "duration_s": round(attempt.duration_s, 4),
        "code": attempt.code,
        "error": attempt.error,
        "body": body,
        "url": attempt.masked_url,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One post as the journal remembers it. `time` is UTC ISO 8601."""

    id: int
    time: str
    source: str
    target: str
    target_url: str
    name: str
    email: str
    cm_id: str
    user_id: str
    outcome: str
    code: str
    help: str
    lead_url: str
    attempts: int
    attempt_log: tuple[dict[str, Any], ...]
    lead: Lead = field(repr=False)
    run_id: int | None
    row: int | None
    sender: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryFilter:
    """Which posts History shows, counts and exports; the default matches every post.

    `search` looks in names, emails, user and LeadStream IDs, codes, lead links and targets;
    the tuples keep posts whose outcome, source or target name is one of theirs (empty: any);
    `since` keeps posts at or after that moment (naive means local time); `run_id` keeps one
    bulk run's posts; `people` keeps the posts these senders made (empty: anyone's).
    """

    search: str = ""
    outcomes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    since: datetime | None = None
    run_id: int | None = None
    people: tuple[str, ...] = ()

    def where(self) -> tuple[str, list[Any]]:
        """The filter as an SQL condition on `posts p` and its parameters (`1` for none)."""
        where: list[str] = []
        params: list[Any] = []
        if self.search.strip():
            pattern = "%" + _escape_like(self.search.strip()) + "%"
            columns = ("name", "email", "cm_id", "user_id", "code", "lead_url", "target_name")
            # lower() on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
            where.append(
                "(" + " OR ".join(f"lower(p.{c}) LIKE lower(?) ESCAPE '\\'" for c in columns) + ")"
            )
            params.extend([pattern] * len(columns))
        for column, values in (
            ("outcome", self.outcomes),
            ("source", self.sources),
            ("target_name", self.targets),
            ("sender", self.people),
        ):
            if values:
                where.append(f"p.{column} IN ({','.join('?' * len(values))})")
                params.extend(str(value) for value in values)
        if self.since is not None:
            where.append("p.time >= ?")
            params.append(_utc_text(self.since))
        if self.run_id is not None:
            where.append("p.run_id = ?")
            params.append(int(self.run_id))
        return (" AND ".join(where) or "1 = 1"), params


class NewRow(NamedTuple):
    """A row handed to `Journal.create_run`; a plain `(row, line, lead, source)` tuple will do.

    `state` other than `pending` records a row decided before sending (`invalid`, `duplicate`,
    `uncertain`) with `reason` as its detail. `maybe_sent` says an earlier send of this lead may
    have arrived, so that a `DUPLICATE EMAIL` answer then means delivered.
    """

    row: int
    line: int
    lead: Lead
    source: Mapping[str, Any]
    state: str = "pending"
    reason: str = ""
    maybe_sent: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    """One row of a bulk run and where it stands."""

    run_id: int
    row: int
    line: int
    lead: Lead = field(repr=False)
    source: dict[str, Any] = field(repr=False)
    state: str
    maybe_sent: bool
    code: str
    help: str
    lead_url: str
    attempts: int
    finished_at: str

    @property
    def has_email(self) -> bool:
        return has_email(self.lead)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """A bulk run: where it sends, what from, how far it got. Times are UTC ISO 8601."""

    id: int
    created: str
    target_kind: str
    target_name: str
    target_url: str
    source_name: str
    origin: str
    status: str
    message: str
    counts: dict[str, int]
    settings_json: str = field(repr=False)
    started_at: str
    finished_at: str
    last_finished_at: str
    sent_since_start: int
    owner: str
    request: str = ""  # "pause" or "cancel" asked of the process sending the run, else ""
    sender: str = ""  # who made the run, then who last started sending it
    lease_until: str = ""  # until when its sender holds it (UTC ISO 8601), "" if never sent

    @property
    def run_settings(self) -> RunSettings:
        """How the run sends, whichever face stored it and in whichever shape."""
        # Imported here: it brings the mapping (and pandas), which the journal does not need.
        from leadstream.deliver.run_settings import RunSettings

        return RunSettings.from_json(self.settings_json, target=self.target)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Rows with a final outcome."""
        return sum(n for state, n in self.counts.items() if state in FINAL_STATES)

    @property
    def target(self) -> Target:
        return Target(TargetKind(self.target_kind), self.target_url)

    @property
    def unfinished(self) -> bool:
        return self.status in ("running", "paused", "interrupted")


# History rows with `row` as the spreadsheet line the run's file had (posts store the run's
# row key; the line lives in `run_rows`).
_HISTORY_SELECT = (
    "SELECT p.id, p.time, p.source, p.target_name, p.target_url, p.name, p.email, p.cm_id,"
    " p.user_id, p.outcome, p.code, p.help, p.lead_url, p.attempts, p.attempt_log, p.params,"
    " p.run_id, COALESCE(r.line, p.row) AS row, p.sender"
    " FROM posts p LEFT JOIN run_rows r ON r.run_id = p.run_id AND r.row = p.row"
)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


class Journal:
    """The journal. Thread-safe; use as a context manager or call `close()`.

    `Journal()` opens the team database when `LEADSTREAM_DATABASE_URL` is configured, else the
    SQLite file under `LEADSTREAM_HOME`; `Journal(path)` opens that SQLite file, `Journal(url=…)`
    that PostgreSQL database.
    """

    def __init__(self, path: Path | str | None = None, *, url: str | None = None) -> None:
        if path is None and url is None:
            url = database_url()
        elif path is not None and url is None and "://" in str(path):
            path, url = None, str(path)  # a database URL where a file was expected
        if url:
            self.path: Path | None = None
            self._database = Database(url=url)
        else:
            if path is None:
                path = leadstream_home() / JOURNAL_FILENAME
            self.path = Path(path) if str(path) != ":memory:" else None
            self._database = Database(path=self.path)
        self.where = self._database.where
        self.kind = self._database.kind
        self._host = socket.gethostname()
        self._leases: set[int] = set()
        self._lease_lock = threading.Lock()
        self._lease_wake = threading.Event()
        self._lease_thread: threading.Thread | None = None
        self._closed = False

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        """A write transaction (on SQLite taken at once, so that two processes never
        deadlock)."""
        with self._database.tx() as tx:
            yield tx

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[DbRow]:
        return self._database.read(sql, params)

    def _for_update(self) -> str:
        """Row locks for a read-then-write on PostgreSQL; SQLite's write lock covers it."""
        return " FOR UPDATE" if self.kind == "postgresql" else ""

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[DbRow]:
        """Rows of one read-only query, for reports that page and count (`deliver.reports`).
        Anything but a single SELECT is refused, so a report cannot change the journal."""
        # Only a bare SELECT: `WITH … DELETE` would be a write that starts like a read.
        if not sql.lstrip().upper().startswith("SELECT") or ";" in sql.rstrip("; \n"):
            raise JournalError("Journal.read runs one SELECT; use the journal's methods to write.")
        return self._read(sql, params)

    def close(self) -> None:
        with self._lease_lock:
            self._closed = True
            self._leases.clear()
        self._lease_wake.set()
        if self._lease_thread is not None and self._lease_thread is not threading.current_thread():
            self._lease_thread.join(timeout=5)
        self._database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- leases ------------------------------------------------------------------------------

    def _hold(self, run_id: int) -> None:
        """Keep renewing the lease of a run this process sends, until it stops being `running`
        here or the journal closes."""
        with self._lease_lock:
            if self._closed:
                return
            self._leases.add(run_id)
            if self._lease_thread is None or not self._lease_thread.is_alive():
                self._lease_thread = threading.Thread(
                    target=self._renew_leases, name="journal-leases", daemon=True
                )
                self._lease_thread.start()

    def _release(self, run_id: int) -> None:
        with self._lease_lock:
            self._leases.discard(run_id)

    def _renew_leases(self) -> None:
        while True:
            self._lease_wake.wait(lease_seconds() * _RENEW_EVERY)
            with self._lease_lock:
                if self._closed:
                    return
                held = sorted(self._leases)
            if not held:
                continue
            try:
                self.renew_leases(held)
            except Exception:
                continue

    def renew_leases(self, run_ids: Sequence[int]) -> list[int]:
        """Extend the leases this process holds on `run_ids`; returns the runs it still holds
        (a run that stopped running, or that another desk took over, is let go)."""
        kept: list[int] = []
        with self._tx() as tx:
            for run_id in run_ids:
                changed = tx.execute(
                    "UPDATE runs SET lease_until = ? WHERE id = ? AND status = 'running'"
                    " AND owner_host = ? AND owner_pid = ?",
                    (_later(lease_seconds()), run_id, self._host, os.getpid()),
                ).rowcount
                if changed:
                    kept.append(run_id)
        for run_id in set(run_ids) - set(kept):
            self._release(run_id)
        return kept

    # -- history -----------------------------------------------------------------------------

    def record_post(
        self,
        *,
        source: str,
        target: Target,
        lead: Lead,
        delivery: Delivery,
        run_id: int | None = None,
        row: int | None = None,
    ) -> int:
        """Remember one post (from the form, the legend test, a bulk run or the CLI); a
        delivered lead is claimed for the team, so no desk's run sends it again."""
        with self._tx() as db:
            if delivery.outcome == DeliveryOutcome.DELIVERED:
                _claim_delivered(db, target.name, lead.cm_id, fingerprint(lead), None, None)
            return self._insert_post(
                db,
                source=source,
                target=target,
                lead=lead,
                outcome=str(delivery.outcome),
                code=delivery.code,
                help=delivery.help,
                lead_url=delivery.lead_url or "",
                attempts=[_attempt_record(a) for a in delivery.attempts],
                run_id=run_id,
                row=row,
            )

    @staticmethod
    def _insert_post(
        db: Tx,
        *,
        source: str,
        target: Target,
        lead: Lead,
        outcome: str,
        code: str,
        help: str,
        lead_url: str,
        attempts: list[dict[str, Any]],
        run_id: int | None,
        row: int | None,
        sender: str = "",
    ) -> int:
        name = f"{lead.firstname} {lead.lastname}".strip()
        cursor = db.execute(
            "INSERT INTO posts (time, source, target_kind, target_name, target_url, name, email,"
            " cm_id, user_id, outcome, code, help, lead_url, attempts, attempt_log, params,"
            " fingerprint, run_id, row, sender)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (
                _now(),
                source,
                str(target.kind),
                target.name,
                target.url,
                name,
                lead.email.strip(),
                lead.cm_id,
                lead.user_id,
                outcome,
                code,
                help,
                lead_url,
                len(attempts),
                json.dumps(attempts, ensure_ascii=False),
                params_json(lead),
                fingerprint(lead),
                run_id,
                row,
                sender or _sender(),
            ),
        )
        return int(cursor.scalar() or 0)

    def history(
        self,
        *,
        search: str = "",
        outcomes: Sequence[str] = (),
        sources: Sequence[str] = (),
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        """The newest `limit` posts matching the filters (all of them by default: a screen
        pages through them with `history_page` instead)."""
        wanted = HistoryFilter(
            search=search,
            outcomes=tuple(str(o) for o in outcomes),
            sources=tuple(sources),
            since=since,
        )
        if limit is None:
            return list(_history_all(self, wanted))
        return self.history_page(wanted, limit=limit)

    def history_page(
        self, wanted: HistoryFilter = HistoryFilter(), offset: int = 0, limit: int = 100
    ) -> list[HistoryEntry]:
        """One page of the posts matching `wanted`, newest first."""
        where, params = wanted.where()
        rows = self._read(
            f"{_HISTORY_SELECT} WHERE {where} ORDER BY p.id DESC LIMIT ? OFFSET ?",
            [*params, max(int(limit), 0), max(int(offset), 0)],
        )
        return [_history_entry(row) for row in rows]

    def history_after(
        self, wanted: HistoryFilter, before_id: int | None, limit: int
    ) -> list[HistoryEntry]:
        """Up to `limit` posts matching `wanted` older than post `before_id` (None: the
        newest), newest first: the keyset step for streaming every match."""
        where, params = wanted.where()
        if before_id is not None:
            where += " AND p.id < ?"
            params.append(int(before_id))
        rows = self._read(
            f"{_HISTORY_SELECT} WHERE {where} ORDER BY p.id DESC LIMIT ?",
            [*params, max(int(limit), 0)],
        )
        return [_history_entry(row) for row in rows]

    def history_count(self, wanted: HistoryFilter = HistoryFilter()) -> int:
        """How many posts match `wanted`, exactly."""
        where, params = wanted.where()
        return int(self._read(f"SELECT COUNT(*) FROM posts p WHERE {where}", params)[0][0])

    def history_outcome_counts(self, wanted: HistoryFilter = HistoryFilter()) -> dict[str, int]:
        """How many posts matching `wanted` ended with each outcome (outcomes with none left
        out)."""
        where, params = wanted.where()
        rows = self._read(
            f"SELECT p.outcome, COUNT(*) FROM posts p WHERE {where} GROUP BY p.outcome", params
        )
        return {str(row[0]): int(row[1]) for row in rows}

    def history_sources(self) -> list[str]:
        """Every source a post came from (form, bulk, cli, legend test…), sorted."""
        return [row[0] for row in self._read("SELECT DISTINCT source FROM posts ORDER BY source")]

    def history_targets(self) -> list[str]:
        """Every target name posts went to, sorted."""
        rows = self._read("SELECT DISTINCT target_name FROM posts ORDER BY target_name")
        return [row[0] for row in rows]

    def history_people(self) -> list[str]:
        """Everyone who sent a post (user@host, or the signed-in person), sorted."""
        rows = self._read("SELECT DISTINCT sender FROM posts WHERE sender <> '' ORDER BY sender")
        return [row[0] for row in rows]

    def delivered_fingerprints(self, target_name: str, cm_id: str) -> set[str]:
        """Fingerprints of the leads delivered to `target_name` and `cm_id` (from this desk, or
        from any desk of the team when the journal is shared)."""
        rows = self._read(
            "SELECT DISTINCT fingerprint FROM posts"
            " WHERE target_name = ? AND cm_id = ? AND outcome = 'delivered'",
            (target_name, cm_id),
        )
        return {row[0] for row in rows}

    def uncertain_fingerprints(self, target_name: str, cm_id: str) -> set[str]:
        """Fingerprints of leads that may already be in PhoneBurner without the journal
        knowing: a post to `target_name`/`cm_id` ended `uncertain`, or a bulk run's row was left
        in flight by a sender that stopped mid-request, and the lead was never delivered there.
        (A lead a live run is sending now is left to its claim: whoever sends second sees it.)"""
        rows = self._read(
            "SELECT fingerprint FROM posts"
            " WHERE target_name = ? AND cm_id = ? AND outcome = 'uncertain'"
            " UNION SELECT r.fingerprint FROM run_rows r JOIN runs u ON u.id = r.run_id"
            " WHERE u.target_name = ? AND r.cm_id = ? AND r.state = 'in_flight'"
            # A run whose sender holds its lease is on it: its claim settles the lead.
            " AND NOT (u.status = 'running' AND u.lease_until > ?)"
            " EXCEPT SELECT fingerprint FROM posts"
            " WHERE target_name = ? AND cm_id = ? AND outcome = 'delivered'",
            (target_name, cm_id, target_name, cm_id, _now(), target_name, cm_id),
        )
        return {row[0] for row in rows}

    # -- saved legends -----------------------------------------------------------------------

    def save_legend(self, legend: Legend) -> None:
        """Save `legend` under its name, replacing a saved one of the same name."""
        name = legend.name.strip()
        if not name:
            raise JournalError("Give the legend a name before saving it.")
        fields = [{"id": f.id, "name": f.name, "type": _type_value(f.type)} for f in legend.fields]
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO legends (name, cm_id, fields, created, updated) VALUES (?,?,?,?,?)"
                " ON CONFLICT (name) DO UPDATE SET cm_id = excluded.cm_id,"
                " fields = excluded.fields, updated = excluded.updated",
                (name, legend.cm_id, json.dumps(fields, ensure_ascii=False), now, now),
            )

    def legends(self) -> list[Legend]:
        """Every saved legend, by name."""
        rows = self._read("SELECT * FROM legends ORDER BY lower(name), name")
        return [_legend_from_row(row) for row in rows]

    def legend(self, name: str) -> Legend | None:
        rows = self._read("SELECT * FROM legends WHERE name = ?", (name.strip(),))
        return _legend_from_row(rows[0]) if rows else None

    def rename_legend(self, old: str, new: str) -> None:
        old, new = old.strip(), new.strip()
        if not new:
            raise JournalError("Give the legend a new name that is not empty.")
        with self._tx() as db:
            if db.execute("SELECT 1 FROM legends WHERE name = ?", (old,)).fetchone() is None:
                raise JournalError(f"There is no saved legend called {old!r} to rename.")
            if old == new:
                return
            if db.execute("SELECT 1 FROM legends WHERE name = ?", (new,)).fetchone():
                raise JournalError(
                    f"A legend called {new!r} is already saved; pick another name or delete it."
                )
            db.execute(
                "UPDATE legends SET name = ?, updated = ? WHERE name = ?", (new, _now(), old)
            )

    def delete_legend(self, name: str) -> None:
        with self._tx() as db:
            cursor = db.execute("DELETE FROM legends WHERE name = ?", (name.strip(),))
            if cursor.rowcount == 0:
                raise JournalError(f"There is no saved legend called {name!r} to delete.")

    # -- bulk runs ---------------------------------------------------------------------------

    def create_run(
        self,
        *,
        target: Target,
        source_name: str,
        rows: Iterable[tuple[Any, ...]],
        settings: RunSettings | Mapping[str, Any] | None = None,
        origin: str = "bulk",
    ) -> int:
        """Store a new bulk run, every row `pending` unless decided already; returns its id.

        `rows` holds `NewRow`s or `(row, line, lead, source cells)` tuples. `origin` is the
        history's source for the run's posts (`bulk` from the app, `cli`). The run starts
        `paused`: `begin_run` (which the bulk sender calls) makes it `running`.
        """
        if settings is None or isinstance(settings, Mapping):
            plain = dict(settings or {})
            if any(str(name).lower() in ("key", "vendor_key") for name in plain):
                raise JournalError("Run settings must not hold the vendor key.")
            settings_json = json.dumps(plain, ensure_ascii=False, default=str)
        else:
            settings_json = settings.to_json()
        prepared = []
        seen: set[int] = set()
        for raw in rows:
            new = raw if isinstance(raw, NewRow) else NewRow(*raw)
            if new.state not in ("pending", "invalid", "duplicate", "uncertain"):
                raise JournalError(
                    f"Row {new.row} cannot start a run as {new.state!r}; use pending, invalid, "
                    "duplicate or uncertain."
                )
            if new.row in seen:
                raise JournalError(f"Row {new.row} is listed twice; each row must appear once.")
            seen.add(new.row)
            finished = "" if new.state == "pending" else _now()
            prepared.append(
                (
                    int(new.row),
                    int(new.line),
                    params_json(new.lead),
                    new.lead.cm_id,
                    fingerprint(new.lead),
                    json.dumps(_plain_cells(new.source), ensure_ascii=False),
                    new.state,
                    int(bool(new.maybe_sent)),
                    new.reason,
                    finished,
                )
            )
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO runs (created, target_kind, target_name, target_url, source_name,"
                " origin, status, settings, sender) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                (
                    _now(),
                    str(target.kind),
                    target.name,
                    target.url,
                    source_name,
                    origin,
                    "paused",
                    settings_json,
                    _sender(),
                ),
            )
            run_id = int(cursor.scalar() or 0)
            db.executemany(
                "INSERT INTO run_rows (run_id, row, line, params, cm_id, fingerprint, source,"
                " state, maybe_sent, help, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(run_id, *values) for values in prepared],
            )
        return run_id

    def copy_run(
        self,
        run_id: int,
        *,
        states: Sequence[str],
        plan: Callable[[str, bool], tuple[str, bool]],
        settings: RunSettings,
    ) -> int:
        """A new run (paused, same target, file and origin) of the rows of `run_id` that are in
        `states`, copied inside SQLite however many they are.

        `plan(state, has_email)` gives each row its new state (`pending`, or `uncertain` to
        carry it over unsent with its detail) and whether it may have been sent already. Returns
        the new run's id; a run with no such rows is not made (0 is returned).
        """
        if not states:
            return 0
        with self._tx() as db:
            run = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None:
                raise JournalError(f"There is no bulk run {run_id}.")
            wanted = ",".join("?" * len(states))
            found = db.execute(
                f"SELECT COUNT(*) FROM run_rows WHERE run_id = ? AND state IN ({wanted})",
                (run_id, *states),
            ).scalar()
            if not found:
                return 0
            cursor = db.execute(
                "INSERT INTO runs (created, target_kind, target_name, target_url, source_name,"
                " origin, status, settings, sender) VALUES (?,?,?,?,?,?,'paused',?,?) RETURNING id",
                (
                    _now(),
                    run["target_kind"],
                    run["target_name"],
                    run["target_url"],
                    run["source_name"],
                    run["origin"],
                    settings.to_json(),
                    _sender(),
                ),
            )
            new_id = int(cursor.scalar() or 0)
            now = _now()
            for state in states:
                # The identity rule stored it: an `email:` fingerprint is a lead with an email.
                for emailed in (True, False):
                    new_state, maybe_sent = plan(state, emailed)
                    pending = new_state == "pending"
                    db.execute(
                        "INSERT INTO run_rows (run_id, row, line, params, cm_id, fingerprint,"
                        " source, state, maybe_sent, help, finished_at)"
                        " SELECT ?, row, line, params, cm_id, fingerprint, source, ?, ?,"
                        " CASE WHEN ? THEN '' ELSE help END, ? FROM run_rows"
                        " WHERE run_id = ? AND state = ? AND (fingerprint LIKE 'email:%') = ?",
                        (
                            new_id,
                            new_state,
                            int(maybe_sent),
                            pending,
                            "" if pending else now,
                            run_id,
                            state,
                            emailed,
                        ),
                    )
            return new_id

    def run(self, run_id: int) -> RunInfo:
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise JournalError(
                f"There is no bulk run {run_id} in {self.path}. "
                "`python -m leadstream runs` lists the unfinished ones."
            )
        run = rows[0]
        counts = dict.fromkeys(ROW_STATES, 0)
        for state, count in self._read(
            "SELECT state, COUNT(*) FROM run_rows WHERE run_id = ? GROUP BY state", (run_id,)
        ):
            counts[state] = count
        sent, last = 0, ""
        if run["started_at"]:
            sent, last = self._read(
                "SELECT COUNT(*), MAX(finished_at) FROM run_rows WHERE run_id = ?"
                " AND attempts > 0 AND finished_at >= ?",
                (run_id, run["started_at"]),
            )[0]
        return RunInfo(
            id=run["id"],
            created=run["created"],
            target_kind=run["target_kind"],
            target_name=run["target_name"],
            target_url=run["target_url"],
            source_name=run["source_name"],
            origin=run["origin"],
            status=self._status(run),
            message=run["message"],
            counts=counts,
            settings_json=run["settings"] or "{}",
            started_at=run["started_at"],
            finished_at=run["finished_at"],
            last_finished_at=last or "",
            sent_since_start=sent,
            owner=_owner(run),
            request=run["request"],
            sender=run["sender"],
            lease_until=run["lease_until"],
        )

    def run_status(self, run_id: int) -> str:
        """The run's status alone (`interrupted` for a dead sender), without counting its rows:
        cheap enough to poll while another process sends a 100,000-row run."""
        rows = self._read(
            "SELECT status, owner_host, owner_pid, lease_until FROM runs WHERE id = ?", (run_id,)
        )
        if not rows:
            raise JournalError(f"There is no bulk run {run_id}.")
        return self._status(rows[0])

    def _status(self, run: DbRow) -> str:
        status = str(run["status"])
        if status != "running":
            return status
        if run["owner_host"] == self._host and not _pid_alive(int(run["owner_pid"])):
            return "interrupted"
        # A sender on another desk proves it is alive only by renewing its lease.
        if run["lease_until"] and run["lease_until"] < _now():
            return "interrupted"
        return status

    def runs(self, *, offset: int = 0, limit: int = 100) -> list[RunInfo]:
        """A page of runs, newest first."""
        ids = self._read(
            "SELECT id FROM runs ORDER BY id DESC LIMIT ? OFFSET ?",
            (max(int(limit), 0), max(int(offset), 0)),
        )
        return [self.run(row[0]) for row in ids]

    def run_count(self) -> int:
        """How many runs the journal holds, finished or not."""
        return int(self._read("SELECT COUNT(*) FROM runs")[0][0])

    def unfinished_runs(self, *, limit: int | None = None) -> list[RunInfo]:
        """Runs that are running, paused or were interrupted, newest first (the newest
        `limit` of them when given)."""
        sql = "SELECT id FROM runs WHERE status IN ('running', 'paused') ORDER BY id DESC"
        ids = self._read(sql if limit is None else f"{sql} LIMIT {max(int(limit), 0)}")
        return [self.run(row[0]) for row in ids]

    def unfinished_count(self) -> int:
        """How many runs are running, paused or were interrupted."""
        return int(
            self._read("SELECT COUNT(*) FROM runs WHERE status IN ('running', 'paused')")[0][0]
        )

    def begin_run(self, run_id: int) -> None:
        """Mark the run as being sent by this process, holding its lease (renewed in the
        background until it stops running here); refuse if a live sender holds it, here or on
        another desk."""
        with self._tx() as db:
            run = db.execute(
                f"SELECT * FROM runs WHERE id = ?{self._for_update()}", (run_id,)
            ).fetchone()
            if run is None:
                raise JournalError(f"There is no bulk run {run_id}.")
            mine = run["owner_host"] == self._host and run["owner_pid"] == os.getpid()
            if self._status(run) == "running" and not mine:
                who = f" ({run['sender']})" if run["sender"] else ""
                raise JournalError(
                    f"Bulk run {run_id} is being sent by process {run['owner_pid']} on "
                    f"{run['owner_host']}{who}. Stop it there first, or wait for it to finish "
                    f"(if that desk is gone, it may be resumed {lease_seconds():.0f} s after it "
                    "last answered)."
                )
            db.execute(
                "UPDATE runs SET status = 'running', message = '', request = '', owner_host = ?,"
                " owner_pid = ?, started_at = ?, finished_at = '', sender = ?, lease_until = ?"
                " WHERE id = ?",
                (self._host, os.getpid(), _now(), _sender(), _later(lease_seconds()), run_id),
            )
        self._hold(run_id)

    def ask_run(self, run_id: int, request: str) -> str:
        """Pause or cancel a run, wherever it is being sent.

        A run a live process is sending gets the request written down for that process to
        act on (`run_request`); answers `"asked"`. A cancel of a run nobody is sending
        (paused, interrupted) is done at once: `"done"`. Otherwise nothing needs doing
        (pausing a paused run, cancelling a finished one): `"nothing"`.
        """
        if request not in _REQUESTS:
            raise JournalError(f"{request!r} cannot be asked of a run; ask pause or cancel.")
        with self._tx() as db:
            run = db.execute(
                f"SELECT * FROM runs WHERE id = ?{self._for_update()}", (run_id,)
            ).fetchone()
            if run is None:
                raise JournalError(f"There is no bulk run {run_id}.")
            status = self._status(run)
            if status == "running":
                db.execute("UPDATE runs SET request = ? WHERE id = ?", (request, run_id))
                return "asked"
            if request == "cancel" and status in ("paused", "interrupted"):
                db.execute(
                    "UPDATE runs SET status = 'cancelled', message = 'Cancelled.', request = '',"
                    " finished_at = ? WHERE id = ?",
                    (_now(), run_id),
                )
                return "done"
            return "nothing"

    def run_request(self, run_id: int) -> str:
        """What another process asked of the run's sender: "pause", "cancel" or ""."""
        rows = self._read("SELECT request FROM runs WHERE id = ?", (run_id,))
        return str(rows[0][0]) if rows else ""

    def set_run_status(self, run_id: int, status: str, message: str = "") -> None:
        if status not in _STORED_STATUSES:
            raise JournalError(
                f"{status!r} is not a run status; use {', '.join(sorted(_STORED_STATUSES))}."
            )
        finished = _now() if status in ("finished", "cancelled") else ""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ?, message = ?, finished_at = ?, request = ''"
                " WHERE id = ?",
                (status, message, finished, run_id),
            )
            if cursor.rowcount == 0:
                raise JournalError(f"There is no bulk run {run_id}.")
        if status != "running":
            self._release(run_id)

    def requeue_unsure(self, run_id: int) -> tuple[int, int]:
        """Prepare a run to (re)start: rows left `in_flight` or `uncertain` go back to `pending`
        when `may_send_again` allows it (they have an email: a second copy is then refused as
        `DUPLICATE EMAIL`, which confirms the first); the others are, or stay, `uncertain`.

        Call only when no thread or process is sending the run. Returns (re-queued, left
        uncertain).
        """
        with self._tx() as db:
            run = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None:
                raise JournalError(f"There is no bulk run {run_id}.")
            target = Target(TargetKind(run["target_kind"]), run["target_url"])
            unsure = db.execute(
                "SELECT * FROM run_rows WHERE run_id = ? AND state IN ('in_flight', 'uncertain')",
                (run_id,),
            ).fetchall()
            requeued = stuck = 0
            for row in unsure:
                lead = _lead_from_json(row["params"])
                if may_send_again(row["state"], has_email=has_email(lead)):
                    db.execute(
                        "UPDATE run_rows SET state = 'pending', maybe_sent = 1, finished_at = ''"
                        " WHERE run_id = ? AND row = ?",
                        (run_id, row["row"]),
                    )
                    requeued += 1
                    continue
                stuck += 1
                if row["state"] == "in_flight":
                    db.execute(
                        "UPDATE run_rows SET state = 'uncertain', code = 'NO ANSWER', help = ?,"
                        " finished_at = ? WHERE run_id = ? AND row = ?",
                        (_INTERRUPTED_HELP, _now(), run_id, row["row"]),
                    )
                    self._insert_post(
                        db,
                        source=run["origin"],
                        target=target,
                        lead=lead,
                        outcome="uncertain",
                        code="NO ANSWER",
                        help=_INTERRUPTED_HELP,
                        lead_url="",
                        attempts=[],
                        run_id=run_id,
                        row=row["row"],
                    )
            return requeued, stuck

    def claim_next_rows(self, run_id: int, n: int) -> list[RunRow]:
        """Take up to `n` pending rows, in file order, and mark them `in_flight` (atomically).

        Each row's lead is claimed for the team in the same transaction. A lead another run
        holds is not sent: delivered (since this run was made) or in flight on a live run, the
        row becomes `duplicate` saying who sent it and when; in flight on a run whose sender
        stopped, a lead with an email is taken over (a second copy would be refused as
        `DUPLICATE EMAIL`), one without becomes `uncertain`."""
        taken: list[RunRow] = []
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.kind == "postgresql" else ""
        while len(taken) < n:
            with self._tx() as db:
                run = db.execute(
                    "SELECT id, target_name, settings, sender, status, owner_host, owner_pid"
                    " FROM runs WHERE id = ?",
                    (run_id,),
                ).fetchone()
                if run is None or self._taken_over(run):
                    break
                resend = _sends_duplicates(run["settings"])
                rows = db.execute(
                    "SELECT * FROM run_rows WHERE run_id = ? AND state = 'pending'"
                    f" ORDER BY row LIMIT ?{skip_locked}",
                    (run_id, n - len(taken)),
                ).fetchall()
                if not rows:
                    break
                mine = [row for row in rows if self._claim(db, run, row, resend=resend)]
                db.executemany(
                    "UPDATE run_rows SET state = 'in_flight' WHERE run_id = ? AND row = ?",
                    [(run_id, row["row"]) for row in mine],
                )
            taken.extend(_run_row(row, state="in_flight") for row in mine)
        return taken

    def _taken_over(self, run: DbRow) -> bool:
        """Whether another process now sends this run: this one lost its lease (it stalled
        past it, and another desk resumed the run), so it must not take another row."""
        if run["status"] != "running" or not run["owner_pid"]:
            return False
        mine = run["owner_host"] == self._host and run["owner_pid"] == os.getpid()
        if not mine:
            self._release(int(run["id"]))
        return not mine

    def _claim(self, db: Tx, run: DbRow, row: DbRow, *, resend: bool) -> bool:
        """Claim `row`'s lead for `run`; False (the row settled as `duplicate` or `uncertain`
        instead) when another run holds it. `resend`: the person chose to send leads already
        delivered again."""
        lead_fp = str(row["fingerprint"])
        if not lead_fp:
            return True
        key = (run["target_name"], row["cm_id"], lead_fp)
        now = _now()
        inserted = db.execute(
            "INSERT INTO claims (target_name, cm_id, fingerprint, state, run_id, row, sender,"
            " claimed_at) VALUES (?, ?, ?, 'in_flight', ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            " RETURNING 1",
            (*key, run["id"], row["row"], run["sender"], now),
        ).fetchone()
        if inserted is not None:
            return True
        lock = " FOR UPDATE OF c" if self.kind == "postgresql" else ""
        held = db.execute(
            "SELECT c.state, c.run_id, c.row, c.sender, c.claimed_at, u.status, u.owner_host,"
            " u.owner_pid, u.lease_until FROM claims c LEFT JOIN runs u ON u.id = c.run_id"
            f" WHERE c.target_name = ? AND c.cm_id = ? AND c.fingerprint = ?{lock}",
            key,
        ).fetchone()
        if held is None:  # released between the two statements: claim it now
            return self._claim(db, run, row, resend=resend)
        if held["run_id"] == run["id"]:
            # This row's own claim from before a stop (it is resumed), or a row of this same
            # run with the same lead, which the person chose to send as well.
            return True
        who = held["sender"] or "another desk"
        when = _clock(held["claimed_at"])
        of_run = f" (run {held['run_id']})" if held["run_id"] else ""
        if held["state"] == "delivered":
            if resend:
                return True  # the person chose to send delivered leads again
            self._settle_claimed(
                db, run["id"], row["row"], "duplicate", f"Already sent by {who} at {when}{of_run}."
            )
            return False
        holder_live = held["status"] == "running" and self._status(held) == "running"
        if holder_live:
            self._settle_claimed(
                db,
                run["id"],
                row["row"],
                "duplicate",
                f"Being sent by {who} since {when}{of_run}.",
            )
            return False
        if lead_fp.startswith("email:"):
            db.execute(
                "UPDATE claims SET run_id = ?, row = ?, sender = ?, claimed_at = ?"
                " WHERE target_name = ? AND cm_id = ? AND fingerprint = ?",
                (run["id"], row["row"], run["sender"], now, *key),
            )
            db.execute(
                "UPDATE run_rows SET maybe_sent = 1 WHERE run_id = ? AND row = ?",
                (run["id"], row["row"]),
            )
            return True
        self._settle_claimed(
            db,
            run["id"],
            row["row"],
            "uncertain",
            f"{who} was sending this lead at {when}{of_run} when that sending stopped, and it "
            "has no email address, so sending it again could store it twice. Look for it in "
            "PhoneBurner before sending it again.",
        )
        return False

    @staticmethod
    def _settle_claimed(db: Tx, run_id: int, row: int, state: str, detail: str) -> None:
        db.execute(
            "UPDATE run_rows SET state = ?, help = ?, finished_at = ? WHERE run_id = ? AND row = ?",
            (state, detail, _now(), run_id, row),
        )

    def finish_row(
        self,
        run_id: int,
        row: int,
        delivery: Delivery,
        *,
        outcome: str | None = None,
        help: str | None = None,
        record: bool = True,
        lead: Lead | None = None,
    ) -> None:
        """Store a row's outcome (`outcome`/`help` override the delivery's) and, with `record`,
        add it to the history, in one transaction so that a crash cannot split the two.
        `lead` is the row's lead when the caller has it (the sender does), saving a re-read."""
        final = str(outcome or delivery.outcome)
        if final not in FINAL_STATES:
            raise JournalError(f"{final!r} is not a final outcome for row {row}.")
        detail = delivery.help if help is None else help
        attempts = [_attempt_record(a) for a in delivery.attempts]
        with self._tx() as db:
            found = db.execute(
                "SELECT r.params, r.attempts, r.cm_id, r.fingerprint, u.target_kind,"
                " u.target_name, u.target_url, u.origin, u.sender FROM run_rows r"
                " JOIN runs u ON u.id = r.run_id WHERE r.run_id = ? AND r.row = ?",
                (run_id, row),
            ).fetchone()
            if found is None:
                raise JournalError(f"Bulk run {run_id} has no row {row}.")
            db.execute(
                "UPDATE run_rows SET state = ?, code = ?, help = ?, lead_url = ?,"
                " attempts = ?, finished_at = ? WHERE run_id = ? AND row = ?",
                (
                    final,
                    delivery.code,
                    detail,
                    delivery.lead_url or "",
                    found["attempts"] + len(attempts),
                    _now(),
                    run_id,
                    row,
                ),
            )
            _settle_claim(db, found, run_id, row, final)
            if record:
                self._insert_post(
                    db,
                    source=found["origin"],
                    target=Target(TargetKind(found["target_kind"]), found["target_url"]),
                    lead=lead if lead is not None else _lead_from_json(found["params"]),
                    outcome=final,
                    code=delivery.code,
                    help=detail,
                    lead_url=delivery.lead_url or "",
                    attempts=attempts,
                    run_id=run_id,
                    row=row,
                    sender=found["sender"],
                )

    def run_rows(
        self,
        run_id: int,
        *,
        states: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[RunRow]:
        """The run's rows in file order, optionally only those in `states`."""
        sql = "SELECT * FROM run_rows WHERE run_id = ?"
        params: list[Any] = [run_id]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(states)
        sql += " ORDER BY row"
        # SQLite wants a LIMIT before an OFFSET; PostgreSQL refuses a negative one.
        if limit is not None or offset:
            sql += f" LIMIT {2**62 if limit is None else max(int(limit), 0)}"
            sql += f" OFFSET {max(int(offset), 0)}"
        return [_run_row(row) for row in self._read(sql, params)]

    # -- settling unsure rows against PhoneBurner (deliver.settle) -------------------------------

    def settle_uncertain(
        self,
        run_id: int,
        row: int,
        *,
        outcome: str,
        code: str,
        help: str,
        lead_url: str = "",
    ) -> bool:
        """Give an `uncertain` row what a look-up in PhoneBurner found: `delivered` (it is there)
        or `failed` (it is not: safe to send again), and add that to the history, in one
        transaction. Returns False, changing nothing, when the row is no longer `uncertain`
        (settled meanwhile, or being re-sent)."""
        if outcome not in ("delivered", "failed"):
            raise JournalError(
                f"A look-up settles row {row} as delivered or failed, not {outcome!r}."
            )
        with self._tx() as db:
            found = db.execute(
                "SELECT r.params, r.lead_url, r.cm_id, r.fingerprint, u.target_kind,"
                " u.target_name, u.target_url, u.origin, u.sender"
                " FROM run_rows r JOIN runs u ON u.id = r.run_id"
                " WHERE r.run_id = ? AND r.row = ? AND r.state = 'uncertain'",
                (run_id, row),
            ).fetchone()
            if found is None:
                return False
            link = lead_url or found["lead_url"]
            # Not found means not sent: a later `DUPLICATE EMAIL` is then a real duplicate.
            db.execute(
                "UPDATE run_rows SET state = ?, code = ?, help = ?, lead_url = ?,"
                " maybe_sent = 0, finished_at = ? WHERE run_id = ? AND row = ?",
                (outcome, code, help, link, _now(), run_id, row),
            )
            _settle_claim(db, found, run_id, row, outcome)
            self._insert_post(
                db,
                source=found["origin"],
                target=Target(TargetKind(found["target_kind"]), found["target_url"]),
                lead=_lead_from_json(found["params"]),
                outcome=outcome,
                code=code,
                help=help,
                lead_url=link,
                attempts=[],
                run_id=run_id,
                row=row,
                sender=found["sender"],
            )
        return True


def _claim_delivered(
    db: Tx, target_name: str, cm_id: str, lead_fp: str, run_id: int | None, row: int | None
) -> None:
    """Mark the lead delivered for the whole team (its claim, taken or not)."""
    if not lead_fp:
        return
    db.execute(
        "INSERT INTO claims (target_name, cm_id, fingerprint, state, run_id, row, sender,"
        " claimed_at) VALUES (?, ?, ?, 'delivered', ?, ?, ?, ?) ON CONFLICT"
        " (target_name, cm_id, fingerprint) DO UPDATE SET state = 'delivered',"
        " run_id = excluded.run_id, row = excluded.row, sender = excluded.sender,"
        " claimed_at = excluded.claimed_at",
        (target_name, cm_id, lead_fp, run_id, row, _sender(), _now()),
    )


def _settle_claim(db: Tx, found: DbRow, run_id: int, row: int, outcome: str) -> None:
    """A row's final outcome, for its lead's claim: delivered keeps it for good; uncertain
    keeps it in flight (the lead may be there); any other outcome lets it go."""
    if outcome == "delivered":
        if not db.execute(
            "UPDATE claims SET state = 'delivered', claimed_at = ? WHERE run_id = ? AND row = ?",
            (_now(), run_id, row),
        ).rowcount:
            token = _acting.set(found["sender"] or _sender())
            try:
                _claim_delivered(
                    db, found["target_name"], found["cm_id"], found["fingerprint"], run_id, row
                )
            finally:
                _acting.reset(token)
    elif outcome != "uncertain":
        db.execute(
            "DELETE FROM claims WHERE run_id = ? AND row = ? AND state = 'in_flight'",
            (run_id, row),
        )


def _sends_duplicates(settings: str) -> bool:
    """Whether a run's stored settings ask to send leads already delivered again."""
    try:
        document = json.loads(settings or "{}")
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("include_duplicates") is True


def _clock(moment: str) -> str:
    """A stored time as people read it in a message: `2026-11-30 20:41 UTC`."""
    return (
        f"{moment[:10]} {moment[11:16]} UTC" if len(moment) >= 16 else moment or "an unknown time"
    )


def _owner(run: DbRow) -> str:
    if not run["owner_pid"]:
        return ""
    who = f" ({run['sender']})" if run["sender"] else ""
    return f"process {run['owner_pid']} on {run['owner_host']}{who}"


def _history_all(journal: Journal, wanted: HistoryFilter) -> Iterator[HistoryEntry]:
    before: int | None = None
    while chunk := journal.history_after(wanted, before, 5000):
        yield from chunk
        before = chunk[-1].id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _type_value(value: object) -> str:
    return str(getattr(value, "value", value))


def _legend_from_row(row: DbRow) -> Legend:
    fields = []
    for item in json.loads(row["fields"] or "[]"):
        try:
            kind = FieldType(item.get("type", "text"))
        except ValueError:
            kind = FieldType.TEXT
        fields.append(LegendField(id=str(item["id"]), name=str(item["name"]), type=kind))
    return Legend(fields=tuple(fields), name=row["name"], cm_id=row["cm_id"])


def _plain_cells(cells: Mapping[str, Any]) -> dict[str, str]:
    """Source cells as text, for results files (NaN and None become empty)."""
    plain: dict[str, str] = {}
    for name, value in cells.items():
        if value is None or (isinstance(value, float) and value != value):
            plain[str(name)] = ""
        else:
            plain[str(name)] = str(value)
    return plain


def _run_row(row: DbRow, *, state: str | None = None) -> RunRow:
    return RunRow(
        run_id=row["run_id"],
        row=row["row"],
        line=row["line"],
        lead=_lead_from_json(row["params"]),
        source=json.loads(row["source"] or "{}"),
        state=state or row["state"],
        maybe_sent=bool(row["maybe_sent"]),
        code=row["code"],
        help=row["help"],
        lead_url=row["lead_url"],
        attempts=row["attempts"],
        finished_at=row["finished_at"],
    )


def _history_entry(row: DbRow) -> HistoryEntry:
    return HistoryEntry(
        id=row["id"],
        time=row["time"],
        source=row["source"],
        target=row["target_name"],
        target_url=row["target_url"],
        name=row["name"],
        email=row["email"],
        cm_id=row["cm_id"],
        user_id=row["user_id"],
        outcome=row["outcome"],
        code=row["code"],
        help=row["help"],
        lead_url=row["lead_url"],
        attempts=row["attempts"],
        attempt_log=tuple(json.loads(row["attempt_log"] or "[]")),
        lead=_lead_from_json(row["params"]),
        run_id=row["run_id"],
        row=row["row"],
        sender=row["sender"],
    )


HISTORY_COLUMNS = (
    "time (UTC)",
    "source",
    "target",
    "name",
    "email",
    "user_id",
    "cm_id",
    "outcome",
    "code",
    "detail",
    "lead_url",
    "attempts",
    "run",
    "row",
)


def history_csv(entries: Iterable[HistoryEntry]) -> bytes:
    """`entries` as CSV in UTF-8 with a byte-order mark, formulas neutralised."""
    from leadstream.prepare.files import (
        neutralize_formula,  # pandas is slow to import; only needed here
    )

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HISTORY_COLUMNS)
    for entry in entries:
        cells = (
            entry.time,
            entry.source,
            entry.target,
            entry.name,
            entry.email,
            entry.user_id,
            entry.cm_id,
            entry.outcome,
            entry.code,
            entry.help,
            entry.lead_url,
            entry.attempts,
            "" if entry.run_id is None else entry.run_id,
            "" if entry.row is None else entry.row,
        )
        writer.writerow([neutralize_formula(str(cell)) for cell in cells])
    return out.getvalue().encode("utf-8-sig")
