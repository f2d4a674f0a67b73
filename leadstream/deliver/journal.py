"""The journal: one SQLite file holding every post, the saved legends and the bulk runs.

History answers "what did I send, when, and what came back"; saved legends survive restarts;
bulk runs keep every row's state so that a run stopped half-way (closed window, `kill -9`,
power cut after the last commit) can be resumed without losing or doubling a row. The journal
also answers "was this lead already delivered from this machine", which the bulk planner asks,
by each lead's fingerprint (`prepare.identity`). A run records which process sends it, and a
pause or cancel another process asked of it (`ask_run`), which its sender polls.

The schema is versioned (`PRAGMA user_version`): opening an older journal upgrades it in place
(`_MIGRATIONS`), and a newer one is refused with a message.

The vendor key is never stored: leads are kept as their query pairs without the key, and URLs
only in masked form. Times are stored and returned as UTC ISO 8601 text (`…+00:00`).

One connection (WAL, `check_same_thread=False`) guarded by a lock serves every thread of the
process; other processes (the CLI beside the app) share the file through SQLite's own locking.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from leadstream.deliver.outcomes import DeliveryOutcome, may_send_again
from leadstream.deliver.target import Target, TargetKind, leadstream_home
from leadstream.prepare.identity import fingerprint, has_email, normalize_email, params_json
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
    "history_csv",
    "utc_now",
]

JOURNAL_FILENAME = "journal.sqlite3"
SCHEMA_VERSION = 2

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


class JournalError(ValueError):
    """A journal request that cannot be carried out; the message says what to do instead."""


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


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryFilter:
    """Which posts History shows, counts and exports; the default matches every post.

    `search` looks in names, emails, user and LeadStream IDs, codes, lead links and targets;
    the tuples keep posts whose outcome, source or target name is one of theirs (empty: any);
    `since` keeps posts at or after that moment (naive means local time); `run_id` keeps one
    bulk run's posts.
    """

    search: str = ""
    outcomes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    since: datetime | None = None
    run_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The filter as an SQL condition on `posts p` and its parameters (`1` for none)."""
        where: list[str] = []
        params: list[Any] = []
        if self.search.strip():
            pattern = "%" + _escape_like(self.search.strip()) + "%"
            columns = ("name", "email", "cm_id", "user_id", "code", "lead_url", "target_name")
            where.append("(" + " OR ".join(f"p.{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
            params.extend([pattern] * len(columns))
        for column, values in (
            ("outcome", self.outcomes),
            ("source", self.sources),
            ("target_name", self.targets),
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
        return (" AND ".join(where) or "1"), params


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


_SCHEMA = """
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    source TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_name TEXT NOT NULL,
    target_url TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    cm_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    help TEXT NOT NULL DEFAULT '',
    lead_url TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    attempt_log TEXT NOT NULL DEFAULT '[]',
    params TEXT NOT NULL DEFAULT '[]',
    fingerprint TEXT NOT NULL DEFAULT '',
    run_id INTEGER,
    row INTEGER
);
CREATE INDEX posts_time ON posts (time);
CREATE INDEX posts_seen ON posts (target_name, cm_id, outcome, fingerprint);

CREATE TABLE legends (
    name TEXT PRIMARY KEY,
    cm_id TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_name TEXT NOT NULL,
    target_url TEXT NOT NULL,
    source_name TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'bulk',
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    owner_host TEXT NOT NULL DEFAULT '',
    owner_pid INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT ''
);

CREATE TABLE run_rows (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    line INTEGER NOT NULL,
    params TEXT NOT NULL,
    cm_id TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    maybe_sent INTEGER NOT NULL DEFAULT 0,
    code TEXT NOT NULL DEFAULT '',
    help TEXT NOT NULL DEFAULT '',
    lead_url TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, row)
);
CREATE INDEX run_rows_state ON run_rows (run_id, state, row);
CREATE INDEX run_rows_seen ON run_rows (cm_id, state, fingerprint);
"""

# Indexes for History's filters, counts and choices at 100,000 posts. They change no stored
# data, so they are added to any journal at open rather than through a schema version.
_READ_INDEXES = {
    "posts_outcome": "posts (outcome, id)",
    "posts_source": "posts (source, id)",
    "posts_target": "posts (target_name, id)",
    "posts_run": "posts (run_id, row)",
    # A run's speed (rows sent since it last started) without reading all its rows.
    "run_rows_sent": "run_rows (run_id, finished_at) WHERE attempts > 0",
}

# History rows with `row` as the spreadsheet line the run's file had (posts store the run's
# row key; the line lives in `run_rows`).
_HISTORY_SELECT = (
    "SELECT p.id, p.time, p.source, p.target_name, p.target_url, p.name, p.email, p.cm_id,"
    " p.user_id, p.outcome, p.code, p.help, p.lead_url, p.attempts, p.attempt_log, p.params,"
    " p.run_id, COALESCE(r.line, p.row) AS row"
    " FROM posts p LEFT JOIN run_rows r ON r.run_id = p.run_id AND r.row = p.row"
)


def _refingerprint(db: sqlite3.Connection) -> None:
    """Schema 2: emails are compared case-folded (`prepare.identity`), not lower-cased, so
    the stored email fingerprints are recomputed; fingerprints of leads without an email do
    not change. Runs get a `request` column: a pause or cancel asked of the process sending
    them, which that process polls."""
    db.execute("ALTER TABLE runs ADD COLUMN request TEXT NOT NULL DEFAULT ''")
    for table, key in (("posts", "id"), ("run_rows", "rowid")):
        rows = db.execute(
            f"SELECT {key}, params FROM {table} WHERE fingerprint LIKE 'email:%'"
        ).fetchall()
        db.executemany(
            f"UPDATE {table} SET fingerprint = ? WHERE {key} = ?",
            [(f"email:{normalize_email(_email_of(row[1]))}", row[0]) for row in rows],
        )


def _email_of(params: str) -> str:
    return next((str(v) for name, v in json.loads(params or "[]") if name == "email"), "")


# Each entry upgrades the schema from version `index` to `index + 1`: SQL statements, or a
# function for what SQL cannot do (SQLite's `lower()` knows only ASCII).
_MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (_SCHEMA, _refingerprint)


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
    """The SQLite journal. Thread-safe; use as a context manager or call `close()`."""

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            path = leadstream_home() / JOURNAL_FILENAME
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise JournalError(
                    f"Cannot create the folder {self.path.parent} for the journal "
                    f"({error.strerror}); set LEADSTREAM_HOME to a folder you can write to."
                ) from None
        self._lock = threading.RLock()
        created = self.path is not None and not self.path.exists()
        try:
            self._db = sqlite3.connect(
                str(self.path) if self.path is not None else ":memory:",
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA busy_timeout = 30000")
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode = WAL")
            # NORMAL keeps every commit across a process crash; only a power cut may lose the
            # last few, which resume then treats as unsent or in flight.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._add_read_indexes()
            if created and self.path is not None:
                # Leads are personal data: only this user may read the journal.
                self.path.chmod(0o600)
        except sqlite3.DatabaseError as error:
            raise JournalError(
                f"The journal {self.path} cannot be opened ({error}). Move it aside and start "
                "again, or set LEADSTREAM_HOME to another folder."
            ) from None
        self._host = socket.gethostname()

    # -- plumbing ----------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"The journal {self.path} was written by a newer LeadStream Desk (schema "
                    f"{version}, this one knows {SCHEMA_VERSION}). Update the app."
                )
            for step in range(version, SCHEMA_VERSION):
                migration = _MIGRATIONS[step]
                if callable(migration):
                    migration(db)
                    db.execute(f"PRAGMA user_version = {step + 1}")
                    continue
                for statement in migration.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")

    def _add_read_indexes(self) -> None:
        have = {
            row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        missing = {name: on for name, on in _READ_INDEXES.items() if name not in have}
        if missing:
            with self._tx() as db:
                for name, on in missing.items():
                    db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once so that two processes never deadlock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read-only query, for reports that page and count (`deliver.reports`).
        Anything but a single SELECT is refused, so a report cannot change the journal."""
        # Only a bare SELECT: `WITH … DELETE` would be a write that starts like a read.
        if not sql.lstrip().upper().startswith("SELECT") or ";" in sql.rstrip("; \n"):
            raise JournalError("Journal.read runs one SELECT; use the journal's methods to write.")
        return self._read(sql, params)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
        """Remember one post (from the form, the legend test, a bulk run or the CLI)."""
        with self._tx() as db:
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
        db: sqlite3.Connection,
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
    ) -> int:
        name = f"{lead.firstname} {lead.lastname}".strip()
        cursor = db.execute(
            "INSERT INTO posts (time, source, target_kind, target_name, target_url, name, email,"
            " cm_id, user_id, outcome, code, help, lead_url, attempts, attempt_log, params,"
            " fingerprint, run_id, row) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
            ),
        )
        return int(cursor.lastrowid or 0)

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

    def delivered_fingerprints(self, target_name: str, cm_id: str) -> set[str]:
        """Fingerprints of the leads delivered from this machine to `target_name` and `cm_id`."""
        rows = self._read(
            "SELECT DISTINCT fingerprint FROM posts"
            " WHERE target_name = ? AND cm_id = ? AND outcome = 'delivered'",
            (target_name, cm_id),
        )
        return {row[0] for row in rows}

    def uncertain_fingerprints(self, target_name: str, cm_id: str) -> set[str]:
        """Fingerprints of leads that may already be in PhoneBurner without this machine
        knowing: a post to `target_name`/`cm_id` ended `uncertain`, or a bulk run's row is still
        in flight (its sender stopped mid-request, or is sending it now), and the lead was never
        delivered there."""
        rows = self._read(
            "SELECT fingerprint FROM posts"
            " WHERE target_name = ? AND cm_id = ? AND outcome = 'uncertain'"
            " UNION SELECT r.fingerprint FROM run_rows r JOIN runs u ON u.id = r.run_id"
            " WHERE u.target_name = ? AND r.cm_id = ? AND r.state = 'in_flight'"
            " EXCEPT SELECT fingerprint FROM posts"
            " WHERE target_name = ? AND cm_id = ? AND outcome = 'delivered'",
            (target_name, cm_id) * 3,
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
        rows = self._read("SELECT * FROM legends ORDER BY name COLLATE NOCASE")
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
                " origin, status, settings) VALUES (?,?,?,?,?,?,?,?)",
                (
                    _now(),
                    str(target.kind),
                    target.name,
                    target.url,
                    source_name,
                    origin,
                    "paused",
                    settings_json,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
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
        with self._tx() as db:
            run = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None:
                raise JournalError(f"There is no bulk run {run_id}.")
            wanted = ",".join("?" * len(states))
            found = db.execute(
                f"SELECT COUNT(*) FROM run_rows WHERE run_id = ? AND state IN ({wanted})",
                (run_id, *states),
            ).fetchone()[0]
            if not found:
                return 0
            cursor = db.execute(
                "INSERT INTO runs (created, target_kind, target_name, target_url, source_name,"
                " origin, status, settings) VALUES (?,?,?,?,?,?,'paused',?)",
                (
                    _now(),
                    run["target_kind"],
                    run["target_name"],
                    run["target_url"],
                    run["source_name"],
                    run["origin"],
                    settings.to_json(),
                ),
            )
            new_id = int(cursor.lastrowid or 0)
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
            owner=f"process {run['owner_pid']} on {run['owner_host']}" if run["owner_pid"] else "",
            request=run["request"],
        )

    def run_status(self, run_id: int) -> str:
        """The run's status alone (`interrupted` for a dead sender), without counting its rows:
        cheap enough to poll while another process sends a 100,000-row run."""
        rows = self._read("SELECT status, owner_host, owner_pid FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise JournalError(f"There is no bulk run {run_id}.")
        return self._status(rows[0])

    def _status(self, run: sqlite3.Row) -> str:
        status = str(run["status"])
        if status != "running":
            return status
        if run["owner_host"] == self._host and not _pid_alive(int(run["owner_pid"])):
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
        ids = self._read(
            "SELECT id FROM runs WHERE status IN ('running', 'paused') ORDER BY id DESC LIMIT ?",
            (-1 if limit is None else max(int(limit), 0),),
        )
        return [self.run(row[0]) for row in ids]

    def unfinished_count(self) -> int:
        """How many runs are running, paused or were interrupted."""
        return int(
            self._read("SELECT COUNT(*) FROM runs WHERE status IN ('running', 'paused')")[0][0]
        )

    def begin_run(self, run_id: int) -> None:
        """Mark the run as being sent by this process; refuse if another live process is."""
        with self._tx() as db:
            run = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None:
                raise JournalError(f"There is no bulk run {run_id}.")
            mine = run["owner_host"] == self._host and run["owner_pid"] == os.getpid()
            if self._status(run) == "running" and not mine:
                raise JournalError(
                    f"Bulk run {run_id} is being sent by process {run['owner_pid']} on "
                    f"{run['owner_host']}. Stop it there first, or wait for it to finish."
                )
            db.execute(
                "UPDATE runs SET status = 'running', message = '', request = '', owner_host = ?,"
                " owner_pid = ?, started_at = ?, finished_at = '' WHERE id = ?",
                (self._host, os.getpid(), _now(), run_id),
            )

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
            run = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
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
        """Take up to `n` pending rows, in file order, and mark them `in_flight` (atomically)."""
        if n < 1:
            return []
        with self._tx() as db:
            rows = db.execute(
                "SELECT * FROM run_rows WHERE run_id = ? AND state = 'pending'"
                " ORDER BY row LIMIT ?",
                (run_id, n),
            ).fetchall()
            db.executemany(
                "UPDATE run_rows SET state = 'in_flight' WHERE run_id = ? AND row = ?",
                [(run_id, row["row"]) for row in rows],
            )
        return [_run_row(row, state="in_flight") for row in rows]

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
                "SELECT r.params, r.attempts, u.target_kind, u.target_url, u.origin FROM run_rows r"
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
        sql += " ORDER BY row LIMIT ? OFFSET ?"
        params.extend([-1 if limit is None else limit, offset])
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
                "SELECT r.params, r.lead_url, u.target_kind, u.target_url, u.origin"
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
            )
        return True


def _history_all(journal: Journal, wanted: HistoryFilter) -> Iterator[HistoryEntry]:
    before: int | None = None
    while chunk := journal.history_after(wanted, before, 5000):
        yield from chunk
        before = chunk[-1].id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _type_value(value: object) -> str:
    return str(getattr(value, "value", value))


def _legend_from_row(row: sqlite3.Row) -> Legend:
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


def _run_row(row: sqlite3.Row, *, state: str | None = None) -> RunRow:
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


def _history_entry(row: sqlite3.Row) -> HistoryEntry:
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
