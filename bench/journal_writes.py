"""Journal writes per second on SQLite and on PostgreSQL.

    eval "$(.ci/postgres.sh)"; python bench/journal_writes.py [--rows 5000] [--threads 8]

For each backend: `record_post` one at a time (the form's write), then a run's rows as the
sender writes them: `claim_next_rows` (which also claims each lead for the team) and
`finish_row` (outcome + history post in one transaction), from `--threads` threads as the
engine's workers do. Without LEADSTREAM_TEST_DATABASE_URL only SQLite is measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pg import fresh_schema

from leadstream.deliver.client import Delivery
from leadstream.deliver.journal import Journal
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead
from leadstream.protocol.response import parse_response

TARGET = Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact")
DELIVERED = Delivery(
    DeliveryOutcome.DELIVERED,
    parse_response("SUCCESS|https://www.phoneburner.com/ms/lead_redirect?upc=AB12"),
    (),
)


def lead(n: int) -> Lead:
    return Lead(firstname=f"P{n}", lastname="Smith", email=f"p{n}@example.com", cm_id="576846")


def measure(journal: Journal, rows: int, threads: int) -> tuple[float, float]:
    posts = max(rows // 5, 1)
    started = time.perf_counter()
    for n in range(posts):
        journal.record_post(source="form", target=TARGET, lead=lead(10**6 + n), delivery=DELIVERED)
    post_rate = posts / (time.perf_counter() - started)

    run_id = journal.create_run(
        target=TARGET, source_name="f.csv", rows=[(n, n + 2, lead(n), {}) for n in range(rows)]
    )
    journal.begin_run(run_id)

    def worker() -> None:
        while taken := journal.claim_next_rows(run_id, 1):
            for row in taken:
                journal.finish_row(run_id, row.row, DELIVERED, lead=row.lead)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    # Two transactions per row: the claim and the outcome.
    row_rate = rows / (time.perf_counter() - started)
    journal.set_run_status(run_id, "finished")
    assert journal.run(run_id).counts["delivered"] == rows
    return post_rate, row_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    server = os.environ.get("LEADSTREAM_TEST_DATABASE_URL", "").strip()
    print(f"{args.rows} run rows from {args.threads} threads; {args.rows // 5} single posts")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        places: list[tuple[str, Journal]] = [("SQLite (WAL)", Journal(tmp / "j.sqlite3"))]
        if server:
            url = stack.enter_context(fresh_schema(server))
            places.append(("PostgreSQL", Journal(url=url)))
        else:
            print("(PostgreSQL skipped: set LEADSTREAM_TEST_DATABASE_URL)")
        for name, journal in places:
            with journal:
                post_rate, row_rate = measure(journal, args.rows, args.threads)
            print(
                f"{name:13} record_post {post_rate:7.0f}/s   run rows (claim + finish) "
                f"{row_rate:7.0f}/s"
            )


if __name__ == "__main__":
    main()
