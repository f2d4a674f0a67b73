"""Save a PNG of every page of LeadStream Desk into docs/screenshots/.

Starts `streamlit run app.py` on a free loopback port with a throw-away LEADSTREAM_HOME,
drives it in headless Chromium (Debian's /usr/bin/chromium) and stops it again:

    python tools/screenshots.py [--out docs/screenshots]

Each page is shown doing its job, all against the built-in sandbox:
- post_lead.png: the vendor document's example lead, sent once, with the preview open;
- legend.png: a pasted legend read into the table (types guessed), named and saved;
- bulk_upload.png: a small CSV checked row by row (good rows, a bad email, a duplicate, one
  without an email), before sending;
- bulk_results.png: the same file after it was sent;
- history.png: everything above plus a form lead refused for a cancelled user, picked under
  "Fix and send again" so the page shows what went wrong and what to do.

The test suite imports `running_app`, `wait_idle`, `rerun`, `type_text` and `shoot` from here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
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
def app_process(
    home: Path, *, port: int | None = None, key: str | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`streamlit run app.py` on loopback until the block ends, with `home` as LEADSTREAM_HOME
    and `key` (or none) as LEADSTREAM_KEY; yields the process (a test may kill it) and its URL."""
    port = port or free_port()
    env = {**os.environ, "LEADSTREAM_HOME": str(home)}
    env.pop("LEADSTREAM_KEY", None)
    if key is not None:
        env["LEADSTREAM_KEY"] = key
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / f"streamlit-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {log_path}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not answer within 30 s")
            time.sleep(0.1)
        yield process, url
    finally:
        process.terminate()  # a no-op when the process was already killed and reaped
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def running_app(home: Path, *, port: int | None = None) -> Iterator[str]:
    """`streamlit run app.py` with no vendor key configured; yields its base URL."""
    with app_process(home, port=port) as (_process, url):
        yield url


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
    size = {"width": width, "height": min(int(height) + 40, 6000)}
    page.set_viewport_size(size)
    # The last click's spot may now be over a table (its hover toolbar would show) or the
    # sidebar (its collapse button would); the bottom right corner is empty margin.
    page.mouse.move(size["width"] - 5, size["height"] - 5)
    page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")
    page.wait_for_timeout(400)  # let the layout settle at the new size
    page.screenshot(path=path)
    page.set_viewport_size({"width": width, "height": 1000})


LEGEND = (
    "custom_field[297989]=Reference #&\n"
    "custom_field[195481]=Follow Up Date&\n"
    "custom_field[300100]=Do Not Call&\n"
    "custom_field[311200]=Birthday&"
)
LEGEND_NAME = "Web leads"
ROW_HEIGHT = 35  # Streamlit's data editor draws rows and its header this tall
CANCELLED_USER = "377310000"  # the sandbox's cancelled user: PhoneBurner refuses its leads
LEADS_CSV = (
    b"First Name,Last Name,Email,Phone,State,Zip,Follow Up Date\n"
    b"Maria,Lopez,maria.lopez@example.com,(716) 293-2368,NY,14204,2025-07-01\n"
    b"Tom,Becker,tom.becker@example.com,(702) 530-6954,NV,89101,2025-07-02\n"
    b"Aisha,Khan,aisha.khan@example.com,(646) 362-7327,NY,10001,\n"
    b"Liam,O'Neill,liam.oneill@example.com,(312) 555-0142,IL,60601,2025-07-03\n"
    b"Chen,Wei,chen.wei@example,(415) 555-0199,CA,94103,\n"
    b"Sara,Nilsen,,(206) 555-0123,WA,98101,\n"
    b"Maria,Lopez,MARIA.LOPEZ@example.com,(716) 293-2368,NY,14204,\n"
    b"Ben,Carter,ben.carter@example.com,(617) 555-0175,MA,02108,2025-07-04\n"
)


def _go(page: Any, title: str) -> None:
    rerun(page, page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first.click)


def _click(page: Any, name: str) -> None:
    rerun(page, page.get_by_role("button", name=name, exact=True).click)


def _dismiss_toasts(page: Any, expect: Any) -> None:
    """Close the toasts an earlier step left (they belong to that step's picture)."""
    toasts = page.get_by_test_id("stToast")
    for _ in range(toasts.count()):
        toasts.first.get_by_role("button").first.click()
    expect(toasts).to_have_count(0)


def _choose_type(page: Any, expect: Any, row: int, label: str) -> None:
    """Pick `label` in the Type cell of legend row `row` (from 0), as a person does: select the
    row's Field ID cell, step right twice, open the select box, pick the option.

    The grid is drawn on a canvas a moment after the script run that loads the rows; a click
    before that selects nothing, so the steps are tried again after a short wait."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    for _ in range(5):
        page.wait_for_timeout(300)
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 70, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_role("listbox").wait_for(timeout=2_000)
            break
        page.keyboard.press("Escape")
    else:
        raise RuntimeError("the legend table's type cell would not open")
    rerun(page, page.get_by_role("option", name=label, exact=True).click)


def post_lead(page: Any, expect: Any, out: Path) -> None:
    _click(page, "Fill with example")
    _click(page, "Send")
    expect(page.get_by_text("SUCCESS", exact=True)).to_be_visible(timeout=20_000)
    rerun(page, page.get_by_text("Preview", exact=True).click)
    shoot(page, out / "post_lead.png")


def legend(page: Any, expect: Any, out: Path) -> None:
    _go(page, "Custom-field legend")
    box = page.get_by_label("PhoneBurner's legend", exact=True)
    box.fill(LEGEND)  # read by the button below, so no need to type it key by key
    _click(page, "Read legend")
    expect(page.get_by_text("Read 4 fields", exact=False)).to_be_visible()
    _dismiss_toasts(page, expect)
    # Dates are guessed from the names; a checkbox is set by hand, as the page asks.
    _choose_type(page, expect, 2, "checkbox")
    expect(page.get_by_text("1 checkbox", exact=False)).to_be_visible()
    type_text(page, page.get_by_label("Legend name", exact=True), LEGEND_NAME)
    _click(page, "Save legend")
    expect(page.get_by_text(f"Saved the legend '{LEGEND_NAME}'", exact=False)).to_be_visible()
    shoot(page, out / "legend.png")


def bulk(page: Any, expect: Any, out: Path) -> None:
    _go(page, "Bulk upload")
    rerun(
        page,
        lambda: page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
            files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": LEADS_CSV}]
        ),
    )
    expect(page.get_by_text("8 rows and 7 columns", exact=False)).to_be_visible()
    _dismiss_toasts(page, expect)
    expect(page.get_by_test_id("stMetric").filter(has_text="Invalid")).to_contain_text("1")
    wait_idle(page)
    shoot(page, out / "bulk_upload.png")
    send = page.get_by_role("button", name=re.compile(r"^Send \d+ leads? to Built-in sandbox"))
    rerun(page, send.click)
    rerun(page, page.get_by_role("button", name=re.compile(r"^Yes, send \d+ leads?")).click)
    expect(page.get_by_text(re.compile(r"Run #\d+ finished"))).to_be_visible(timeout=30_000)
    wait_idle(page)
    shoot(page, out / "bulk_results.png")


def runs(page: Any, expect: Any, out: Path) -> None:
    _go(page, "Runs")
    expect(page.get_by_text(re.compile(r"Runs 1–\d+ of \d+, newest first"))).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(500)  # the list is drawn on a canvas after the run ends
    shoot(page, out / "runs.png")


def history(page: Any, expect: Any, out: Path) -> None:
    _go(page, "Post a lead")
    type_text(page, page.get_by_label("User ID", exact=True), CANCELLED_USER)
    _click(page, "Send")
    expect(page.get_by_text("CANCELLED USER", exact=False).first).to_be_visible(timeout=20_000)
    _go(page, "History")
    _dismiss_toasts(page, expect)
    picked = page.get_by_role("combobox", name="Lead", exact=True)
    expect(picked).to_have_value(re.compile("rejected CANCELLED USER"))
    expect(page.get_by_test_id("stAlert").filter(has_text="CANCELLED USER")).to_be_visible()
    shoot(page, out / "history.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    steps = [post_lead, legend, bulk, runs, history]
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_app(Path(tmp)) as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(15_000)
        page.goto(url)
        wait_idle(page)
        for step in steps:
            step(page, expect, args.out)
            if page.get_by_test_id("stException").count():
                raise RuntimeError(f"the app showed a traceback during {step.__name__}")
        browser.close()
    for name in ["post_lead", "legend", "bulk_upload", "bulk_results", "runs", "history"]:
        print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
