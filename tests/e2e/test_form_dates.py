"""The Post a lead form in a real browser (issue 10): a typed date that reads two ways is asked
about and sent as answered; a refusal stops looking current once its field is changed."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect
from screenshots import rerun, type_text


def _click(page: Any, name: str) -> None:
    rerun(page, page.get_by_role("button", name=name, exact=True).click)


def _type(page: Any, label: str, text: str) -> None:
    type_text(page, page.get_by_label(label, exact=True), text)


def test_an_ambiguous_date_is_asked_and_sent_as_answered(page: Any) -> None:
    _type(page, "Email", f"date-{uuid.uuid4().hex[:8]}@example.com")
    _type(page, "Follow Up Date", "1/5/2025")
    expect(page.get_by_text("Which date is “1/5/2025”?")).to_be_visible()
    rerun(page, page.get_by_text("May 1, 2025 (day first)").click)
    expect(page.get_by_text("Will be sent as 05/01/2025 (May 1, 2025).")).to_be_visible()
    _click(page, "Send")
    expect(page.get_by_text("SUCCESS", exact=True)).to_be_visible()


def test_a_refusal_stops_looking_current_once_the_email_changes(page: Any) -> None:
    _click(page, "Fill with example")
    _type(page, "Email", f"dup-{uuid.uuid4().hex[:8]}@example.com")
    _click(page, "Send")
    _click(page, "Send")
    expect(page.get_by_text("PhoneBurner refused the lead because of this field")).to_be_visible()
    _type(page, "Email", f"new-{uuid.uuid4().hex[:8]}@example.com")
    expect(page.get_by_text("PhoneBurner refused the lead because of this field")).to_have_count(0)
    expect(
        page.get_by_text("Changed since PhoneBurner refused it (DUPLICATE EMAIL)")
    ).to_be_visible()
