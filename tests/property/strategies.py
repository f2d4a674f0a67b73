"""Hypothesis strategies shared by the property tests: field text, custom-field IDs, phones, leads
and query pairs named as the encoder names them."""

from __future__ import annotations

from hypothesis import strategies as st

from leadstream.protocol.lead import LEAD_FIELDS, Lead, Phone, PhoneType

__all__ = [
    "URL_SPECIALS",
    "custom_field_ids",
    "field_text",
    "leads",
    "pair_names",
    "pairs",
    "phones",
]

# Characters that mean something in a URL, a query string, a shell, HTML or PHP's name parser,
# and invisible ones that spreadsheets carry.
URL_SPECIALS = "&=+%#?[];/ '\"\\.,:@!$*()~<>|`\x00\t\n\r\x7f\u00a0\u200b\ufeff"

# Every code point that UTF-8 can carry, control characters and NUL included; lone surrogates
# are left out because no text box or spreadsheet can produce them.
_ANY_CHARACTER = st.characters(exclude_categories=("Cs",), include_characters=URL_SPECIALS)

# Pieces that are one character to a person and several code points to Python, mixed with the
# specials so that each appears often.
_PIECES = [
    *URL_SPECIALS,
    "é",
    "ß",
    "北京",
    "😀",
    "👍🏽",
    "e\u0301",
    "👨\u200d👩\u200d👧",
    "🇺🇸",
    "%20",
    "%zz",
    "+1",
]


def field_text(*, max_size: int = 16) -> st.SearchStrategy[str]:
    """Any text a person or a spreadsheet could put in a field."""
    return st.one_of(
        st.text(_ANY_CHARACTER, max_size=max_size),
        st.lists(st.sampled_from(_PIECES), max_size=max_size // 2).map("".join),
    )


def custom_field_ids() -> st.SearchStrategy[str]:
    """PhoneBurner's custom-field IDs: digits, sometimes with leading zeros, or past int64."""
    return st.one_of(
        st.text("0123456789", min_size=1, max_size=9),
        st.sampled_from(["0", "1", "297989", "195481", "007", "9223372036854775808"]),
    )


def phones() -> st.SearchStrategy[Phone]:
    return st.builds(
        Phone,
        number=st.one_of(field_text(), st.sampled_from(["+1 (702) 530-6954", "+44 20 7946 0958"])),
        type=st.sampled_from(PhoneType),
        label=st.one_of(st.just(""), field_text()),
    )


def leads() -> st.SearchStrategy[Lead]:
    """Leads with arbitrary text in some of their fields, custom fields, phones and tags.

    A handful of fields are set per lead (any of them), which keeps each example cheap to draw
    while every field still sees every kind of text over a run.
    """
    return st.builds(
        lambda scalars, custom, phones_, tags: Lead(
            **scalars, custom_fields=custom, additional_phones=phones_, tags=tags
        ),
        st.dictionaries(
            st.sampled_from([spec.name for spec in LEAD_FIELDS]), field_text(), max_size=5
        ),
        st.dictionaries(custom_field_ids(), field_text(), max_size=3),
        st.lists(phones(), max_size=2),
        st.lists(field_text(), max_size=3),
    )


def pair_names() -> st.SearchStrategy[str]:
    """The parameter names the encoder writes."""
    return st.one_of(
        st.sampled_from(
            [
                "key",
                *(spec.name for spec in LEAD_FIELDS),
                "additional_phones[]",
                "additional_phone_types[]",
                "additional_phone_labels[]",
                "tags[]",
            ]
        ),
        custom_field_ids().map(lambda field_id: f"custom_field[{field_id}]"),
    )


def pairs() -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(pair_names(), field_text()), max_size=10)
