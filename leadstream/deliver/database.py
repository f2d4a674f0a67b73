"""Where the journal lives and how its SQL reaches it: one schema on SQLite or PostgreSQL.

Without `LEADSTREAM_DATABASE_URL` the journal is an SQLite file under `LEADSTREAM_HOME` (WAL,
one connection per process guarded by a lock, as it always was). With
`LEADSTREAM_DATABASE_URL=postgresql://…` (environment, or `.streamlit/secrets.toml`) every desk
of a team shares one PostgreSQL database.

The schema is written once, as SQLAlchemy Core `Table`s; both backends are reached through an
SQLAlchemy engine (psycopg 3 for PostgreSQL). The journal's statements are plain portable SQL
written with `?` placeholders and run with `exec_driver_sql`; `Database` rewrites the
placeholders for psycopg. The SQL stays readable next to the old SQLite journal's, and
hand-written statements (partial indexes, `INSERT … SELECT`, `ON CONFLICT`) cost no ORM layer.

Migrations: a small versioned runner (`MIGRATIONS`), not Alembic, because
- the journal has always kept its version in SQLite's `PRAGMA user_version`, and thousands of
  existing desk files must keep upgrading in place at first open, with no `alembic.ini`, script
  directory or `alembic_version` stamping to ship inside the package;
- one step (schema 2) rewrites data in Python (case-folded email fingerprints), which an
  Alembic revision could only do the same way;
- three steps, each a few `ADD COLUMN`s that both backends accept as plain SQL.
An empty database gets the whole schema from the `Table`s and the current version. An SQLite
file at an older version upgrades at open (one desk, one file). A shared PostgreSQL database is
never changed under other desks' feet: an older one is refused with a message naming
`leadstream db upgrade`, which the person running the team server runs once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool, StaticPool

from leadstream.prepare.identity import normalize_email

__all__ = [
    "DATABASE_URL_VARIABLE",
    "SCHEMA_1",
    "SCHEMA_VERSION",
    "Database",
    "DbRow",
    "JournalError",
    "database_url",
    "masked_url",
    "metadata",
]

DATABASE_URL_VARIABLE = "LEADSTREAM_DATABASE_URL"
SCHEMA_VERSION = 3


class JournalError(ValueError):
    """A journal request that cannot be carried out; the message says what to do instead."""


metadata = MetaData()

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("time", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("target_kind", Text, nullable=False),
    Column("target_name", Text, nullable=False),
    Column("target_url", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("email", Text, nullable=False, server_default=""),
    Column("cm_id", Text, nullable=False, server_default=""),
    Column("user_id", Text, nullable=False, server_default=""),
    Column("outcome", Text, nullable=False),
    Column("code", Text, nullable=False, server_default=""),
    Column("help", Text, nullable=False, server_default=""),
    Column("lead_url", Text, nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("attempt_log", Text, nullable=False, server_default="[]"),
    Column("params", Text, nullable=False, server_default="[]"),
    Column("fingerprint", Text, nullable=False, server_default=""),
    Column("run_id", Integer),
    Column("row", Integer),
    Column("sender", Text, nullable=False, server_default=""),
    Index("posts_time", "time"),
    Index("posts_seen", "target_name", "cm_id", "outcome", "fingerprint"),
    Index("posts_outcome", "outcome", "id"),
    Index("posts_source", "source", "id"),
    Index("posts_target", "target_name", "id"),
    Index("posts_run", "run_id", "row"),
    Index("posts_sender", "sender", "id"),
)

legends = Table(
    "legends",
    metadata,
    Column("name", Text, primary_key=True),
    Column("cm_id", Text, nullable=False, server_default=""),
    Column("fields", Text, nullable=False, server_default="[]"),
    Column("created", Text, nullable=False),
    Column("updated", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created", Text, nullable=False),
    Column("target_kind", Text, nullable=False),
    Column("target_name", Text, nullable=False),
    Column("target_url", Text, nullable=False),
    Column("source_name", Text, nullable=False, server_default=""),
    Column("origin", Text, nullable=False, server_default="bulk"),
    Column("status", Text, nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("owner_host", Text, nullable=False, server_default=""),
    Column("owner_pid", Integer, nullable=False, server_default="0"),
    Column("started_at", Text, nullable=False, server_default=""),
    Column("finished_at", Text, nullable=False, server_default=""),
    Column("request", Text, nullable=False, server_default=""),
    # Team mode: who made (then last started) the run, and until when its sender holds it.
    Column("sender", Text, nullable=False, server_default=""),
    Column("lease_until", Text, nullable=False, server_default=""),
)

run_rows = Table(
    "run_rows",
    metadata,
    Column("run_id", Integer, nullable=False),
    Column("row", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("params", Text, nullable=False),
    Column("cm_id", Text, nullable=False, server_default=""),
    Column("fingerprint", Text, nullable=False, server_default=""),
    Column("source", Text, nullable=False, server_default="{}"),
    Column("state", Text, nullable=False),
    Column("maybe_sent", Integer, nullable=False, server_default="0"),
    Column("code", Text, nullable=False, server_default=""),
    Column("help", Text, nullable=False, server_default=""),
    Column("lead_url", Text, nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("finished_at", Text, nullable=False, server_default=""),
    PrimaryKeyConstraint("run_id", "row"),
    Index("run_rows_state", "run_id", "state", "row"),
    Index("run_rows_seen", "cm_id", "state", "fingerprint"),
    Index(
        "run_rows_sent",
        "run_id",
        "finished_at",
        sqlite_where=text("attempts > 0"),
        postgresql_where=text("attempts > 0"),
    ),
)

# One claim per target, LeadStream and lead identity while the lead is in flight or delivered:
# the primary key is what makes two desks' claims on one lead atomic.
claims = Table(
    "claims",
    metadata,
    Column("target_name", Text, nullable=False),
    Column("cm_id", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("state", Text, nullable=False),  # in_flight | delivered
    Column("run_id", Integer),
    Column("row", Integer),
    Column("sender", Text, nullable=False, server_default=""),
    Column("claimed_at", Text, nullable=False),
    PrimaryKeyConstraint("target_name", "cm_id", "fingerprint"),
    Index("claims_run", "run_id", "row"),
)

# PostgreSQL has no `user_version`: the version lives in a one-row table.
schema_version = Table("leadstream_schema", metadata, Column("version", Integer, nullable=False))


class DbRow(Sequence[Any]):
    """A result row readable by position or by column name, like `sqlite3.Row`."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: tuple[Any, ...], index: Mapping[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"DbRow({dict(zip(self._index, self._values, strict=False))!r})"


class Result:
    """What one statement gave: rows (by position or name) and how many rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, cursor: Any) -> None:
        self.rowcount = int(cursor.rowcount)
        if cursor.description:
            index = {column[0]: i for i, column in enumerate(cursor.description)}
            self._rows = [DbRow(tuple(row), index) for row in cursor.fetchall()]
        else:
            self._rows = []

    def fetchall(self) -> list[DbRow]:
        return self._rows

    def fetchone(self) -> DbRow | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


class Tx:
    """One transaction's connection, with the journal's `?` SQL.

    The statements go to the DBAPI cursor of a connection from SQLAlchemy's pool directly:
    `exec_driver_sql`'s result machinery would cost more than SQLite itself on the sender's hot
    path (about ten statements a row). `connection` is the SQLAlchemy `Connection` for schema
    work (`Table.create`), present in `Database.tx(schema=True)`.
    """

    def __init__(self, database: Database, cursor: Any, connection: Connection | None) -> None:
        self._database = database
        self._cursor = cursor
        self._connection = connection

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise JournalError("Schema changes need Database.tx(schema=True).")
        return self._connection

    @property
    def kind(self) -> str:
        return self._database.kind

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        self._cursor.execute(self._database.sql(sql), tuple(params))
        return Result(self._cursor)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._database.sql(sql), [tuple(row) for row in rows])


def _secrets_value(path: Path, name: str) -> str:
    try:
        with path.open("rb") as handle:
            value = tomllib.load(handle).get(name, "")
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return str(value).strip() if isinstance(value, str) else ""


def database_url(
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = Path(".streamlit/secrets.toml"),
) -> str:
    """The team database's URL (`LEADSTREAM_DATABASE_URL`, then secrets.toml), or "" for the
    embedded SQLite journal."""
    env = os.environ if env is None else env
    value = env.get(DATABASE_URL_VARIABLE, "").strip()
    if not value and secrets_path is not None:
        value = _secrets_value(secrets_path, DATABASE_URL_VARIABLE)
    return value


def masked_url(url: str | URL) -> str:
    """`url` with its password hidden, fit for a message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def _postgres_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise JournalError(
            f"{DATABASE_URL_VARIABLE} is not a database URL; write it as "
            "postgresql://user:password@host:5432/database."
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise JournalError(
            f"{DATABASE_URL_VARIABLE} names a {parsed.get_backend_name()} database; the team "
            "journal needs PostgreSQL (postgresql://user:password@host:5432/database)."
        )
    return parsed.set(drivername="postgresql+psycopg")


def _email_of(params: str) -> str:
    return next((str(v) for name, v in json.loads(params or "[]") if name == "email"), "")


def _refingerprint(tx: Tx) -> None:
    """Schema 2: emails are compared case-folded (`prepare.identity`), not lower-cased, so the
    stored email fingerprints are recomputed; fingerprints of leads without an email do not
    change. Runs get a `request` column: a pause or cancel asked of the process sending them."""
    tx.execute("ALTER TABLE runs ADD COLUMN request TEXT NOT NULL DEFAULT ''")
    for table, key in (("posts", "id"), ("run_rows", "rowid")):
        rows = tx.execute(
            f"SELECT {key}, params FROM {table} WHERE fingerprint LIKE 'email:%'"
        ).fetchall()
        tx.executemany(
            f"UPDATE {table} SET fingerprint = ? WHERE {key} = ?",
            [(f"email:{normalize_email(_email_of(row[1]))}", row[0]) for row in rows],
        )


def _team_mode(tx: Tx) -> None:
    """Schema 3: who sent each post and run, run leases, and the claims table (filled with the
    leads already delivered, so that no desk sends them again by accident)."""
    for statement in (
        "ALTER TABLE posts ADD COLUMN sender TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN sender TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN lease_until TEXT NOT NULL DEFAULT ''",
    ):
        tx.execute(statement)
    claims.create(tx.connection, checkfirst=True)
    for index in posts.indexes:
        index.create(tx.connection, checkfirst=True)
    tx.execute(
        "INSERT INTO claims (target_name, cm_id, fingerprint, state, run_id, row, sender,"
        " claimed_at) SELECT target_name, cm_id, fingerprint, 'delivered', MAX(run_id),"
        " MAX(row), '', MAX(time) FROM posts WHERE outcome = 'delivered' AND fingerprint <> ''"
        " GROUP BY target_name, cm_id, fingerprint ON CONFLICT DO NOTHING"
    )


# Schema 1 as the first journals created it (a test builds such a journal to upgrade).
SCHEMA_1 = """
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


def _schema_1(tx: Tx) -> None:
    for statement in SCHEMA_1.split(";"):
        if statement.strip():
            tx.execute(statement)


# Each entry upgrades the schema from version `index` to `index + 1`.
MIGRATIONS: tuple[Callable[[Tx], None], ...] = (_schema_1, _refingerprint, _team_mode)
assert len(MIGRATIONS) == SCHEMA_VERSION


_PG_HAS_POSTS = (
    "SELECT table_name FROM information_schema.tables WHERE table_name = 'posts'"
    " AND table_schema = current_schema()"
)
_SCHEMA_LOCK = (
    0x1EAD5  # the advisory lock that makes creating or upgrading the schema one at a time
)


class Database:
    """The journal's database: SQLite at `path`, or PostgreSQL at `url`.

    `tx()` gives a write transaction; `read()` runs one query. On SQLite every call of the
    process goes through one connection under a lock, and a write takes the file's write lock
    at once (`BEGIN IMMEDIATE`) so that two processes never deadlock. On PostgreSQL a pool
    gives each thread its own connection.
    """

    def __init__(self, *, path: Path | None = None, url: str = "") -> None:
        self.path = path
        self.kind = "postgresql" if url else "sqlite"
        self._lock = threading.RLock()
        self._sql_cache: dict[str, str] = {}
        self._raw: Any = None
        # Errors that mean the database itself is gone or unusable (the server went away, the
        # file is not a database), as against a statement's own error.
        self._lost: tuple[type[BaseException], ...]
        self._unusable: tuple[type[BaseException], ...]
        if url:
            import psycopg  # only a team journal needs it

            self._lost = (psycopg.OperationalError,)
            self._unusable = (DBAPIError, psycopg.Error)
            self.url = _postgres_url(url)
            self.where = masked_url(url)
            try:
                self.engine = create_engine(
                    self.url, pool_size=8, max_overflow=32, pool_pre_ping=True
                )
            except (NoSuchModuleError, ImportError):
                raise JournalError(
                    "The team journal needs psycopg 3: pip install -r requirements.txt."
                ) from None
        else:
            self._lost = ()
            self._unusable = (DBAPIError, sqlite3.DatabaseError)
            self.url = make_url("sqlite://")
            self.where = str(path) if path is not None else ":memory:"
            created = path is not None and not path.exists()
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise JournalError(
                        f"Cannot create the folder {path.parent} for the journal "
                        f"({error.strerror}); set LEADSTREAM_HOME to a folder you can write to."
                    ) from None
            self.engine = self._sqlite_engine(path)
        self.version = self._open()
        if self.kind == "sqlite" and created and path is not None:
            path.chmod(0o600)  # leads are personal data: only this user may read the journal

    @staticmethod
    def _sqlite_engine(path: Path | None) -> Engine:
        def connect() -> sqlite3.Connection:
            db = sqlite3.connect(
                str(path) if path is not None else ":memory:",
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
            )
            db.execute("PRAGMA busy_timeout = 30000")
            if path is not None:
                db.execute("PRAGMA journal_mode = WAL")
            # NORMAL keeps every commit across a process crash; only a power cut may lose the
            # last few, which resume then treats as unsent or in flight.
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            return db

        engine = create_engine("sqlite://", creator=connect, poolclass=StaticPool)

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            # Reads run in autocommit (WAL readers never wait); writes lock the file at once.
            if not connection.get_execution_options().get("leadstream_read"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def sql(self, statement: str) -> str:
        """`statement` (written with `?` placeholders) as this backend's driver wants it."""
        if self.kind == "sqlite":
            return statement
        cached = self._sql_cache.get(statement)
        if cached is None:
            cached = statement.replace("%", "%%").replace("?", "%s")
            self._sql_cache[statement] = cached
        return cached

    def _unreachable(self, error: BaseException) -> JournalError:
        reason = str(getattr(error, "orig", error)).strip().splitlines()
        detail = reason[0] if reason else type(error).__name__
        if self.kind == "sqlite":
            return JournalError(
                f"The journal {self.where} cannot be opened ({detail}). Move it aside and start "
                "again, or set LEADSTREAM_HOME to another folder."
            )
        return JournalError(
            f"The team journal at {self.where} cannot be reached ({detail}). Check that the "
            f"PostgreSQL server is running and that {DATABASE_URL_VARIABLE} is right."
        )

    @contextmanager
    def tx(self, *, schema: bool = False) -> Iterator[Tx]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock if self.kind == "sqlite" else _NO_LOCK:
            try:
                if self.kind == "sqlite" and not schema:
                    # The one connection, as the journal always drove it: BEGIN IMMEDIATE takes
                    # the file's write lock at once, so that two processes never deadlock.
                    raw = self._sqlite_connection()
                    raw.execute("BEGIN IMMEDIATE")
                    try:
                        yield Tx(self, raw.cursor(), None)
                    except BaseException:
                        raw.execute("ROLLBACK")
                        raise
                    raw.execute("COMMIT")
                    return
                with self.engine.begin() as connection:
                    yield Tx(self, connection.connection.cursor(), connection)
            except self._lost as error:
                raise self._unreachable(error) from None

    def _sqlite_connection(self) -> Any:
        if self._raw is None:
            self._raw = self.engine.raw_connection().driver_connection
        return self._raw

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[DbRow]:
        """The rows of one query, outside any write transaction."""
        with self._lock if self.kind == "sqlite" else _NO_LOCK:
            try:
                if self.kind == "sqlite":
                    cursor = self._sqlite_connection().cursor()
                    cursor.execute(sql, tuple(params))
                    return Result(cursor).fetchall()
                with self.engine.connect().execution_options(leadstream_read=True) as connection:
                    cursor = connection.connection.cursor()
                    cursor.execute(self.sql(sql), tuple(params))
                    rows = Result(cursor).fetchall()
                    connection.rollback()
                    return rows
            except self._lost as error:
                raise self._unreachable(error) from None

    def close(self) -> None:
        with self._lock:
            self._raw = None
            self.engine.dispose()

    # -- schema ------------------------------------------------------------------------------

    def _open(self) -> int:
        try:
            version = self._stored_version()
            if version == 0 and not self._has_tables():
                with self.tx(schema=True) as tx:
                    if self.kind == "postgresql":
                        # Desks opening an empty team database at once: one creates the schema,
                        # the others wait for it and find it made.
                        tx.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                        if tx.execute(_PG_HAS_POSTS).fetchone() is not None:
                            return SCHEMA_VERSION
                    metadata.create_all(tx.connection)
                    self._set_version(tx, SCHEMA_VERSION)
                return SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"The journal {self.where} was written by a newer LeadStream Desk (schema "
                    f"{version}, this one knows {SCHEMA_VERSION}). Update the app."
                )
            if version < SCHEMA_VERSION:
                if self.kind != "sqlite":
                    raise JournalError(
                        f"The team journal at {self.where} has schema {version}; this LeadStream "
                        f"Desk needs schema {SCHEMA_VERSION}. Whoever runs the team server "
                        "upgrades it once with `leadstream db upgrade` (all desks then need "
                        "this version)."
                    )
                self.upgrade()
            if self.kind == "sqlite":
                self._add_missing_indexes()
            return SCHEMA_VERSION
        except self._unusable as error:
            raise self._unreachable(error) from None

    def _add_missing_indexes(self) -> None:
        """Indexes change no stored data, so a journal missing one (dropped, or from a build
        that had not added it yet) gets it at open rather than through a schema version."""
        have = {row[0] for row in self.read("SELECT name FROM sqlite_master WHERE type = 'index'")}
        missing = [
            index
            for table in metadata.sorted_tables
            for index in table.indexes
            if index.name not in have
        ]
        if missing:
            with self.tx(schema=True) as tx:
                for index in missing:
                    index.create(tx.connection, checkfirst=True)

    def _has_tables(self) -> bool:
        rows = self.read(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'posts'"
            if self.kind == "sqlite"
            else _PG_HAS_POSTS
        )
        return bool(rows)

    def _stored_version(self, tx: Tx | None = None) -> int:
        """The schema version the database holds (read inside `tx` when given)."""

        def query(sql: str) -> list[DbRow]:
            return tx.execute(sql).fetchall() if tx is not None else self.read(sql)

        if self.kind == "sqlite":
            return int(query("PRAGMA user_version")[0][0])
        rows = query(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_name = 'leadstream_schema' AND table_schema = current_schema()"
        )
        if not rows:
            return 1 if query(_PG_HAS_POSTS) else 0
        return int(query("SELECT MAX(version) FROM leadstream_schema")[0][0] or 0)

    def _set_version(self, tx: Tx, version: int) -> None:
        if self.kind == "sqlite":
            tx.execute(f"PRAGMA user_version = {int(version)}")
            return
        schema_version.create(tx.connection, checkfirst=True)
        tx.execute("DELETE FROM leadstream_schema")
        tx.execute("INSERT INTO leadstream_schema (version) VALUES (?)", (int(version),))

    @classmethod
    def upgrade_url(cls, url: str) -> tuple[int, int]:
        """`leadstream db upgrade` on the team database at `url`: (version before, after)."""
        database = cls.__new__(cls)
        database.path = None
        database.kind = "postgresql"
        database._lock = threading.RLock()
        database._sql_cache = {}
        import psycopg

        database._lost = (psycopg.OperationalError,)
        database._unusable = (DBAPIError, psycopg.Error)
        database.url = _postgres_url(url)
        database.where = masked_url(url)
        database.engine = create_engine(database.url, poolclass=NullPool)
        try:
            return database.upgrade()
        except database._unusable as error:
            raise database._unreachable(error) from None
        finally:
            database.engine.dispose()

    def upgrade(self) -> tuple[int, int]:
        """Bring an older schema to the current one, one step per transaction. Returns the
        versions (before, after)."""
        before = self._stored_version()
        for step in range(before, SCHEMA_VERSION):
            with self.tx(schema=True) as tx:
                if self.kind == "postgresql":
                    tx.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                    if self._stored_version(tx) > step:
                        continue  # another upgrader took this step while we waited
                if step == 0:
                    metadata.create_all(tx.connection)
                    self._set_version(tx, SCHEMA_VERSION)
                    break
                MIGRATIONS[step](tx)
                self._set_version(tx, step + 1)
        self.version = SCHEMA_VERSION
        return before, SCHEMA_VERSION


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


_NO_LOCK = _NoLock()
