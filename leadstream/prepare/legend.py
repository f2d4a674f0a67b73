"""Custom-field legends: PhoneBurner's `custom_field[ID]=Name&` list, typed, read and written.

This module owns the three legend formats (PhoneBurner's pasted legend, CSV `id,name,type` and
the app's own JSON export), the guess of a field's type from its name, and the one definition of
how a custom-field value is written on the wire: dates as `MM/DD/YYYY`, checkboxes as `1` or `0`,
text as given.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from leadstream.prepare.dates import DateError, to_date
from leadstream.protocol.lead import LEAD_FIELDS

__all__ = [
    "FieldType",
    "Legend",
    "LegendError",
    "LegendField",
    "LegendRead",
    "ValueFormatError",
    "format_custom_fields",
    "format_value",
    "guess_type",
    "legend_from_rows",
    "parse_legend",
    "read_legend",
]


class FieldType(StrEnum):
    TEXT = "text"
    DATE = "date"
    CHECKBOX = "checkbox"

    @property
    def label(self) -> str:
        return self.value.title()

    @classmethod
    def parse(cls, text: str | FieldType) -> FieldType:
        """Read a type as written in a CSV or JSON legend: `text`, `Date`, `check box`."""
        if isinstance(text, FieldType):
            return text
        cleaned = " ".join(str(text).lower().replace("-", " ").replace("_", " ").split())
        found = _TYPE_WORDS.get(cleaned)
        if found is None:
            raise ValueError(f"{text!r} is not a field type; use text, date or checkbox.")
        return found


_TYPE_WORDS: dict[str, FieldType] = {
    "text": FieldType.TEXT,
    "date": FieldType.DATE,
    "checkbox": FieldType.CHECKBOX,
    "check box": FieldType.CHECKBOX,
}


class LegendError(ValueError):
    """A legend that cannot be read. `problems` lists every one found, each naming its line (or
    its entry, for JSON) and what to change; the message lists them all."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        if len(self.problems) == 1:
            message = f"The legend could not be read: {self.problems[0]}"
        else:
            listed = "\n".join(f"- {problem}" for problem in self.problems)
            message = f"The legend could not be read ({len(self.problems)} problems):\n{listed}"
        super().__init__(message)


class ValueFormatError(ValueError):
    """A custom-field value that cannot be written the way its field type needs."""

    def __init__(self, message: str, *, value: object, field_type: FieldType) -> None:
        super().__init__(message)
        self.value = value
        self.field_type = field_type


@dataclass(frozen=True, slots=True)
class LegendField:
    id: str
    name: str
    type: FieldType = FieldType.TEXT

    def __post_init__(self) -> None:
        if not isinstance(self.type, FieldType):
            try:
                object.__setattr__(self, "type", FieldType.parse(self.type))
            except ValueError as e:
                raise LegendError([f"field {self.id}: {e}"]) from e
        if not isinstance(self.id, str):
            object.__setattr__(self, "id", str(self.id))

    @property
    def param(self) -> str:
        """The wire name, e.g. `custom_field[195481]`."""
        return f"custom_field[{self.id}]"


@dataclass(frozen=True, slots=True)
class Legend:
    """The custom fields of one LeadStream. `fields` may be given as a list; it is kept as a
    tuple so that a legend can be compared, hashed and cached."""

    fields: tuple[LegendField, ...] = ()
    name: str = ""
    cm_id: str = ""
    _index: dict[str, LegendField] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        object.__setattr__(self, "fields", fields)
        index: dict[str, LegendField] = {}
        for legend_field in fields:
            index.setdefault(legend_field.id, legend_field)
        object.__setattr__(self, "_index", index)

    def by_id(self, field_id: str | int) -> LegendField | None:
        return self._index.get(str(field_id).strip())

    def to_json(self) -> str:
        """The app's own export; `parse_legend` reads it back unchanged."""
        data = {
            "name": self.name,
            "cm_id": self.cm_id,
            "fields": [{"id": f.id, "name": f.name, "type": f.type.value} for f in self.fields],
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    def to_csv(self) -> str:
        """`id,name,type` with a header; the legend's name and cm_id are not kept."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        # The writer quotes only the characters of its line terminator, so a name holding a
        # lone \r would be written bare and end the row when read back: quote such rows whole.
        quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(["id", "name", "type"])
        for f in self.fields:
            (quoted if "\r" in f.name else writer).writerow([f.id, f.name, f.type.value])
        return out.getvalue()

    def to_pasted(self) -> str:
        """PhoneBurner's own format, one field a line; it carries no types."""
        return "".join(f"{f.param}={f.name}&\n" for f in self.fields)


# ---------------------------------------------------------------------------------------------
# Reading a legend


class _Entry(NamedTuple):
    at: int  # the line, row or JSON entry number, to list problems in reading order
    where: str  # "line 3" or "field 2": how a person finds the entry in what they pasted
    id: str
    name: str
    type: str | None  # None: not given, guess it from the name


def parse_legend(text: str) -> Legend:
    """Read a legend pasted from PhoneBurner, a CSV `id,name,type`, or this app's JSON export.

    Raises `LegendError` listing every problem found, each with its line and what to fix.
    """
    return read_legend(text).legend


class LegendRead(NamedTuple):
    """A legend read from a paste, and the lines of the paste that were skipped as headings or
    comments (`line 1: “Custom Field Legend”`), to tell the person."""

    legend: Legend
    skipped: tuple[str, ...]


def read_legend(text: str) -> LegendRead:
    """`parse_legend`, also saying which lines of a PhoneBurner paste it skipped: headings
    before the first field (`Custom Field Legend`) and comments (`# web form`, `// …`). Other
    text between the fields is still a problem: it may be a field damaged in the copy."""
    text = text.lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        raise LegendError([_NOTHING_FOUND])
    if stripped[0] in "{[":
        return LegendRead(_parse_json(text), ())
    first = _first_line(text)
    if not _looks_like_csv(first) and _CF_START.search(text):
        skipped: list[str] = []
        entries, problems = _parse_pasted(text, skipped)
        return LegendRead(_build(entries, problems), tuple(skipped))
    return LegendRead(_build(*_parse_csv(text)), ())


def legend_from_rows(
    rows: Iterable[Mapping[str, object]], *, name: str = "", cm_id: str = ""
) -> Legend:
    """A legend from rows with keys `id`, `name` and optionally `type` (the editor's table).

    Checked like a parsed legend; problems name the row (counting from 1).
    """
    entries = []
    for number, row in enumerate(rows, start=1):
        raw_type = row.get("type")
        entries.append(
            _Entry(
                number,
                f"row {number}",
                _cell(row.get("id")),
                _cell(row.get("name")),
                None if _is_missing(raw_type) else _cell(raw_type),
            )
        )
    return _build(entries, [], name=name, cm_id=cm_id)


# A problem found while reading, with the number of its line (or entry) to sort by.
_Problems = list[tuple[int, str]]

_NOTHING_FOUND = (
    "no custom fields found. Paste the lines of PhoneBurner's legend that look like "
    "custom_field[195481]=Follow Up Date&, or a CSV with the columns id,name,type."
)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


# PhoneBurner writes `custom_field[195481]=Follow Up Date&`; people add spaces.
# The ID is taken with the spaces around it (they are stripped later): `\s*` on both sides of a
# lazy ID made a bracket left open take cubic time (2,000 spaces after `custom_field[`: 10 s).
_CF_START = re.compile(r"custom_field\s*\[(?P<id>[^\]\[]*)\]\s*=", re.IGNORECASE)
# The other parameters of put_contact: a legend copied with them, or a pasted example URL,
# carries them between the custom fields. They are not custom fields and are skipped.
_STANDARD_PARAMS = (
    *(spec.name for spec in LEAD_FIELDS),
    "key",
    "response_type",
    r"additional_phones\[\]",
    r"additional_phone_types\[\]",
    r"additional_phone_labels\[\]",
    r"tags\[\]",
)
_STANDARD_PARAM = re.compile(r"\s*(?:" + "|".join(_STANDARD_PARAMS) + r")\s*=", re.IGNORECASE)
_NEXT_STANDARD_PARAM = re.compile(r"&(?=" + _STANDARD_PARAM.pattern + ")", re.IGNORECASE)


# A line of words around the fields: a heading or a comment, with no `=` or `&` of a parameter.
_COMMENT = re.compile(r"^\s*(?:#|//|--|;)")
_PLAIN_WORDS = re.compile(r"^[^=&\[\]?]*$")


def _parse_pasted(text: str, skipped: list[str] | None = None) -> tuple[list[_Entry], _Problems]:
    entries: list[_Entry] = []
    problems: _Problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"line {number}"
        starts = list(_CF_START.finditer(line))
        if not starts:
            # Words before the first field are a heading; a comment may stand anywhere. Words
            # between fields may be a field damaged in the copy, so they stay a problem.
            if (
                skipped is not None
                and line.strip()
                and (_COMMENT.match(line) or (not entries and _PLAIN_WORDS.match(line)))
            ):
                skipped.append(f"line {number}: “{_short(line.strip())}”")
                continue
            _check_between(line, number, problems)
            continue
        _check_between(line[: starts[0].start()], number, problems)
        for i, start in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(line)
            segment = line[start.end() : end]
            # A name may itself contain `&` ("Q&A"); it ends at the next parameter.
            rest = ""
            cut = _NEXT_STANDARD_PARAM.search(segment)
            if cut:
                segment, rest = segment[: cut.start()], segment[cut.start() :]
            name = segment.strip().rstrip("&").strip()
            entries.append(_Entry(number, where, start.group("id"), name, None))
            _check_between(rest, number, problems)
    return entries, problems


def _check_between(text: str, number: int, problems: _Problems) -> None:
    """Text around the custom fields must be empty, `?`/`&`, or other put_contact parameters."""
    if "://" in text and "?" in text:
        text = text.split("?", 1)[1]
    for piece in text.split("&"):
        piece = piece.strip().lstrip("?").strip()
        if piece and not _STANDARD_PARAM.match(piece):
            problems.append(
                (
                    number,
                    f"line {number}: {_short(piece)!r} is not a custom field. Each field looks "
                    "like custom_field[195481]=Follow Up Date& ; correct or delete this text.",
                )
            )


_HEADER_IDS = ("id", "field id", "field_id", "custom field id")
_HEADER_NAMES = ("name", "field name", "field_name", "label")
_HEADER_TYPES = ("type", "field type", "field_type")


def _delimiter(first_line: str) -> str:
    if "\t" in first_line:
        return "\t"
    if ";" in first_line and "," not in first_line:
        return ";"
    return ","


def _looks_like_csv(first_line: str) -> bool:
    delimiter = _delimiter(first_line)
    first_cell = first_line.split(delimiter, 1)[0].strip().strip('"').strip().lower()
    return first_cell in _HEADER_IDS or (
        delimiter in first_line and _ID.fullmatch(first_cell) is not None
    )


def _parse_csv(text: str) -> tuple[list[_Entry], _Problems]:
    reader = csv.reader(
        io.StringIO(text), delimiter=_delimiter(_first_line(text)), skipinitialspace=True
    )
    entries: list[_Entry] = []
    problems: _Problems = []
    columns: tuple[int, int, int | None] | None = None
    headerless = False
    last_line = 0
    try:
        for row in reader:
            number = last_line + 1
            where = f"line {number}"
            last_line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if columns is None:
                columns = _csv_columns(cells, number, problems)
                if columns is None:
                    break
                headerless = _ID.fullmatch(cells[0]) is not None
                if not headerless:
                    continue
            id_col, name_col, type_col = columns
            if headerless and len(cells) > 3:
                problems.append(
                    (
                        number,
                        f"{where}: {len(cells)} columns where id,name,type has 3. If the name "
                        'contains a comma, put it in double quotes: 195481,"Date, follow up",date',
                    )
                )
                continue
            entries.append(
                _Entry(
                    number,
                    where,
                    _at(cells, id_col),
                    _at(cells, name_col),
                    (_at(cells, type_col) or None) if type_col is not None else None,
                )
            )
    except csv.Error as e:
        problems.append(
            (reader.line_num, f"line {reader.line_num}: {e}; check the quotes on that line.")
        )
    return entries, problems


def _csv_columns(
    cells: list[str], number: int, problems: _Problems
) -> tuple[int, int, int | None] | None:
    """Column positions (id, name, type) from the first row: a header, or a field itself."""
    if _ID.fullmatch(cells[0]):
        return 0, 1, 2
    lowered = [cell.lower() for cell in cells]
    id_col = next((i for i, cell in enumerate(lowered) if cell in _HEADER_IDS), None)
    name_col = next((i for i, cell in enumerate(lowered) if cell in _HEADER_NAMES), None)
    type_col = next((i for i, cell in enumerate(lowered) if cell in _HEADER_TYPES), None)
    if id_col is None or name_col is None:
        problems.append(
            (
                number,
                f"line {number}: {_short(', '.join(cells))!r} is neither PhoneBurner's legend "
                "(custom_field[195481]=Follow Up Date&) nor a CSV whose first line is the header "
                "id,name,type. Add that header, or paste the legend as PhoneBurner shows it.",
            )
        )
        return None
    return id_col, name_col, type_col


def _at(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _parse_json(text: str) -> Legend:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LegendError(
            [
                f"line {e.lineno}: this is not valid JSON ({e.msg}). Export the legend again, "
                "or paste it as CSV id,name,type."
            ]
        ) from e
    except (ValueError, RecursionError):
        # A number of thousands of digits (ValueError) or brackets nested thousands deep.
        raise LegendError(
            [
                "this JSON holds a number too long or lists nested too deeply to be a legend. "
                "Export the legend again, or paste it as CSV id,name,type."
            ]
        ) from None
    name: object = ""
    cm_id: object = ""
    items: object = data
    if isinstance(data, dict):
        items = data.get("fields")
        name = data.get("name") or ""
        cm_id = data.get("cm_id") or ""
    if not isinstance(items, list):
        raise LegendError(
            [
                'the JSON has no list of "fields". It should look like {"name": "...", "cm_id": '
                '"576846", "fields": [{"id": "195481", "name": "Follow Up Date", "type": "date"}]}.'
            ]
        )
    entries: list[_Entry] = []
    problems: _Problems = []
    for number, item in enumerate(items, start=1):
        where = f"field {number}"
        if not isinstance(item, dict):
            problems.append((number, f'{where}: expected {{"id": ..., "name": ..., "type": ...}}.'))
            continue
        raw_id = item.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            raw_id = "" if raw_id is None else repr(raw_id)
        raw_name = item.get("name")
        raw_type = item.get("type")
        entries.append(
            _Entry(
                number,
                where,
                str(raw_id),
                raw_name if isinstance(raw_name, str) else "",
                None if raw_type is None else str(raw_type),
            )
        )
    return _build(entries, problems, name=str(name), cm_id=str(cm_id))


_ID = re.compile(r"[0-9]+")
# Far beyond any real ID or name, and far below what a CSV export can carry (131,072 characters
# a cell), so that every legend read can be saved and read back.
_MAX_ID_DIGITS = 50
_MAX_NAME_CHARS = 500


def _build(
    entries: Sequence[_Entry], found: _Problems, *, name: str = "", cm_id: str = ""
) -> Legend:
    """The legend of `entries`, or a `LegendError` with every problem: those `found` while
    reading and those of the entries themselves, in reading order."""
    problems: _Problems = list(found)
    fields: list[LegendField] = []
    seen: dict[str, str] = {}
    for entry in entries:
        field_id = entry.id.strip()
        field_name = entry.name.strip()
        found_before = len(problems)

        def problem(message: str, entry: _Entry = entry) -> None:
            problems.append((entry.at, f"{entry.where}: {message}"))

        if not field_id:
            problem(
                "the field ID is empty. Copy the digits between the brackets of "
                "custom_field[...] from PhoneBurner's legend."
            )
        elif not _ID.fullmatch(field_id):
            problem(
                f"the field ID {_short(field_id)!r} is not a number. Copy the digits between "
                "the brackets of custom_field[...] from PhoneBurner's legend."
            )
        elif len(field_id) > _MAX_ID_DIGITS:
            problem(
                f"the field ID {_short(field_id)!r} has {len(field_id):,} digits; PhoneBurner's "
                "IDs have a handful. Copy the digits between the brackets of custom_field[...] "
                "again."
            )
        elif field_id in seen:
            problem(
                f"field ID {field_id} is listed twice (also on {seen[field_id]}). Keep only one "
                "of them."
            )
        else:
            seen[field_id] = entry.where
        if not field_name:
            problem(
                f"field {field_id or '(no ID)'} has no name. Type its name as PhoneBurner shows it."
            )
        elif len(field_name) > _MAX_NAME_CHARS:
            problem(
                f"the name of field {_short(field_id) or '(no ID)'} is {len(field_name):,} "
                "characters long; a field's name is a few words. Check that the field ends with "
                "& (or its line with the next field) and that nothing else was pasted into it."
            )
        field_type = guess_type(field_name)
        if entry.type is not None and entry.type.strip():
            try:
                field_type = FieldType.parse(entry.type)
            except ValueError as e:
                problem(str(e))
        if len(problems) == found_before:
            fields.append(LegendField(field_id, field_name, field_type))
    if not entries and not problems:
        problems.append((0, _NOTHING_FOUND))
    if problems:
        problems.sort(key=lambda problem: problem[0])
        raise LegendError([message for _, message in problems])
    return Legend(tuple(fields), name=name.strip(), cm_id=cm_id.strip())


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: object) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# "Follow Up Date", "DOB", "Birthday", "date_of_birth", "FollowUpDate"; not "Update" or "Dated".
_DATE_WORDS = re.compile(r"(?<![a-z0-9])(?:dates?|dob|birthdays?|birthdate)(?![a-z0-9])")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def guess_type(name: str) -> FieldType:
    """DATE when the field's name says date, DOB or birthday; TEXT otherwise."""
    words = _CAMEL.sub(" ", name).lower()
    return FieldType.DATE if _DATE_WORDS.search(words) else FieldType.TEXT


# ---------------------------------------------------------------------------------------------
# Writing values


# Bound once: looking a member up on its Enum class costs more than the whole check of a value.
_TEXT, _DATE = FieldType.TEXT, FieldType.DATE
_NUMBER = (int, float)


def format_value(field_type: FieldType, value: object, *, day_first: bool = False) -> str:
    """`value` as put_contact takes it for a field of `field_type`.

    Empty values (None, blank text, a spreadsheet's NaN) are `""`. Raises `ValueFormatError`
    when the value cannot be read without guessing.
    """
    if not isinstance(field_type, FieldType):  # "date" from a JSON file or a table cell
        field_type = FieldType.parse(field_type)
    if field_type is _TEXT:
        if isinstance(value, str):
            return value
        if _is_missing(value):
            return ""
        # A spreadsheet hands whole numbers over as floats: 75048327 must not become 75048327.0.
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if _is_missing(value):
        return ""
    if field_type is _DATE:
        day = _to_date(value, day_first=day_first)
        return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"
    return _to_checkbox(value)


def format_custom_fields(
    legend: Legend | None, values: Mapping[str, object]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each value formatted by its field's type in `legend` (unknown IDs as text).

    Returns the formatted values, leaving out empty ones as empty standard fields are, and the
    problems as `(field ID, message)`; a value with a problem is left out.
    """
    formatted: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for raw_id, value in values.items():
        field_id = str(raw_id).strip()
        spec = legend.by_id(field_id) if legend is not None else None
        try:
            text = format_value(spec.type if spec else FieldType.TEXT, value)
        except ValueFormatError as e:
            label = f"{spec.name} (custom field {field_id})" if spec else f"Custom field {field_id}"
            problems.append((field_id, f"{label}: {e}"))
            continue
        if text.strip():
            formatted[field_id] = text
    return formatted, problems


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    # pandas' NA and NaT, without importing pandas.
    return type(value).__name__ in ("NAType", "NaTType")


_CHECKED = frozenset({"1", "1.0", "yes", "y", "true", "x", "✓", "✔", "☑", "✅", "on", "checked"})
_UNCHECKED = frozenset({"0", "0.0", "no", "n", "false", "off", "unchecked", "☐"})


def _to_checkbox(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value).strip().lower()
    if text in _CHECKED:
        return "1"
    if text in _UNCHECKED:
        return "0"
    raise ValueFormatError(
        f"{_short(str(value))!r} is not a checkbox value; use yes or no (or 1 or 0, true or "
        "false, x for checked).",
        value=value,
        field_type=FieldType.CHECKBOX,
    )


def _to_date(value: object, *, day_first: bool = False) -> date:
    try:
        return to_date(value, day_first=day_first)
    except DateError as e:
        raise ValueFormatError(str(e), value=value, field_type=FieldType.DATE) from e
