"""The app in a real browser: the flows people use most, end to end."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from screenshots import rerun, type_text


def _go(page: Any, title: str) -> None:
    rerun(page, page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first.click)


def _click(page: Any, name: str) -> None:
    rerun(page, page.get_by_role("button", name=name, exact=True).click)


def _type(page: Any, label: str, text: str) -> None:
    type_text(page, page.get_by_label(label, exact=True), text)


def test_example_lead_is_delivered_and_in_history(page: Any) -> None:
    _click(page, "Fill with example")
    expect(page.get_by_label("First name", exact=True)).to_have_value("Jeff")
    _click(page, "Send")
    expect(page.get_by_text("SUCCESS", exact=True)).to_be_visible()
    # The form keeps what was typed after sending.
    expect(page.get_by_label("Email", exact=True)).to_have_value("jeff.sample@example.com")
    _go(page, "History")
    expect(page.get_by_text("1 lead: 1 delivered")).to_be_visible()
    expect(page.get_by_text("Jeff Sample", exact=True).first).to_be_visible()


def test_phone_rows_can_be_added_and_removed(page: Any) -> None:
    _click(page, "Add a phone")
    _click(page, "Add a phone")
    _type(page, "Additional phone 1 number", "(702) 530-6954")
    _type(page, "Additional phone 2 number", "(646) 362-7327")
    rerun(page, page.get_by_role("button", name="Remove", exact=True).first.click)
    expect(page.get_by_label("Additional phone 1 number", exact=True)).to_have_value(
        "(646) 362-7327"
    )
    expect(page.get_by_label("Additional phone 2 number", exact=True)).to_have_count(0)


def test_pasted_legend_is_saved_and_shown_on_the_form(page: Any) -> None:
    _go(page, "Custom-field legend")
    # Leaving the text area reads the legend (its "Read legend" button does the same).
    _type(
        page,
        "PhoneBurner's legend",
        "custom_field[401]=Birthday&\ncustom_field[402]=Favourite colour&",
    )
    expect(page.get_by_text("Read 2 fields", exact=False)).to_be_visible()
    _type(page, "Legend name", "Web leads")
    _click(page, "Save legend")
    expect(page.get_by_text("Saved the legend 'Web leads'", exact=False)).to_be_visible()
    _go(page, "Post a lead")
    expect(page.get_by_label("Birthday", exact=True)).to_be_visible()
    expect(page.get_by_label("Favourite colour", exact=True)).to_be_visible()
