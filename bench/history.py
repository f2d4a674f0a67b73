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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fill_journal import fill_history
from screenshots import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle

from leadstream.deliver.journal import JOURNAL_FILENAME, HistoryFilter, Journal
from leadstream.deliver.reports import write_history_csv

VIEW: Any = {"width": 1440, "height": 1000}  # a Playwright ViewportSize


def _ms(action: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _open(profile: Any, url: str, posts: int) -> tuple[float, Any]:
    page = profile.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    page.goto(f"{url}/history")
    page.get_by_text(f"{posts:,} leads:", exact=False).wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    wait_idle(page)
    return time.perf_counter() - started, page


def _baseline(profile: Any, url: str) -> float:
    """Opening the app's default page (Post a lead) the same way: what any page costs here."""
    page = profile.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Post a lead").wait_for()
    wait_idle(page)
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / JOURNAL_FILENAME
        started = time.perf_counter()
        fill_history(path, args.posts)
        filled = time.perf_counter() - started
        with Journal(path) as journal:
            everything, rejected = HistoryFilter(), HistoryFilter(outcomes=("rejected",))
            reads = {
                "count": _ms(lambda: journal.history_count(everything)),
                "counts per outcome": _ms(lambda: journal.history_outcome_counts(everything)),
                "sources + targets": _ms(
                    lambda: (journal.history_sources(), journal.history_targets())
                ),
                "first page of 100": _ms(lambda: journal.history_page(everything, 0, 100)),
                "last page of 100": _ms(
                    lambda: journal.history_page(everything, args.posts - 100, 100)
                ),
                "rejected, count + page": _ms(
                    lambda: (journal.history_count(rejected), journal.history_page(rejected))
                ),
                "search 'lead4242'": _ms(
                    lambda: journal.history_count(HistoryFilter(search="lead4242"))
                ),
            }
            out = io.BytesIO()
            started = time.perf_counter()
            written = write_history_csv(journal, everything, out)
            csv_s = time.perf_counter() - started
            csv_mb = len(out.getvalue()) / 1e6

        with running_app(home) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # A fresh browser profile first; then one profile, as a person's browser is, whose
            # cache keeps the app's scripts between visits.
            profile = browser.new_context(viewport=VIEW)
            cold, page = _open(browser.new_context(viewport=VIEW), url, args.posts)
            page.close()
            warm = []
            for _ in range(args.repeat):
                seconds, page = _open(profile, url, args.posts)
                warm.append(seconds)
                page.close()
            baseline = min(_baseline(profile, url) for _ in range(args.repeat))
            seconds, page = _open(profile, url, args.posts)
            picker = page.get_by_test_id("stMultiSelect").filter(has_text="Outcome")
            picker.click()
            started = time.perf_counter()
            page.get_by_role("option", name="rejected").click()
            page.keyboard.press("Escape")
            page.get_by_text(f"{rejected_count(args.posts):,} leads:", exact=False).wait_for()
            wait_idle(page)
            refilter = time.perf_counter() - started
            download_page = profile.new_page()
            download_page.set_default_timeout(60_000)
            download_page.goto(f"{url}/history")
            download_page.get_by_text(f"{args.posts:,} leads:", exact=False).wait_for()
            wait_idle(download_page)
            started = time.perf_counter()
            with download_page.expect_download(timeout=60_000) as info:
                download_page.get_by_role(
                    "button", name=f"Download {args.posts:,} leads (CSV)"
                ).click()
            saved = Path(info.value.path())
            download_s = time.perf_counter() - started
            download_mb = saved.stat().st_size / 1e6
            browser.close()

    print(f"journal with {args.posts:,} posts filled in {filled:.1f} s")
    for name, ms in reads.items():
        print(f"  {name:26s} {ms:7.1f} ms (best of 5)")
    print(
        f"CSV of every post, written   {csv_s * 1000:7.0f} ms ({written:,} rows, {csv_mb:.1f} MB)"
    )
    print(f"History opens, new profile   {cold * 1000:7.0f} ms")
    later = f"{min(warm) * 1000:7.0f} ms best, {max(warm) * 1000:.0f} worst"
    print(f"History opens again          {later}")
    print(f"Post a lead opens (baseline) {baseline * 1000:7.0f} ms best, same app and browser")
    print(f"filter Outcome = rejected    {refilter * 1000:7.0f} ms")
    print(f"Download (browser)           {download_s * 1000:7.0f} ms ({download_mb:.1f} MB)")
    return 0


def rejected_count(posts: int) -> int:
    from fill_journal import outcome_of

    return sum(1 for i in range(posts) if outcome_of(i) == "rejected")


if __name__ == "__main__":
    raise SystemExit(main())
