"""Per-field checks of a lead before it is sent: email, phones, state, ZIP, custom fields, routing.

Every check returns the value normalised (the form PhoneBurner shows best) and at most one
`Problem`; `validate_lead` gathers them for a whole lead and never raises. An `error` means the
lead should not be sent as it is; a `warning` means it can be, but a person should know.
Bulk runs validate every row, so the checks avoid per-call setup and take fast paths for the
common shapes, falling back to email-validator and phonenumbers for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Literal

import email_validator
import phonenumbers

from leadstream.prepare.legend import FieldType, Legend, ValueFormatError, format_value
from leadstream.protocol.lead import LEAD_FIELDS, Lead, Phone
from leadstream.words import NO_EMAIL, zip_eight_digits, zip_too_short

__all__ = [
    "Checked",
    "CheckedLeads",
    "LeadColumns",
    "Level",
    "Problem",
    "check_email",
    "check_leads",
    "check_phone",
    "check_state",
    "check_zip",
    "validate_lead",
]

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one field, said for the person who typed it.

    `field` is the wire name: `email`, `phone`, `additional_phones[0]` (counting from 0, as the
    array on the wire does; the message counts from 1), `custom_field[195481]`, `tags`.
    """

    field: str
    message: str
    level: Level = "error"


@dataclass(frozen=True, slots=True)
class Checked:
    """A lead after its checks: the normalised copy and every problem found, in wire order."""

    lead: Lead
    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "warning")

    @property
    def ok(self) -> bool:
        """No errors: the lead may be sent (warnings allowed)."""
        return not any(p.level == "error" for p in self.problems)


_SHOWN_CHARS = 60
# Values longer than this are checked without being remembered: a cache of 32,767-character
# cells would hold hundreds of MB.
_CACHED_CHARS = 64


def _shown(text: str) -> str:
    """`text` quoted for a message, shortened when long: a cell of 32,767 characters must not
    make a message as long, once for every row of its column."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…")


_LABELS = {spec.name: spec.label for spec in LEAD_FIELDS}
_ADDITIONAL = re.compile(r"additional_phones\[(\d+)\]")


def _label(field: str) -> str:
    if field in _LABELS:
        return _LABELS[field]
    if m := _ADDITIONAL.fullmatch(field):
        return f"Additional phone {int(m[1]) + 1}"
    return field


# ---------------------------------------------------------------------------------------------
# Email

_NO_EMAIL = Problem("email", NO_EMAIL, "warning")
# The everyday shape of an address, in plain ASCII: anything this matches, email-validator
# accepts too (tests hold the two together), at a tenth of the cost. Everything else, valid or
# not, goes through email-validator.
_SIMPLE_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE_TLDS = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def check_email(value: str) -> tuple[str, Problem | None]:
    """The address with its domain lowercased (the part before `@` kept as typed).

    Empty: a warning. Not an address: an error. Deliverability is not checked (no network).
    """
    text = value.strip()
    if not text:
        return "", _NO_EMAIL
    m = _SIMPLE_EMAIL.fullmatch(text)
    if (
        m
        and len(text) <= 254
        and len(m["local"]) <= 64
        and "--" not in m["domain"]
        and m["domain"].rsplit(".", 1)[1].lower() not in _SPECIAL_USE_TLDS
    ):
        return f"{m['local']}@{m['domain'].lower()}", None
    try:
        checked = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as e:
        return text, Problem(
            "email",
            f"Email {_shown(text)} is not a valid address. {e} Correct it, or leave the email "
            "empty.",
        )
    # Keep the domain the way it was typed: Punycode stays Punycode, Unicode stays Unicode.
    normalised = (
        checked.ascii_email if text.isascii() and checked.ascii_email else checked.normalized
    )
    if checked.smtputf8:
        return normalised, Problem(
            "email",
            f"Email {_shown(text)} has characters beyond plain English letters before the @; many "
            "systems, possibly PhoneBurner, refuse such addresses. Check it with the lead.",
            "warning",
        )
    return normalised, None


# ---------------------------------------------------------------------------------------------
# Phones

_NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL
_INTERNATIONAL = phonenumbers.PhoneNumberFormat.INTERNATIONAL
# A North American number as people write it: 7162932368, (716) 293-2368, 716.293.2368,
# +1 716 293 2368, 1-716-293-2368. Its national format is "(716) 293-2368".
_NANP = re.compile(r"(?:\+?1[\s.-]*)?\(?([2-9]\d{2})\)?[\s.-]*(\d{3})[\s.-]*(\d{4})")
_TOO_SHORT = phonenumbers.ValidationResult.TOO_SHORT
_TOO_LONG = phonenumbers.ValidationResult.TOO_LONG


@lru_cache(maxsize=64)
def _country_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


def check_phone(
    value: str, *, region: str = "US", field: str = "phone"
) -> tuple[str, Problem | None]:
    """The number in national format when it is in `region`'s country (`(716) 293-2368`),
    international otherwise (`+44 20 7946 0958`). Numbers outside `region` need `+` or `00`.

    Empty: no problem (the phone is optional). Not a valid number: an error, the text kept.
    """
    text = value.strip()
    if not text:
        return "", None
    if len(text) > _CACHED_CHARS:
        return _check_phone.__wrapped__(text, region, field)
    return _check_phone(text, region, field)


@lru_cache(maxsize=8192)
def _check_phone(text: str, region: str, field: str) -> tuple[str, Problem | None]:
    home = _country_code(region)
    if home == 1 and (m := _NANP.fullmatch(text)):
        national = m[1] + m[2] + m[3]
        # Checking the region first is 2-3 times faster than letting phonenumbers try each of
        # the ~25 regions that share country code 1; its number object is only made then.
        if _valid_in_region(national, region) or phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        ):
            return f"({m[1]}) {m[2]}-{m[3]}", None
    to_parse = "+" + text[2:] if text.startswith("00") else text
    try:
        number = phonenumbers.parse(to_parse, region)
    except phonenumbers.NumberParseException:
        return text, _phone_problem(text, field, "")
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        detail = {_TOO_SHORT: " (too few digits)", _TOO_LONG: " (too many digits)"}
        return text, _phone_problem(text, field, detail.get(reason, ""))
    style = _NATIONAL if number.country_code == home else _INTERNATIONAL
    return phonenumbers.format_number(number, style), None


# The number types phonenumbers tells apart; a number is valid for a region when it matches
# the region's general pattern and the pattern of any one of these.
_NUMBER_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip


def _desc_pattern(desc: Any, length: int) -> str | None:
    """A number description's pattern when a national number of `length` digits may match
    it, as phonenumbers' `_is_number_matching_desc` decides."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return str(desc.national_number_pattern)


@lru_cache(maxsize=256)
def _region_patterns(region: str, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The general pattern and all type patterns in one, for national numbers of `length`
    digits in `region`; None when no number of that length can be valid there."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None:
        return None
    general = _desc_pattern(metadata.general_desc, length)
    kinds = [p for name in _NUMBER_TYPES if (p := _desc_pattern(getattr(metadata, name), length))]
    if general is None or not kinds:
        return None
    return re.compile(general), re.compile("|".join(f"(?:{p})" for p in kinds))


def _valid_in_region(national: str, region: str) -> bool:
    """`phonenumbers.is_valid_number_for_region` for a number of `region`'s own country code
    given by its national digits, without phonenumbers' per-type calls: one match against the
    general pattern and one against all type patterns at once (a third of the cost; tests
    hold the two together)."""
    patterns = _region_patterns(region, len(national))
    return (
        patterns is not None
        and patterns[0].fullmatch(national) is not None
        and patterns[1].fullmatch(national) is not None
    )


def _phone_problem(text: str, field: str, detail: str) -> Problem:
    return Problem(
        field,
        f"{_label(field)} {_shown(text)} is not a valid phone number{detail}. Write it with the "
        "area code, e.g. (716) 293-2368; a number in another country starts with + and the country "
        "code, e.g. +44 20 7946 0958.",
    )


# ---------------------------------------------------------------------------------------------
# State and ZIP

_US_COUNTRY = frozenset({"us", "usa", "u s", "u s a", "united states", "united states of america"})


def _is_us(country: str, region: str) -> bool:
    if not country:  # nearly every lead: skip the tidying
        return region == "US"
    cleaned = " ".join(country.lower().replace(".", " ").split())
    return cleaned in _US_COUNTRY if cleaned else region == "US"


_STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands", "UM": "U.S. Minor Outlying Islands",
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}  # fmt: skip
# Other spellings seen in address lists: the AP style abbreviations ("N.Y." is covered by
# dropping dots), older postal forms, and common variants.
_STATE_SPELLINGS = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO",
    "conn": "CT", "del": "DE", "fla": "FL", "ill": "IL", "ind": "IN", "kan": "KS",
    "kans": "KS", "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mont": "MT",
    "neb": "NE", "nebr": "NE", "nev": "NV", "okla": "OK", "ore": "OR", "oreg": "OR",
    "penn": "PA", "penna": "PA", "tenn": "TN", "tex": "TX", "wash": "WA", "wis": "WI",
    "wisc": "WI", "wyo": "WY", "w va": "WV", "washington dc": "DC", "washington d c": "DC",
    "d c": "DC", "virgin islands": "VI", "us virgin islands": "VI", "u s virgin islands": "VI",
}  # fmt: skip


def _state_key(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").replace("-", " ").replace(",", " ").split())


_STATES: dict[str, str] = {
    **{_state_key(name): code for code, name in _STATE_NAMES.items()},
    **_STATE_SPELLINGS,
    **{code.lower(): code for code in _STATE_NAMES},
}
# "N.Y." and "N. Y." become "n y": join single letters so they meet the code.
_SPACED_LETTERS = re.compile(r"^([a-z]) ([a-z])$")


def check_state(value: str, *, country: str = "", region: str = "US") -> tuple[str, Problem | None]:
    """A US state or territory as its 2-letter code (`new york`, `N.Y.`, `ny` → `NY`).

    Unknown for a US lead: a warning and the value kept (the lead may be abroad). For a lead
    whose country is not the US, the value is kept as typed.
    """
    text = value.strip()
    if not text or not _is_us(country, region):
        return text, None
    return _check_state(text)


@lru_cache(maxsize=1024)
def _check_state(text: str) -> tuple[str, Problem | None]:
    key = _SPACED_LETTERS.sub(r"\1\2", _state_key(text))
    code = _STATES.get(key)
    if code:
        return code, None
    return text, Problem(
        "state",
        f"State {_shown(text)} is not a US state or territory; it will be sent as typed. For a US "
        "lead use the 2-letter code, e.g. NY; for a lead abroad fill in Country.",
        "warning",
    )


# ASCII digits only: `\d` also takes Arabic-Indic and full-width digits (１４２０４), which would
# be sent as they are. Those are turned into ASCII digits first.
_ZIP5 = re.compile(r"[0-9]{5}")
_ZIP9 = re.compile(r"([0-9]{5})\s*-?\s*([0-9]{4})")
_DIGITS = re.compile(r"[0-9]+")
_FLOAT_ARTEFACT = re.compile(r"([0-9]+)\.0+")  # 14204.0: a ZIP read as a number


def check_zip(value: str, *, country: str = "", region: str = "US") -> tuple[str, Problem | None]:
    """A US ZIP code as `14204` or `14204-1234`, leading zeros kept.

    A code that looks like a ZIP which lost its leading zero in a spreadsheet (`2134`) is kept
    with a warning suggesting the fix: it cannot be known for sure. A lead whose country is not
    the US keeps its postal code as typed.
    """
    text = value.strip()
    if not text or not _is_us(country, region):
        return text, None
    return _check_zip(text)


@lru_cache(maxsize=4096)
def _check_zip(text: str) -> tuple[str, Problem | None]:
    if not text.isascii():
        digits = "".join(str(int(ch)) if ch.isdecimal() else ch for ch in text)
        if digits != text:
            normalised, problem = _check_zip(digits)
            if problem is None:
                return normalised, None
    if m := _FLOAT_ARTEFACT.fullmatch(text):
        text = m[1]
    if _ZIP5.fullmatch(text):
        return text, None
    if m := _ZIP9.fullmatch(text):
        return f"{m[1]}-{m[2]}", None
    if _DIGITS.fullmatch(text) and len(text) == 8:
        suggestion = f"0{text[:4]}-{text[4:]}"
        return text, _zip_warning(zip_eight_digits(_shown(text), suggestion))
    if _DIGITS.fullmatch(text) and len(text) < 5:
        suggestion = text.zfill(5)
        return text, _zip_warning(zip_too_short(_shown(text), len(text), suggestion))
    return text, _zip_warning(
        f"ZIP code {_shown(text)} does not look like a US ZIP code (5 digits, or ZIP+4 like "
        "14204-1234). If the lead is outside the US, fill in Country."
    )


def _zip_warning(message: str) -> Problem:
    return Problem("zip", message, "warning")


# ---------------------------------------------------------------------------------------------
# The whole lead

_FIELD_ID = re.compile(r"[0-9]+")
_SETTINGS_HINT = {
    "user_id": "the PhoneBurner user who receives the lead, e.g. 377310706",
    "cm_id": "the LeadStream the lead is posted to, e.g. 576846",
}


@dataclass(slots=True)
class LeadColumns:
    """Many leads held field by field, the way a file gives them, so that each distinct value
    of a column is checked once (a file repeats its states, dates and settings on every row).

    `fields` maps a standard field (`LEAD_FIELDS`) to its `count` values; a field it lacks is
    empty in every lead. `custom_fields` lists each custom field ID with its values (None: that
    lead has no such field), in the order the leads list them. `additional_phones` and `tags`
    hold each lead's own list, or are None when no lead has any.
    """

    count: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    custom_fields: list[tuple[str, list[str | None]]] = field(default_factory=list)
    additional_phones: list[list[Phone]] | None = None
    tags: list[list[str]] | None = None

    @classmethod
    def of(cls, lead: Lead) -> LeadColumns:
        """One lead as columns of one value."""
        return cls(
            1,
            {name: [getattr(lead, name)] for name in _SCALARS},
            [(field_id, [value]) for field_id, value in lead.custom_fields.items()],
            [list(lead.additional_phones)],
            [list(lead.tags)],
        )

    def leads(self) -> list[Lead]:
        """Every lead, each with its own dict and lists."""
        blank = [""] * self.count
        scalars = [self.fields.get(name, blank) for name in _SCALARS]
        phones = self.additional_phones or [[] for _ in range(self.count)]
        tags = self.tags or [[] for _ in range(self.count)]
        return [
            Lead(*values)
            for values in zip(*scalars, self._custom_dicts(), phones, tags, strict=True)
        ]

    def _custom_dicts(self) -> list[dict[str, str]]:
        if not self.custom_fields:
            return [{} for _ in range(self.count)]
        ids = [field_id for field_id, _ in self.custom_fields]
        return [
            {field_id: value for field_id, value in zip(ids, row, strict=True) if value is not None}
            for row in zip(*(values for _, values in self.custom_fields), strict=True)
        ]


@dataclass(frozen=True, slots=True)
class CheckedLeads:
    """Leads after their checks: the normalised columns, and each lead's problems (by its
    position; a lead without problems is not listed) in wire order."""

    columns: LeadColumns
    problems: dict[int, list[Problem]]


def validate_lead(lead: Lead, *, legend: Legend | None = None, region: str = "US") -> Checked:
    """Every check of `lead`, gathered: the normalised copy and its problems in wire order.

    With a `legend`, custom-field values are checked against their field's type (and written
    the way PhoneBurner takes them, e.g. a date as MM/DD/YYYY), and IDs it does not list are
    flagged. `region` is the country assumed for phone numbers without `+` and for addresses
    without a country. This is `check_leads` for one lead: a form and a file are checked alike.
    """
    checked = check_leads(LeadColumns.of(lead), legend=legend, region=region)
    return Checked(checked.columns.leads()[0], tuple(checked.problems.get(0, ())))


def check_leads(
    leads: LeadColumns, *, legend: Legend | None = None, region: str = "US"
) -> CheckedLeads:
    """`validate_lead` for every lead of `leads` at once: the same checks in the same order,
    each distinct value of a column checked once."""
    found: dict[int, list[Problem]] = {}
    blank = [""] * leads.count
    values = dict(leads.fields)
    column = values.get
    country = column("country", blank)
    values["email"] = _checked(column("email", blank), check_email, found)
    values["phone"] = _checked(column("phone", blank), partial(check_phone, region=region), found)
    for name, check in (("state", check_state), ("zip", check_zip)):
        values[name] = _checked_by_country(column(name, blank), country, check, region, found)
    customs = _checked_custom_fields(leads.custom_fields, column("cm_id", blank), legend, found)
    for name in ("user_id", "cm_id"):
        values[name] = _checked(column(name, blank), partial(_check_routing, name), found)
    phones = leads.additional_phones
    if phones is not None:
        phones = _checked_additional_phones(phones, region, found)
    tags = leads.tags
    if tags is not None:
        tags = _checked_tags(tags, found)
    return CheckedLeads(LeadColumns(leads.count, values, customs, phones, tags), found)


_SCALARS = tuple(spec.name for spec in LEAD_FIELDS)
CheckResult = tuple[str, Problem | None]


def _note(found: dict[int, list[Problem]], index: int, problem: Problem) -> None:
    if index in found:
        found[index].append(problem)
    else:
        found[index] = [problem]


def _checked(
    values: list[str], check: Callable[[str], CheckResult], found: dict[int, list[Problem]]
) -> list[str]:
    """`check` of every value (once for each distinct one): the normalised values, and the
    problems noted in `found` under each value's position."""
    results = {value: check(value) for value in dict.fromkeys(values)}
    if any(problem is not None for _, problem in results.values()):
        for index, value in enumerate(values):
            if (problem := results[value][1]) is not None:
                _note(found, index, problem)
    return [results[value][0] for value in values]


def _checked_by_country(
    values: list[str],
    countries: list[str],
    check: Callable[..., CheckResult],
    region: str,
    found: dict[int, list[Problem]],
) -> list[str]:
    """As `_checked`, for a check that also depends on each lead's country (state, ZIP):
    only whether it is the US matters, so every spelling of the US is checked as one."""
    home = {country: "US" if _is_us(country, region) else country for country in set(countries)}
    if len(set(home.values())) == 1:  # the usual file: one country, or none given
        return _checked(values, partial(check, country=home[countries[0]], region=region), found)
    pairs = [(value, home[country]) for value, country in zip(values, countries, strict=True)]
    results = {
        pair: check(pair[0], country=pair[1], region=region) for pair in dict.fromkeys(pairs)
    }
    for index, pair in enumerate(pairs):
        if (problem := results[pair][1]) is not None:
            _note(found, index, problem)
    return [results[pair][0] for pair in pairs]


def _check_routing(name: str, raw: str) -> tuple[str, Problem | None]:
    """`user_id` or `cm_id` trimmed: empty is an error, anything but digits a warning."""
    if raw.isascii() and raw.isdigit():  # the usual case, twice a row
        return raw, None
    value = raw.strip()
    label = _label(name)
    if not value:
        return value, Problem(
            name,
            f"{label} is empty: fill it in under Connection settings ({_SETTINGS_HINT[name]}).",
        )
    if not _FIELD_ID.fullmatch(value):
        return value, Problem(
            name,
            f"{label} {_shown(value)} should be digits only ({_SETTINGS_HINT[name]}); "
            "PhoneBurner will likely refuse it. Check the Connection settings.",
            "warning",
        )
    return value, None


def _check_tags(tags: list[str]) -> tuple[list[str], Problem | None]:
    """The tags trimmed, empty ones left out with a warning."""
    kept = [tag.strip() for tag in tags if tag.strip()]
    if len(kept) == len(tags):
        return kept, None
    empty = len(tags) - len(kept)
    return kept, Problem(
        "tags",
        f"{empty} empty tag{'s' if empty > 1 else ''} left out; PhoneBurner has no use "
        "for a tag without a name.",
        "warning",
    )


def _legend_mismatch(legend: Legend, cm_id: str) -> Problem | None:
    """A warning when `cm_id` is another LeadStream's than the legend's."""
    if cm_id in ("", legend.cm_id):
        return None
    return Problem(
        "cm_id",
        f"The legend is for LeadStream {legend.cm_id}, but this lead goes to {cm_id}; custom "
        "field IDs differ between LeadStreams. Load the legend of this LeadStream, or correct "
        "the LeadStream ID.",
        "warning",
    )


def _checked_custom_fields(
    customs: list[tuple[str, list[str | None]]],
    cm_ids: list[str],
    legend: Legend | None,
    found: dict[int, list[Problem]],
) -> list[tuple[str, list[str | None]]]:
    """The custom fields normalised by the legend (after a warning for a lead whose cm_id is
    not the legend's), their problems noted in `found`."""
    if legend is not None and legend.cm_id:
        mismatch = {cm_id: _legend_mismatch(legend, cm_id.strip()) for cm_id in set(cm_ids)}
        if any(mismatch.values()):
            for index, cm_id in enumerate(cm_ids):
                if (problem := mismatch[cm_id]) is not None:
                    _note(found, index, problem)
    checked: list[tuple[str, list[str | None]]] = []
    for field_id, values in customs:
        check = _custom_field_check(field_id, legend)
        if isinstance(check, _Kept):  # the same verdict for every value: no value is looked at
            if check.problem is not None:
                for index, value in enumerate(values):
                    if value is not None:
                        _note(found, index, check.problem)
            checked.append((field_id, values))
            continue
        results = {value: check(value) for value in dict.fromkeys(values) if value is not None}
        if any(problem is not None for _, problem in results.values()):
            for index, value in enumerate(values):
                if value is not None and (problem := results[value][1]) is not None:
                    _note(found, index, problem)
        checked.append(
            (field_id, [None if value is None else results[value][0] for value in values])
        )
    return checked


@dataclass(frozen=True, slots=True)
class _Kept:
    """A custom field whose values are all kept as they are, each with `problem` (if any)."""

    problem: Problem | None = None


def _custom_field_check(
    field_id: str, legend: Legend | None
) -> Callable[[str], CheckResult] | _Kept:
    """The check of one custom field's values: its ID must be digits, the legend must list it,
    and its values must fit the legend's type for it."""
    wire = f"custom_field[{field_id}]"
    if not _FIELD_ID.fullmatch(field_id):
        return _Kept(
            Problem(
                wire,
                f"Custom field ID {_shown(field_id)} is not a number. Use the digits of "
                "custom_field[...] in PhoneBurner's legend, e.g. 195481.",
            )
        )
    spec = legend.by_id(field_id) if legend is not None else None
    if legend is not None and spec is None:
        return _Kept(
            Problem(
                wire,
                f"Custom field {field_id} is not in the legend, so PhoneBurner will ignore it. "
                "Check the ID, or add the field to the legend.",
                "warning",
            )
        )
    if spec is None or spec.type is FieldType.TEXT:
        return _Kept()
    kind, name = spec.type, spec.name

    def check(value: str) -> CheckResult:
        if not value.strip():
            return value, None
        formatted, error = _formatted(kind, value)
        if error is not None:
            return value, Problem(wire, f"{name} (custom field {field_id}): {error}")
        return formatted, None

    return check


def _formatted(kind: FieldType, value: str) -> tuple[str, str | None]:
    """`format_value(kind, value)`, or the value and the error's text when it cannot be
    formatted; remembered, since a file repeats its dates and checkbox words many times."""
    if len(value) > _CACHED_CHARS:
        return _format_once(kind, value)
    return _format_remembered(kind, value)


def _format_once(kind: FieldType, value: str) -> tuple[str, str | None]:
    try:
        return format_value(kind, value), None
    except ValueFormatError as e:
        return value, str(e)


_format_remembered = lru_cache(maxsize=4096)(_format_once)


def _checked_additional_phones(
    phones: list[list[Phone]], region: str, found: dict[int, list[Problem]]
) -> list[list[Phone]]:
    """Each lead's additional phones normalised, their problems noted in `found`. The same
    number in the same place (`additional_phones[0]`…) is checked once."""
    results: dict[tuple[str, int], CheckResult] = {}
    checked: list[list[Phone]] = []
    for index, own in enumerate(phones):
        kept: list[Phone] = []
        for place, phone in enumerate(own):
            key = (phone.number, place)
            result = results.get(key)
            if result is None:
                result = results[key] = _check_additional_phone(phone.number, place, region)
            number, problem = result
            if problem is not None:
                _note(found, index, problem)
            kept.append(phone if number == phone.number else Phone(number, phone.type, phone.label))
        checked.append(kept)
    return checked


def _check_additional_phone(number: str, place: int, region: str) -> CheckResult:
    wire = f"additional_phones[{place}]"
    if not number.strip():
        return number, Problem(
            wire, f"{_label(wire)} has no number. Type the number or remove that phone."
        )
    return check_phone(number, region=region, field=wire)


def _checked_tags(tags: list[list[str]], found: dict[int, list[Problem]]) -> list[list[str]]:
    """Each lead's tags trimmed, empty ones left out (and noted in `found`)."""
    checked: list[list[str]] = []
    for index, own in enumerate(tags):
        kept, problem = _check_tags(own)
        if problem is not None:
            _note(found, index, problem)
        checked.append(kept)
    return checked
