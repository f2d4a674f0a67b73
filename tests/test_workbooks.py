"""Workbooks: read by python-calamine (openpyxl where cell formats matter), the sheet that looks
most like contacts chosen and said, and a two-sheet export with a cover sheet sent to the
sandbox."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import Workbook

from leadstream.deliver.client import Client
from leadstream.prepare import files
from leadstream.prepare.files import (
    FileReadError,
    SheetScore,
    choose_sheet,
    read_table,
    sheet_score,
)
from leadstream.prepare.mapping import auto_match, prepare_rows
from leadstream.sandbox import SandboxServer

DEMO_KEY = "XXXYYYZZZ"
USER = "377310706"
CM_ID = "576846"


def workbook_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_with_cover() -> bytes:
    """What a CRM's “Export to Excel” gives: a cover sheet first, then the contacts."""
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Export info"
    cover.append(["Exported by", "Ann Owner"])
    cover.append(["Exported on", dt.datetime(2026, 11, 30, 9, 15)])
    cover.append(["Report", "All contacts"])
    cover.append(["Rows", 2])
    contacts = book.create_sheet("Contacts")
    contacts.append(
        ["Full Name", "Email Address", "Mobile Phone", "Mailing City", "State/Region", "Country"]
    )
    contacts.append(["Dr. Jane Smith", "jane.xl@example.com", 7025306954, "Austin", "TX", "USA"])
    contacts.append(["Smith, Bob", "bob.xl@example.com", "+1 716 555 0100", "Buffalo", "NY", "US"])
    return workbook_bytes(book)


# first rows of a sheet, level
SCORES = [
    ([["Email", "Phone"], ["a@example.com", "716"]], 4),
    ([["", ""], ["Full Name", "Notes"], ["Ann Lee", "x"]], 4),
    ([["City", "State"], ["Austin", "TX"]], 3),
    ([["Exported by", "Ann Owner"], ["Exported on", "2026-11-30"]], 2),
    ([["Email", "Phone"]], 1),
    ([], 0),
    ([["", ""]], 0),
]


@pytest.mark.parametrize(("rows", "level"), SCORES)
def test_sheet_score_levels(rows: list[list[str]], level: int) -> None:
    assert sheet_score(rows).level == level


CHOICES = [
    ([("Export info", SheetScore(0, 0, 3)), ("Contacts", SheetScore(2, 5, 40))], "Contacts"),
    ([("Leads", SheetScore(1, 1, 1)), ("Old", SheetScore(2, 2, 1))], "Leads"),  # equals: first
    ([("Empty", SheetScore(0, 0, 0, filled=False)), ("Header", SheetScore(1, 1, 0))], "Header"),
    ([("Empty", SheetScore(0, 0, 0, filled=False))], None),
    ([], None),
]


@pytest.mark.parametrize(("scores", "chosen"), CHOICES)
def test_choose_sheet(scores: list[tuple[str, SheetScore]], chosen: str | None) -> None:
    assert choose_sheet(scores) == chosen


def test_cover_sheet_loses_and_the_note_says_why() -> None:
    table = read_table(export_with_cover(), "crm-export.xlsx")
    assert table.sheet == "Contacts"
    assert table.sheet_names == ("Export info", "Contacts")
    (note,) = [n for n in table.notes if "sheets" in n]
    assert "read “Contacts”, the one that looks most like contacts" in note
    assert "“Export info” has no column a lead has" in note
    assert table.row_numbers == (2, 3)
    assert table.frame["Mobile Phone"].tolist() == ["7025306954", "+1 716 555 0100"]


def test_cover_sheet_can_still_be_chosen_by_hand() -> None:
    table = read_table(export_with_cover(), "crm-export.xlsx", sheet="Export info")
    assert table.columns == ["Exported by", "Ann Owner"]
    assert table.frame["Ann Owner"].tolist()[0] == "2026-11-30 09:15"


def test_two_sheet_export_arrives_at_the_sandbox(fresh_sandbox: SandboxServer) -> None:
    table = read_table(export_with_cover(), "crm-export.xlsx")
    mapping = auto_match(table.columns).with_constant("user_id", USER)
    mapping = mapping.with_constant("cm_id", CM_ID)
    rows = prepare_rows(table.frame, mapping, row_numbers=table.row_numbers)
    client = Client(url=fresh_sandbox.url, key=DEMO_KEY)
    assert [client.post(row.lead).outcome for row in rows] == ["delivered", "delivered"]
    stored: list[dict[str, Any]] = [lead.params for lead in fresh_sandbox.leads()]
    assert [(p["firstname"], p["lastname"]) for p in stored] == [
        ("Jane", "Smith"),
        ("Bob", "Smith"),
    ]
    assert [p["phone"] for p in stored] == ["(702) 530-6954", "(716) 555-0100"]
    assert [(p["city"], p["state"], p["country"]) for p in stored] == [
        ("Austin", "TX", "USA"),
        ("Buffalo", "NY", "US"),
    ]


def test_workbooks_are_read_without_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("openpyxl was used")

    monkeypatch.setattr(files, "_read_xlsx_openpyxl", refuse)
    assert read_table(export_with_cover(), "crm-export.xlsx").sheet == "Contacts"


def test_zero_padded_formats_fall_back_to_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email", "Zip"])
    sheet.append(["a@example.com", 1420])
    sheet["B2"].number_format = "00000"
    used: list[str] = []
    real = files._read_xlsx_openpyxl

    def spy(*args: Any) -> files.Table:
        used.append("openpyxl")
        return real(*args)

    monkeypatch.setattr(files, "_read_xlsx_openpyxl", spy)
    assert read_table(workbook_bytes(book), "zips.xlsx").frame["Zip"].tolist() == ["01420"]
    assert used == ["openpyxl"]


def test_chart_sheet_is_skipped_and_refused_by_name() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(["Email"])
    sheet.append(["a@example.com"])
    book.create_chartsheet("Chart", 0)
    data = workbook_bytes(book)
    assert read_table(data, "chart.xlsx").sheet == "Leads"
    with pytest.raises(FileReadError, match="is a chart"):
        read_table(data, "chart.xlsx", sheet="Chart")
