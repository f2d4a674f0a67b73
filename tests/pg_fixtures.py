"""PostgreSQL for the journal tests: each test gets a fresh schema in the server that
`LEADSTREAM_TEST_DATABASE_URL` names (`.ci/postgres.sh` starts one). Without it the PostgreSQL
half of the tests is skipped with the reason shown, or fails when `LEADSTREAM_PG=1` (as CI sets)
makes it mandatory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

TEST_URL_VARIABLE = "LEADSTREAM_TEST_DATABASE_URL"
NO_SERVER = (
    f"no PostgreSQL server for the team-mode tests: set {TEST_URL_VARIABLE} "
    '(eval "$(.ci/postgres.sh)" starts one)'
)


def _server_url() -> str:
    url = os.environ.get(TEST_URL_VARIABLE, "").strip()
    if not url:
        if os.environ.get("LEADSTREAM_PG") == "1":
            pytest.fail(f"LEADSTREAM_PG=1 but {NO_SERVER}")
        pytest.skip(NO_SERVER)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A `postgresql://` URL whose connections see only a new, empty schema of their own."""
    import psycopg

    server = _server_url()
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in server else "?"
    yield f"{server}{joiner}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the journal under test uses."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """ "" for the embedded SQLite journal, else a fresh PostgreSQL schema's URL."""
    if backend == "sqlite":
        return ""
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def journal_place(database_url: str, tmp_path: Path) -> str:
    """Where the journal under test lives, as `Journal(…)` (another process too) takes it:
    the SQLite file's path, or the PostgreSQL schema's URL."""
    return database_url or str(tmp_path / "journal.sqlite3")
