"""A 100,000-row run's results: the journal's reads and CSV, and the Runs page in Chromium.

    python bench/results.py [--rows 100000] [--repeat 3]

Fills a throw-away LEADSTREAM_HOME with one finished run of `--rows` rows
(tools/fill_journal.py), then prints:
- the reads the results table makes: counts per state, one page of 100 (first, last, a
  filtered one);
- the results CSV written from the journal (no browser), all rows and the rejected ones;
- in Chromium: opening the run (`/runs?run=<id>`) until its first page of results is drawn and
  the app idle, in a new browser profile, then best of `--repeat` visits in one profile whose
  cache holds the app's scripts; the results download click until
  the file is saved; and, as a baseline, the app's default page (Post a lead) opened the same
  way. Targets: results open in ≤ 3 s, the CSV downloads in ≤ 5 s.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _browser import (
    app_in_chromium,
    best_ms,
    measure_opens,
    print_reads,
    timed_download,
    timed_open,
)
from fill_journal import fill_run

from leadstream.deliver import reports
from leadstream.deliver.journal import JOURNAL_FILENAME, Journal


def _open(profile: Any, url: str, run_id: int) -> tuple[float, Any]:
    return timed_open(
        profile,
        f"{url}/runs?run={run_id}",
        lambda page: page.get_by_test_id("stDataFrame").first.wait_for(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / JOURNAL_FILENAME
        started = time.perf_counter()
        run_id = fill_run(path, args.rows)
        filled = time.perf_counter() - started
        with Journal(path) as journal:
            reads = {
                "counts per state": best_ms(lambda: reports.run_state_counts(journal, run_id)),
                "run info (journal.run)": best_ms(lambda: journal.run(run_id)),
                "first page of 100": best_ms(lambda: reports.run_rows_page(journal, run_id)),
                "last page of 100": best_ms(
                    lambda: reports.run_rows_page(journal, run_id, None, args.rows - 100)
                ),
                "rejected, count + page": best_ms(
                    lambda: (
                        reports.run_rows_count(journal, run_id, ["rejected"]),
                        reports.run_rows_page(journal, run_id, ["rejected"]),
                    )
                ),
            }
            writes = {}
            for name, states in (("all rows", None), ("rejected only", ("rejected",))):
                out = io.BytesIO()
                started = time.perf_counter()
                written = reports.write_results_csv(journal, run_id, out, states)
                writes[name] = (time.perf_counter() - started, written, len(out.getvalue()))

        with app_in_chromium(home) as (url, browser):
            opens, profile = measure_opens(
                browser, url, lambda profile: _open(profile, url, run_id), args.repeat
            )
            _seconds, page = _open(profile, url, run_id)
            download_s, download_mb = timed_download(page, "Download the results (CSV)")

    print(f"journal with a {args.rows:,}-row finished run filled in {filled:.1f} s")
    print_reads(reads)
    for name, (seconds, written, size) in writes.items():
        print(
            f"results CSV, {name:15s} {seconds * 1000:7.0f} ms ({written:,} rows, "
            f"{size / 1e6:.1f} MB)"
        )
    opens.report("results open")
    print(f"results CSV download (browser) {download_s * 1000:5.0f} ms ({download_mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
