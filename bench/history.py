"""History at 100,000 leads: the journal's reads, and the page in headless Chromium.

    python bench/history.py [--posts 100000] [--repeat 3]

Fills a throw-away LEADSTREAM_HOME with `--posts` posts (tools/fill_journal.py, one
`executemany`), then prints:
- the journal's reads History makes: exact count, counts per outcome, the source and target
  choices (SELECT DISTINCT), one page of 100 (first and last), a search;
- the CSV of every post written from the journal (no browser);
- in Chromium: opening History (page load until the table is drawn and the app idle) in a new
  browser profile, then best of `--repeat` visits in one profile whose cache holds the app's
  scripts, as a person's browser does; a filter change (Outcome = rejected) until its count
  shows; the "Download N leads (CSV)" click until the file is saved; and, as a baseline, the
  app's default page (Post a lead) opened the same way. Target: History opens in ≤ 2 s.
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
from fill_journal import fill_history
from screenshots import wait_idle

from leadstream.deliver.journal import JOURNAL_FILENAME, HistoryFilter, Journal
from leadstream.deliver.reports import write_history_csv


def _open(profile: Any, url: str, posts: int) -> tuple[float, Any]:
    def drawn(page: Any) -> None:
        page.get_by_text(f"{posts:,} leads:", exact=False).wait_for()
        page.get_by_test_id("stDataFrame").first.wait_for()

    return timed_open(profile, f"{url}/history", drawn)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / JOURNAL_FILENAME
        started = time.perf_counter()
        fill_history(path, args.posts)
        filled = time.perf_counter() - started
        with Journal(path) as journal:
            everything, rejected = HistoryFilter(), HistoryFilter(outcomes=("rejected",))
            reads = {
                "count": best_ms(lambda: journal.history_count(everything)),
                "counts per outcome": best_ms(lambda: journal.history_outcome_counts(everything)),
                "sources + targets": best_ms(
                    lambda: (journal.history_sources(), journal.history_targets())
                ),
                "first page of 100": best_ms(lambda: journal.history_page(everything, 0, 100)),
                "last page of 100": best_ms(
                    lambda: journal.history_page(everything, args.posts - 100, 100)
                ),
                "rejected, count + page": best_ms(
                    lambda: (journal.history_count(rejected), journal.history_page(rejected))
                ),
                "search 'lead4242'": best_ms(
                    lambda: journal.history_count(HistoryFilter(search="lead4242"))
                ),
            }
            out = io.BytesIO()
            started = time.perf_counter()
            written = write_history_csv(journal, everything, out)
            csv_s = time.perf_counter() - started
            csv_mb = len(out.getvalue()) / 1e6

        with app_in_chromium(home) as (url, browser):
            opens, profile = measure_opens(
                browser, url, lambda profile: _open(profile, url, args.posts), args.repeat
            )
            _seconds, page = _open(profile, url, args.posts)
            picker = page.get_by_test_id("stMultiSelect").filter(has_text="Outcome")
            picker.click()
            started = time.perf_counter()
            page.get_by_role("option", name="rejected").click()
            page.keyboard.press("Escape")
            page.get_by_text(f"{rejected_count(args.posts):,} leads:", exact=False).wait_for()
            wait_idle(page)
            refilter = time.perf_counter() - started
            _seconds, download_page = timed_open(
                profile,
                f"{url}/history",
                lambda page: page.get_by_text(f"{args.posts:,} leads:", exact=False).wait_for(),
            )
            download_s, download_mb = timed_download(
                download_page, f"Download {args.posts:,} leads (CSV)"
            )

    print(f"journal with {args.posts:,} posts filled in {filled:.1f} s")
    print_reads(reads)
    print(
        f"CSV of every post, written   {csv_s * 1000:7.0f} ms ({written:,} rows, {csv_mb:.1f} MB)"
    )
    opens.report("History opens")
    print(f"filter Outcome = rejected    {refilter * 1000:7.0f} ms")
    print(f"Download (browser)           {download_s * 1000:7.0f} ms ({download_mb:.1f} MB)")
    return 0


def rejected_count(posts: int) -> int:
    from fill_journal import outcome_of

    return sum(1 for i in range(posts) if outcome_of(i) == "rejected")


if __name__ == "__main__":
    raise SystemExit(main())
