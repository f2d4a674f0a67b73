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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fill_journal import fill_run
from screenshots import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle

from leadstream.deliver import reports
from leadstream.deliver.journal import JOURNAL_FILENAME, Journal

VIEW: Any = {"width": 1440, "height": 1000}  # a Playwright ViewportSize


def _ms(action: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _open(profile: Any, url: str, run_id: int) -> tuple[float, Any]:
    page = profile.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    page.goto(f"{url}/runs?run={run_id}")
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
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / JOURNAL_FILENAME
        started = time.perf_counter()
        run_id = fill_run(path, args.rows)
        filled = time.perf_counter() - started
        with Journal(path) as journal:
            reads = {
                "counts per state": _ms(lambda: reports.run_state_counts(journal, run_id)),
                "run info (journal.run)": _ms(lambda: journal.run(run_id)),
                "first page of 100": _ms(lambda: reports.run_rows_page(journal, run_id)),
                "last page of 100": _ms(
                    lambda: reports.run_rows_page(journal, run_id, None, args.rows - 100)
                ),
                "rejected, count + page": _ms(
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

        with running_app(home) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # A fresh browser profile first; then one profile, as a person's browser is, whose
            # cache keeps the app's scripts between visits.
            profile = browser.new_context(viewport=VIEW)
            cold, page = _open(browser.new_context(viewport=VIEW), url, run_id)
            page.close()
            warm = []
            for _ in range(args.repeat):
                seconds, page = _open(profile, url, run_id)
                warm.append(seconds)
                page.close()
            baseline = min(_baseline(profile, url) for _ in range(args.repeat))
            _seconds, page = _open(profile, url, run_id)
            started = time.perf_counter()
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button", name="Download the results (CSV)").click()
            saved = Path(info.value.path())
            download_s = time.perf_counter() - started
            download_mb = saved.stat().st_size / 1e6
            browser.close()

    print(f"journal with a {args.rows:,}-row finished run filled in {filled:.1f} s")
    for name, ms in reads.items():
        print(f"  {name:26s} {ms:7.1f} ms (best of 5)")
    for name, (seconds, written, size) in writes.items():
        print(
            f"results CSV, {name:15s} {seconds * 1000:7.0f} ms ({written:,} rows, "
            f"{size / 1e6:.1f} MB)"
        )
    print(f"results open, new profile    {cold * 1000:7.0f} ms")
    later = f"{min(warm) * 1000:7.0f} ms best, {max(warm) * 1000:.0f} worst"
    print(f"results open again           {later}")
    print(f"Post a lead opens (baseline) {baseline * 1000:7.0f} ms best, same app and browser")
    print(f"results CSV download (browser) {download_s * 1000:5.0f} ms ({download_mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
