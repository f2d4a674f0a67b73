"""`leadstream db upgrade|status`: the journal's database schema, for whoever runs it.

A desk's own SQLite journal upgrades itself when opened. A team's PostgreSQL database
(`LEADSTREAM_DATABASE_URL`) is shared by every desk, so it is upgraded on purpose, once, by
this command, never behind the other desks' backs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from leadstream.deliver.database import SCHEMA_VERSION, Database, database_url
from leadstream.deliver.target import leadstream_home

__all__ = ["COMMAND", "add_parser", "run"]

COMMAND = "db"


def add_parser(commands: Any) -> None:
    db = commands.add_parser(
        COMMAND,
        help="the journal's database: upgrade its schema, or show where it is",
        description=(
            "The journal is SQLite under LEADSTREAM_HOME, or the team's PostgreSQL database "
            "when LEADSTREAM_DATABASE_URL is set (environment or .streamlit/secrets.toml)."
        ),
        allow_abbrev=False,
    )
    actions = db.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="bring the database's schema up to this version")
    actions.add_parser("status", help="say which database the journal uses, and its schema")


def run(args: argparse.Namespace) -> int:
    url = database_url()
    if args.db_action == "upgrade":
        if url:
            before, after = Database.upgrade_url(url)
        else:
            database = Database(path=leadstream_home() / "journal.sqlite3")  # upgrades at open
            database.close()
            before = after = database.version
        said = "already at" if before == after else f"upgraded from schema {before} to"
        print(f"The journal's database is {said} schema {after}.", file=sys.stdout)
        return 0
    home = leadstream_home() / "journal.sqlite3"
    database = Database(url=url) if url else Database(path=home)
    database.close()
    print(
        f"{database.kind} journal at {database.where}, schema {database.version} "
        f"(this LeadStream Desk writes schema {SCHEMA_VERSION})."
    )
    return 0
