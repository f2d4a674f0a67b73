"""Fill a journal with many posts or one big finished run, fast, for benchmarks and scale tests.

    python tools/fill_journal.py JOURNAL --history 100000 --run 100000

A run is created through `Journal.create_run` and its rows, already decided, inserted with
one `executemany` in the journal's own shape; so are history posts. Nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leadstream.deliver.journal import Journal
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead

__all__ = ["OUTCOME_CYCLE", "fill_history", "fill_run", "outcome_of", "post_time"]

SANDBOX = Target.sandbox("http://127.0.0.1:8765/api/vendor/put_contact")
LIVE = Target.live()
# 100 rows' outcomes: mostly delivered, some of everything else, in a fixed pattern.
OUTCOME_CYCLE = (
    ("delivered",) * 85
    + ("rejected",) * 8
    + ("invalid",) * 3
    + ("duplicate",) * 2
    + ("failed", "uncertain")
)
_CODES = {
    "delivered": ("SUCCESS", "Lead created."),
    "rejected": ("INVALID EMAIL", "PhoneBurner says the email address is not valid."),
    "invalid": ("", "Row {line}, email: not an email address."),
    "duplicate": ("", "Same lead as row 2."),
    "failed": ("NO ANSWER", "The server could not be reached."),
    "uncertain": ("NO ANSWER", "No clear answer; look for it in PhoneBurner."),
}
_SOURCES = ("bulk", "bulk", "cli", "form", "legend test")
FIRST_POST = datetime(2026, 11, 1, tzinfo=UTC)


def outcome_of(index: int) -> str:
    """The outcome the filled journal gives row or post `index`."""
    return OUTCOME_CYCLE[index % len(OUTCOME_CYCLE)]


def _lead(index: int) -> Lead:
    return Lead(
        firstname=f"First{index}",
        lastname=f"Last{index}",
        email=f"lead{index}@example.com",
        phone=f"716-555-{index % 10000:04d}",
        user_id="377310706",
        cm_id="576846",
    )


def _params(lead: Lead) -> str:
    return json.dumps(
        [
            ["firstname", lead.firstname],
            ["lastname", lead.lastname],
            ["email", lead.email],
            ["phone", lead.phone],
            ["user_id", lead.user_id],
            ["cm_id", lead.cm_id],
        ]
    )


def fill_run(path: Path, rows: int) -> int:
    """A finished run of `rows` rows (file lines 2…), outcomes as `outcome_of`; its id."""
    with Journal(path) as journal:
        run_id = journal.create_run(target=SANDBOX, source_name="big.csv", rows=[])
    records = []
    for index in range(rows):
        lead = _lead(index)
        outcome = outcome_of(index)
        code, detail = _CODES[outcome]
        url = f"https://www.phoneburner.com/ms/lead_redirect/{index}" if code == "SUCCESS" else ""
        tries = 1 if outcome in ("delivered", "rejected") else 5 if outcome == "failed" else 0
        source = {
            "First name": lead.firstname,
            "Last name": lead.lastname,
            "Email": lead.email,
            "Phone": lead.phone,
            "Notes": "=1+2" if index % 1000 == 0 else f"note {index}",
        }
        records.append(
            (
                run_id,
                index,
                index + 2,
                _params(lead),
                lead.cm_id,
                f"email:{lead.email}",
                json.dumps(source),
                outcome,
                code,
                detail.format(line=index + 2),
                url,
                tries,
            )
        )
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO run_rows (run_id, row, line, params, cm_id, fingerprint, source, state,"
            " code, help, lead_url, attempts, finished_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'2026-11-30T12:00:00+00:00')",
            records,
        )
        db.execute(
            "UPDATE runs SET status = 'finished', finished_at = '2026-11-30T12:00:00+00:00'"
            " WHERE id = ?",
            (run_id,),
        )
    return run_id


def post_time(index: int) -> datetime:
    """When the filled journal's post `index` was sent: one every 10 s from 1 November 2026."""
    return FIRST_POST + timedelta(seconds=10 * index)


def fill_history(path: Path, posts: int) -> None:
    """`posts` posts at `post_time`, sources and targets mixed, outcomes as `outcome_of`."""
    Journal(path).close()  # the schema and indexes
    records = []
    for index in range(posts):
        lead = _lead(index)
        outcome = outcome_of(index)
        code, detail = _CODES[outcome]
        target = LIVE if index % 7 == 0 else SANDBOX
        time = post_time(index).isoformat(timespec="microseconds")
        url = f"https://www.phoneburner.com/ms/lead_redirect/{index}" if code == "SUCCESS" else ""
        params = _params(lead)
        records.append(
            (
                time,
                _SOURCES[index % len(_SOURCES)],
                str(target.kind),
                target.name,
                target.url,
                f"{lead.firstname} {lead.lastname}",
                lead.email,
                lead.cm_id,
                lead.user_id,
                outcome,
                code,
                detail.format(line=index + 2),
                url,
                1,
                "[]",
                params,
                f"email:{lead.email}",
            )
        )
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO posts (time, source, target_kind, target_name, target_url, name, email,"
            " cm_id, user_id, outcome, code, help, lead_url, attempts, attempt_log, params,"
            " fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            records,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("journal", type=Path)
    parser.add_argument("--history", type=int, default=0, help="posts to add")
    parser.add_argument("--run", type=int, default=0, help="rows of a finished run to add")
    args = parser.parse_args()
    if args.history:
        fill_history(args.journal, args.history)
    if args.run:
        print(f"run {fill_run(args.journal, args.run)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
