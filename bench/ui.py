"""How fast the app feels in a browser: first paint, and one form rerun, timed in Chromium.

    python bench/ui.py [--reruns 15]

Starts `streamlit run app.py` on a free loopback port (throw-away LEADSTREAM_HOME) and drives
it in headless Chromium. Printed:
- server start: launch until /_stcore/health answers;
- first paint (cold / warm): page load until the Post a lead form is drawn and idle, in the
  first browser tab of the process (imports, the sandbox's start) and in a later one;
- form rerun: leaving a changed First name until the preview's URL shows it (the script's
  rerun with the preview open, plus drawing), median and worst of `--reruns`;
- send: pressing Send on the example lead until SUCCESS is shown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from screenshots import CHROMIUM, CHROMIUM_ARGS, rerun, running_app, wait_idle


def _first_paint(browser: Any, url: str) -> tuple[float, Any]:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="Post a lead").wait_for()
    wait_idle(page)
    return time.perf_counter() - started, page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with running_app(Path(tmp)) as url, sync_playwright() as p:
            server_start = time.perf_counter() - started
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            cold, first_tab = _first_paint(browser, url)
            first_tab.close()
            warm, page = _first_paint(browser, url)

            rerun(page, page.get_by_role("button", name="Fill with example").click)
            rerun(page, page.get_by_text("Preview", exact=True).click)
            name = page.get_by_label("First name", exact=True)
            reruns = []
            for number in range(args.reruns):
                value = f"Jeff{number}"
                name.click()
                name.press("ControlOrMeta+a")
                name.press_sequentially(value)
                page.get_by_test_id("InputInstructions").first.wait_for()
                started = time.perf_counter()
                name.press("Tab")
                page.get_by_text(f"firstname={value}&", exact=False).first.wait_for()
                reruns.append(time.perf_counter() - started)
                wait_idle(page)

            started = time.perf_counter()
            page.get_by_role("button", name="Send", exact=True).click()
            expect(page.get_by_text("SUCCESS", exact=True)).to_be_visible(timeout=20_000)
            send = time.perf_counter() - started
            browser.close()

    print(f"server start          {server_start * 1000:7.0f} ms")
    print(f"first paint, cold     {cold * 1000:7.0f} ms")
    print(f"first paint, warm     {warm * 1000:7.0f} ms")
    print(
        f"form rerun            {statistics.median(reruns) * 1000:7.0f} ms median, "
        f"{max(reruns) * 1000:.0f} ms worst of {len(reruns)}"
    )
    print(f"send (example lead)   {send * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
