"""The first address a browser asks a just-started app for is drawn through app.py.

Streamlit runs a `pages/` file on its own until some run of app.py has called `st.navigation`;
without `ui.entry.through_app` a bookmarked `/runs?run=7` opened first after the desk starts
drew the page bare: no sidebar, no connection settings, no sign-in gate. Each test starts its
own app, so that its request really is the server's first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from screenshots import running_app, wait_idle


@pytest.fixture
def fresh_url(tmp_path: Path, chromium_path: str) -> Iterator[str]:
    with running_app(tmp_path) as url:
        yield url


def _tab(browser: Any, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, **options)
    context.set_default_timeout(15_000)
    return context.new_page()


def test_a_run_link_opened_first_shows_the_whole_app(browser: Any, fresh_url: str) -> None:
    tab = _tab(browser)
    tab.goto(f"{fresh_url}/runs?run=7")
    wait_idle(tab)
    expect(tab.get_by_text("There is no bulk run 7", exact=False)).to_be_visible()
    sidebar = tab.get_by_test_id("stSidebar")
    expect(sidebar.get_by_label("Default user ID", exact=True)).to_have_value("377310706")
    names = [
        link.inner_text().split("\n")[-1]
        for link in sidebar.get_by_test_id("stSidebarNavLink").all()
    ]
    assert names == ["Post a lead", "Custom-field legend", "Bulk upload", "Runs", "History"]
    tab.context.close()


def test_a_page_opened_first_from_the_network_meets_the_gate(browser: Any, fresh_url: str) -> None:
    # A visitor that a proxy on this computer forwards from another one, with no sign-in set up.
    tab = _tab(browser, extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    tab.goto(f"{fresh_url}/bulk_upload")
    wait_idle(tab)
    expect(tab.get_by_text("sign-in is not configured", exact=False)).to_be_visible()
    expect(tab.get_by_role("heading", name="Bulk upload")).to_have_count(0)
    tab.context.close()
