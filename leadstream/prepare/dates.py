"""Dates as people type them, read one way for the whole app: files, the form, the legend.

`to_date` reads a value strictly (what a file or a custom field holds): `12/24/2017`,
`2017-12-24`, `Dec 24 2017`, `24.12.2017`, `20171224`, `12242017`, an Excel serial number, a
`date`. Slashed dates are month first, dotted ones day first, as where each is written.
`read_date` reads what one person typed into the form and also says when a date reads two ways
(`1/5/2025`: January 5 or May 1; not `01/05/2025`, the field's own MM/DD/YYYY) so that the page
can ask, and takes `24/12/2026` as the only
date it can be. Both raise or report `DateError`, a ValueError whose message names the value
and how to write it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "DATE_HINT",
    "ColumnDates",
    "DateError",
    "DateReading",
    "column_date_order",
    "long_date",
    "read_date",
    "to_date",
    "wire",
]

DATE_HINT = "write it as MM/DD/YYYY, e.g. 12/24/2017"


class DateError(ValueError):
    """A value that is not a date; the message quotes it and says how to write one."""

    def __init__(self, message: str, *, value: object) -> None:
        super().__init__(message)
        self.value = value


@dataclass(frozen=True, kw_only=True, slots=True)
class DateReading:
    """What a typed date means: `day` as read (month first for `1/5/2025`), `other` the second
    way it reads when it is ambiguous, `problem` when it is not a date (then `day` is None)."""

    text: str
    day: date | None = None
    other: date | None = None
    problem: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.day is not None and self.other is not None

    @property
    def empty(self) -> bool:
        return not self.text.strip()


def wire(day: date) -> str:
    """A date as put_contact takes it: `12/24/2017`."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def long_date(day: date) -> str:
    """A date in words, so that nobody has to guess the order: `January 5, 2025`."""
    return f"{_MONTH_NAMES[day.month - 1].title()} {day.day}, {day.year}"


def to_date(value: object, *, day_first: bool = False) -> date:
    """`value` as a date, read strictly (see the module's docstring). Raises DateError.

    `day_first` reads slashed dates day first (`24/12/2026`), for a column that
    `column_date_order` found written so."""
    return _to_date(value, swap=False, day_first=day_first)


def read_date(text: str) -> DateReading:
    """What a date typed into the form means, and whether it reads two ways."""
    cleaned = text.strip()
    if not cleaned:
        return DateReading(text=text)
    try:
        day = _to_date(cleaned, swap=False)
    except DateError as first:
        try:  # `24/12/2026` can only be day first
            day = _to_date(cleaned, swap=True)
        except DateError:
            return DateReading(text=text, problem=str(first))
        return DateReading(text=text, day=day)
    if _FIELD_FORMAT.fullmatch(cleaned):
        return DateReading(text=text, day=day)
    try:
        other: date | None = _to_date(cleaned, swap=True)
    except DateError:
        other = None
    return DateReading(text=text, day=day, other=other if other != day else None)


# The form's own format, written out in full (`01/05/2025`, or `01052025` as date pickers take
# it): whoever types it so follows the field's MM/DD/YYYY and is not asked.
_FIELD_FORMAT = re.compile(r"\d{2}/\d{2}/\d{4}|\d{8}")


@dataclass(frozen=True, kw_only=True, slots=True)
class ColumnDates:
    """How a file's column of slashed dates is written, from all its values.

    `day_first` when some value can only be day first (`24/12/2026`) and none only month first
    (`12/24/2026`); `mixed` when both kinds are there (then month first, and the day-first rows
    are refused with a reason); `two_ways` counts the values that read both ways (`1/5/2025`),
    `example` is one of them and `decided_by` a value that settled the order.
    """

    day_first: bool = False
    mixed: bool = False
    two_ways: int = 0
    example: str = ""
    decided_by: str = ""


# Enough different values to judge a column; a column of 100,000 rows holds a few hundred dates.
_MAX_JUDGED = 20_000


def column_date_order(values: Iterable[str]) -> ColumnDates:
    """How the slashed dates of a column are written (see `ColumnDates`)."""
    only_month_first = only_day_first = ""
    two_ways = 0
    example = ""
    seen: set[str] = set()
    for raw in values:
        text = raw.strip()
        if not text or len(text) > _MAX_DATE_CHARS or text in seen or len(seen) >= _MAX_JUDGED:
            continue
        seen.add(text)
        m = _US_DATE.fullmatch(_TIME_SUFFIX.sub("", text).strip() if ":" in text else text)
        if m is None:
            continue
        first, second = int(m[1]), int(m[3])
        if first > 12 >= second >= 1:
            only_day_first = only_day_first or text
        elif second > 12 >= first >= 1:
            only_month_first = only_month_first or text
        elif first != second and 1 <= first <= 12 and 1 <= second <= 12:
            two_ways += 1
            example = example or text
    mixed = bool(only_day_first and only_month_first)
    day_first = bool(only_day_first) and not mixed
    return ColumnDates(
        day_first=day_first,
        mixed=mixed,
        two_ways=two_ways,
        example=example,
        decided_by=only_day_first if day_first else only_month_first,
    )


_NUMBER = (int, float)
_SHORT_CHARS = 40


def _short(text: str, limit: int = _SHORT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_US_DATE = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4}|\d{2})")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})")
_ISO_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL_DATE = re.compile(r"(\d{5})(?:\.\d*)?")
# A time after the date ("2017-12-24 00:00:00", "2017-12-24T10:30:00Z", "Dec 24 2017 3:15 PM")
# says nothing about the day and is dropped.
_TIME_SUFFIX = re.compile(
    r"(?:[T\s,]+|(?<=\d)T)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?m\.?)?\s*"
    r"(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS |= {name[:3]: number for name, number in _MONTHS.items()} | {"sept": 9}
# Words around a date that do not change it: weekdays, ordinal endings, "24th of December".
_SKIP_WORDS = frozenset({
    "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur", "thurs",
    "thursday", "fri", "friday", "sat", "saturday", "sun", "sunday", "st", "nd", "rd", "th",
    "of", "the",
})  # fmt: skip
_TOKENS = re.compile(r"[^\W\d_]+|\d+")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included). Five digits cover
# 1927-05-18 to 2173-10-14; a shorter number is more likely a year or junk than a date.
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 10_000, 99_999


def _to_date(value: object, *, swap: bool, day_first: bool = False) -> date:
    """`swap` reads an all-number date the other way round from its usual order; `day_first`
    reads slashed ones day first."""
    if isinstance(value, datetime):  # pandas' Timestamp too
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise _date_error(value, "is not a date")
    if isinstance(value, _NUMBER):
        number = float(value)
        if number.is_integer() and 10_000_000 <= number <= 99_999_999:
            return _from_compact(str(int(number)), value, swap=swap)
        if _SERIAL_MIN <= number <= _SERIAL_MAX:
            return _EXCEL_EPOCH + timedelta(days=int(number))
        raise _date_error(value, "is a number but not a date")
    if type(value).__name__ == "datetime64":  # numpy, without importing it
        return _to_date(str(value)[:10], swap=False)
    return _parse_date_text(str(value).strip(), value, swap=swap, day_first=day_first)


# No way of writing a date takes more; a longer text is not one, and is not searched (the time
# pattern below takes quadratic time on long runs of spaces and commas).
_MAX_DATE_CHARS = 100


def _parse_date_text(text: str, value: object, *, swap: bool, day_first: bool = False) -> date:
    if len(text) > _MAX_DATE_CHARS:
        raise _date_error(value, "is too long to be a date")
    if ":" in text:
        text = _TIME_SUFFIX.sub("", text).strip()
    if m := _US_DATE.fullmatch(text):
        month, day = int(m[1]), int(m[3])
        if swap != day_first:
            month, day = day, month
        elif month > 12:
            raise _date_error(
                value,
                f"has month {month}: dates with {m[2]} are read month first, as in 12/24/2017. "
                "If this one is day first, write it as 2017-12-24",
            )
        return _make_date(_year(m[4]), month, day, value)
    if m := _ISO_DATE.fullmatch(text):
        return _make_date(int(m[1]), int(m[3]), int(m[4]), value)
    if m := _DOTTED_DATE.fullmatch(text):
        day, month = int(m[1]), int(m[2])
        if swap:
            month, day = day, month
        return _make_date(_year(m[3]), month, day, value)
    if m := _COMPACT_DATE.fullmatch(text):
        return _from_compact(text, value, swap=swap)
    if _SERIAL_DATE.fullmatch(text):
        return _EXCEL_EPOCH + timedelta(days=int(text.split(".")[0]))
    if any(ch.isalpha() for ch in text):
        found = _named_month_date(text, value)
        if found is not None:
            return found
        if any(token.lower() in _MONTHS for token in _TOKENS.findall(text)):
            return _dateutil_fallback(text, value)
    raise _date_error(value, "is not a date")


def _named_month_date(text: str, value: object) -> date | None:
    """`Dec 24 2017`, `24 December 2017`, `Sunday, December 24th, 2017`, `24-Dec-17`."""
    month = None
    numbers: list[str] = []
    for token in _TOKENS.findall(text):
        if token.isdigit():
            numbers.append(token)
            continue
        word = token.lower()
        if word in _SKIP_WORDS:
            continue
        if word in _MONTHS and month is None:
            month = _MONTHS[word]
            continue
        return None
    if month is None or len(numbers) != 2:
        return None
    first, second = numbers
    if len(first) == 4 and len(second) <= 2:
        year, day = int(first), int(second)
    elif len(first) <= 2 and len(second) in (2, 4):
        day, year = int(first), _year(second)
    else:
        return None
    return _make_date(year, month, day, value)


def _dateutil_fallback(text: str, value: object) -> date:
    """dateutil for the rarer spellings (`Sun Dec 24 10:30:00 2017`), but only when the text
    names the year, the month and the day: parsing with two different defaults must agree."""
    from dateutil import parser  # a dependency of pandas; imported only when needed

    try:
        one = parser.parse(text, default=datetime(2001, 1, 1), ignoretz=True)
        two = parser.parse(text, default=datetime(2002, 2, 2), ignoretz=True)
    except (ValueError, OverflowError) as e:
        raise _date_error(value, "is not a date") from e
    if one.date() != two.date():
        raise _date_error(value, "does not give a full date (day, month and year)")
    return one.date()


def _from_compact(text: str, value: object, *, swap: bool) -> date:
    """Eight digits: YYYYMMDD when that is a real date (`20171224`), else MMDDYYYY as the
    form's date pickers take it (`12242017`), or DDMMYYYY when `swap`."""
    m = _COMPACT_DATE.fullmatch(text)
    assert m is not None
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if year >= 1000 and 1 <= month <= 12:
        return _make_date(year, month, day, value)
    first, second, year = int(text[:2]), int(text[2:4]), int(text[4:])
    month, day = (second, first) if swap else (first, second)
    if year < 1000 or not 1 <= month <= 12:
        raise _date_error(
            value, "has 8 digits but is neither YYYYMMDD (20171224) nor MMDDYYYY (12242017)"
        )
    return _make_date(year, month, day, value)


def _year(text: str) -> int:
    # Two-digit years as POSIX and Python read them: 69-99 are 19xx, 00-68 are 20xx.
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _make_date(year: int, month: int, day: int, value: object) -> date:
    try:
        return date(year, month, day)
    except ValueError as e:
        raise _date_error(value, f"is not a real date ({e})") from e


def _date_error(value: object, what: str) -> DateError:
    return DateError(f"{_short(str(value))!r} {what}; {DATE_HINT}.", value=value)
