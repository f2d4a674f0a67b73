"""In a real browser, against the app's built-in sandbox (which speaks PhoneBurner's REST API
too): the sidebar's Test connection, then the legend fetched from the account, saved, and tested
with one sample lead whose every field arrives."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from screenshots import rerun, type_text


def _click(page: Any, name: str) -> None:
    rerun(page, page.get_by_role("button", name=name, exact=True).click)


def test_fetched_legend_is_saved_and_a_test_lead_arrives(page: Any) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    rerun(page, sidebar.get_by_role("button", name="Test connection", exact=True).click)
    expect(sidebar.get_by_text("The access token works.", exact=False)).to_be_visible()
    expect(
        sidebar.get_by_text("3 custom fields: Reference # (297989)", exact=False)
    ).to_be_visible()

    rerun(
        page,
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Custom-field legend").first.click,
    )
    _click(page, "Fetch from PhoneBurner")
    expect(page.get_by_text("Fetched 3 fields from PhoneBurner", exact=False)).to_be_visible()
    expect(page.get_by_text("1 text, 1 date, 1 checkbox fields", exact=False)).to_be_visible()
    type_text(page, page.get_by_label("Legend name", exact=True), "From the account")
    _click(page, "Save legend")
    expect(page.get_by_text("Saved the legend 'From the account'", exact=False)).to_be_visible()

    _click(page, "Send a test lead")
    expect(page.get_by_text("Every field arrived as sent.", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
