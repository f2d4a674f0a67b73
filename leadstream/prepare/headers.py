"""Which lead field a column header means: the headers real exports use, near misses, full names.

This module owns the one table of header spellings seen in the exports of the tools PhoneBurner
customers keep their contacts in (HubSpot, Salesforce, Zoho, Pipedrive, Google and Outlook
contacts, Mailchimp-style mailing lists, and sheets typed by hand), the fuzzy match for headers
that miss a spelling by a letter or two, how sure each match is, and the rule that splits a
full name into first and last name.

It knows targets only as the strings `prepare.mapping` uses (`email`, `phone:mobile`, `tags`,
`custom_field[ID]`, `fullname`), so that mapping can import it without a cycle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from leadstream.prepare.legend import Legend
from leadstream.protocol.lead import LEAD_FIELDS, PhoneType

__all__ = [
    "FULL_NAME",
    "FUZZY_THRESHOLD",
    "SYNONYMS",
    "HeaderMatch",
    "MatchKind",
    "confidence_labels",
    "header_key",
    "match_headers",
    "split_full_name",
    "unmatched_warning",
]

FULL_NAME = "fullname"
# How alike a header and a known spelling must be (Damerau-Levenshtein similarity, in percent,
# so a swapped pair of letters counts as one slip): `Emial` is 80, `Zipcod` 86. Below it a near
# miss is more often another field: `Contact owner` is 67 from `Contact Phone`.
FUZZY_THRESHOLD = 80
# Headers shorter than this (once squeezed) are not fuzzy-matched: `stat` is as close to
# `state` as to `status`.
_FUZZY_MIN_CHARS = 5

MatchKind = Literal["exact", "synonym", "fuzzy", "none"]

# target → (spelling, where it comes from). The first entry of a standard field is not needed:
# a field's own name and label always match exactly. Spellings are compared squeezed (case,
# spaces, punctuation and accents ignored), so `State/Region` also covers `state region`.
SYNONYMS: dict[str, tuple[tuple[str, str], ...]] = {
    "firstname": (
        ("First Name", "HubSpot, Salesforce, Zoho, Mailchimp"),
        ("FNAME", "Mailchimp merge tag"),
        ("Given Name", "Google Contacts"),
        ("Forename", "typed by hand"),
        ("First", "typed by hand"),
        ("Person - First name", "Pipedrive"),
        ("Contact First Name", "CRM report"),
        ("Lead First Name", "CRM report"),
        ("Name (First)", "web form"),
    ),
    "lastname": (
        ("Last Name", "HubSpot, Salesforce, Zoho, Mailchimp"),
        ("LNAME", "Mailchimp merge tag"),
        ("Family Name", "Google Contacts"),
        ("Surname", "typed by hand"),
        ("Last", "typed by hand"),
        ("Person - Last name", "Pipedrive"),
        ("Contact Last Name", "CRM report"),
        ("Lead Last Name", "CRM report"),
        ("Name (Last)", "web form"),
    ),
    FULL_NAME: (
        ("Full Name", "Salesforce report, Zoho"),
        ("Name", "Pipedrive, typed by hand"),
        ("Contact", "typed by hand"),
        ("Contact Name", "Zoho, Salesforce report"),
        ("Person - Name", "Pipedrive"),
        ("Person Name", "CRM report"),
        ("Lead Name", "CRM report"),
        ("Customer Name", "typed by hand"),
        ("Client Name", "typed by hand"),
        ("Display Name", "Outlook"),
        ("Contact Person", "typed by hand"),
    ),
    "email": (
        ("Email Address", "Mailchimp, Constant Contact"),
        ("E-mail Address", "Outlook"),
        ("E-mail 1 - Value", "Google Contacts"),
        ("Email 1", "typed by hand"),
        ("Primary Email", "CRM"),
        ("Work Email", "HubSpot"),
        ("Business Email", "typed by hand"),
        ("Contact Email", "CRM report"),
        ("Person - Email", "Pipedrive"),
        ("Person - Email - Work", "Pipedrive"),
        ("Email Addresses", "typed by hand"),
        ("Mail", "typed by hand"),
    ),
    "phone": (
        ("Phone Number", "HubSpot, Mailchimp"),
        ("Phone 1 - Value", "Google Contacts"),
        ("Primary Phone", "Outlook, CRM"),
        ("Main Phone", "typed by hand"),
        ("Person - Phone", "Pipedrive"),
        ("Contact Phone", "CRM report"),
        ("Telephone", "typed by hand"),
        ("Telephone Number", "typed by hand"),
        ("Tel", "typed by hand"),
        ("Phone #", "typed by hand"),
        ("Phone 1", "typed by hand"),
        ("Ph", "typed by hand"),
    ),
    "phone:mobile": (
        ("Mobile Phone Number", "HubSpot"),
        ("Mobile", "Salesforce, Zoho"),
        ("Mobile Phone", "Outlook, Salesforce"),
        ("Cell", "typed by hand"),
        ("Cell Phone", "typed by hand"),
        ("Cell Number", "typed by hand"),
        ("Person - Phone - Mobile", "Pipedrive"),
        ("Phone - Mobile", "Pipedrive"),
    ),
    "phone:work": (
        ("Business Phone", "Outlook"),
        ("Work Phone", "typed by hand"),
        ("Office Phone", "typed by hand"),
        ("Direct Phone", "CRM"),
        ("Person - Phone - Work", "Pipedrive"),
        ("Phone - Work", "Pipedrive"),
        ("Company Phone", "HubSpot"),
    ),
    "phone:home": (
        ("Home Phone", "Salesforce, Zoho, Outlook"),
        ("Person - Phone - Home", "Pipedrive"),
        ("Phone - Home", "Pipedrive"),
    ),
    "phone:fax": (
        ("Fax", "Salesforce, Zoho"),
        ("Fax Number", "HubSpot"),
        ("Business Fax", "Outlook"),
    ),
    "phone:other": (
        ("Other Phone", "Salesforce, Zoho, Outlook"),
        ("Alternate Phone", "typed by hand"),
        ("Alt Phone", "typed by hand"),
        ("Secondary Phone", "typed by hand"),
        ("Phone 2", "typed by hand"),
        ("Person - Phone - Other", "Pipedrive"),
    ),
    "address1": (
        ("Street Address", "HubSpot"),
        ("Mailing Street", "Salesforce, Zoho"),
        ("Billing Street", "Salesforce"),
        ("Business Street", "Outlook"),
        ("Home Street", "Outlook"),
        ("Address", "Mailchimp, typed by hand"),
        ("Address 1", "typed by hand"),
        ("Address Line 1", "typed by hand"),
        ("Street", "typed by hand"),
        ("Address 1 - Street", "Google Contacts"),
        ("Person - Postal address", "Pipedrive"),
        ("Postal address - Street/road name", "Pipedrive"),
    ),
    "address2": (
        ("Street Address 2", "HubSpot"),
        ("Address 2", "typed by hand"),
        ("Address Line 2", "typed by hand"),
        ("Mailing Street 2", "CRM"),
        ("Apt/Suite", "typed by hand"),
        ("Suite", "typed by hand"),
        ("Unit", "typed by hand"),
        ("Address 1 - Extended Address", "Google Contacts"),
    ),
    "city": (
        ("Mailing City", "Salesforce, Zoho"),
        ("Billing City", "Salesforce"),
        ("Business City", "Outlook"),
        ("Home City", "Outlook"),
        ("Town", "typed by hand"),
        ("Town/City", "typed by hand"),
        ("Address 1 - City", "Google Contacts"),
        ("Postal address - City/town/village/locality", "Pipedrive"),
        ("Person - Postal address - City/town/village/locality", "Pipedrive"),
    ),
    "state": (
        ("State/Region", "HubSpot"),
        ("Mailing State/Province", "Salesforce"),
        ("Mailing State", "Zoho"),
        ("Billing State/Province", "Salesforce"),
        ("Business State", "Outlook"),
        ("Home State", "Outlook"),
        ("State/Province", "typed by hand"),
        ("Province", "typed by hand"),
        ("Region", "typed by hand"),
        ("State Code", "typed by hand"),
        ("ST", "typed by hand"),
        ("Address 1 - Region", "Google Contacts"),
        ("Postal address - State/county", "Pipedrive"),
        ("Person - Postal address - State/county", "Pipedrive"),
    ),
    "zip": (
        ("Postal Code", "HubSpot"),
        ("Mailing Zip/Postal Code", "Salesforce"),
        ("Mailing Zip", "Zoho"),
        ("Mailing Postal Code", "CRM"),
        ("Billing Zip/Postal Code", "Salesforce"),
        ("Business Postal Code", "Outlook"),
        ("Home Postal Code", "Outlook"),
        ("Zip", "typed by hand"),
        ("Zip Code", "Mailchimp, typed by hand"),
        ("Zipcode", "typed by hand"),
        ("Postcode", "typed by hand"),
        ("ZIP/Postal Code", "typed by hand"),
        ("Address 1 - Postal Code", "Google Contacts"),
        ("Postal address - ZIP/Postal code", "Pipedrive"),
        ("Person - Postal address - ZIP/Postal code", "Pipedrive"),
    ),
    "country": (
        ("Country/Region", "HubSpot"),
        ("Mailing Country", "Salesforce, Zoho"),
        ("Billing Country", "Salesforce"),
        ("Business Country/Region", "Outlook"),
        ("Home Country/Region", "Outlook"),
        ("Country Code", "typed by hand"),
        ("Nation", "typed by hand"),
        ("Address 1 - Country", "Google Contacts"),
        ("Postal address - Country", "Pipedrive"),
        ("Person - Postal address - Country", "Pipedrive"),
    ),
    "promocode": (
        ("Promo Code", "typed by hand"),
        ("Promo", "typed by hand"),
        ("Source Code", "typed by hand"),
        ("Ad Code", "typed by hand"),
        ("Coupon Code", "typed by hand"),
    ),
    "tags": (
        ("Tags", "Mailchimp, typed by hand"),
        ("Tag", "typed by hand"),
        ("Labels", "typed by hand"),
        ("Keywords", "typed by hand"),
        ("Group Membership", "Google Contacts"),
        ("Categories", "Outlook"),
        ("Person - Labels", "Pipedrive"),
    ),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class HeaderMatch:
    """What one header was matched to, and how sure the match is.

    `kind` is `exact` (the field's own name or label, a legend field's name, `custom_field[ID]`),
    `synonym` (a spelling a known export uses; `source` says which), `fuzzy` (a near miss,
    `score` 0–100 against `close_to`) or `none`. `note` says, for an unmatched header, why.
    """

    header: str
    target: str | None
    kind: MatchKind
    score: int = 0
    source: str = ""
    close_to: str = ""
    note: str = ""

    @property
    def confidence(self) -> str:
        """How sure the match is, in words a page can show beside the choice."""
        if self.kind == "exact":
            return "Exact"
        if self.kind == "synonym":
            return f"Known header ({self.source})" if self.source else "Known header"
        if self.kind == "fuzzy":
            return f"Close to “{self.close_to}” ({self.score}%): check it"
        return self.note or "No match: not sent"


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9#]+")


def _words(header: str) -> str:
    text = unicodedata.normalize("NFKD", _CAMEL.sub(" ", header.strip()))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", text).replace("#", " number ").strip()


def header_key(header: str) -> str:
    """`header` squeezed for comparing: lower case, no accents, spaces or punctuation; `#` read
    as `number`, so `Phone #` and `Phone Number` agree."""
    return "".join(_words(header).split())


class _Spelling:
    __slots__ = ("kind", "source", "target", "text")

    def __init__(self, target: str, text: str, kind: MatchKind, source: str) -> None:
        self.target, self.text, self.kind, self.source = target, text, kind, source


def _table() -> dict[str, _Spelling]:
    table: dict[str, _Spelling] = {}
    for spec in LEAD_FIELDS:
        for spelling in (spec.label, spec.name):
            table.setdefault(header_key(spelling), _Spelling(spec.name, spelling, "exact", ""))
    for target, spellings in SYNONYMS.items():
        for spelling, source in spellings:
            key = header_key(spelling)
            known = table.get(key)
            if known is None:
                table[key] = _Spelling(target, spelling, "synonym", source)
            elif known.kind == "synonym" and known.target == target:
                # `Email Address` and `E-mail Address` squeeze alike: name every export.
                sources = [*known.source.split(", "), *source.split(", ")]
                known.source = ", ".join(dict.fromkeys(s for s in sources if s))
    for spec in LEAD_FIELDS:
        for alias in spec.aliases:
            table.setdefault(header_key(alias), _Spelling(spec.name, alias, "synonym", ""))
    return table


_TABLE = _table()
# Very short spellings (`st`, `tel`) are too easy to be near: they match only exactly.
_FUZZY_CHOICES = {k: s.text for k, s in _TABLE.items() if len(k) >= 4}
_FUZZY_TARGETS = {k: s.target for k, s in _TABLE.items()}
_CUSTOM_HEADER = re.compile(
    r"^\s*custom[\s_-]*fields?\s*\[\s*(?P<id>[A-Za-z0-9_-]+)\s*\]\s*$", re.IGNORECASE
)
_TAG_HEADER = re.compile(r"^(tags?|labels?|keywords?)( ?\d+)?$")
_PHONE_WORDS = {"phone", "phones", "telephone", "tel", "mobile", "cell", "cellular", "fax"}
# A column about phones that is not a number itself (its type, label or extension).
_PHONE_NOT_NUMBER = {
    "type", "types", "label", "labels", "ext", "extension", "status", "opt", "verified",
    "country", "code",
}  # fmt: skip
_EXTRA_TYPE_WORDS = {"cellular": PhoneType.MOBILE, "alt": PhoneType.OTHER}


def _phone_type_of(words: str) -> PhoneType | None:
    """The type of phone a header names (`Work Phone 3` → WORK), None when it is not a phone."""
    tokens: list[str] = []
    for token in words.split():
        token = token.rstrip("0123456789")
        if token.endswith("phone") and token != "phone":
            tokens += [token.removesuffix("phone"), "phone"]  # `homephone`, `cellphone`
        elif token:
            tokens.append(token)
    if not set(tokens) & _PHONE_WORDS or set(tokens) & _PHONE_NOT_NUMBER:
        return None
    for token in tokens:
        if token in _EXTRA_TYPE_WORDS:
            return _EXTRA_TYPE_WORDS[token]
        if token.isalpha() and token not in {"phone", "phones", "telephone", "tel", "number"}:
            try:
                return PhoneType.parse(token)
            except ValueError:
                continue
    return PhoneType.OTHER


def _repeatable(target: str) -> bool:
    return target == "tags" or target.startswith("phone:")


def _label(target: str, legend: Legend | None) -> str:
    for spec in LEAD_FIELDS:
        if spec.name == target:
            return spec.label
    if target == FULL_NAME:
        return "Full name (first and last name)"
    if target == "tags":
        return "Tags"
    if target.startswith("phone:"):
        return f"Extra phone ({target.removeprefix('phone:').title()})"
    if legend is not None and (m := re.fullmatch(r"custom_field\[(.+)\]", target)):
        field = legend.by_id(m.group(1))
        if field is not None:
            return field.name
    return target


def match_headers(columns: Sequence[str], legend: Legend | None = None) -> tuple[HeaderMatch, ...]:
    """One `HeaderMatch` per column, in the columns' order; a first guess the person reviews.

    In order of trust: `custom_field[ID]`; a field's own name or label; a legend field's name;
    a spelling from `SYNONYMS` or a field's aliases; a phone header with a type word (`Work
    Phone 2`); a tag header (`Tag 3`); then a near miss (rapidfuzz, score ≥ FUZZY_THRESHOLD).
    A target that takes one column is given to the first, surest column; a full-name column
    fills first and last name only when no column gives them. A plain phone column becomes the
    main phone when no column does.
    """
    legend_keys = _legend_keys(legend)
    guesses = [_guess(str(header), legend_keys, legend) for header in columns]
    result, taken = _claim_targets(guesses, legend)
    if "firstname" in taken or "lastname" in taken:
        result = _drop_full_name(result)
    if "phone" not in taken:
        result = _first_phone_as_main(result)
    return tuple(result)


def _legend_keys(legend: Legend | None) -> dict[str, str]:
    """Each legend field's name, as `header_key` writes it, → its `custom_field[ID]`."""
    keys: dict[str, str] = {}
    if legend is not None:
        for spec in legend.fields:
            keys.setdefault(header_key(spec.name), f"custom_field[{spec.id}]")
    return keys


_TRUST = {"exact": 0, "synonym": 1, "fuzzy": 2, "none": 3}


def _claim_targets(
    guesses: list[HeaderMatch], legend: Legend | None
) -> tuple[list[HeaderMatch], dict[str, str]]:
    """The guesses, in column order, once each single-column target has gone to its first,
    surest column; and which header took each target."""
    # Sure matches claim their target before near misses and before later columns.
    order = sorted(range(len(guesses)), key=lambda i: (_TRUST[guesses[i].kind], i))
    taken: dict[str, str] = {}
    final: list[HeaderMatch | None] = [None] * len(guesses)
    for i in order:
        guess = guesses[i]
        target = guess.target
        if target is None or _repeatable(target):
            final[i] = guess
        elif target == "phone" and target in taken:
            final[i] = _extra_phone(guess, taken[target])
        elif target in taken:
            final[i] = HeaderMatch(
                header=guess.header,
                target=None,
                kind="none",
                note=f"Also looks like {_label(target, legend)}, which “{taken[target]}” fills: "
                "not sent",
            )
        else:
            taken[target] = guess.header
            final[i] = guess
    return [m for m in final if m is not None], taken


def _extra_phone(guess: HeaderMatch, main_header: str) -> HeaderMatch:
    """A second main phone column, sent as an extra phone of the type its header names."""
    typed = _phone_type_of(_words(guess.header)) or PhoneType.OTHER
    return HeaderMatch(
        header=guess.header,
        target="phone:" + typed.name.lower(),
        kind=guess.kind,
        score=guess.score,
        source=guess.source,
        close_to=guess.close_to,
        note=f"The main phone comes from “{main_header}”: sent as an extra phone",
    )


def _drop_full_name(result: list[HeaderMatch]) -> list[HeaderMatch]:
    """A full name is only needed when no column gives first or last name."""
    return [
        HeaderMatch(
            header=m.header,
            target=None,
            kind="none",
            note="A full name, but first and last name come from other columns: not sent",
        )
        if m.target == FULL_NAME
        else m
        for m in result
    ]


def _first_phone_as_main(result: list[HeaderMatch]) -> list[HeaderMatch]:
    """A file with only typed phones (`Mobile`, `Work Phone`) has its first one as the main
    phone."""
    result = list(result)
    for position, m in enumerate(result):
        if m.target is not None and m.target.startswith("phone:"):
            result[position] = HeaderMatch(
                header=m.header,
                target="phone",
                kind=m.kind,
                score=m.score,
                source=m.source,
                close_to=m.close_to,
                note="The first phone column: used as the main phone",
            )
            break
    return result


def _guess(header: str, legend_keys: dict[str, str], legend: Legend | None) -> HeaderMatch:
    key = header_key(header)
    if not key:
        return HeaderMatch(header=header, target=None, kind="none", note="No header: not sent")
    if m := _CUSTOM_HEADER.match(header):
        return HeaderMatch(header=header, target=f"custom_field[{m.group('id')}]", kind="exact")
    known = _TABLE.get(key)
    if known is not None and known.kind == "exact":
        return HeaderMatch(header=header, target=known.target, kind="exact")
    if key in legend_keys:
        return HeaderMatch(header=header, target=legend_keys[key], kind="exact")
    if known is not None:
        return HeaderMatch(header=header, target=known.target, kind="synonym", source=known.source)
    words = _words(header)
    if (phone_type := _phone_type_of(words)) is not None:
        if phone_type is PhoneType.OTHER:  # `Mobil Phone`: a typed phone with a slip?
            near = _near(header, key, legend_keys, legend)
            if near is not None and near.target is not None and near.target.startswith("phone:"):
                return near
        return HeaderMatch(
            header=header,
            target="phone:" + phone_type.name.lower(),
            kind="synonym",
            source="a phone column",
        )
    if _TAG_HEADER.match(words):
        return HeaderMatch(header=header, target="tags", kind="synonym", source="tags")
    near = _near(header, key, legend_keys, legend)
    return near if near is not None else HeaderMatch(header=header, target=None, kind="none")


def _near(
    header: str, key: str, legend_keys: dict[str, str], legend: Legend | None
) -> HeaderMatch | None:
    """The closest known spelling to `header`, when close enough to be a slip of the keys."""
    if len(key) >= _FUZZY_MIN_CHARS:
        choices, targets = _FUZZY_CHOICES, _FUZZY_TARGETS
        if legend is not None and legend.fields:
            choices, targets = dict(choices), dict(targets)
            for spec in legend.fields:
                if len(k := header_key(spec.name)) >= 3:
                    choices.setdefault(k, spec.name)
                    targets.setdefault(k, legend_keys[k])
        best = process.extractOne(
            key,
            list(choices),
            scorer=DamerauLevenshtein.normalized_similarity,
            # rapidfuzz turns the cut-off into a whole distance: leave room for rounding.
            score_cutoff=FUZZY_THRESHOLD / 100 - 0.005,
        )
        if best is not None:
            found, score, _ = best
            return HeaderMatch(
                header=header,
                target=targets[found],
                kind="fuzzy",
                score=round(score * 100),
                close_to=choices[found],
            )
    return None


def confidence_labels(
    columns: Sequence[str], targets: dict[str, str | None], legend: Legend | None = None
) -> dict[str, str]:
    """For each column, how sure its current choice is, as the mapping table shows it: the
    automatic match's confidence (or why nothing matched) while the choice is still that
    match, “Chosen by you” once the person changed it."""
    labels: dict[str, str] = {}
    for match in match_headers(columns, legend):
        target = targets.get(match.header)
        if target is None and match.target is not None:
            labels[match.header] = "Not sent: you chose to ignore it"
        elif target == match.target:
            labels[match.header] = match.confidence
        else:
            labels[match.header] = "Chosen by you"
    return labels


def unmatched_warning(columns: Sequence[str], targets: dict[str, str | None]) -> str | None:
    """The warning naming every column that fills nothing (`targets`: header → target), or None
    when each one is used. Lists at most 10 and counts the rest."""
    unmatched = [c for c in columns if targets.get(c) is None]
    if not unmatched:
        return None
    shown = ", ".join(f"“{_short(c)}”" for c in unmatched[:10])
    more = f" and {len(unmatched) - 10:,} more" if len(unmatched) > 10 else ""
    noun = "column is" if len(unmatched) == 1 else "columns are"
    return (
        f"{len(unmatched):,} {noun} not sent (no field chosen): {shown}{more}. Choose a field "
        "for any you want in PhoneBurner."
    )


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Full names ----------------------------------------------------------------------------------

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "madam"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "dds", "cpa"})
# Words that belong to the family name that follows them: `Ludwig van Beethoven`.
_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "da", "das", "dos", "di", "du", "la", "le",
    "st", "st.", "bin", "ibn", "al", "ten", "ter", "mac",
})  # fmt: skip


def _bare(word: str) -> str:
    return word.strip(".,").casefold()


def split_full_name(text: str) -> tuple[str, str]:
    """First and last name from a full name, the one rule the preview shows.

    - `Smith, Jane` (a comma) is last name first: (`Jane`, `Smith`).
    - A title in front (`Dr.`, `Mrs`) is dropped; a suffix (`Jr.`, `III`) stays on the last name.
    - One word is a first name: (`Cher`, ``).
    - Otherwise the last word is the last name, with the small words before it that belong to
      it (`van`, `de`, `la`…), and the rest is the first name: `Mary Ann de la Cruz` →
      (`Mary Ann`, `de la Cruz`).
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        return "", ""
    if "," in cleaned:
        before, after = (part.strip() for part in cleaned.split(",", 1))
        if after and _bare(after) not in _SUFFIXES and before:
            first = _drop_titles(after.split())
            return " ".join(first), before
        cleaned = f"{before} {after}".strip()  # `John Smith, Jr.`
    words = _drop_titles(cleaned.split())
    if not words:
        return "", ""
    suffix: list[str] = []
    while len(words) > 1 and _bare(words[-1]) in _SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) == 1:
        return words[0], " ".join(suffix)
    start = len(words) - 1
    while start > 1 and _bare(words[start - 1]) in _PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:] + suffix)


def _drop_titles(words: list[str]) -> list[str]:
    rest = list(words)
    while len(rest) > 1 and _bare(rest[0]) in _TITLES:
        rest.pop(0)
    return rest
