"""Dates as people type them: one reading for files and the form, and the ambiguous ones said."""

from __future__ import annotations

from datetime import date

import pytest

from leadstream.prepare.dates import (
    DateError,
    column_date_order,
    long_date,
    read_date,
    to_date,
    wire,
)
from leadstream.prepare.legend import FieldType, ValueFormatError, format_value

JAN5, MAY1 = date(2025, 1, 5), date(2025, 5, 1)

# typed, as read, the other reading (None: only one)
TYPED = [
    ("1/5/2025", JAN5, MAY1),
    ("01/05/2025", JAN5, None),  # the field's own MM/DD/YYYY, written in full
    ("1-5-2025", JAN5, MAY1),
    ("1/5/25", JAN5, MAY1),
    ("2025-01-05", JAN5, None),
    ("2025/1/5", JAN5, None),
    ("Jan 5 2025", JAN5, None),
    ("January 5, 2025", JAN5, None),
    ("5 Jan 2025", JAN5, None),
    ("05.01.2025", JAN5, MAY1),  # dotted: day first
    ("24.12.2026", date(2026, 12, 24), None),
    ("24/12/2026", date(2026, 12, 24), None),  # only one way it can be
    ("12/24/2026", date(2026, 12, 24), None),
    ("01052025", JAN5, None),  # MMDDYYYY, as date pickers take it
    ("12242017", date(2017, 12, 24), None),
    ("20250105", JAN5, None),  # YYYYMMDD
    ("5/5/2025", date(2025, 5, 5), None),  # both ways the same day
    ("  1/5/2025 ", JAN5, MAY1),
    ("45662", JAN5, None),  # an Excel serial number pasted as text
]


@pytest.mark.parametrize(("typed", "day", "other"), TYPED)
def test_read_date(typed: str, day: date, other: date | None) -> None:
    reading = read_date(typed)
    assert (reading.day, reading.other, reading.problem) == (day, other, "")
    assert reading.ambiguous is (other is not None)


NOT_DATES = [
    ("13/13/2025", "month 13"),
    ("02/30/2025", "not a real date"),
    ("hello", "not a date"),
    ("Jan 2025", "full date"),
    ("99999999", "neither YYYYMMDD"),
    ("1/2/3", "not a date"),
]


@pytest.mark.parametrize(("typed", "reason"), NOT_DATES)
def test_read_date_says_what_is_wrong(typed: str, reason: str) -> None:
    reading = read_date(typed)
    assert reading.day is None
    assert reason in reading.problem
    assert "MM/DD/YYYY" in reading.problem


def test_empty_text_is_no_date_and_no_problem() -> None:
    reading = read_date("   ")
    assert reading.empty
    assert (reading.day, reading.problem) == (None, "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("24/12/2026", "month 24"), ("13322017", "neither YYYYMMDD")],
)
def test_files_stay_strict(value: str, expected: str) -> None:
    """A file's column is read one way for every row: `24/12/2026` there means the column is
    day first, and its `1/5/2025` rows would be misread, so it is refused with a reason."""
    with pytest.raises(DateError, match=expected):
        to_date(value)
    with pytest.raises(ValueFormatError, match=expected):
        format_value(FieldType.DATE, value)


def test_form_and_files_agree_on_what_is_sent() -> None:
    for typed, day, _other in TYPED:
        if typed.strip() in {"24/12/2026"}:
            continue
        assert format_value(FieldType.DATE, typed) == wire(day)


def test_words_for_a_date() -> None:
    assert long_date(JAN5) == "January 5, 2025"
    assert wire(JAN5) == "01/05/2025"


# --- Columns of a file ------------------------------------------------------------------------


# values, day first, mixed, read two ways
COLUMNS = [
    (["12/24/2026", "1/5/2025"], False, False, 1),
    (["24/12/2026", "1/5/2025", "1/5/2025"], True, False, 1),
    (["24/12/2026", "12/24/2026"], False, True, 0),
    (["1/5/2025", "2/3/2025", "5/5/2025"], False, False, 2),
    (["2025-01-05", "Jan 5 2025", "", "24.12.2026"], False, False, 0),
    (["24/12/2026 10:30", "3/4/2026 9:00"], True, False, 1),
]


@pytest.mark.parametrize(("values", "day_first", "mixed", "two_ways"), COLUMNS)
def test_column_date_order(values: list[str], day_first: bool, mixed: bool, two_ways: int) -> None:
    found = column_date_order(values)
    assert (found.day_first, found.mixed, found.two_ways) == (day_first, mixed, two_ways)


def test_day_first_reads_only_slashed_dates_the_other_way() -> None:
    assert to_date("1/5/2025", day_first=True) == MAY1
    assert to_date("24/12/2026", day_first=True) == date(2026, 12, 24)
    assert to_date("2025-01-05", day_first=True) == JAN5
    assert to_date("05.01.2025", day_first=True) == JAN5  # dotted is day first anyway
