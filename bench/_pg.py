"""A fresh PostgreSQL schema for a benchmark, in the server LEADSTREAM_TEST_DATABASE_URL names
(`eval "$(.ci/postgres.sh)"` starts one)."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from urllib.parse import quote


def server_url() -> str:
    url = os.environ.get("LEADSTREAM_TEST_DATABASE_URL", "").strip()
    if not url:
        sys.exit(
            'Set LEADSTREAM_TEST_DATABASE_URL to a PostgreSQL server (eval "$(.ci/postgres.sh)").'
        )
    return url


@contextlib.contextmanager
def fresh_schema(server: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema; dropped afterwards."""
    import psycopg

    schema = f"bench_{secrets.token_hex(5)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in server else "?"
    try:
        yield f"{server}{joiner}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
