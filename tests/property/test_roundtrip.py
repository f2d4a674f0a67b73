"""Round trips through the encoder: whatever a lead holds comes back unchanged from its URL.

Hypothesis runs slowly on small machines, so each lead drawn is put through every check at once.
"""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.query import (
    build_url,
    check_length,
    curl_command,
    decode_query,
    encode_pairs,
    lead_from_query,
    lead_to_pairs,
    mask_secret,
    mask_url,
    split_pairs,
)

from .strategies import field_text, leads, pairs

BASE = "https://www.phoneburner.com/api/vendor/put_contact"


def _query(url: str) -> str:
    assert url.startswith(BASE + "?")
    return url[len(BASE) + 1 :]


@settings(max_examples=examples(100), deadline=None)
@given(lead=leads(), key=field_text())
@example(lead=Lead(), key="")
@example(
    lead=Lead(
        firstname="A&B=C+D%E#F?G[H]I;J/K",
        custom_fields={"0": "x", "007": "y", "1": ""},
        additional_phones=[Phone("+1 702", PhoneType.WORK), Phone("", PhoneType.FAX, "")],
        tags=["", "a&b", "tags[]=x"],
    ),
    key="k&e%y=",
)
def test_lead_comes_back_from_its_url(lead: Lead, key: str) -> None:
    url = build_url(lead, key=key, base_url=BASE)
    pairs_ = lead_to_pairs(lead, key=key)
    # Nothing in a value may end the query, start a fragment or put raw text in the URL.
    assert urlsplit(url).fragment == ""
    assert all(33 <= ord(ch) <= 126 for ch in url)
    assert split_pairs(_query(url)) == pairs_

    decoded = decode_query(_query(url))
    back = lead_from_query(decoded)
    assert back == lead
    # Dict equality alone would not notice custom fields coming back in another order.
    assert list(back.custom_fields.items()) == list(lead.custom_fields.items())
    assert decoded.get("key", "") == key

    warning = check_length(pairs_, base_url=BASE, limit=0)
    assert warning is not None
    assert warning.length == len(url)
    assert all(name != "key" for name, _ in warning.largest_fields)
    assert check_length(pairs_, base_url=BASE, limit=len(url)) is None

    masked = decode_query(_query(mask_url(url)))
    if key:
        assert masked.pop("key") == mask_secret(key)
        decoded.pop("key")
    assert masked == decoded


@settings(max_examples=examples(60), deadline=None)
@given(pairs_=pairs())
def test_split_pairs_inverts_encode_pairs(pairs_: list[tuple[str, str]]) -> None:
    assert split_pairs(encode_pairs(pairs_)) == pairs_


@settings(max_examples=examples(100), deadline=None)
@given(text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
@example(text="https://x/?a='b'&c=\"d\"")
def test_curl_command_quotes_anything_for_a_posix_shell(text: str) -> None:
    assert shlex.split(curl_command(text)) == ["curl", "-sS", "--globoff", text]
