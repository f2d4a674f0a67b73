"""Columns → lead fields: header matching, mapping files, and spreadsheet rows turned into leads.

A mapping says, for each column of a file, which part of a lead it fills (its *target*), and
which values every row gets regardless of the file (its *constants*, such as `cm_id`). Targets
are plain strings so that a mapping saves to JSON as a person would write it:

- a standard field from `leadstream.protocol.lead.LEAD_FIELDS`: `firstname`, … `promocode`,
  `user_id`, `cm_id` (each filled from at most one column);
- `custom_field[ID]`, formatted by the legend's type for that ID (at most one column each);
- `phone:<type>` such as `phone:mobile`: an additional phone of that `PhoneType`, labelled with
  the type's name (`Mobile`), as in the vendor document's example; several columns allowed;
- `tags`: the cell split on `,` or `;`; several columns allowed;
- `fullname`: a full name, split by `headers.split_full_name` into first and last name for the
  rows where no column gives them;
- `None`: the column is ignored.

A column's value wins over a constant for the same target; the constant fills the rows where
that column is empty. Constant tags are added to every row's tags.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Literal

import pandas as pd

from leadstream.prepare.batch import collector_paused
from leadstream.prepare.dates import ColumnDates, column_date_order, long_date, to_date
from leadstream.prepare.headers import FULL_NAME, match_headers, split_full_name
from leadstream.prepare.identity import lead_identity
from leadstream.prepare.legend import FieldType, Legend, LegendField, ValueFormatError, format_value
from leadstream.prepare.validate import LeadColumns, Level, Problem, check_leads
from leadstream.protocol.lead import LEAD_FIELDS, Lead, Phone, PhoneType
from leadstream.words import ZIP_IN_A_FILE

__all__ = [
    "FULL_NAME",
    "PHONE_PREFIX",
    "TAGS",
    "ColumnMapping",
    "ColumnMismatch",
    "DateColumn",
    "MappingError",
    "PreparedRow",
    "RowCells",
    "RowStatus",
    "auto_match",
    "date_columns",
    "date_notes",
    "find_duplicates",
    "full_name_note",
    "mismatched_columns",
    "normalize_target",
    "prepare_rows",
    "remember_choices",
    "split_tags",
    "target_choices",
    "target_label",
]

TAGS = "tags"
PHONE_PREFIX = "phone:"
MAPPING_VERSION = 1
DATE_ORDER = "date_order"  # the mapping file's entry for how date columns are written
_ORDER_WORDS = {True: "day first", False: "month first"}

_FIELDS = {spec.name: spec for spec in LEAD_FIELDS}
_CUSTOM = re.compile(r"^custom_field\[(?P<id>[A-Za-z0-9_-]+)\]$")
_CUSTOM_HEADER = re.compile(
    r"^\s*custom[\s_-]*fields?\s*\[\s*(?P<id>[A-Za-z0-9_-]+)\s*\]\s*$", re.IGNORECASE
)
_IGNORE_WORDS = {"", "ignore", "none", "skip", "-"}

RowStatus = Literal["ok", "warning", "invalid"]


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the column or target and what to do."""


_SHOWN_CHARS = 60


def _shown(text: object) -> str:
    """A header or target for a message, shortened when long: a header of 32,767 characters
    must not make a message as long, once for every row with a problem in that column."""
    text = str(text)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _quoted(value: object) -> str:
    """`value` as Python writes it (`'Email'`, `['x']`), shortened like `_shown`."""
    return repr(_shown(value)) if isinstance(value, str) else _shown(repr(value))


# --- Targets -------------------------------------------------------------------------------------


def normalize_target(target: str | None) -> str | None:
    """The canonical spelling of `target` (`phone:Cell` → `phone:mobile`); None for "ignore".

    Raises MappingError for anything that is not a target.
    """
    if target is None:
        return None
    if not isinstance(target, str):
        raise MappingError(f"{_quoted(target)} is not a target; targets are text such as 'email'.")
    cleaned = target.strip()
    if cleaned.lower() in _IGNORE_WORDS:
        return None
    lowered = cleaned.lower()
    if lowered in _FIELDS:
        return lowered
    if lowered == TAGS or lowered == "tag":
        return TAGS
    if lowered.replace("_", " ").replace(" ", "") == FULL_NAME:
        return FULL_NAME
    if match := _CUSTOM_HEADER.match(cleaned):
        return f"custom_field[{match.group('id')}]"
    if lowered.startswith(PHONE_PREFIX):
        kind = cleaned[len(PHONE_PREFIX) :]
        try:
            phone_type = PhoneType.parse(kind)
        except ValueError:
            choices = ", ".join(f"{t.value} or {t.label}" for t in PhoneType)
            raise MappingError(
                f"{_quoted(target)}: {_quoted(kind)} is not a phone type; use {choices}."
            ) from None
        return PHONE_PREFIX + phone_type.name.lower()
    if lowered == "key":
        raise MappingError(
            "The vendor key is never part of a mapping; it comes from the app's settings."
        )
    known = ", ".join(_FIELDS)
    raise MappingError(
        f"{_quoted(target)} is not a target. Use one of {known}, custom_field[ID], "
        "phone:home|work|mobile|fax|other, tags, or null to ignore the column."
    )


def _custom_id(target: str) -> str | None:
    match = _CUSTOM.match(target)
    return match.group("id") if match else None


def _phone_type(target: str) -> PhoneType:
    return PhoneType[target[len(PHONE_PREFIX) :].upper()]


def _legend_names(legend: Legend | None) -> dict[str, str]:
    return {f.id: f.name for f in legend.fields} if legend is not None else {}


def target_label(target: str | None, legend: Legend | None = None) -> str:
    """How a target is shown to a person: `First name`, `Follow Up Date (custom field 195481)`."""
    if target is None:
        return "(ignore)"
    if target in _FIELDS:
        return _FIELDS[target].label
    if target == TAGS:
        return "Tags"
    if target == FULL_NAME:
        return "Full name (split into first and last)"
    if custom_id := _custom_id(target):
        name = _legend_names(legend).get(custom_id)
        return f"{name} (custom field {custom_id})" if name else f"Custom field {custom_id}"
    if target.startswith(PHONE_PREFIX):
        return f"Extra phone ({_phone_type(target).label})"
    return target


def target_choices(legend: Legend | None = None) -> list[str | None]:
    """Every target a column can take, in the order a menu shows them (ignore first)."""
    choices: list[str | None] = [None]
    for spec in LEAD_FIELDS:
        choices.append(spec.name)
        if spec.name == "lastname":
            choices.append(FULL_NAME)
    if legend is not None:
        choices += [f"custom_field[{f.id}]" for f in legend.fields]
    choices += [PHONE_PREFIX + t.name.lower() for t in PhoneType]
    choices.append(TAGS)
    return choices


def _repeatable(target: str) -> bool:
    return target == TAGS or target.startswith(PHONE_PREFIX)


# --- The mapping -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which target each column fills (`columns`: header → target or None), the values every
    row gets (`constants`: target → value), and how the person says a date column is written
    (`day_first`: header → True for day first, False for month first; a column not in it is
    judged from its values)."""

    columns: dict[str, str | None] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    day_first: dict[str, bool] = field(default_factory=dict)

    @property
    def mapped(self) -> dict[str, str]:
        """Only the columns that fill something."""
        return {header: target for header, target in self.columns.items() if target is not None}

    def column_for(self, target: str) -> str | None:
        """The first column mapped to `target`, if any."""
        return next((h for h, t in self.columns.items() if t == target), None)

    def with_column(self, header: str, target: str | None) -> ColumnMapping:
        """A copy with `header` mapped to `target`."""
        return ColumnMapping(
            {**self.columns, header: normalize_target(target)},
            dict(self.constants),
            dict(self.day_first),
        )

    def with_constant(self, target: str, value: str) -> ColumnMapping:
        """A copy where every row gets `value` for `target` (an empty value removes it)."""
        canonical = normalize_target(target)
        if canonical is None:
            raise MappingError("A value for every row needs a target, such as cm_id.")
        constants = {k: v for k, v in self.constants.items() if k != canonical}
        if value.strip():
            constants[canonical] = value.strip()
        return ColumnMapping(dict(self.columns), constants, dict(self.day_first))

    def with_date_order(self, header: str, day_first: bool | None) -> ColumnMapping:
        """A copy where the dates of column `header` are read day first (True) or month first
        (False), or judged from its values again (None)."""
        orders = {h: v for h, v in self.day_first.items() if h != header}
        if day_first is not None:
            orders[header] = day_first
        return ColumnMapping(dict(self.columns), dict(self.constants), orders)

    def to_document(self) -> dict[str, object]:
        """The mapping as `to_json` writes it, before it is made text."""
        document: dict[str, object] = {
            "version": MAPPING_VERSION,
            "columns": self.columns,
            "constants": self.constants,
        }
        if self.day_first:
            document[DATE_ORDER] = {h: _ORDER_WORDS[v] for h, v in self.day_first.items()}
        return document

    def to_json(self) -> str:
        """The mapping as a JSON document a person can read and edit."""
        return json.dumps(self.to_document(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        """Read a mapping saved by `to_json` (or written by hand); every target is checked."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise MappingError(
                f"The mapping file is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg}). Save the mapping again from the app."
            ) from None
        except (ValueError, RecursionError):
            # A number of thousands of digits (ValueError) or brackets nested thousands deep.
            raise MappingError(
                "The mapping file holds a number too long or lists nested too deeply to be a "
                "mapping. Save the mapping again from the app."
            ) from None
        if not isinstance(document, dict) or not isinstance(document.get("columns", {}), dict):
            raise MappingError(
                'A mapping file holds {"columns": {"Header": "target", …}, "constants": {…}}.'
            )
        version = document.get("version", MAPPING_VERSION)
        if version != MAPPING_VERSION:
            raise MappingError(
                f"This mapping file is version {_quoted(version)}; this app reads version "
                f"{MAPPING_VERSION}. Save the mapping again from this app."
            )
        unknown = set(document) - {"version", "columns", "constants", DATE_ORDER}
        if unknown:
            raise MappingError(
                f"The mapping file has unknown entries: {', '.join(sorted(unknown))}. "
                f"Only version, columns, constants and {DATE_ORDER} are read."
            )
        columns: dict[str, str | None] = {}
        for header, target in document.get("columns", {}).items():
            try:
                columns[str(header)] = normalize_target(target)
            except MappingError as error:
                raise MappingError(f"Column {_quoted(header)}: {error}") from None
        raw_constants = document.get("constants", {})
        if not isinstance(raw_constants, dict):
            raise MappingError('"constants" must map targets to values, e.g. {"cm_id": "576846"}.')
        constants: dict[str, str] = {}
        for target, value in raw_constants.items():
            try:
                canonical = normalize_target(target)
            except MappingError as error:
                raise MappingError(f"Constant {_quoted(target)}: {error}") from None
            if canonical is None:
                continue
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise MappingError(
                    f"Constant {_quoted(target)} must be text, not {_quoted(value)}."
                )
            if str(value).strip():
                constants[canonical] = str(value).strip()
        return cls(columns, constants, _date_orders(document.get(DATE_ORDER, {})))

    def problems(self, columns: Sequence[str], legend: Legend | None = None) -> list[Problem]:
        """What is wrong with using this mapping on a file with `columns` (errors) or worth a
        look (warnings), each naming the column or target."""
        found: list[Problem] = []
        by_target = self._columns_by_target(set(columns), found)
        found += _doubled_targets(by_target, legend)
        targets = set(by_target) | self._constant_targets(found)
        found += _unknown_custom_fields(targets, legend)
        if not by_target:
            found.append(_problem("", "No column of this file is mapped to a lead field yet."))
            return found
        found += _missing_contact_and_routing(targets)
        return found

    def _columns_by_target(self, present: set[str], found: list[Problem]) -> dict[str, list[str]]:
        """The mapped columns of the file grouped by target; a column the file lacks or a
        target that is not one adds a problem to `found`."""
        by_target: dict[str, list[str]] = {}
        for header, target in self.columns.items():
            if target is None:
                continue
            if header not in present:
                found.append(
                    _problem(
                        header,
                        f"The mapping uses column “{_shown(header)}”, which this file does not "
                        "have. Map another column or choose the matching file.",
                    )
                )
                continue
            try:
                canonical = normalize_target(target)
            except MappingError as error:
                found.append(_problem(header, f"Column “{_shown(header)}”: {error}"))
                continue
            if canonical is not None:
                by_target.setdefault(canonical, []).append(header)
        return by_target

    def _constant_targets(self, found: list[Problem]) -> set[str]:
        """The targets the constants fill; a key that is not a target adds a problem."""
        targets: set[str] = set()
        for target in self.constants:
            try:
                canonical = normalize_target(target)
            except MappingError as error:
                found.append(_problem(str(target), f"Value for every row: {error}"))
                continue
            if canonical is not None:  # `CM_ID` written by hand still gives cm_id
                targets.add(canonical)
        return targets


def _date_orders(raw: object) -> dict[str, bool]:
    """The `date_order` entry of a mapping file: header → "day first" or "month first"."""
    words = {word: day_first for day_first, word in _ORDER_WORDS.items()}
    if not isinstance(raw, dict):
        raise MappingError(
            f'"{DATE_ORDER}" must map column names to "day first" or "month first", e.g. '
            '{"Follow Up Date": "day first"}.'
        )
    orders: dict[str, bool] = {}
    for header, word in raw.items():
        day_first = words.get(str(word).strip().lower())
        if day_first is None:
            raise MappingError(
                f"The dates of column {_quoted(header)} are written {_quoted(word)}: write "
                '"day first" or "month first".'
            )
        orders[str(header)] = day_first
    return orders


def _doubled_targets(by_target: dict[str, list[str]], legend: Legend | None) -> list[Problem]:
    """A target that takes one column but is given several."""
    found = []
    for target, headers in by_target.items():
        if len(headers) > 1 and not _repeatable(target):
            listed = ", ".join(f"“{_shown(h)}”" for h in headers)
            found.append(
                _problem(
                    target,
                    f"{target_label(target, legend)} is filled from {len(headers)} columns "
                    f"({listed}); a lead has only one. Set all but one to ignore.",
                )
            )
    return found


def _unknown_custom_fields(targets: set[str], legend: Legend | None) -> list[Problem]:
    """Custom fields the legend (when it lists any) does not know: warnings."""
    if legend is None or not legend.fields:
        return []
    known = {f.id for f in legend.fields}
    found = []
    for target in sorted(targets):
        custom_id = _custom_id(target)
        if custom_id is not None and custom_id not in known:
            found.append(
                _problem(
                    target,
                    f"Custom field {custom_id} is not in the legend; the LeadStream will "
                    "ignore it. Check the ID, or add the field to the legend.",
                    "warning",
                )
            )
    return found


def _missing_contact_and_routing(targets: set[str]) -> list[Problem]:
    """Warnings for no email or phone at all, and for no user_id or cm_id."""
    found = []
    if not targets & {"email", "phone"} and not any(t.startswith(PHONE_PREFIX) for t in targets):
        found.append(
            _problem(
                "email",
                "No column gives an email or a phone number; leads without them are hard to "
                "use and PhoneBurner may refuse them.",
                "warning",
            )
        )
    for name in ("user_id", "cm_id"):
        if name not in targets:
            found.append(
                _problem(
                    name,
                    f"No column or value for every row gives {name}; the endpoint refuses "
                    "a lead without it.",
                    "warning",
                )
            )
    return found


def _problem(field_name: str, message: str, level: Level = "error") -> Problem:
    return Problem(field=field_name, message=message, level=level)


# --- Matching headers ---------------------------------------------------------------------------


def auto_match(columns: Sequence[str], legend: Legend | None = None) -> ColumnMapping:
    """A first guess at the mapping for a file's headers; the person reviews it.

    `headers.match_headers` decides (known export headers, the legend's field names, near
    misses); its `HeaderMatch` list says how sure each choice is.
    """
    return ColumnMapping({m.header: m.target for m in match_headers(columns, legend)}, {})


def remember_choices(
    remembered: dict[str, str | None] | None, mapping: ColumnMapping | None
) -> dict[str, str | None]:
    """Every column's choice seen so far, across the sheets of a workbook (and the files
    before): `mapping`'s choices over the `remembered` ones. Switching from sheet A to B and
    back keeps A's choices, which a mapping of B alone would have forgotten; a header both
    sheets share takes the latest choice."""
    return {**(remembered or {}), **(mapping.columns if mapping is not None else {})}


# --- Rows → leads ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """One data row turned into a checked lead.

    `index` is the row's 0-based position in the frame, `line` the row number a spreadsheet
    shows (the header is row 1), `source` the row's original cells by column.
    """

    index: int
    line: int
    lead: Lead
    problems: tuple[Problem, ...]
    source: Mapping[str, str]

    # Asked of every row several times when a run is planned: most rows have no problem.
    @property
    def errors(self) -> tuple[Problem, ...]:
        if not self.problems:
            return ()
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        if not self.problems:
            return ()
        return tuple(p for p in self.problems if p.level != "error")

    @property
    def status(self) -> RowStatus:
        if not self.problems:
            return "ok"
        levels = {p.level for p in self.problems}
        if "error" in levels:
            return "invalid"
        return "warning" if levels else "ok"


class RowCells(Mapping[str, str]):
    """A row's own cells by column name, as `PreparedRow.source`. Every row of a file shares
    one table of column positions and keeps only its tuple of cells: 100,000 dicts of 13
    entries cost 0.15 s to build and about 90 MB to keep."""

    __slots__ = ("_cells", "_position")

    def __init__(self, position: dict[str, int], cells: tuple[str, ...]) -> None:
        self._position = position
        self._cells = cells

    def __getitem__(self, name: str) -> str:
        return self._cells[self._position[name]]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        at = self._position.get(name)
        return default if at is None else self._cells[at]

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)

    def __repr__(self) -> str:
        return repr(dict(self))


_TAG_SEPARATOR = re.compile(r"[,;]")


def split_tags(text: str) -> list[str]:
    """Tags written in one cell, separated by `,` or `;`; trimmed, empties dropped."""
    if not text:
        return []
    return [tag for part in _TAG_SEPARATOR.split(text) if (tag := part.strip())]


@dataclass(slots=True)
class _Plan:
    """Where each part of a lead comes from, as column positions, worked out once per file."""

    scalars: list[tuple[str, int]]
    customs: list[tuple[str, int]]
    # A Phone with an empty number (the type and label to use), its column and header.
    phones: list[tuple[Phone, int, str]]
    tags: list[int]
    headers: dict[str, str]  # target → column header, to name columns in problems
    full_name: int | None = None


def _plan(names: Sequence[str], mapping: ColumnMapping) -> _Plan:
    position = {name: i for i, name in enumerate(names)}
    plan = _Plan([], [], [], [], {})
    for header, target in mapping.columns.items():
        try:
            canonical = normalize_target(target)
        except MappingError as error:
            raise MappingError(f"Column {_quoted(header)}: {error}") from None
        if canonical is None or header not in position:
            continue  # ColumnMapping.problems reports missing columns
        at = position[header]
        plan.headers.setdefault(canonical, header)
        if canonical == FULL_NAME:
            if plan.full_name is None:
                plan.full_name = at
        elif canonical in _FIELDS:
            if canonical not in {t for t, _ in plan.scalars}:
                plan.scalars.append((canonical, at))
        elif custom_id := _custom_id(canonical):
            if custom_id not in {i for i, _ in plan.customs}:
                plan.customs.append((custom_id, at))
        elif canonical == TAGS:
            plan.tags.append(at)
        else:
            phone_type = _phone_type(canonical)
            plan.phones.append((Phone("", phone_type, phone_type.label), at, header))
    return plan


_ADDITIONAL = re.compile(r"^additional_phones\[(\d+)\]$")


def _header_of(field_name: str, headers: dict[str, str], phone_headers: list[str]) -> str | None:
    if match := _ADDITIONAL.match(field_name):
        index = int(match.group(1))
        return phone_headers[index] if index < len(phone_headers) else None
    return headers.get(field_name)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


@dataclass(frozen=True, slots=True)
class _CustomSource:
    """Where one custom field's value comes from: a column (`at`, `header`) or a constant."""

    custom_id: str
    spec: LegendField | None
    at: int | None = None
    header: str | None = None
    constant: str = ""
    day_first: bool = False


@dataclass(frozen=True, slots=True)
class _Constants:
    """A mapping's values for every row, sorted by the part of the lead they fill."""

    scalars: list[tuple[str, str]]
    customs: list[_CustomSource]
    phones: list[Phone]
    tags: list[str]


@dataclass(slots=True)
class _FileRules:
    """Everything worked out once per file that turns one row into a lead."""

    names: list[str]
    plan: _Plan
    customs: list[_CustomSource]
    constants: _Constants
    legend: Legend | None
    region: str
    # Files repeat the same dates and checkbox words many times over: format each once.
    formatted: dict[tuple[FieldType, str, bool], tuple[str, str | None]] = field(
        default_factory=dict
    )


def _frame_cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The frame's column names and its cells as text, column by column."""
    names = [str(column) for column in frame.columns]
    cells = [_texts(frame.iloc[:, i].tolist()) for i in range(len(names))]
    return names, cells


def _texts(values: list[object]) -> list[str]:
    if set(map(type, values)) <= {str}:  # a file read by read_table: text throughout
        return values  # type: ignore[return-value]
    return [v if type(v) is str else _text(v) for v in values]


def _column_customs(
    plan: _Plan,
    legend_fields: dict[str, LegendField],
    cells: list[list[str]],
    chosen: dict[str, bool],
) -> list[_CustomSource]:
    """The custom fields filled from columns, each with its legend field and date order: the
    one the person chose for the column (`chosen`), else the one its values show."""
    sources = []
    for custom_id, at in plan.customs:
        spec = legend_fields.get(custom_id)
        header = plan.headers.get(f"custom_field[{custom_id}]")
        day_first = False
        if spec is not None and spec.type is FieldType.DATE:
            # A column of dates written day first (24/12/2026 among them) is read day first
            # throughout.
            if header in chosen:
                day_first = chosen[header]
            else:
                day_first = column_date_order(cells[at]).day_first
        sources.append(_CustomSource(custom_id, spec, at=at, header=header, day_first=day_first))
    return sources


def _file_constants(mapping: ColumnMapping, legend_fields: dict[str, LegendField]) -> _Constants:
    # Keys as `with_constant` and `from_json` write them; a mapping built by hand may say
    # `CM_ID` or `phone:cell`, which would otherwise be dropped or fail to look up.
    constants: dict[str, str] = {}
    for raw_target, value in mapping.constants.items():
        try:
            target = normalize_target(raw_target)
        except MappingError as error:
            raise MappingError(f"Value for every row {_quoted(raw_target)}: {error}") from None
        if target is not None:
            constants.setdefault(target, value)
    return _Constants(
        scalars=[(t, v) for t, v in constants.items() if t in _FIELDS],
        customs=[
            _CustomSource(cid, legend_fields.get(cid), constant=v)
            for t, v in constants.items()
            if (cid := _custom_id(t))
        ],
        phones=[
            Phone(v, _phone_type(t), _phone_type(t).label)
            for t, v in constants.items()
            if t.startswith(PHONE_PREFIX)
        ],
        tags=split_tags(constants.get(TAGS, "")),
    )


def _file_rules(
    frame_names: list[str],
    cells: list[list[str]],
    mapping: ColumnMapping,
    legend: Legend | None,
    region: str,
) -> _FileRules:
    plan = _plan(frame_names, mapping)
    legend_fields = {f.id: f for f in legend.fields} if legend is not None else {}
    return _FileRules(
        names=frame_names,
        plan=plan,
        customs=_column_customs(plan, legend_fields, cells, mapping.day_first),
        constants=_file_constants(mapping, legend_fields),
        legend=legend,
        region=region,
    )


def _formatted(rules: _FileRules, kind: FieldType, raw: str, flip: bool) -> tuple[str, str | None]:
    """`raw` written as the legend's type wants it, and the error text when it cannot be."""
    cache_key = (kind, raw, flip)
    result = rules.formatted.get(cache_key)
    if result is None:
        try:
            result = (format_value(kind, raw, day_first=flip), None)
        except ValueFormatError as error:
            result = (raw, str(error))
        rules.formatted[cache_key] = result
    return result


def _stripped(values: list[str]) -> list[str]:
    return list(map(str.strip, values))


def _scalar_columns(cells: list[list[str]], count: int, rules: _FileRules) -> dict[str, list[str]]:
    """The standard fields of every row: its columns, a split full name where a first or last
    name is missing, then the constants where still empty."""
    plan = rules.plan
    columns = {target: _stripped(cells[at]) for target, at in plan.scalars}
    if plan.full_name is not None:
        _fill_from_full_names(columns, cells[plan.full_name], count)
    for target, value in rules.constants.scalars:
        given = columns.get(target)
        columns[target] = [v or value for v in given] if given is not None else [value] * count
    return columns


def _fill_from_full_names(columns: dict[str, list[str]], names: list[str], count: int) -> None:
    firsts = columns.setdefault("firstname", [""] * count)
    lasts = columns.setdefault("lastname", [""] * count)
    split = {name: split_full_name(name) for name in dict.fromkeys(names)}
    for index, name in enumerate(names):
        if not (firsts[index] and lasts[index]):
            first, last = split[name]
            firsts[index] = firsts[index] or first
            lasts[index] = lasts[index] or last


def _custom_columns(
    cells: list[list[str]], lines: Sequence[int], rules: _FileRules, own: dict[int, list[Problem]]
) -> list[tuple[str, list[str | None]]]:
    """The custom fields of every row (None: empty), formatted by the legend; a value that
    cannot be formatted adds a problem naming the row and column to `own`. A constant fills
    the rows where its field's column is empty."""
    count = len(lines)
    filled: dict[str, list[str | None]] = {}
    for source in (*rules.customs, *rules.constants.customs):
        raws = _stripped(cells[source.at]) if source.at is not None else [source.constant] * count
        values = filled.setdefault(source.custom_id, [None] * count)
        spec = source.spec
        results: dict[str, tuple[str, str | None]]
        if spec is None or spec.type is FieldType.TEXT:  # kept as written: nothing to format
            results = {raw: (raw, None) for raw in dict.fromkeys(raws)}
        else:
            results = {
                raw: _formatted(rules, spec.type, raw, source.day_first)
                for raw in dict.fromkeys(raws)
            }
        for index, raw in enumerate(raws):
            if not raw or values[index] is not None:
                continue
            value, error_text = results[raw]
            if error_text is not None and spec is not None:
                problem = _problem(
                    f"custom_field[{source.custom_id}]",
                    f"Row {lines[index]}{_column_words(source.header)}: {spec.name}: {error_text}",
                )
                own.setdefault(index, []).append(problem)
            values[index] = value
    return [
        (custom_id, values)
        for custom_id, values in filled.items()
        if any(value is not None for value in values)
    ]


def _phone_columns(
    cells: list[list[str]], count: int, rules: _FileRules
) -> list[list[Phone]] | None:
    """Every row's additional phones: its phone columns in order, then the constant ones."""
    columns = [(template, _stripped(cells[at])) for template, at, _ in rules.plan.phones]
    constant = rules.constants.phones
    if not columns and not constant:
        return None
    rows: list[list[Phone]] = [[] for _ in range(count)]
    for template, values in columns:
        kind, label = template.type, template.label
        for own, value in zip(rows, values, strict=True):
            if value:
                own.append(Phone(value, kind, label))
    if constant:
        for own in rows:
            own += constant
    return rows


def _row_phone_headers(row: Sequence[str], rules: _FileRules) -> list[str]:
    """The column of each of a row's additional phones, to name it in a problem."""
    return [header for _, at, header in rules.plan.phones if row[at].strip()]


def _tag_columns(cells: list[list[str]], count: int, rules: _FileRules) -> list[list[str]] | None:
    """Every row's tags from its tag columns and the constant ones, repeats (any case) once."""
    plan_tags, constant_tags = rules.plan.tags, rules.constants.tags
    if not plan_tags and not constant_tags:
        return None
    split = [[split_tags(cell) for cell in cells[at]] for at in plan_tags]
    rows: list[list[str]] = []
    for index in range(count):
        tags: list[str] = []
        seen: set[str] = set()
        for tag in [t for column in split for t in column[index]] + constant_tags:
            if (folded := tag.casefold()) not in seen:
                seen.add(folded)
                tags.append(tag)
        rows.append(tags)
    return rows


def _column_words(header: str | None) -> str:
    return f", column “{_shown(header)}”" if header else ""


def _located(
    checked: list[Problem],
    own: list[Problem],
    line: int,
    rules: _FileRules,
    row: Sequence[str],
) -> tuple[Problem, ...]:
    """`own` problems, then the checks' problems with the row number and column named; a field
    the formatting step already reported is not reported twice."""
    problems = list(own)
    reported = {p.field for p in own}
    phone_headers: list[str] | None = None
    for problem in checked:
        if problem.field in reported:
            continue
        if problem.field.startswith("additional_phones["):
            if phone_headers is None:
                phone_headers = _row_phone_headers(row, rules)
            header = _header_of(problem.field, rules.plan.headers, phone_headers)
        else:
            header = rules.plan.headers.get(problem.field)
        message = problem.message
        if problem.field == "zip" and "leading zero" in message:
            message += " " + ZIP_IN_A_FILE  # spreadsheets drop them
        problems.append(
            Problem(
                field=problem.field,
                message=f"Row {line}{_column_words(header)}: {message}",
                level=problem.level,
            )
        )
    return tuple(problems)


def prepare_rows(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    legend: Legend | None = None,
    region: str = "US",
    row_numbers: Sequence[int] | None = None,
) -> list[PreparedRow]:
    """Every row of `frame` as a lead checked by `validate_lead`, with its problems.

    Custom-field values are formatted by the legend's type (dates as MM/DD/YYYY, checkboxes as
    1/0); a value that cannot be formatted is an error naming the row and the field. Every
    problem's message starts with the row number. `row_numbers` (from `Table.row_numbers`)
    gives each row's spreadsheet row; without it, row `i` is line `i + 2`.

    The rows are checked column by column (`check_leads`), each distinct value once: the same
    checks as `validate_lead` row by row, several times faster on a file of 100,000 rows.
    """
    names, cells = _frame_cells(frame)
    rules = _file_rules(names, cells, mapping, legend, region)
    count = len(frame)
    lines = list(row_numbers) if row_numbers is not None else list(range(2, count + 2))
    with collector_paused():
        own: dict[int, list[Problem]] = {}
        columns = LeadColumns(
            count,
            _scalar_columns(cells, count, rules),
            _custom_columns(cells, lines, rules, own),
            _phone_columns(cells, count, rules),
            _tag_columns(cells, count, rules),
        )
        checked = check_leads(columns, legend=legend, region=region)
        leads = checked.columns.leads()
        found = checked.problems
        # One row of cells at a time: a list of them all would hold 100,000 more tuples.
        rows = zip(*cells, strict=True) if cells else repeat((), count)
        # A repeated name keeps its last column, as a dict of the row would.
        position = {name: at for at, name in enumerate(names)}
        return [
            PreparedRow(
                index,
                lines[index],
                lead,
                _located(found.get(index, []), own.get(index, []), lines[index], rules, row)
                if index in found or index in own
                else (),
                RowCells(position, row),
            )
            for index, (lead, row) in enumerate(zip(leads, rows, strict=True))
        ]


def find_duplicates(
    rows: Iterable[PreparedRow], *, fingerprints: Mapping[int, str] | None = None
) -> dict[int, int]:
    """Rows that repeat an earlier one: row index → index of the first such row.

    Two leads are the same when they go to the same `cm_id` with the same identity
    (`prepare.identity`: the email, case-folded, or every parameter when there is none).
    Invalid rows are never sent, so they neither repeat nor are repeated. `fingerprints`
    (row index → `identity.fingerprint` of its lead) saves working them out again.
    """
    first: dict[tuple[str, str], int] = {}
    duplicates: dict[int, int] = {}
    for row in rows:
        if row.errors:
            continue
        if fingerprints is None:
            key = lead_identity(row.lead)
        else:
            key = (row.lead.cm_id.strip(), fingerprints[row.index])
        if key in first:
            duplicates[row.index] = first[key]
        else:
            first[key] = row.index
    return duplicates


# --- Guard rails ---------------------------------------------------------------------------------

# A column whose values fail its field's check this often is matched to the wrong field (a
# column of phone numbers matched to State), not a column with a few typos.
MISMATCH_SHARE = 0.8
# Below this many values a share says little; every value failing still counts.
_MISMATCH_MIN_VALUES = 5


@dataclass(frozen=True, kw_only=True, slots=True)
class ColumnMismatch:
    """A column whose values mostly fail the check of the field it is matched to."""

    column: str
    target: str
    failing: int  # values with a problem
    filled: int  # values not empty
    suggestion: str | None = None  # the field its header names, when another one

    def message(self, legend: Legend | None = None) -> str:
        field_label = target_label(self.target, legend)
        text = (
            f"Column “{_shown(self.column)}” is matched to {field_label}, but "
            f"{self.failing:,} of its {self.filled:,} values are not a valid {field_label}."
        )
        if self.suggestion is not None:
            text += f" Its name suggests {target_label(self.suggestion, legend)}."
        return text + " Choose the right field for it above (or ignore it), or tick “Send anyway”."


def mismatched_columns(
    rows: Sequence[PreparedRow], mapping: ColumnMapping, *, share: float = MISMATCH_SHARE
) -> list[ColumnMismatch]:
    """The mapped columns whose non-empty values fail their field's check in at least `share`
    of the rows (and in every row when fewer than 5 have a value), in the file's order.

    A problem belongs to a column when it is about that column's field (for a field one column
    fills) or names the column (extra phones and tags, which several columns fill).
    """
    mapped = {h: t for h, t in mapping.mapped.items() if t not in (None, FULL_NAME)}
    if not mapped or not rows:
        return []
    by_field = {t: h for h, t in mapped.items() if not _repeatable(t)}
    failing = dict.fromkeys(mapped, 0)
    for row in rows:
        if not row.problems:
            continue
        counted: set[str] = set()
        for problem in row.problems:
            owner = by_field.get(problem.field)
            if owner is None:
                owner = next(
                    (h for h in mapped if f"column “{_shown(h)}”" in problem.message), None
                )
            if owner is not None and owner not in counted and row.source.get(owner, "").strip():
                counted.add(owner)
                failing[owner] += 1
    # Filled values are counted only for columns with failures: a clean file of 100,000 rows
    # then costs one look at each row.
    filled = {
        header: sum(1 for row in rows if row.source.get(header, "").strip())
        for header, bad in failing.items()
        if bad
    }
    found: list[ColumnMismatch] = []
    for header, target in mapped.items():
        bad = failing[header]
        if not bad:
            continue
        total = filled[header]
        if (total < _MISMATCH_MIN_VALUES and bad < total) or bad < share * total:
            continue
        named = match_headers([header])[0].target
        found.append(
            ColumnMismatch(
                column=header,
                target=target,
                failing=bad,
                filled=total,
                suggestion=named if named not in (None, target) else None,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class DateColumn:
    """A file column mapped to a date field of the legend, and how its dates are read."""

    header: str
    order: ColumnDates  # what its values show
    chosen: bool | None = None  # the person's choice: True day first, False month first

    @property
    def day_first(self) -> bool:
        return self.order.day_first if self.chosen is None else self.chosen

    @property
    def two_ways(self) -> bool:
        """Some of its dates read two ways (`1/5/2025`): the person may say which is meant."""
        return self.order.two_ways > 0 or self.chosen is not None

    @property
    def example(self) -> str:
        """A date of the column that shows its order, or that reads two ways."""
        return self.order.example or self.order.decided_by

    def reads(self, text: str, day_first: bool | None = None) -> str:
        """How `text` is read in words (`May 1, 2025`): as this column reads it, or day first
        or month first as asked."""
        order = self.day_first if day_first is None else day_first
        return long_date(to_date(text, day_first=order))


def date_columns(
    frame: pd.DataFrame, mapping: ColumnMapping, legend: Legend | None
) -> list[DateColumn]:
    """The columns mapped to a date field of `legend`, in the file's order."""
    if legend is None:
        return []
    found: list[DateColumn] = []
    names = {str(column) for column in frame.columns}
    for header, target in mapping.mapped.items():
        custom_id = _custom_id(target)
        spec = legend.by_id(custom_id) if custom_id else None
        if spec is None or spec.type is not FieldType.DATE or header not in names:
            continue
        values = [v if isinstance(v, str) else _text(v) for v in frame[header].tolist()]
        found.append(DateColumn(header, column_date_order(values), mapping.day_first.get(header)))
    return found


def date_notes(columns: Iterable[DateColumn]) -> list[str]:
    """What the person should know about how the date columns (`date_columns`) are read: a
    column found written day first, a column mixing both orders, and dates that read two ways
    (`1/5/2025`), each with an example of how it is read; a column whose order the person chose
    says so."""
    notes: list[str] = []
    for column in columns:
        order = column.order
        named = f"Column “{_shown(column.header)}”"
        way = "day first" if column.day_first else "month first"
        if column.chosen is not None:
            example = column.example
            shown = f" ({example} is {column.reads(example)})" if example else ""
            notes.append(f"{named}: its dates are read {way}, as you chose{shown}.")
            continue
        if order.mixed:
            notes.append(
                f"{named} mixes dates written month first and day first; they are read month "
                "first, and the rows written day first are refused with their row number. "
                "Write them all one way (best: 2026-12-24)."
            )
            continue
        if order.day_first:
            notes.append(
                f"{named} is written day first (it has {order.decided_by}), so all its dates "
                "are read day first."
            )
        if order.two_ways:
            decided = (
                f" as {order.decided_by} shows"
                if order.decided_by
                else "; if they are written day first, choose that below"
            )
            notes.append(
                f"{named}: {order.two_ways:,} different "
                f"{'date reads' if order.two_ways == 1 else 'dates read'} two ways, such as "
                f"{order.example}; read {way} ({order.example} is "
                f"{column.reads(order.example)}){decided}."
            )
    return notes


def full_name_note(frame: pd.DataFrame, mapping: ColumnMapping, *, examples: int = 3) -> str | None:
    """How the full-name column is split, with the first few names of the file as examples,
    for the preview; None when no column is a full name."""
    header = mapping.column_for(FULL_NAME)
    if header is None or header not in [str(c) for c in frame.columns]:
        return None
    shown: list[str] = []
    seen: set[str] = set()
    for value in frame[header].tolist():
        text = " ".join(_text(value).split())
        if not text or text in seen:
            continue
        seen.add(text)
        first, last = split_full_name(text)
        shown.append(f"“{_shown(text)}” → first “{first}”, last “{last}”")
        if len(shown) == examples:
            break
    rule = (
        f"Column “{_shown(header)}” is split into first and last name where no column gives "
        "them: the last word is the last name (with van, de, la… before it, and Jr., III after "
        "it), a title such as Dr. is dropped, and “Smith, Jane” is last name first."
    )
    return rule + (" For example: " + "; ".join(shown) + "." if shown else "")
