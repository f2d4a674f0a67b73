"""In Chromium, with a journal of 100,000 posts and a finished 100,000-row run: History and the
run's results show a page with exact counts and no exception, and their downloads hold every
row. (At 20,000 rows the results once raised StreamlitAPIException and History stopped at
5,000 without a word.)"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fill_journal import fill_history, fill_run
from playwright.sync_api import expect
from screenshots import running_app, wait_idle

from leadstream.deliver.journal import JOURNAL_FILENAME

ROWS = 100_000


@pytest.fixture(scope="module")
def big_app(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str
) -> Iterator[tuple[str, int]]:
    home = tmp_path_factory.mktemp("big-home")
    fill_history(home / JOURNAL_FILENAME, ROWS)
    run_id = fill_run(home / JOURNAL_FILENAME, ROWS)
    with running_app(home) as url:
        yield url, run_id


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def _csv_rows(download: Any) -> list[dict[str, str]]:
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_history_of_100000_leads(tab: Any, big_app: tuple[str, int]) -> None:
    url, _run_id = big_app
    tab.goto(f"{url}/history")
    expect(tab.get_by_text(re.compile(rf"^{ROWS:,} leads: "))).to_be_visible()
    expect(tab.get_by_text(f"Leads 1–100 of {ROWS:,}.")).to_be_visible()
    expect(tab.get_by_test_id("stDataFrame").first).to_be_visible()
    wait_idle(tab)
    expect(tab.get_by_test_id("stException")).to_have_count(0)
    with tab.expect_download() as download:
        tab.get_by_role("button", name=re.compile(r"^Download [\d,]+ leads? \(CSV\)")).click()
    assert len(_csv_rows(download.value)) == ROWS


def test_results_of_a_100000_row_run(tab: Any, big_app: tuple[str, int]) -> None:
    url, run_id = big_app
    tab.goto(f"{url}/runs?run={run_id}")
    expect(tab.get_by_text(f"Rows 1–100 of {ROWS:,}.")).to_be_visible()
    expect(tab.get_by_test_id("stDataFrame").first).to_be_visible()
    wait_idle(tab)
    expect(tab.get_by_test_id("stException")).to_have_count(0)
    with tab.expect_download() as download:
        tab.get_by_role("button", name=re.compile("Download the results")).click()
    rows = _csv_rows(download.value)
    assert len(rows) == ROWS
    assert rows[0]["row"] == "2"
