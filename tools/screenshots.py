"""Save a PNG of every page of LeadStream Desk into docs/screenshots/.

Starts `streamlit run app.py` on a free loopback port with a throw-away LEADSTREAM_HOME,
drives it in headless Chromium (Debian's /usr/bin/chromium) and stops it again:

    python tools/screenshots.py [--out docs/screenshots]

Post a lead is shown filled with the vendor document's example, sent once, with the preview
open; History then has a lead in it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = (
    "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
    "[data-test-script-state='notRunning']"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_app(home: Path, *, port: int | None = None) -> Iterator[str]:
    """`streamlit run app.py` on loopback until the block ends; yields its base URL."""
    port = port or free_port()
    env = {**os.environ, "LEADSTREAM_HOME": str(home)}
    env.pop("LEADSTREAM_KEY", None)
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log = (home / "streamlit.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {home / 'streamlit.log'}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not answer within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


_COUNT_RUNS = """() => {
    if (window.__leadstreamRuns === undefined) {
        window.__leadstreamRuns = 0;
        new MutationObserver(records => {
            for (const record of records) {
                if (record.target.getAttribute("data-test-script-state") === "notRunning"
                        && record.oldValue !== "notRunning") {
                    window.__leadstreamRuns += 1;
                }
            }
        }).observe(document.body, {
            attributes: true, subtree: true, attributeOldValue: true,
            attributeFilter: ["data-test-script-state"],
        });
    }
    return window.__leadstreamRuns;
}"""
_RAN = "n => window.__leadstreamRuns > n"


try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the app itself does not need playwright
    PlaywrightTimeout = TimeoutError  # type: ignore[misc,assignment]


def wait_idle(page: Any) -> None:
    """Until the app is connected and no script run is going on."""
    page.locator(IDLE).wait_for(timeout=20_000)


def rerun(page: Any, action: Callable[[], object]) -> None:
    """Do `action` (a click, a Tab out of a changed field) and wait for the script run it
    starts to finish. Waiting for "idle" alone can return before that run has even begun, and
    the next action would then act on the page as it was.

    A run is seen finishing when the app's script state turns to `notRunning`. A very quick
    run can start and end between two drawings of the page and leave no trace; so when none
    is seen within two seconds and the app is idle, the run is taken as done."""
    before = page.evaluate(_COUNT_RUNS)
    action()
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(_RAN, arg=before, timeout=2_000)
    wait_idle(page)


def type_text(page: Any, box: Any, text: str) -> None:
    """Type `text` into a text input or area (replacing what is there) and apply it.

    Streamlit applies a field when it loses focus, but only once the field has noticed that it
    changed (it then shows "Press Enter to apply"); leaving it before that loses the change.
    Keys are typed one by one, so the field has re-drawn after each of them: filling it at once
    and leaving at once can beat that and lose the change. `text` must differ from the value."""
    box.click()
    box.press("ControlOrMeta+a")
    box.press_sequentially(text)
    page.get_by_test_id("InputInstructions").first.wait_for(timeout=5_000)
    rerun(page, lambda: box.press("Tab"))


def shoot(page: Any, path: Path, width: int = 1440) -> None:
    """The whole page: Streamlit scrolls inside its main area, so a full-page screenshot would
    stop at the window; the window is made as tall as the content instead."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stSidebarContent]')].map(e => e.scrollHeight), 600)"
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 6000)})
    page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")
    page.wait_for_timeout(400)  # let the layout settle at the new size
    page.screenshot(path=path)
    page.set_viewport_size({"width": width, "height": 1000})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_app(Path(tmp)) as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url)
        wait_idle(page)
        rerun(page, page.get_by_role("button", name="Fill with example").click)
        rerun(page, page.get_by_role("button", name="Send", exact=True).click)
        expect(page.get_by_text("SUCCESS", exact=True)).to_be_visible(timeout=20_000)
        rerun(page, page.get_by_text("Preview", exact=True).click)
        shots = {"post_lead": None}
        shoot(page, args.out / "post_lead.png")
        for title, name in [
            ("Custom-field legend", "legend"),
            ("Bulk upload", "bulk_upload"),
            ("History", "history"),
        ]:
            link = page.get_by_test_id("stSidebarNavLink").filter(has_text=title)
            if link.count() == 0:
                continue
            rerun(page, link.first.click)
            shoot(page, args.out / f"{name}.png")
            shots[name] = None
        browser.close()
    for name in shots:
        print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
