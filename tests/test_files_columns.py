"""Workbook cells made text column by column, and the table shaped without a Python step a
cell: the same text, row numbers and notes as converting every cell on its own."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import Workbook

from leadstream.prepare import files
from leadstream.prepare.files import MAX_CELL_CHARS, FileReadError, read_table


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cells(table: files.Table) -> list[list[str]]:
    return table.frame.to_numpy().tolist()


def _mixed_book(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(
        ["Email", "Count", "Amount", "Both", "Due", "Seen", "Flag", "Flag or 1", "At", "Note"]
    )
    for i in range(rows):
        sheet.append(
            [
                f"lead{i}@example.com",
                i % 7,
                [0.1 + 0.2, 14204.0, -2.5, None][i % 4],
                [1, 1.0, 2.5, "n/a"][i % 4],
                dt.date(2025, 1, 1) + dt.timedelta(days=i % 3) if i % 5 else None,
                dt.datetime(2024, 1, 5, i % 24, i % 60, i % 2) if i % 3 else "",
                bool(i % 2),
                [True, 1, False, 0][i % 4],
                dt.time(i % 24, 30),
                None if i % 2 else "text",
            ]
        )
    return _bytes(book)


def test_each_kind_of_column_reads_as_cell_by_cell() -> None:
    import python_calamine

    data = _mixed_book(40)
    table = read_table(data, "book.xlsx")
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    raw = workbook.get_sheet_by_name("Leads").to_python(skip_empty_area=False)
    assert _cells(table) == [[files._excel_text(v, "") for v in row] for row in raw[1:]]
    assert table.row_numbers == tuple(range(2, 42))
    first, second = _cells(table)[:2]
    assert first[1:9] == ["0", "0.3", "1", "", "", "FALSE", "TRUE", "00:30:00"]
    assert second[1:9] == [
        "1", "14204", "1", "2025-01-02", "2024-01-05 01:01:01", "TRUE", "1", "01:30:00"
    ]  # fmt: skip


def test_rows_of_different_widths_are_made_text_cell_by_cell() -> None:
    rows: list[list[Any]] = [["a", 1.0], [dt.date(2025, 1, 2)], [True, None, 0.5]]
    assert files._texts_in_place(rows) == [["a", "1"], ["2025-01-02"], ["TRUE", "", "0.5"]]
    assert files._texts_in_place([]) == []


def test_blank_rows_and_padding_in_a_workbook() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([None])
    sheet.append(["Email", "Phone"])
    sheet.append(["a@example.com", 7165551234])
    sheet.append([None, None])
    sheet.append(["b@example.com", None, "extra"])
    table = read_table(_bytes(book), "book.xlsx")
    assert _cells(table) == [["a@example.com", "7165551234", ""], ["b@example.com", "", "extra"]]
    assert table.row_numbers == (3, 5)
    assert table.notes[0] == "1 blank row ignored."


def test_a_huge_cell_is_named_by_row_and_column() -> None:
    huge = "x" * (MAX_CELL_CHARS + 1)
    data = f"Email,Notes\na@example.com,ok\n\nb@example.com,{huge}\n".encode()
    with pytest.raises(FileReadError, match="row 4, column 'Notes'"):
        read_table(data, "leads.csv")


def test_a_workbook_cell_of_the_most_characters_is_read() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email", "Notes"])
    sheet.append(["b@example.com", "x" * MAX_CELL_CHARS])
    assert _cells(read_table(_bytes(book), "book.xlsx")) == [
        ["b@example.com", "x" * MAX_CELL_CHARS]
    ]


def test_long_rows_of_short_cells_are_fine() -> None:
    cell = "y" * (MAX_CELL_CHARS // 2)
    data = f"a,b,c\n{cell},{cell},{cell}\n".encode()
    table = read_table(data, "wide.csv")
    assert _cells(table) == [[cell, cell, cell]]


@pytest.mark.parametrize("rows", [1, 3])
def test_frame_is_one_block_of_text_objects(rows: int) -> None:
    data = b"Email,Phone\n" + b"a@example.com,716\n" * rows
    frame = read_table(data, "leads.csv").frame
    expected = files.pd.DataFrame(
        {"Email": ["a@example.com"] * rows, "Phone": ["716"] * rows}, dtype=object
    )
    assert frame.equals(expected)
    assert list(frame.columns) == ["Email", "Phone"]
    assert frame.columns.equals(expected.columns)
    assert all(str(dtype) == "object" for dtype in frame.dtypes)
    assert frame._mgr.nblocks == 1
