"""The single-lead form without the widgets: form values ↔ `Lead`, the vendor document's example
lead, the legend test's sample lead, and the sent-versus-received comparison.

The pages keep what the user typed (text, dates, ticks, phone rows, tags) in a `FormValues`;
this module turns it into the `Lead` that is sent, and a `Lead` (an example, a row of the
history) back into form values. Field names and labels come from `leadstream.protocol.lead`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, NamedTuple

from leadstream.prepare.dates import long_date, read_date
from leadstream.prepare.legend import (
    FieldType,
    Legend,
    ValueFormatError,
    format_custom_fields,
    format_value,
)
from leadstream.prepare.validate import Problem
from leadstream.protocol.lead import LEAD_FIELDS, STANDARD_FIELDS, Lead, Phone, PhoneType
from leadstream.protocol.query import QueryPairs, decode_query, encode_pairs, mask_secret

__all__ = [
    "EXAMPLE_LEAD",
    "FieldCheck",
    "FormError",
    "FormLead",
    "FormProblem",
    "FormValues",
    "Match",
    "PhoneRow",
    "ReceivedRow",
    "compare_fields",
    "dedupe_tags",
    "default_legend_name",
    "field_value",
    "form_from_lead",
    "is_blank",
    "lead_from_form",
    "phone_problems_by_row",
    "pick_legend",
    "received_rows",
    "resolve_typed_date",
    "sample_lead",
]

ROUTING_NAMES = ("user_id", "cm_id")
LABELS: dict[str, str] = {spec.name: spec.label for spec in LEAD_FIELDS}

# The vendor document's example GET, field for field. The document's copy hides the email
# address (a web page's anti-spam rewrite), so a reserved example.com address stands in.
EXAMPLE_LEAD = Lead(
    firstname="Jeff",
    lastname="Sample",
    email="jeff.sample@example.com",
    phone="(716) 293-2368",
    address1="114 Hickory St",
    address2="Apt 23",
    city="Buffalo",
    state="NY",
    zip="14204",
    custom_fields={"297989": "75048327", "195481": "12/24/2017"},
    user_id="377310706",
    cm_id="576846",
    additional_phones=[
        Phone("(702) 530-6954", PhoneType.WORK, "Work"),
        Phone("(646) 362-7327", PhoneType.HOME, "Home"),
    ],
    tags=["Hot Lead", "Lead Type"],
)


class FormError(ValueError):
    """Form values that cannot be used as given (a programming error in the caller)."""


@dataclass(frozen=True, slots=True)
class PhoneRow:
    """One additional phone as typed: number, type and label."""

    number: str = ""
    type: PhoneType = PhoneType.MOBILE
    label: str = ""

    @property
    def empty(self) -> bool:
        return not self.number.strip() and not self.label.strip()


CustomValue = str | date | bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FormValues:
    """Everything the form holds. `fields` maps `LEAD_FIELDS` names to text as typed (a blank
    user_id or cm_id means the connection's default); `custom` maps custom-field IDs to typed
    values: text, a `date`, a tick (`True`; unticked is left out), or None for empty."""

    fields: Mapping[str, str] = field(default_factory=dict)
    custom: Mapping[str, CustomValue] = field(default_factory=dict)
    phones: Sequence[PhoneRow] = ()
    tags: Sequence[str] = ()

    def __post_init__(self) -> None:
        unknown = set(self.fields) - set(LABELS)
        if unknown:
            raise FormError(f"Unknown form fields: {', '.join(sorted(unknown))}.")


class FormProblem(NamedTuple):
    """A problem with what was typed. `field` names the form field: `custom_field[ID]`, or
    `phone_row[N]` for the form's phone row N (counting from 0)."""

    field: str
    message: str


def _custom_for_wire(custom: Mapping[str, CustomValue]) -> dict[str, object]:
    """Typed custom values ready for `format_custom_fields`: unticked boxes and empty values
    are left out, so a new lead only carries what the user filled in."""
    ready: dict[str, object] = {}
    for field_id, value in custom.items():
        if value is None or value is False:
            continue
        if isinstance(value, str) and not value.strip():
            continue
        ready[str(field_id)] = value
    return ready


class FormLead(NamedTuple):
    """The lead a form describes. `problems` stop part of it from being sent; `phone_rows[i]`
    is the position in the form's rows of the lead's additional phone `i` (empty rows are
    skipped), so a check of `additional_phones[i]` can be shown on its row."""

    lead: Lead
    problems: list[FormProblem]
    phone_rows: list[int]


def lead_from_form(
    values: FormValues,
    *,
    legend: Legend | None = None,
    default_user_id: str = "",
    default_cm_id: str = "",
) -> FormLead:
    """The lead the form describes, with the problems that stop part of it from being sent.

    Standard fields are trimmed; a blank user_id or cm_id takes the default. Custom values are
    written as their legend type says; one that cannot be is left out and reported.
    """
    problems: list[FormProblem] = []
    scalars = {spec.name: values.fields.get(spec.name, "").strip() for spec in LEAD_FIELDS}
    scalars["user_id"] = scalars["user_id"] or default_user_id.strip()
    scalars["cm_id"] = scalars["cm_id"] or default_cm_id.strip()

    custom, custom_problems = format_custom_fields(legend, _custom_for_wire(values.custom))
    problems.extend(FormProblem(f"custom_field[{fid}]", msg) for fid, msg in custom_problems)

    phones: list[Phone] = []
    phone_rows: list[int] = []
    for position, row in enumerate(values.phones):
        if row.empty:
            continue
        if not row.number.strip():
            problems.append(
                FormProblem(
                    f"phone_row[{position}]",
                    f"Additional phone {position + 1} has a label but no number: type the "
                    "number or remove the row.",
                )
            )
            continue
        phones.append(Phone(row.number.strip(), row.type, row.label.strip()))
        phone_rows.append(position)

    tags: list[str] = []
    seen: set[str] = set()
    for tag in values.tags:
        cleaned = " ".join(str(tag).split())
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            tags.append(cleaned)

    lead = Lead(**scalars, custom_fields=custom, additional_phones=phones, tags=tags)
    return FormLead(lead, problems, phone_rows)


DateAnswer = Literal["as_read", "other"]


def resolve_typed_date(text: str, answer: DateAnswer | None) -> tuple[CustomValue, str]:
    """The value a date field sends, from what was typed and the answer to “which date is it?”,
    and the problem that stops the send ("" when none).

    A date that reads one way is that date; one that reads two ways (`1/5/2025`) is sent only
    once the person said which (`answer`); a text that is no date is kept as typed, so that
    `lead_from_form` reports it, never replaced by an earlier value.
    """
    reading = read_date(text)
    if reading.empty:
        return None, ""
    if reading.day is None:
        return text, ""
    if reading.other is None:
        return reading.day, ""
    if answer is None:
        return None, (
            f"“{text.strip()}” can be {long_date(reading.day)} or {long_date(reading.other)}: "
            "say which one it is."
        )
    return (reading.day if answer == "as_read" else reading.other), ""


def phone_problems_by_row(problems: Sequence[Problem], phone_rows: Sequence[int]) -> list[Problem]:
    """`problems` with each additional phone named by its row in the form: the lead's phone `i`
    is row `phone_rows[i]`, since rows without a number are not sent and would shift the
    count (`additional_phones[4]` from row 6 is “Additional phone 6”, field `phone_row[5]`)."""
    renamed: list[Problem] = []
    for problem in problems:
        inside = problem.field.removeprefix("additional_phones[").removesuffix("]")
        if inside == problem.field or not inside.isdigit() or int(inside) >= len(phone_rows):
            renamed.append(problem)
            continue
        row = phone_rows[int(inside)]
        message = problem.message.replace(
            f"Additional phone {int(inside) + 1}", f"Additional phone {row + 1}"
        )
        renamed.append(Problem(field=f"phone_row[{row}]", message=message, level=problem.level))
    return renamed


def dedupe_tags(tags: Sequence[str]) -> tuple[list[str], list[str]]:
    """Tags with repeats dropped, ignoring case and spacing (the first spelling stays), and the
    repeats that were dropped: PhoneBurner would keep only one of `Hot Lead` and `hot lead`."""
    kept: list[str] = []
    dropped: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        cleaned = " ".join(str(tag).split())
        if not cleaned:
            continue
        if cleaned.casefold() in seen:
            dropped.append(cleaned)
            continue
        seen.add(cleaned.casefold())
        kept.append(cleaned)
    return kept, dropped


def field_value(lead: Lead, name: str) -> str:
    """The value `lead` sends for a form field name (`email`, `custom_field[195481]`), to tell
    whether an answer about that field still applies."""
    if name.startswith("custom_field[") and name.endswith("]"):
        return lead.custom_fields.get(name[len("custom_field[") : -1], "")
    if name == "tags":
        return ",".join(lead.tags)
    if name.startswith(("phone_row[", "additional_phones")):
        return "|".join(p.number for p in lead.additional_phones)
    value = getattr(lead, name, "")
    return value if isinstance(value, str) else str(value)


def _typed_custom(spec_type: FieldType, text: str) -> CustomValue:
    """A wire value read back into what the form's widget for `spec_type` holds."""
    if spec_type is FieldType.CHECKBOX:
        try:
            return format_value(FieldType.CHECKBOX, text) == "1"
        except ValueFormatError:
            return False
    if spec_type is FieldType.DATE:
        try:
            written = format_value(FieldType.DATE, text)
        except ValueFormatError:
            return None
        return datetime.strptime(written, "%m/%d/%Y").date() if written else None
    return text


def form_from_lead(
    lead: Lead, *, legend: Legend | None = None, keep_routing: bool = True
) -> FormValues:
    """Form values showing `lead`. Custom fields in `legend` are typed by it (a date that cannot
    be read stays empty); the rest stay text. With `keep_routing` False the user_id and cm_id
    are left blank so the connection's defaults apply."""
    fields = {spec.name: str(getattr(lead, spec.name)) for spec in LEAD_FIELDS}
    if not keep_routing:
        for name in ROUTING_NAMES:
            fields[name] = ""
    custom: dict[str, CustomValue] = {}
    for field_id, text in lead.custom_fields.items():
        spec = legend.by_id(field_id) if legend is not None else None
        custom[field_id] = _typed_custom(spec.type, text) if spec else text
    phones = tuple(PhoneRow(p.number, p.type, p.label) for p in lead.additional_phones)
    return FormValues(fields=fields, custom=custom, phones=phones, tags=tuple(lead.tags))


def is_blank(values: FormValues) -> bool:
    """True when no standard field (name, email, phone, address…) has anything typed: such a
    lead is not sent."""
    return not any(values.fields.get(s.name, "").strip() for s in STANDARD_FIELDS)


def default_legend_name(
    legends: Sequence[Legend], cm_id: str, *, preferred: str = ""
) -> str | None:
    """The legend a page starts with for LeadStream `cm_id`: among the saved legends for it,
    `preferred` (the demo legend) when it is one of them, else the first; None when no saved
    legend is for it. Saved legends come sorted by name, and “Amp & Co leads” sorting before
    “Demo LeadStream” is no reason to choose it."""
    fitting = [legend.name for legend in legends if cm_id and legend.cm_id == cm_id]
    if preferred and preferred in fitting:
        return preferred
    return fitting[0] if fitting else None


def pick_legend(lead: Lead, legends: Sequence[Legend], *, default_cm_id: str = "") -> str | None:
    """The name of the saved legend that fits `lead` best: same cm_id (the lead's, else
    `default_cm_id`) and listing all its custom fields, then any listing them, then any with the
    same cm_id; None when none fits."""
    ids = set(lead.custom_fields)
    cm_id = lead.cm_id or default_cm_id
    for legend in legends:
        if legend.cm_id == cm_id and ids <= {f.id for f in legend.fields}:
            return legend.name
    for legend in legends:
        if ids and ids <= {f.id for f in legend.fields}:
            return legend.name
    for legend in legends:
        if legend.cm_id == cm_id:
            return legend.name
    return None


# ---------------------------------------------------------------------------------------------
# What the server receives


class ReceivedRow(NamedTuple):
    parameter: str
    value: str
    meaning: str


def received_rows(pairs: QueryPairs, *, legend: Legend | None = None) -> list[ReceivedRow]:
    """What the server will read from `pairs`, one row per value, the key masked.

    The pairs are encoded and decoded the way PHP reads them, so the table shows what arrives,
    not what was meant (a bracket mistake would show here).
    """
    decoded = decode_query(encode_pairs(pairs))
    rows: list[ReceivedRow] = []
    phone_types = {str(int(t)): t.label for t in PhoneType}
    for name, value in decoded.items():
        if isinstance(value, list):
            for index, item in enumerate(value, start=1):
                rows.append(
                    ReceivedRow(f"{name}[]", item, _list_meaning(name, index, item, phone_types))
                )
        elif isinstance(value, dict):
            for sub, item in value.items():
                meaning = _custom_meaning(sub, legend) if name == "custom_field" else ""
                rows.append(ReceivedRow(f"{name}[{sub}]", item, meaning))
        elif name == "key":
            rows.append(ReceivedRow("key", mask_secret(value), "Vendor key (hidden)"))
        else:
            rows.append(ReceivedRow(name, value, LABELS.get(name, "Not a put_contact field")))
    return rows


def _custom_meaning(field_id: str, legend: Legend | None) -> str:
    spec = legend.by_id(field_id) if legend is not None else None
    if spec is None:
        return "Custom field not in the chosen legend"
    return f"{spec.name} ({spec.type.label.lower()})"


def _list_meaning(name: str, index: int, item: str, phone_types: Mapping[str, str]) -> str:
    if name == "additional_phones":
        return f"Additional phone {index}: number"
    if name == "additional_phone_types":
        return f"Additional phone {index}: type ({phone_types.get(item, 'unknown type')})"
    if name == "additional_phone_labels":
        return f"Additional phone {index}: label"
    if name == "tags":
        return f"Tag {index}"
    return ""


# ---------------------------------------------------------------------------------------------
# The legend test


def _sample_value(field_type: FieldType, name: str, today: date) -> str:
    if field_type is FieldType.DATE:
        return format_value(FieldType.DATE, today)
    if field_type is FieldType.CHECKBOX:
        return "1"
    return f"Test {name}".strip()


def sample_lead(
    legend: Legend, *, user_id: str, cm_id: str, today: date, token: str
) -> tuple[Lead, dict[str, str]]:
    """A lead with a value in every field of `legend`, and the values sent (field ID → text).

    `token` makes the email unique, so the test can be repeated without `DUPLICATE EMAIL`.
    """
    sent = {f.id: _sample_value(f.type, f.name, today) for f in legend.fields}
    safe_token = "".join(ch for ch in token.lower() if ch.isalnum()) or "1"
    lead = Lead(
        firstname="Legend",
        lastname="Test",
        email=f"legend-test-{safe_token}@example.com",
        user_id=user_id,
        cm_id=cm_id,
        custom_fields=dict(sent),
        tags=["LeadStream Desk legend test"],
    )
    return lead, sent


class Match(StrEnum):
    SAME = "arrived as sent"
    CHANGED = "arrived changed"
    MISSING = "did not arrive"
    IGNORED = "not in this LeadStream: PhoneBurner ignores it"
    UNSEEN = "sent (what arrived cannot be seen on this target)"

    @property
    def ok(self) -> bool:
        return self in (Match.SAME, Match.UNSEEN)


@dataclass(frozen=True, slots=True)
class FieldCheck:
    id: str
    name: str
    type: FieldType
    sent: str
    received: str | None
    match: Match


def compare_fields(
    legend: Legend,
    sent: Mapping[str, str],
    received: Mapping[str, str] | None,
    *,
    ignored: Collection[str] = (),
) -> list[FieldCheck]:
    """Field by field, what was sent against what arrived. `received` is None when what arrived
    cannot be seen (a live target); `ignored` holds the IDs the server stored as unknown."""
    checks: list[FieldCheck] = []
    for spec in legend.fields:
        value = sent.get(spec.id, "")
        if received is None:
            got, match = None, Match.UNSEEN
        elif spec.id in ignored:
            got, match = received.get(spec.id), Match.IGNORED
        elif spec.id not in received:
            got, match = None, Match.MISSING
        else:
            got = received[spec.id]
            match = Match.SAME if got == value else Match.CHANGED
        checks.append(FieldCheck(spec.id, spec.name, spec.type, value, got, match))
    return checks
