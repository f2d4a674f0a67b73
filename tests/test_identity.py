"""Lead identity: one normalisation of an email and one fingerprint, for every duplicate check."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadstream.prepare.identity import (
    fingerprint,
    has_email,
    lead_identity,
    normalize_email,
)
from leadstream.prepare.mapping import PreparedRow, find_duplicates
from leadstream.protocol.lead import Lead, Phone, PhoneType

NORMALIZED = [
    ("a@b.com", "a@b.com"),
    ("  A@B.COM \t", "a@b.com"),
    ("STRASSE@x.de", "strasse@x.de"),
    ("straße@x.de", "strasse@x.de"),
    ("ÉMILE@x.fr", "émile@x.fr"),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize(("raw", "normal"), NORMALIZED)
def test_normalize_email(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


SAME = [
    (Lead(email="A@B.com"), Lead(email=" a@b.COM ", firstname="other")),
    (Lead(email="STRASSE@x.de"), Lead(email="straße@x.de")),
    (Lead(phone="1", firstname="x"), Lead(phone="1", firstname="x")),
]
DIFFERENT = [
    (Lead(email="a@b.com"), Lead(email="c@b.com")),
    (Lead(phone="1"), Lead(phone="2")),
    (Lead(phone="1", tags=["a"]), Lead(phone="1", tags=["b"])),
    (Lead(phone="1", cm_id="1"), Lead(phone="1", cm_id="2")),
    (
        Lead(additional_phones=[Phone("1", PhoneType.HOME)]),
        Lead(additional_phones=[Phone("1", PhoneType.WORK)]),
    ),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_lead(a: Lead, b: Lead) -> None:
    assert fingerprint(a) == fingerprint(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_leads(a: Lead, b: Lead) -> None:
    assert fingerprint(a) != fingerprint(b)


FORMS = [
    (Lead(email="Ann@Example.com"), "email:ann@example.com"),
    (Lead(phone="7162932368"), "params:"),
]


@pytest.mark.parametrize(("lead", "prefix"), FORMS)
def test_fingerprint_forms(lead: Lead, prefix: str) -> None:
    assert fingerprint(lead).startswith(prefix)
    assert has_email(lead) is prefix.startswith("email:")


def test_the_key_is_not_part_of_the_identity() -> None:
    # The key is never a field of a Lead; the parameters hashed leave it out by construction.
    assert "XXXYYYZZZ" not in fingerprint(Lead(phone="1"))


def test_identity_is_scoped_by_cm_id() -> None:
    a, b = Lead(email="a@b.com", cm_id="1"), Lead(email="A@b.com", cm_id=" 1 ")
    assert lead_identity(a) == lead_identity(b)
    assert lead_identity(a) != lead_identity(dataclasses.replace(a, cm_id="2"))


def _row(index: int, lead: Lead) -> PreparedRow:
    return PreparedRow(index=index, line=index + 2, lead=lead, problems=(), source={})


def test_duplicates_in_a_file_use_the_same_rule() -> None:
    rows = [
        _row(0, Lead(email="straße@x.de", cm_id="1")),
        _row(1, Lead(email="STRASSE@x.de", cm_id="1")),
        _row(2, Lead(email="STRASSE@x.de", cm_id="2")),
        _row(3, Lead(phone="1", cm_id="1")),
        _row(4, Lead(phone="1", cm_id="1")),
    ]
    assert find_duplicates(rows) == {1: 0, 4: 3}


@given(st.emails() | st.text(min_size=1, max_size=30).filter(str.strip))
def test_case_and_space_never_change_the_identity(email: str) -> None:
    lead = Lead(email=email)
    for variant in (email.upper(), email.lower(), f"  {email}\t", email.casefold()):
        if normalize_email(variant) == normalize_email(email):
            assert fingerprint(Lead(email=variant)) == fingerprint(lead)
    assert fingerprint(lead) == f"email:{normalize_email(email)}"
