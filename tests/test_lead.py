"""The lead's shape: fields in wire order, phone types as the document numbers them, defaults."""

from __future__ import annotations

import dataclasses

import pytest

from leadstream.protocol.lead import LEAD_FIELDS, STANDARD_FIELDS, Lead, Phone, PhoneType


def test_phone_types_are_numbered_as_in_the_document() -> None:
    # "(1: Home 2: Work 3: Mobile 4: Fax 5: Other)"
    assert [(t.value, t.label) for t in PhoneType] == [
        (1, "Home"),
        (2, "Work"),
        (3, "Mobile"),
        (4, "Fax"),
        (5, "Other"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1, PhoneType.HOME),
        (5, PhoneType.OTHER),
        ("2", PhoneType.WORK),
        (" 3 ", PhoneType.MOBILE),
        ("２", PhoneType.WORK),  # a full-width digit, as some keyboards type it
        ("Work", PhoneType.WORK),
        ("HOME", PhoneType.HOME),
        ("cell", PhoneType.MOBILE),
        ("Cell Phone", PhoneType.MOBILE),
        ("office", PhoneType.WORK),
        (" fax ", PhoneType.FAX),
        ("other", PhoneType.OTHER),
        (PhoneType.FAX, PhoneType.FAX),
    ],
)
def test_phone_type_parse(text: str | int, expected: PhoneType) -> None:
    assert PhoneType.parse(text) is expected


@pytest.mark.parametrize("text", ["", "0", "6", "12", "²", "fax machine", "mobil", "-1", "2.0"])
def test_phone_type_parse_explains_what_it_accepts(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a phone type; use 1 or Home, 2 or Work") as error:
        PhoneType.parse(text)
    assert repr(text) in str(error.value)


@pytest.mark.parametrize("number", [0, 6, -1])
def test_phone_type_parse_refuses_other_numbers(number: int) -> None:
    with pytest.raises(ValueError):
        PhoneType.parse(number)


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        (Phone("1"), PhoneType.OTHER),
        (Phone("1", 3), PhoneType.MOBILE),
        (Phone("1", "work"), PhoneType.WORK),
        (Phone(number="1", type="4", label="x"), PhoneType.FAX),
    ],
)
def test_phone_reads_its_type(phone: Phone, expected: PhoneType) -> None:
    assert phone.type is expected


def test_phone_refuses_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="not a phone type"):
        Phone("1", "pager")


def test_phone_and_lead_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Phone("1").number = "2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Lead().email = "a@b.c"  # type: ignore[misc]


def test_lead_defaults_are_empty_and_not_shared() -> None:
    first, second = Lead(), Lead()
    assert all(getattr(first, spec.name) == "" for spec in LEAD_FIELDS)
    assert (first.custom_fields, first.additional_phones, first.tags) == ({}, [], [])
    first.tags.append("x")
    assert second.tags == []


def test_standard_fields_follow_the_documents_order() -> None:
    assert [spec.name for spec in STANDARD_FIELDS] == [
        "firstname",
        "lastname",
        "email",
        "phone",
        "address1",
        "address2",
        "city",
        "state",
        "zip",
        "country",
        "promocode",
    ]
    assert [spec.name for spec in LEAD_FIELDS] == [
        *(spec.name for spec in STANDARD_FIELDS),
        "user_id",
        "cm_id",
    ]


def test_every_field_spec_is_a_lead_field_and_back() -> None:
    scalars = [f.name for f in dataclasses.fields(Lead) if f.type in ("str", str)]
    assert scalars == [spec.name for spec in LEAD_FIELDS]


def test_field_names_labels_and_aliases_never_collide() -> None:
    # The column matcher looks each spelling up; one spelling meaning two fields would be a coin
    # toss. Aliases are written lowercase and trimmed because the matcher compares them so.
    owners: dict[str, set[str]] = {}
    for spec in LEAD_FIELDS:
        assert spec.label
        for spelling in (spec.name, spec.label.lower(), *spec.aliases):
            owners.setdefault(spelling.lower(), set()).add(spec.name)
        assert all(alias == alias.lower().strip() for alias in spec.aliases)
    assert {spelling: names for spelling, names in owners.items() if len(names) > 1} == {}


@pytest.mark.parametrize(
    ("lead", "name"),
    [
        (Lead(firstname="Jeff", lastname="Sample"), "Jeff Sample"),
        (Lead(lastname="Sample"), "Sample"),
        (Lead(email="jeff.sample@example.com", phone="1"), "jeff.sample@example.com"),
        (Lead(phone="(716) 293-2368"), "(716) 293-2368"),
        (Lead(firstname=" ", city="Buffalo"), "(no name)"),
        (Lead(), "(no name)"),
    ],
)
def test_display_name(lead: Lead, name: str) -> None:
    assert lead.display_name == name
