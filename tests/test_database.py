"""Where the journal lives: the schema on an empty SQLite file or PostgreSQL schema, an older
SQLite journal upgraded in place, and clear messages (never tracebacks) for an older team
database or a server that cannot be reached."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from leadstream.deliver.database import (
    SCHEMA_VERSION,
    Database,
    JournalError,
    database_url,
    masked_url,
)

# The journal's schema 2 as SQLite journals hold it today (before team mode).
SCHEMA_2 = """
CREATE TABLE posts (id INTEGER PRIMARY KEY, time TEXT NOT NULL, source TEXT NOT NULL,
 target_kind TEXT NOT NULL, target_name TEXT NOT NULL, target_url TEXT NOT NULL,
 name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', cm_id TEXT NOT NULL DEFAULT '',
 user_id TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL, code TEXT NOT NULL DEFAULT '',
 help TEXT NOT NULL DEFAULT '', lead_url TEXT NOT NULL DEFAULT '',
 attempts INTEGER NOT NULL DEFAULT 0, attempt_log TEXT NOT NULL DEFAULT '[]',
 params TEXT NOT NULL DEFAULT '[]', fingerprint TEXT NOT NULL DEFAULT '', run_id INTEGER,
 row INTEGER);
CREATE TABLE legends (name TEXT PRIMARY KEY, cm_id TEXT NOT NULL DEFAULT '',
 fields TEXT NOT NULL DEFAULT '[]', created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, created TEXT NOT NULL, target_kind TEXT NOT NULL,
 target_name TEXT NOT NULL, target_url TEXT NOT NULL, source_name TEXT NOT NULL DEFAULT '',
 origin TEXT NOT NULL DEFAULT 'bulk', status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
 settings TEXT NOT NULL DEFAULT '{}', owner_host TEXT NOT NULL DEFAULT '',
 owner_pid INTEGER NOT NULL DEFAULT 0, started_at TEXT NOT NULL DEFAULT '',
 finished_at TEXT NOT NULL DEFAULT '', request TEXT NOT NULL DEFAULT '');
CREATE TABLE run_rows (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
 row INTEGER NOT NULL, line INTEGER NOT NULL, params TEXT NOT NULL,
 cm_id TEXT NOT NULL DEFAULT '', fingerprint TEXT NOT NULL DEFAULT '',
 source TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL, maybe_sent INTEGER NOT NULL DEFAULT 0,
 code TEXT NOT NULL DEFAULT '', help TEXT NOT NULL DEFAULT '', lead_url TEXT NOT NULL DEFAULT '',
 attempts INTEGER NOT NULL DEFAULT 0, finished_at TEXT NOT NULL DEFAULT '',
 PRIMARY KEY (run_id, row));
INSERT INTO posts (time, source, target_kind, target_name, target_url, cm_id, outcome,
 fingerprint, params) VALUES ('2026-01-01T00:00:00+00:00', 'form', 'sandbox', 'Sandbox',
 'http://127.0.0.1:1/', '7', 'delivered', 'email:a@x.org', '[["email", "a@x.org"]]');
PRAGMA user_version = 2;
"""


def _open(backend: str, database_url: str, tmp_path: Path) -> Database:
    if backend == "sqlite":
        return Database(path=tmp_path / "journal.sqlite3")
    return Database(url=database_url)


def test_an_empty_database_gets_the_whole_schema_on_first_use(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    db = _open(backend, database_url, tmp_path)
    assert db.version == SCHEMA_VERSION
    with db.tx() as tx:
        new = tx.execute(
            "INSERT INTO runs (created, target_kind, target_name, target_url, status, sender)"
            " VALUES (?, 'sandbox', 'Sandbox', 'u', 'paused', ?) RETURNING id",
            ("2026-01-01", "ann@desk"),
        ).scalar()
    assert db.read("SELECT sender, lease_until FROM runs WHERE id = ?", (new,))[0][:] == (
        "ann@desk",
        "",
    )
    db.close()
    again = _open(backend, database_url, tmp_path)  # a second open changes nothing
    assert again.read("SELECT COUNT(*) FROM runs")[0][0] == 1
    again.close()


def test_an_sqlite_journal_at_schema_2_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA_2)
    db = Database(path=path)
    assert db.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    assert db.read("SELECT sender FROM posts")[0][0] == ""
    # The lead already delivered is claimed, so no desk sends it again by accident.
    claim = db.read("SELECT target_name, cm_id, fingerprint, state FROM claims")
    assert [tuple(row) for row in claim] == [("Sandbox", "7", "email:a@x.org", "delivered")]
    db.close()


def test_an_older_team_database_names_the_upgrade_command(pg_url: str) -> None:
    db = Database(url=pg_url)
    with db.tx() as tx:  # make it look like a schema-2 database
        tx.execute("DROP TABLE claims")
        for table, column in (("posts", "sender"), ("runs", "sender"), ("runs", "lease_until")):
            tx.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        tx.execute("UPDATE leadstream_schema SET version = 2")
    db.close()
    with pytest.raises(JournalError, match=r"schema 2.*`leadstream db upgrade`") as caught:
        Database(url=pg_url)
    assert "Traceback" not in str(caught.value)
    upgraded = Database.upgrade_url(pg_url)
    assert upgraded == (2, SCHEMA_VERSION)
    assert Database(url=pg_url).version == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://ann:hunter2@127.0.0.1:1/team", r"cannot be reached .*LEADSTREAM_DATABASE"),
        ("mysql://ann:hunter2@127.0.0.1:1/team", r"names a mysql database"),
        ("not a url", r"not a database URL"),
    ],
)
def test_a_team_database_that_cannot_be_used_says_why(url: str, message: str) -> None:
    with pytest.raises(JournalError, match=message) as caught:
        Database(url=url)
    assert "hunter2" not in str(caught.value)


def test_the_database_url_comes_from_the_environment_then_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('LEADSTREAM_DATABASE_URL = "postgresql://s@h/db"\n', encoding="utf-8")
    env = {"LEADSTREAM_DATABASE_URL": "postgresql://e@h/db"}
    assert database_url(env, secrets) == "postgresql://e@h/db"
    assert database_url({}, secrets) == "postgresql://s@h/db"
    assert database_url({}, tmp_path / "missing.toml") == ""
    assert masked_url("postgresql://ann:hunter2@h/db") == "postgresql://ann:***@h/db"


def test_db_commands_say_where_the_journal_is_and_upgrade_it(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from leadstream.cli import main

    monkeypatch.chdir(tmp_path)  # no secrets.toml here
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEADSTREAM_DATABASE_URL", raising=False)
    assert main(["db", "status"]) == 0
    assert f"sqlite journal at {tmp_path / 'home' / 'journal.sqlite3'}" in capsys.readouterr().out
    monkeypatch.setenv("LEADSTREAM_DATABASE_URL", pg_url)
    assert main(["db", "upgrade"]) == 0  # an empty database gets the schema
    assert f"schema {SCHEMA_VERSION}" in capsys.readouterr().out
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("postgresql journal at postgresql://leadstream:***@")
    monkeypatch.setenv("LEADSTREAM_DATABASE_URL", "postgresql://a:hunter2@127.0.0.1:1/x")
    assert main(["db", "status"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err
    assert "hunter2" not in err
