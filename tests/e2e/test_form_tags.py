"""Post a lead in Chromium: five tags typed into the tag box all stay in sight (the box wraps
onto more rows rather than scrolling the first tags away sideways)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from screenshots import rerun

TAGS = ["Hot Lead", "Lead Type", "Spring Fair 2026", "Callback Tuesday", "Referred by Ann"]


def test_five_tags_are_all_visible_in_the_tag_box(page: Any) -> None:
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Tags")
    box.scroll_into_view_if_needed()
    field = box.get_by_role("combobox")
    for tag in TAGS:
        field.click()
        field.press_sequentially(tag)
        rerun(page, lambda: field.press("Enter"))
        page.keyboard.press("Escape")
    for tag in TAGS:
        # Each chip whole in sight: its text and, at its far end, its remove button, not
        # clipped by the box (to_be_in_viewport's IntersectionObserver sees such a clip).
        chips = box.get_by_role("group", name="Selected values")
        expect(chips.get_by_text(tag, exact=True)).to_be_in_viewport(ratio=0.95)
        expect(box.get_by_role("button", name=f"Remove {tag}")).to_be_in_viewport(ratio=0.95)
