"""The Runs page in a real browser: the list of runs, a click on one opening its panel with its
results (and `?run=<id>` in the address), back to the list, with no exception anywhere.

This module runs its own app on a journal prepared before the app starts: a finished run whose
rows failed (the server could not be reached), a paused run from the CLI and an empty one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deliveries import refused
from playwright.sync_api import expect
from screenshots import rerun, running_app, wait_idle

from leadstream.deliver.journal import JOURNAL_FILENAME, Journal, NewRow
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead

ROW_HEIGHT = 35  # Streamlit's grid draws rows and its header this tall
OLD_SANDBOX = Target.sandbox("http://127.0.0.1:9/api/vendor/put_contact")


def _rows(n: int) -> list[NewRow]:
    leads = [Lead(firstname=f"Ann{i}", email=f"ann{i}@example.com") for i in range(n)]
    return [NewRow(i, i + 2, lead, {"Email": lead.email}) for i, lead in enumerate(leads)]


def _prepare(home: Path) -> None:
    with Journal(home / JOURNAL_FILENAME) as journal:
        failed = journal.create_run(target=OLD_SANDBOX, source_name="monday.csv", rows=_rows(3))
        journal.begin_run(failed)
        for row in journal.claim_next_rows(failed, 3):
            journal.finish_row(failed, row.row, refused())
        journal.set_run_status(failed, "finished")
        journal.create_run(
            target=OLD_SANDBOX, source_name="tuesday.csv", rows=_rows(2), origin="cli"
        )
        journal.create_run(target=OLD_SANDBOX, source_name="wednesday.csv", rows=_rows(1))


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[str]:
    home = tmp_path_factory.mktemp("runs-home")
    _prepare(home)
    with running_app(home) as url:
        yield url


def _click_run_row(page: Any, row: int) -> None:
    """Select list row `row` (from 0) by its row marker, as a person does."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    y = box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2
    rerun(page, lambda: page.mouse.click(box["x"] + 18, y))


def test_runs_list_opens_a_run_with_its_results(page: Any) -> None:
    rerun(page, page.get_by_test_id("stSidebarNavLink").filter(has_text="Runs").first.click)
    expect(page.get_by_text("Runs 1–3 of 3, newest first", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)

    _click_run_row(page, 2)  # the oldest: run 1, monday.csv, every row failed
    expect(page.get_by_text("Run #1 · monday.csv")).to_be_visible()
    expect(
        page.get_by_text(
            "Run #1 finished: 0 delivered, 3 failed (certainly not taken, safe to send again) "
            "(3 rows)."
        )
    ).to_be_visible()
    expect(page.get_by_role("button", name="Re-send the 3 failed rows")).to_be_visible()
    expect(page.get_by_text("Results", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stDownloadButton").first).to_be_visible()
    assert re.search(r"[?&]run=1\b", page.url)
    expect(page.get_by_test_id("stException")).to_have_count(0)

    rerun(page, page.get_by_role("button", name="All runs").click)
    expect(page.get_by_text("Runs 1–3 of 3, newest first", exact=False)).to_be_visible()
    _click_run_row(page, 1)  # run 2, from the CLI, paused before anything was sent
    expect(page.get_by_text("Run #2 · tuesday.csv")).to_be_visible()
    expect(page.get_by_text("from the command line", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_run_in_the_address_opens_directly(page: Any, app_url: str) -> None:
    page.goto(f"{app_url}/runs?run=3")
    wait_idle(page)
    expect(page.get_by_text("Run #3 · wednesday.csv")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
