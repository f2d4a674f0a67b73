"""What the page benchmarks share (bench/history.py, bench/results.py): the best of a few calls,
the app and a headless Chromium, a page open timed until the app is idle, the same page opened
in a new browser profile and then again in one whose cache holds the app's scripts (with the
app's default page as a baseline), and a download click timed until the file is saved."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from screenshots import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle

VIEW: Any = {"width": 1440, "height": 1000}  # a Playwright ViewportSize


def best_ms(action: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of `repeat` calls of `action`, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def print_reads(reads: dict[str, float]) -> None:
    """One line a read: its name and its `best_ms`."""
    for name, ms in reads.items():
        print(f"  {name:26s} {ms:7.1f} ms (best of 5)")


@contextlib.contextmanager
def app_in_chromium(home: Path) -> Iterator[tuple[str, Any]]:
    """`streamlit run app.py` on LEADSTREAM_HOME `home` (tools/screenshots.py) and a headless
    Chromium: the app's URL and the browser."""
    from playwright.sync_api import sync_playwright

    with running_app(home) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield url, browser
        finally:
            browser.close()


def timed_open(profile: Any, address: str, ready: Callable[[Any], object]) -> tuple[float, Any]:
    """Seconds from opening `address` in a new tab of `profile` until `ready(page)` returns and
    the app is idle; and the page, still open."""
    page = profile.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    page.goto(address)
    ready(page)
    wait_idle(page)
    return time.perf_counter() - started, page


def _baseline(profile: Any, url: str) -> float:
    """Opening the app's default page (Post a lead) the same way: what any page costs here."""
    seconds, page = timed_open(
        profile, url, lambda page: page.get_by_role("heading", name="Post a lead").wait_for()
    )
    page.close()
    return seconds


@dataclass(frozen=True)
class Opens:
    """Seconds to open one page: in a new browser profile, each visit later in one profile
    whose cache keeps the app's scripts, and the best open of Post a lead there."""

    cold: float
    warm: list[float]
    baseline: float

    def report(self, what: str) -> None:
        """Three lines, `what` ("History opens") naming the page."""
        print(f"{what + ', new profile':28s} {self.cold * 1000:7.0f} ms")
        later = f"{min(self.warm) * 1000:7.0f} ms best, {max(self.warm) * 1000:.0f} worst"
        print(f"{what + ' again':28s} {later}")
        baseline = f"{self.baseline * 1000:7.0f} ms best, same app and browser"
        print(f"Post a lead opens (baseline) {baseline}")


def measure_opens(
    browser: Any, url: str, open_page: Callable[[Any], tuple[float, Any]], repeat: int
) -> tuple[Opens, Any]:
    """`open_page(profile)` (a `timed_open`) in a new browser profile, then `repeat` times in
    one profile, as a person's browser is, whose cache keeps the app's scripts between visits;
    the baseline in that profile. Returns the times and that profile, for more steps."""
    profile = browser.new_context(viewport=VIEW)
    cold, page = open_page(browser.new_context(viewport=VIEW))
    page.close()
    warm = []
    for _ in range(repeat):
        seconds, page = open_page(profile)
        warm.append(seconds)
        page.close()
    baseline = min(_baseline(profile, url) for _ in range(repeat))
    return Opens(cold, warm, baseline), profile


def timed_download(page: Any, button: str) -> tuple[float, float]:
    """Seconds from clicking the button named `button` until the browser has saved the file,
    and the file's size in MB."""
    started = time.perf_counter()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=button).click()
    saved = Path(info.value.path())
    seconds = time.perf_counter() - started
    return seconds, saved.stat().st_size / 1e6
