"""What the bulk upload page shows: file descriptions, the mapping table, the checked preview,
problem-row exports, progress lines and run labels.

Pure presentation over `leadstream.prepare.files`, `mapping` and `plan`: no streamlit, no I/O.
The page draws these values; the rules that decide a row's fate live in `mapping` (checks),
`prepare.plan` (planning) and the engine (sending). The one decision made here is the person's
choice of rows: rows with warnings are sent only when asked, and then they are planned by
`engine.plan_with` like the others.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Literal

import pandas as pd
from pandas.io.formats.style import Styler

from leadstream.deliver.engine import plan_with
from leadstream.deliver.runner import Progress
from leadstream.prepare.batch import collector_paused
from leadstream.prepare.files import Table, to_csv_bytes
from leadstream.prepare.legend import Legend
from leadstream.prepare.mapping import (
    ColumnMapping,
    PreparedRow,
    auto_match,
    target_choices,
    target_label,
)
from leadstream.prepare.plan import Seen
from leadstream.protocol.lead import LEAD_FIELDS, Lead
from leadstream.protocol.query import build_url, mask_url

__all__ = [
    "AUTO",
    "DELIMITER_CHOICES",
    "ENCODING_CHOICES",
    "FILTERS",
    "IGNORE_LABEL",
    "MAPPING_COLUMNS",
    "PAGE_SIZE",
    "BulkViewError",
    "Preview",
    "PreviewCounts",
    "RowPlan",
    "TargetMenu",
    "apply_mapping_edits",
    "carry_mapping",
    "coloured",
    "count_tiles",
    "delimiter_label",
    "describe_table",
    "encoding_label",
    "fit_mapping",
    "format_duration",
    "legend_mismatch",
    "local_time",
    "mapping_summary",
    "mapping_table",
    "merge_legend_matches",
    "outcome_counts",
    "outcome_rank",
    "page_bounds",
    "page_count",
    "plan_preview",
    "plural",
    "preview_table",
    "problem_rows_csv",
    "progress_caption",
    "read_option",
    "results_view",
    "routing_counts",
    "routing_problem",
    "row_problems",
    "sample_values",
    "stem",
    "target_menu",
    "warned_count",
    "with_row_values",
]

PAGE_SIZE = 100


class BulkViewError(ValueError):
    """A request the page made that cannot be shown; the message says what to change."""


# --- The file ------------------------------------------------------------------------------------

# AUTO lets the reader detect it (a select box cannot hold None: it shows no choice for it).
AUTO = "auto"
ENCODING_CHOICES: tuple[tuple[str, str], ...] = (
    (AUTO, "Detect automatically"),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with byte-order mark"),
    ("utf-16", "UTF-16 (Excel “Unicode text”)"),
    ("cp1252", "Windows-1252 (Western European)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
)
DELIMITER_CHOICES: tuple[tuple[str, str], ...] = (
    (AUTO, "Detect automatically"),
    (",", "Comma ( , )"),
    (";", "Semicolon ( ; )"),
    ("\t", "Tab"),
    ("|", "Vertical bar ( | )"),
)
_ENCODING_NAMES = {code: label for code, label in ENCODING_CHOICES if code != AUTO} | {
    # Detected for files saved without a byte-order mark; not offered as choices.
    "utf-16-le": "UTF-16 (little-endian, no byte-order mark)",
    "utf-16-be": "UTF-16 (big-endian, no byte-order mark)",
}
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def encoding_label(code: str, found: str | None = None) -> str:
    """A choice of the encoding select box; AUTO says what was found, when known."""
    if code == AUTO and found:
        return f"Detect automatically (found {_ENCODING_NAMES.get(found, found)})"
    return dict(ENCODING_CHOICES).get(code, code)


def delimiter_label(delimiter: str, found: str | None = None) -> str:
    """A choice of the delimiter select box; AUTO says what was found, when known."""
    if delimiter == AUTO and found:
        return f"Detect automatically (found {_DELIMITER_NAMES.get(found, repr(found))}s)"
    return dict(DELIMITER_CHOICES).get(delimiter, repr(delimiter))


def read_option(choice: str | None) -> str | None:
    """A select box's choice as `files.read_table` takes it: None to detect."""
    return None if choice in (None, AUTO) else choice


def stem(filename: str) -> str:
    """The file's name without folder or extension, for naming downloads (`leads`)."""
    return PurePath(filename).stem or "leads"


def plural(n: int, noun: str) -> str:
    """`1 row`, `1,204 rows`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def describe_table(table: Table) -> str:
    """One line saying what was read: `120 rows and 9 columns; UTF-8 text, columns separated by
    commas.` or `… from sheet “Leads”.`"""
    size = f"{plural(len(table), 'row')} and {plural(len(table.columns), 'column')}"
    if table.sheet is not None:
        return f"{size} from sheet “{table.sheet}”."
    encoding = _ENCODING_NAMES.get(table.encoding or "", table.encoding or "unknown")
    separator = _DELIMITER_NAMES.get(table.delimiter or ",", repr(table.delimiter))
    return f"{size}; {encoding} text, columns separated by {separator}s."


def sample_values(values: Iterable[object], *, limit: int = 3, width: int = 28) -> str:
    """The first few different non-empty values of a column, shortened: `Jeff · Ann · Bob`."""
    return " · ".join(_first_texts(values, limit, width)) or "(empty)"


def _first_texts(values: Iterable[object], limit: int, width: int) -> list[str]:
    seen: list[str] = []
    for value in values:
        text = " ".join(str(value).split()) if value is not None else ""
        if text and text not in seen:
            seen.append(text if len(text) <= width else text[: width - 1] + "…")
            if len(seen) == limit:
                break
    return seen


def _column_sample(column: pd.Series, *, limit: int = 3, width: int = 28, head: int = 1_000) -> str:
    """`sample_values` of a column without reading 100,000 rows when its first rows show
    enough; otherwise each different value once, in file order (a Country column)."""
    found = _first_texts(column.iloc[:head], limit, width)
    if len(found) < limit and len(column) > head:
        found = _first_texts(pd.unique(column.to_numpy()), limit, width)
    return " · ".join(found) or "(empty)"


# --- The mapping table -----------------------------------------------------------------------

IGNORE_LABEL = "— ignore this column —"
MAPPING_COLUMNS = ("Column in the file", "Sends as", "Sample values")


@dataclass(frozen=True, slots=True)
class TargetMenu:
    """The targets a column can take, as unique labels for a select box, both ways."""

    labels: tuple[str, ...]
    by_label: dict[str, str | None]
    by_target: dict[str | None, str]

    def label(self, target: str | None) -> str:
        return self.by_target.get(target, IGNORE_LABEL if target is None else target)

    def target(self, label: str) -> str | None:
        """The target behind `label`; a label not in the menu is refused (the browser checks
        the select box's options, the server must too)."""
        if label not in self.by_label:
            raise BulkViewError(f"{label!r} is not one of the choices; pick a lead field.")
        return self.by_label[label]


def target_menu(legend: Legend | None = None, extra: Iterable[str | None] = ()) -> TargetMenu:
    """Every target in menu order (ignore first), plus `extra` targets already in use that the
    menu would not offer (a custom field missing from the legend), so they still show."""
    targets = target_choices(legend)
    for target in extra:
        if target not in targets:
            targets.append(target)
    labels: list[str] = []
    by_label: dict[str, str | None] = {}
    by_target: dict[str | None, str] = {}
    for target in targets:
        label = IGNORE_LABEL if target is None else target_label(target, legend)
        if label in by_label:  # two legend fields with one name: tell them apart by target
            label = f"{label} [{target}]"
        labels.append(label)
        by_label[label] = target
        by_target[target] = label
    return TargetMenu(tuple(labels), by_label, by_target)


def mapping_table(table: Table, mapping: ColumnMapping, menu: TargetMenu) -> pd.DataFrame:
    """One row per file column: its header, the label of its target, and sample values."""
    records = [
        {
            MAPPING_COLUMNS[0]: column,
            MAPPING_COLUMNS[1]: menu.label(mapping.columns.get(column)),
            MAPPING_COLUMNS[2]: _column_sample(table.frame[column]),
        }
        for column in table.columns
    ]
    return pd.DataFrame.from_records(records, columns=list(MAPPING_COLUMNS))


def apply_mapping_edits(
    mapping: ColumnMapping,
    columns: Sequence[str],
    edited_rows: Mapping[int | str, Mapping[str, object]],
    menu: TargetMenu,
) -> ColumnMapping:
    """`mapping` with a data editor's `edited_rows` (row position → {column: new label})
    applied. Edits to other columns are ignored; an unknown label raises BulkViewError."""
    result = mapping
    for position, changes in edited_rows.items():
        index = int(position)
        if not 0 <= index < len(columns) or MAPPING_COLUMNS[1] not in changes:
            continue
        label = changes[MAPPING_COLUMNS[1]]
        target = None if label is None else menu.target(str(label))
        result = result.with_column(columns[index], target)
    return result


def mapping_summary(columns: Sequence[str], mapping: ColumnMapping) -> str:
    """`7 of 8 columns are sent. Ignored: “Notes”.`: no column is left out without saying so."""
    ignored = [c for c in columns if mapping.columns.get(c) is None]
    sent = len(columns) - len(ignored)
    text = f"{sent:,} of {plural(len(columns), 'column')} are sent."
    if ignored:
        text += " Ignored: " + ", ".join(f"“{c}”" for c in ignored) + "."
    return text


def unsent_columns_warning(columns: Sequence[str], mapping: ColumnMapping) -> str | None:
    """The warning naming every column that is not sent, in the words the bulk page and the
    CLI both use (`7 of 8 columns are sent. Ignored: “Notes”. Those columns are not sent: …`),
    or None when every column is sent."""
    if all(mapping.columns.get(c) is not None for c in columns):
        return None
    return (
        mapping_summary(columns, mapping)
        + " Those columns are not sent: choose a field for any you want in PhoneBurner."
    )


def fit_mapping(loaded: ColumnMapping, columns: Sequence[str]) -> tuple[ColumnMapping, list[str]]:
    """A loaded mapping laid over this file: every file column present (unknown ones ignored),
    and the mapped headers that the file lacks, so the page can say so instead of dropping them
    quietly."""
    missing = [h for h, target in loaded.columns.items() if target and h not in columns]
    fitted = ColumnMapping(
        {column: loaded.columns.get(column) for column in columns},
        dict(loaded.constants),
        {h: day_first for h, day_first in loaded.day_first.items() if h in columns},
    )
    return fitted, missing


def _repeatable(target: str) -> bool:
    return target == "tags" or target.startswith("phone:")


def carry_mapping(
    previous: ColumnMapping | None, columns: Sequence[str], legend: Legend | None
) -> tuple[ColumnMapping, int]:
    """The mapping for a new file: a column the last file also had keeps its choice (the fixed
    file comes back with the same headers, plus a few), the others are matched automatically
    where that fills nothing already filled. Returns the mapping and how many choices were
    kept."""
    fresh = auto_match(columns, legend)
    if previous is None:
        return fresh, 0
    kept = {c: previous.columns[c] for c in columns if c in previous.columns}
    used = {t for t in kept.values() if t is not None and not _repeatable(t)}
    result: dict[str, str | None] = {}
    for column in columns:
        if column in kept:
            result[column] = kept[column]
            continue
        target = fresh.columns.get(column)
        if target is not None and target in used:
            target = None
        if target is not None and not _repeatable(target):
            used.add(target)
        result[column] = target
    return ColumnMapping(result, {}), len(kept)


def merge_legend_matches(
    mapping: ColumnMapping, columns: Sequence[str], legend: Legend | None
) -> ColumnMapping:
    """After a legend is chosen: ignored columns whose header names one of its fields now fill
    that custom field. Columns the person mapped are left alone."""
    if legend is None:
        return mapping
    suggested = auto_match(columns, legend)
    used = {t for t in mapping.columns.values() if t is not None}
    result = mapping
    for column in columns:
        new = suggested.columns.get(column)
        if mapping.columns.get(column) is not None or new is None:
            continue
        if not new.startswith("custom_field[") or (new in used and not _repeatable(new)):
            continue
        result = result.with_column(column, new)
        used.add(new)
    return result


def legend_mismatch(legend: Legend | None, cm_id: str) -> str:
    """A warning when the chosen legend was saved for another LeadStream than the one the rows
    go to (custom-field IDs differ between LeadStreams), else ""."""
    cm_id = cm_id.strip()
    if legend is None or not legend.cm_id or not cm_id or legend.cm_id == cm_id:
        return ""
    return (
        f"The legend “{legend.name}” belongs to LeadStream {legend.cm_id}, but the leads go to "
        f"{cm_id}. Custom-field IDs differ between LeadStreams: check that this is the right "
        "legend."
    )


def with_row_values(
    mapping: ColumnMapping,
    other: Mapping[str, str],
    *,
    cm_id: str = "",
    user_id: str = "",
    tags: str = "",
) -> ColumnMapping:
    """The mapping the rows are prepared with: its columns, plus the values given for every
    row (the loaded mapping's `other` constants, then cm_id, user ID and tags when filled in,
    which win over `other`)."""
    constants = dict(other)
    for target, value in (("cm_id", cm_id), ("user_id", user_id), ("tags", tags)):
        if value := value.strip():
            constants[target] = value
    return ColumnMapping(dict(mapping.columns), constants, dict(mapping.day_first))


# --- The checked preview ---------------------------------------------------------------------

# What will happen to a row, as the preview says it. `held` is a row with warnings that the
# person chose not to send; the others are `bulk.PlannedRow` states.
RowFate = Literal["pending", "invalid", "duplicate", "uncertain", "held"]

_FATE_LABELS: dict[str, str] = {
    "pending": "Will be sent",
    "warning": "Will be sent (has warnings)",
    "maybe_sent": "Will be sent again (earlier send unclear)",
    "invalid": "Not sent: fix the problems",
    "duplicate": "Skipped: duplicate",
    "uncertain": "Held back: may already be in PhoneBurner",
    "held": "Held back: has warnings",
}
# Cell colours: green goes, amber goes but look, red stays until fixed, grey is left out.
_GREEN, _AMBER, _RED, _GREY = "#e3f4e8", "#fff2cc", "#fde3e1", "#eceff2"
_FATE_COLOURS = {
    _FATE_LABELS["pending"]: _GREEN,
    _FATE_LABELS["warning"]: _AMBER,
    _FATE_LABELS["maybe_sent"]: _AMBER,
    _FATE_LABELS["invalid"]: _RED,
    _FATE_LABELS["duplicate"]: _GREY,
    _FATE_LABELS["uncertain"]: _GREY,
    _FATE_LABELS["held"]: _GREY,
}
_OUTCOME_COLOURS = {
    "delivered": _GREEN,
    "rejected": _RED,
    "invalid": _RED,
    "failed": _AMBER,
    "uncertain": _AMBER,
    "duplicate": _GREY,
    "not sent": _GREY,
    "in flight": _GREY,
}

FILTERS: dict[str, str] = {
    "all": "All rows",
    "attention": "Rows with problems",
    "invalid": "Not sent: invalid",
    "duplicate": "Skipped: duplicates",
    "send": "Will be sent",
}


@dataclass(frozen=True, slots=True)
class RowPlan:
    """One file row and what sending will do with it."""

    row: PreparedRow
    fate: RowFate
    reason: str = ""
    maybe_sent: bool = False

    @property
    def will_send(self) -> bool:
        return self.fate == "pending"

    @property
    def needs_attention(self) -> bool:
        return self.fate != "pending" or bool(self.row.problems) or self.maybe_sent

    @property
    def label(self) -> str:
        if self.fate == "pending":
            if self.maybe_sent:
                return _FATE_LABELS["maybe_sent"]
            return _FATE_LABELS["warning" if self.row.warnings else "pending"]
        return _FATE_LABELS[self.fate]


@dataclass(frozen=True, slots=True)
class PreviewCounts:
    """Each row counted once: total = ready + warnings + invalid + duplicates + uncertain.
    `to_send` is what the Send button sends; `held` the rows with warnings left out."""

    total: int
    ready: int
    warnings: int
    invalid: int
    duplicates: int
    uncertain: int
    to_send: int
    held: int

    @property
    def held_back(self) -> int:
        """Rows kept out although valid and new: warnings not chosen, or an unclear earlier
        send of a row without an email."""
        return self.uncertain + self.held


def count_tiles(counts: PreviewCounts) -> list[tuple[str, int, str]]:
    """The preview's counters as (label, number, help), in the order they are shown."""
    return [
        ("Will be sent", counts.to_send, "Rows the Send button sends."),
        ("Ready", counts.ready, "Rows without any problem."),
        (
            "With warnings",
            counts.warnings,
            "Sent when you choose “Ready rows and rows with warnings”, held back otherwise.",
        ),
        ("Invalid", counts.invalid, "Rows with errors: never sent."),
        ("Duplicates", counts.duplicates, "Skipped unless you send duplicates too."),
        (
            "Held back",
            counts.held_back,
            "Rows with warnings you chose not to send, and rows without an email whose "
            "earlier send got no clear answer.",
        ),
    ]


def warned_count(prepared: Iterable[PreparedRow]) -> int:
    """Rows that pass the checks with warnings (sent only when the person asks)."""
    return sum(1 for row in prepared if row.status == "warning")


@dataclass(frozen=True, slots=True)
class Preview:
    rows: tuple[RowPlan, ...]
    counts: PreviewCounts

    def selected(self, choice: str) -> list[RowPlan]:
        """The rows shown under filter `choice` (a key of FILTERS)."""
        if choice == "all":
            return list(self.rows)
        if choice == "attention":
            return [r for r in self.rows if r.needs_attention]
        if choice == "send":
            return [r for r in self.rows if r.will_send]
        if choice in ("invalid", "duplicate"):
            return [r for r in self.rows if r.fate == choice]
        raise BulkViewError(f"{choice!r} is not a filter; use one of {', '.join(FILTERS)}.")

    @property
    def prepared_to_run(self) -> list[PreparedRow]:
        """The rows that go into the run: all of them except held-back rows with warnings."""
        return [r.row for r in self.rows if r.fate != "held"]

    @property
    def problem_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.needs_attention]


def plan_preview(
    prepared: Sequence[PreparedRow],
    *,
    delivered: Seen = frozenset(),
    uncertain: Seen = frozenset(),
    send_warnings: bool,
    include_duplicates: bool = False,
) -> Preview:
    """What sending would do with every row, planned by `engine.plan_with` exactly as the run
    will be (over the rows that go into the run, so duplicates are judged among those)."""
    # Like reading and checking the file, a preview of 100,000 rows makes objects that hold
    # no cycles; the collector's walks of the session's heap were 1.5 s of 1.9 s in the page.
    with collector_paused():
        return _plan_preview(
            prepared,
            delivered=delivered,
            uncertain=uncertain,
            send_warnings=send_warnings,
            include_duplicates=include_duplicates,
        )


def _plan_preview(
    prepared: Sequence[PreparedRow],
    *,
    delivered: Seen,
    uncertain: Seen,
    send_warnings: bool,
    include_duplicates: bool,
) -> Preview:
    # Every row is looked at a handful of times here: at 100,000 rows each pass costs ~0.1 s,
    # so rows with warnings are only looked for when they are held back.
    held = set() if send_warnings else {row.index for row in prepared if row.status == "warning"}
    planned = iter(
        plan_with(
            [row for row in prepared if row.index not in held] if held else prepared,
            delivered,
            uncertain,
            include_duplicates,
        )
    )
    rows: list[RowPlan] = []
    for row in prepared:
        if row.index in held:
            rows.append(
                RowPlan(
                    row,
                    "held",
                    "Has warnings; choose “ready rows and rows with warnings” to send it.",
                )
            )
            continue
        plan = next(planned)  # plans come in the rows' order, one per row handed in
        rows.append(RowPlan(row, plan.state, plan.reason, plan.maybe_sent))
    fates = Counter(r.fate for r in rows)
    # A pending row has no errors, so any problem it has is a warning.
    sent_warnings = sum(1 for r in rows if r.fate == "pending" and r.row.problems)
    counts = PreviewCounts(
        total=len(rows),
        ready=fates["pending"] - sent_warnings,
        warnings=sent_warnings + fates["held"],
        invalid=fates["invalid"],
        duplicates=fates["duplicate"],
        uncertain=fates["uncertain"],
        to_send=fates["pending"],
        held=fates["held"],
    )
    return Preview(tuple(rows), counts)


def row_problems(plan: RowPlan) -> str:
    """The row's problems, one per line, without the `Row N, ` the table already shows."""
    line = plan.row.line
    messages: list[str] = []
    for problem in plan.row.problems:
        text = problem.message
        for prefix in (f"Row {line}, ", f"Row {line}: "):
            text = text.removeprefix(prefix)
        text = text[:1].upper() + text[1:]
        mark = "✖" if problem.level == "error" else "⚠"
        messages.append(f"{mark} {text}")
    if plan.fate in ("duplicate", "uncertain") and plan.reason:
        messages.append(plan.reason)
    if plan.maybe_sent:
        messages.append(
            "An earlier send of this email got no clear answer; if PhoneBurner already has it, "
            "it will answer DUPLICATE EMAIL and the row counts as delivered."
        )
    return "\n".join(messages)


def _other_values(lead: Lead, legend: Legend | None) -> str:
    parts: list[str] = []
    for name in ("address1", "address2", "city", "country", "promocode"):
        if value := getattr(lead, name):
            parts.append(f"{_FIELD_LABELS[name]}: {value}")
    for field_id, value in lead.custom_fields.items():
        parts.append(f"{target_label(f'custom_field[{field_id}]', legend)}: {value}")
    for phone in lead.additional_phones:
        parts.append(f"{phone.label or phone.type.label} phone: {phone.number}")
    if lead.tags:
        parts.append("Tags: " + ", ".join(lead.tags))
    return "; ".join(parts)


_FIELD_LABELS = {spec.name: spec.label for spec in LEAD_FIELDS}
PREVIEW_COLUMNS = (
    "Row",
    "What will happen",
    "Problems",
    "Name",
    "Email",
    "Phone",
    "State",
    "ZIP",
    "cm_id",
    "user_id",
    "Other values",
    "Request (key hidden)",
)


def preview_table(
    rows: Sequence[RowPlan],
    *,
    key: str,
    base_url: str,
    legend: Legend | None = None,
) -> pd.DataFrame:
    """The preview rows as a table of normalised values (what will be sent, not what the file
    says) with the request each row makes, key masked. Meant for one page of rows at a time."""
    records = []
    for plan in rows:
        lead = plan.row.lead
        name = f"{lead.firstname} {lead.lastname}".strip()
        url = mask_url(build_url(lead, key=key, base_url=base_url)) if plan.will_send else ""
        records.append(
            dict(
                zip(
                    PREVIEW_COLUMNS,
                    (
                        plan.row.line,
                        plan.label,
                        row_problems(plan),
                        name,
                        lead.email,
                        lead.phone,
                        lead.state,
                        lead.zip,
                        lead.cm_id,
                        lead.user_id,
                        _other_values(lead, legend),
                        url,
                    ),
                    strict=True,
                )
            )
        )
    return pd.DataFrame.from_records(records, columns=list(PREVIEW_COLUMNS))


def page_count(total: int, per_page: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / per_page))


def page_bounds(total: int, page: int, per_page: int = PAGE_SIZE) -> tuple[int, int]:
    """`[start, stop)` of page `page` (from 1), clamped to the pages there are."""
    if per_page < 1:
        raise BulkViewError(f"A page holds at least 1 row, not {per_page}.")
    page = min(max(page, 1), page_count(total, per_page))
    start = (page - 1) * per_page
    return start, min(start + per_page, total)


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name = f"{name} (LeadStream)"
    return name


def problem_rows_csv(preview: Preview, columns: Sequence[str]) -> bytes:
    """The rows that need attention as a CSV to fix and upload again: the file's own columns as
    uploaded, then the spreadsheet row, what would happen and the problems. UTF-8 with a BOM,
    formulas neutralised (`files.to_csv_bytes`)."""
    taken = set(columns)
    row_name = _unique("File row", taken)
    fate_name = _unique("What will happen", taken)
    problems_name = _unique("Problems", taken)
    records = []
    for plan in preview.problem_rows:
        record: dict[str, object] = {c: plan.row.source.get(c, "") for c in columns}
        record[row_name] = plan.row.line
        record[fate_name] = plan.label
        record[problems_name] = row_problems(plan).replace("\n", " | ")
        records.append(record)
    frame = pd.DataFrame.from_records(
        records, columns=[*columns, row_name, fate_name, problems_name]
    )
    return to_csv_bytes(frame)


def routing_counts(rows: Iterable[RowPlan]) -> list[tuple[str, str, int]]:
    """(cm_id, user_id, rows) for the rows that will be sent, most rows first: where they go."""
    counts = Counter((r.row.lead.cm_id, r.row.lead.user_id) for r in rows if r.will_send)
    return [(cm, user, n) for (cm, user), n in counts.most_common()]


def routing_problem(preview: Preview) -> str:
    """Why the rows that will be sent cannot go as they are (no cm_id or no user ID, which
    PhoneBurner refuses); empty when every such row has both."""
    rows = [r for r in preview.rows if r.will_send]
    no_cm = sum(1 for r in rows if not r.row.lead.cm_id)
    no_user = sum(1 for r in rows if not r.row.lead.user_id)
    parts: list[str] = []
    if no_cm:
        parts.append(f"{no_cm:,} rows have no LeadStream ID (cm_id)")
    if no_user:
        parts.append(f"{no_user:,} rows have no user ID")
    if not parts:
        return ""
    return (
        " and ".join(parts) + ": PhoneBurner refuses such leads. Fill in the values for every "
        "row in step 2 (or the defaults in the sidebar), or map a column to them."
    )


# --- Sending and results -----------------------------------------------------------------------

OUTCOME_ORDER = ("delivered", "rejected", "failed", "uncertain", "invalid", "duplicate")


def outcome_rank(outcome: str) -> int:
    """Where an outcome comes in lists: delivered first, then what needs doing."""
    order = (*OUTCOME_ORDER, "not sent", "in flight")
    return order.index(outcome) if outcome in order else len(order)


def outcome_counts(by_outcome: Mapping[str, int]) -> list[tuple[str, int]]:
    """The outcomes with rows, in a fixed order (delivered first), for a summary line."""
    known = [(o, by_outcome.get(o, 0)) for o in OUTCOME_ORDER]
    extra = [(o, n) for o, n in by_outcome.items() if o not in OUTCOME_ORDER]
    return [(o, n) for o, n in known + extra if n]


def format_duration(seconds: float) -> str:
    """`45 s`, `3 min 20 s`, `1 h 5 min`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def progress_caption(progress: Progress) -> str:
    """`120 of 1,000 rows done (12%) · 45.2 leads a second · about 20 s left`."""
    percent = int(progress.fraction * 100)
    parts = [f"{progress.done:,} of {progress.total:,} rows done ({percent}%)"]
    if progress.rate_per_s > 0:
        parts.append(f"{progress.rate_per_s:.1f} leads a second")
        left = progress.pending + progress.in_flight
        if left and progress.state == "running":
            parts.append(f"about {format_duration(left / progress.rate_per_s)} left")
    if progress.elapsed_s >= 1:
        parts.append(f"{format_duration(progress.elapsed_s)} so far")
    return " · ".join(parts)


_SKIPPED_AS = {
    "delivered before": "skipped as already delivered",
    "repeated in the file": "skipped as repeated in the file",
    "being sent elsewhere": "skipped as another desk is sending them",
}
_FINISHED_AS = (
    ("rejected", "refused by PhoneBurner"),
    ("failed", "failed (certainly not taken, safe to send again)"),
    ("uncertain", "without a clear answer (check PhoneBurner)"),
    ("invalid", "not sent as they failed the checks"),
)


def finished_message(run_id: int, counts: Mapping[str, int], skipped: Mapping[str, int]) -> str:
    """What a finished run came to, every row accounted for: `Run #2 finished: 1 delivered,
    278 skipped as already delivered, 25 not sent as they failed the checks (304 rows).`

    `counts` are the run's rows by state, `skipped` its skipped (`duplicate`) rows by reason
    (`deliver.run_summary.skipped_by_reason`); skipped rows of no known reason are named as
    skipped duplicates, so the parts always add up to the run's rows."""
    parts = [f"{counts.get('delivered', 0):,} delivered"]
    named = 0
    for reason, words in _SKIPPED_AS.items():
        if number := skipped.get(reason, 0):
            parts.append(f"{number:,} {words}")
            named += number
    if other := counts.get("duplicate", 0) - named:
        parts.append(f"{other:,} skipped as duplicates")
    parts += [f"{counts[state]:,} {words}" for state, words in _FINISHED_AS if counts.get(state)]
    total = sum(counts.values())
    return f"Run #{run_id} finished: {', '.join(parts)} ({plural(total, 'row')})."


def finished_cleanly(counts: Mapping[str, int], skipped: Mapping[str, int]) -> bool:
    """Whether nothing is left to do: every row delivered, now or before."""
    done = counts.get("delivered", 0) + skipped.get("delivered before", 0)
    return done == sum(counts.values())


def local_time(stored: str) -> str:
    """A journal time (UTC ISO 8601) in this computer's time zone: `29 Nov 2026, 09:40`."""
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return stored
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%d %b %Y, %H:%M")


RESULTS_FIRST = ("row", "outcome", "code", "detail", "lead_url", "attempts")


def results_view(frame: pd.DataFrame, outcomes: Sequence[str] = ()) -> pd.DataFrame:
    """`bulk.results_frame` for the screen: spreadsheet row, outcome, code, detail, lead link
    and attempts first, then the file's columns; only `outcomes` when given."""
    if outcomes:
        frame = frame[frame["outcome"].isin(list(outcomes))]
    originals = [c for c in frame.columns if c not in RESULTS_FIRST]
    return frame[[*RESULTS_FIRST, *originals]].reset_index(drop=True)


def coloured(frame: pd.DataFrame, column: str) -> Styler:
    """`frame` with `column`'s cells coloured by what they say (a preview's "What will happen"
    or a result's outcome), so that a page of rows reads at a glance."""
    colours = _FATE_COLOURS | _OUTCOME_COLOURS

    def paint(value: object) -> str:
        colour = colours.get(str(value))
        return f"background-color: {colour}" if colour else ""

    return frame.style.map(paint, subset=[column])
