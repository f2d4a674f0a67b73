"""Reading REST answers: every documented envelope, tolerated variations, and broken answers."""

from __future__ import annotations

import json

import pytest

from leadstream.protocol.rest import (
    Contact,
    CustomField,
    FieldKind,
    RestError,
    digits,
    parse_contacts,
    parse_customfields,
    parse_tranquility,
    read_envelope,
)

# The documented examples, verbatim (docs/DESIGN.md, "REST API").
DOC_FIELDS = (
    '{"http_status":200,"status":"success","customfields":{"customfields":[{"custom_field_id":'
    '"215","display_name":"Lead Score","type_id":"7","type_name":"Numeric","display_order":"0"}],'
    '"page_size":100,"total_results":"1","page":1,"total_pages":1}}'
)
DOC_CONTACTS = (
    '{"http_status":200,"status":"success","contacts":{"member_user_id":"1","contacts":'
    '[{"contact_user_id":"30919237","owner_id":"1","first_name":"John","last_name":"Demo",'
    '"date_added":"2023-10-15 10:38:07","raw_phone":"6025551234","primary_email":{"email":'
    '"john.demo@example.com"}}],"page":1,"page_size":1,"total_pages":1,"total_results":1}}'
)
NO_HEADER = (
    '{"http_status":401,"status":"error","debug_codes":[{"code":40101,"reason":'
    '"Login Failure: Authorization Header required"}]}'
)
BAD_TOKEN = '{"http_status":401,"status":"error","errors":["Invalid access token"]}'


def test_the_documented_customfields_answer() -> None:
    page = parse_customfields(200, DOC_FIELDS)
    assert not isinstance(page, RestError)
    assert page.items == (CustomField("215", "Lead Score", FieldKind.NUMERIC, "Numeric", 0),)
    assert (page.page, page.page_size, page.total_results, page.total_pages) == (1, 100, 1, 1)
    assert page.is_last(100)


def test_the_documented_contacts_answer() -> None:
    page = parse_contacts(200, DOC_CONTACTS)
    assert not isinstance(page, RestError)
    assert page.items == (
        Contact(
            "30919237",
            "1",
            "John",
            "Demo",
            "2023-10-15 10:38:07",
            "6025551234",
            "john.demo@example.com",
        ),
    )


@pytest.mark.parametrize(
    ("body", "kind", "words"),
    [
        (NO_HEADER, "auth", "none was sent"),
        (BAD_TOKEN, "auth", "did not accept the access token"),
    ],
)
@pytest.mark.parametrize("status", [401, 200])  # some proxies answer 200 with the envelope
def test_the_documented_401s(status: int, body: str, kind: str, words: str) -> None:
    result = parse_customfields(status, body)
    assert isinstance(result, RestError)
    assert result.kind == kind
    assert result.status == 401
    assert words in result.message
    assert not result.retryable


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"custom_field_id": 1, "display_name": "A", "type_id": 1}, ("1", "A", FieldKind.TEXT)),
        (
            {"custom_field_id": "2", "display_name": "", "type_id": "2"},
            ("2", "", FieldKind.CHECKBOX),
        ),
        ({"custom_field_id": "3", "display_name": None, "type_id": "3"}, ("3", "", FieldKind.DATE)),
        (
            {"custom_field_id": "6", "display_name": "D", "type_id": "6"},
            ("6", "D", FieldKind.DROPDOWN),
        ),
        ({"id": "8", "name": " N ", "type_name": "check box"}, ("8", "N", FieldKind.CHECKBOX)),
        (
            {"custom_field_id": "9", "type_id": "42", "type_name": "Map"},
            ("9", "", FieldKind.UNKNOWN),
        ),
        ({"custom_field_id": "10"}, ("10", "", FieldKind.UNKNOWN)),
    ],
)
def test_custom_field_entries_are_read_tolerantly(
    entry: dict[str, object], expected: tuple[str, str, FieldKind]
) -> None:
    body = json.dumps({"status": "success", "customfields": {"customfields": [entry]}})
    page = parse_customfields(200, body)
    assert not isinstance(page, RestError)
    (field,) = page.items
    assert (field.id, field.display_name, field.kind) == expected


@pytest.mark.parametrize(
    "listing",
    [
        {"customfields": {"customfields": [{"custom_field_id": "5"}, "junk", {"x": 1}]}},
        {"customfields": [{"custom_field_id": "5"}, 7, {"custom_field_id": "abc"}]},
        {"customfields": {"customfields": {"5": {"custom_field_id": "5"}, "6": "x", "7": []}}},
    ],
)
def test_list_shapes_and_unreadable_entries_are_counted(listing: dict[str, object]) -> None:
    page = parse_customfields(
        200, json.dumps({"http_status": "200", "status": "success", **listing})
    )
    assert not isinstance(page, RestError)
    assert [f.id for f in page.items] == ["5"]
    assert page.skipped == 2
    assert page.total_pages is None


@pytest.mark.parametrize(
    ("paging", "size", "last"),
    [
        ({"page": "2", "total_pages": "3"}, 25, False),
        ({"page": 3, "total_pages": 3}, 25, True),
        ({}, 1, False),  # no paging fields, a full page: ask for the next
        ({}, 2, True),  # a short page ends it
        ({"page": "x", "total_pages": None}, 1, False),
    ],
)
def test_missing_or_string_paging(paging: dict[str, object], size: int, last: bool) -> None:
    body = json.dumps(
        {"status": "success", "contacts": {"contacts": [{"contact_user_id": 1}], **paging}}
    )
    page = parse_contacts(200, body, page=2)
    assert not isinstance(page, RestError)
    assert page.is_last(size) is last


@pytest.mark.parametrize(
    ("entry", "email", "phone"),
    [
        (
            {"primary_email": {"email": "a@b.co"}, "raw_phone": "(602) 555-1234"},
            "a@b.co",
            "6025551234",
        ),
        ({"primary_email": "a@b.co", "phone": "+1 602 555 1234"}, "a@b.co", "6025551234"),
        ({"primary_email": [{"email": ""}, {"email": "c@d.co"}]}, "c@d.co", ""),
        ({"primary_email": None, "email_address": "e@f.co"}, "e@f.co", ""),
        ({"primary_email": {}, "raw_phone": None}, "", ""),
    ],
)
def test_contact_emails_and_phones(entry: dict[str, object], email: str, phone: str) -> None:
    body = json.dumps(
        {"status": "success", "contacts": {"contacts": [{"contact_user_id": "1", **entry}]}}
    )
    page = parse_contacts(200, body)
    assert not isinstance(page, RestError)
    assert (page.items[0].email, page.items[0].phone) == (email, phone)


@pytest.mark.parametrize(
    ("status", "body", "kind", "words", "retryable"),
    [
        (
            200,
            "<!DOCTYPE html><html><head><title>Scheduled Maintenance</title></head></html>",
            "unreadable",
            "'Scheduled Maintenance'",
            True,
        ),
        (503, "<html><body><h1>Service Unavailable</h1></body></html>", "server", "HTTP 503", True),
        (502, '{"http_status":502,"status":"error"}', "server", "HTTP 502", True),
        (429, "<html><title>429</title></html>", "rate_limited", "slow down", True),
        (
            200,
            '{"http_status":200,"status":"success","customfields":{"customfie',
            "unreadable",
            "cut off",
            True,
        ),
        (200, "SUCCESS|https://x", "unreadable", "not JSON", True),
        (200, "", "unreadable", "empty", True),
        (200, "[1, 2]", "unreadable", "unexpected shape", True),
        (200, '{"status":"success"}', "unreadable", "no `customfields` list", True),
        (200, "[" * 100_000, "unreadable", "", True),
        (404, "Not found", "not_found", "HTTP 404", False),
        (
            403,
            '{"status":"error","errors":[{"message":"No access"}]}',
            "forbidden",
            "No access",
            False,
        ),
        (
            400,
            '{"http_status":400,"status":"error","errors":["page must be 1 or more"]}',
            "bad_request",
            "page must be 1 or more",
            False,
        ),
        (401, "<html>Unauthorized</html>", "auth", "access token", False),
    ],
)
def test_broken_and_error_answers_say_what_happened(
    status: int, body: str, kind: str, words: str, retryable: bool
) -> None:
    result = parse_customfields(status, body)
    assert isinstance(result, RestError)
    assert result.kind == kind
    assert words in result.message
    assert result.retryable is retryable
    assert len(result.message) < 600


def test_tranquility() -> None:
    assert parse_tranquility(200, '{"http_status":200,"status":"success"}') is None
    problem = parse_tranquility(200, "<html><title>Login</title></html>")
    assert isinstance(problem, RestError)
    assert "Login" in problem.message


def test_envelope_with_byte_order_mark() -> None:
    assert read_envelope(200, '\ufeff{"status":"success"}') == {"status": "success"}


@pytest.mark.parametrize(
    ("raw", "expected"), [("(716) 293-0001", "7162930001"), ("17162930001", "7162930001"), ("", "")]
)
def test_digits(raw: str, expected: str) -> None:
    assert digits(raw) == expected
