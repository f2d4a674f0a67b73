"""The bulk upload page in a real browser: upload a file, change the mapping in the data editor,
check the rows, send them to the app's built-in sandbox and read the results.

This module runs its own app (with its own LEADSTREAM_HOME) through conftest's `running_app`,
so the leads it delivers do not show up in the other browser tests' History; conftest's
`browser` and `page` fixtures are reused. Emails still carry a fresh token. The results stage
is screenshotted into pytest's tmp_path (the README's pictures come from tools/screenshots.py),
so a test run never changes tracked files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from screenshots import running_app, shoot, wait_idle

ROW_HEIGHT = 35  # Streamlit's data editor draws rows and its header this tall


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[str]:
    """This module's own app: what it sends stays out of the shared app's journal."""
    with running_app(tmp_path_factory.mktemp("bulk-home")) as url:
        yield url


def leads_csv(token: str) -> bytes:
    return (
        "First Name,Last Name,Email,Phone,State,Zip,Follow Up Date,Notes\n"
        f"Jeff,Sample,jeff+{token}@example.com,(716) 293-2368,NY,14204,2017-12-24,vip\n"
        f"Ann,Lee,ann+{token}@example.com,(716) 293-2369,NY,14204,,\n"
        "Bob,Stone,,(716) 293-2370,NY,14204,,\n"
        "Cat,Wu,not-an-email,(716) 293-2371,NY,14204,,\n"
        f"Jeff,Again,JEFF+{token}@example.com,,,,,\n"
    ).encode()


def _metric(page: Any, label: str) -> Any:
    return page.get_by_test_id("stMetric").filter(has_text=label)


def _settled_box(locator: Any) -> dict[str, float]:
    """The element's box once the page stopped moving it (rows load in above and below)."""
    expect(locator).to_be_visible()
    last = None
    for _ in range(50):
        box = locator.bounding_box()
        if box is not None and box == last:
            return box
        last = box
        locator.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
    raise AssertionError("the data editor kept moving")


def _choose_target(page: Any, row: int, label: str) -> None:
    """Pick `label` in the "Sends as" cell of mapping row `row` (from 0), as a person does:
    select the row's first cell, step right, open the select box, type, pick the option."""
    wait_idle(page)
    grid = page.get_by_test_id("stDataFrame").filter(has_text="Sends as").first
    grid.scroll_into_view_if_needed()
    box = _settled_box(grid)
    page.mouse.click(box["x"] + 40, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)
    focused = "grid => grid.contains(document.activeElement)"
    page.wait_for_function(focused, arg=grid.element_handle())
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.keyboard.type(label)
    page.get_by_role("option", name=label, exact=True).click()
    wait_idle(page)


def _sandbox_leads(page: Any) -> dict[str, dict[str, Any]]:
    """What the app's sandbox stored (email → parameters), from the address the sidebar
    shows."""
    caption = page.get_by_text(re.compile(r"Sandbox running at 127\.0\.0\.1:\d+")).inner_text()
    port = re.search(r"127\.0\.0\.1:(\d+)", caption)
    assert port is not None
    with urllib.request.urlopen(f"http://127.0.0.1:{port[1]}/sandbox/leads", timeout=5) as answer:
        stored = json.load(answer)
    return {str(lead["params"].get("email", "")).lower(): lead["params"] for lead in stored}


def test_bulk_upload_to_the_sandbox(page: Any, tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:10]
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Bulk upload").first.click()
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": leads_csv(token)}]
    )
    wait_idle(page)
    expect(page.get_by_text("5 rows and 8 columns", exact=False)).to_be_visible()

    # Notes is ignored until it is mapped; two edits in a row must both stay.
    expect(page.get_by_text("7 of 8 columns are sent. Ignored: “Notes”.")).to_be_visible()
    _choose_target(page, 7, "Promo code")
    expect(page.get_by_text("8 of 8 columns are sent.")).to_be_visible()
    _choose_target(page, 6, "— ignore this column —")
    expect(page.get_by_text("7 of 8 columns are sent. Ignored: “Follow Up Date”.")).to_be_visible()
    expect(_metric(page, "Will be sent")).to_contain_text("3")
    expect(_metric(page, "Invalid")).to_contain_text("1")
    expect(_metric(page, "Duplicates")).to_contain_text("1")

    page.get_by_role("button", name=re.compile(r"^Send 3 leads to Built-in sandbox")).click()
    wait_idle(page)
    expect(page.get_by_text("LeadStream (cm_id) 576846, user 377310706: 3 leads")).to_be_visible()
    page.get_by_role("button", name="Yes, send 3 leads").click()
    expect(
        page.get_by_text("finished: 2 delivered, 1 skipped as repeated in the file, ", exact=False)
    ).to_be_visible(timeout=30_000)
    expect(page.get_by_text("(5 rows).", exact=False)).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    stored = _sandbox_leads(page)
    assert {f"jeff+{token}@example.com", f"ann+{token}@example.com"} <= set(stored)
    jeff = stored[f"jeff+{token}@example.com"]
    assert jeff["promocode"] == "vip"  # both mapping edits arrived
    assert "custom_field" not in jeff
    assert jeff["phone"] == "(716) 293-2368"

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the results (CSV)").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for spreadsheets
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["outcome"] for r in rows] == [
        "delivered",
        "delivered",
        "rejected",
        "invalid",
        "duplicate",
    ]
    assert rows[0]["Email"] == f"jeff+{token}@example.com"
    assert rows[0]["lead_url"].startswith("https://")
    assert rows[2]["code"] == "INVALID EMAIL"
    assert rows[1]["Phone"] == "(716) 293-2369"  # the file's own cells, as uploaded

    screenshot = tmp_path / "bulk_upload.png"
    shoot(page, screenshot)
    assert screenshot.stat().st_size > 0


def test_dates_that_read_both_ways_arrive_as_the_person_says(page: Any) -> None:
    token = uuid.uuid4().hex[:10]
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Bulk upload").first.click()
    wait_idle(page)
    text = (
        "Email,Follow Up Date\n"
        f"uk1+{token}@example.com,1/5/2026\n"
        f"uk2+{token}@example.com,3/4/2026\n"
    )
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        files=[{"name": "uk.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    wait_idle(page)
    expect(page.get_by_text("How are the dates in “Follow Up Date” written?")).to_be_visible()
    page.get_by_text("Day first: 1/5/2026 is May 1, 2026").click()
    wait_idle(page)
    expect(page.get_by_text("its dates are read day first, as you chose")).to_be_visible()

    page.get_by_role("button", name=re.compile(r"^Send 2 leads to Built-in sandbox")).click()
    wait_idle(page)
    page.get_by_role("button", name="Yes, send 2 leads").click()
    expect(page.get_by_text("finished: 2 delivered", exact=False)).to_be_visible(timeout=30_000)
    stored = _sandbox_leads(page)
    assert stored[f"uk1+{token}@example.com"]["custom_field"] == {"195481": "05/01/2026"}
    assert stored[f"uk2+{token}@example.com"]["custom_field"] == {"195481": "04/03/2026"}
