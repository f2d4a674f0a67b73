"""Reading put_contact's answers: the vendor's three shapes, anything else, the codes' help."""

from __future__ import annotations

import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from leadstream.protocol.response import VENDOR_CODES, Code, PostResult, parse_response

LEAD_URL = "https://www.phoneburner.com/ms/lead_redirect?upc=ATFHD3PP"
# The document prints its example answer with a stray space inside the URL.
DOCUMENT_SUCCESS = "SUCCESS|https://www.phoneburner.com/ms/lead_redirect? upc=ATFHD3PP"
HTML_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>502 Bad Gateway &amp; more"
    "</title></head><body><h1>Bad Gateway</h1></body></html>"
)

# (case, body, status, ok, outcome, reason, lead_url, code)
ANSWERS = [
    ("document success", DOCUMENT_SUCCESS, 200, True, "SUCCESS", "", LEAD_URL, Code.SUCCESS),
    ("plain success", f"SUCCESS|{LEAD_URL}", 200, True, "SUCCESS", "", LEAD_URL, Code.SUCCESS),
    ("trailing LF", f"SUCCESS|{LEAD_URL}\n", 200, True, "SUCCESS", "", LEAD_URL, Code.SUCCESS),
    ("trailing CRLF", f"SUCCESS|{LEAD_URL}\r\n", 200, True, "SUCCESS", "", LEAD_URL, Code.SUCCESS),
    ("leading space", f" \r\n\tSUCCESS|{LEAD_URL}", 200, True, "SUCCESS", "", LEAD_URL,
     Code.SUCCESS),
    ("byte-order mark", f"\ufeffSUCCESS|{LEAD_URL}\n", 200, True, "SUCCESS", "", LEAD_URL,
     Code.SUCCESS),
    ("space around bar", f"SUCCESS | {LEAD_URL}", 200, True, "SUCCESS", "", LEAD_URL,
     Code.SUCCESS),
    # The endpoint writes capitals; other case is still plainly its answer.
    ("lowercase", f"success|{LEAD_URL}", 200, True, "SUCCESS", "", LEAD_URL, Code.SUCCESS),
    ("success, no URL", "SUCCESS|", 200, True, "SUCCESS", "", None, Code.SUCCESS),
    ("success, 201", f"SUCCESS|{LEAD_URL}", 201, True, "SUCCESS", "", LEAD_URL, Code.SUCCESS),
    ("document failure", "FAILURE|UNKNOWN USER", 200, False, "FAILURE", "UNKNOWN USER", None,
     Code.UNKNOWN_USER),
    ("failure, CRLF", "FAILURE|INVALID EMAIL\r\n", 200, False, "FAILURE", "INVALID EMAIL", None,
     Code.INVALID_EMAIL),
    ("lowercase reason", "error|  duplicate   email ", 200, False, "ERROR", "duplicate email",
     None, Code.DUPLICATE_EMAIL),
    ("unknown code", "ERROR|ACCOUNT ON HOLD", 200, False, "ERROR", "ACCOUNT ON HOLD", None,
     Code.UNKNOWN_CODE),
    ("unknown failure", "FAILURE|Too many leads today", 200, False, "FAILURE",
     "Too many leads today", None, Code.UNKNOWN_CODE),
    ("empty reason", "ERROR|", 200, False, "ERROR", "", None, Code.UNKNOWN_CODE),
    # Our own transport codes are not the endpoint's: a body naming one is a refusal like any.
    ("transport name", "ERROR|NO ANSWER", 200, False, "ERROR", "NO ANSWER", None,
     Code.UNKNOWN_CODE),
    ("transport 429", "FAILURE|HTTP 429", 200, False, "FAILURE", "HTTP 429", None,
     Code.UNKNOWN_CODE),
    ("reason with a bar", "ERROR|INVALID EMAIL|x", 200, False, "ERROR", "INVALID EMAIL|x", None,
     Code.UNKNOWN_CODE),
    ("empty body", "", 200, False, "UNEXPECTED", "Unreadable answer: an empty answer", None,
     Code.UNREADABLE_ANSWER),
    ("blank body", " \r\n", 200, False, "UNEXPECTED", "Unreadable answer: an empty answer", None,
     Code.UNREADABLE_ANSWER),
    ("HTML page, 200", HTML_PAGE, 200, False, "UNEXPECTED",
     "Unreadable answer: 502 Bad Gateway & more", None, Code.UNREADABLE_ANSWER),
    ("HTML, no title", "<p>Down for <b>maintenance</b></p>", 200, False, "UNEXPECTED",
     "Unreadable answer: Down for maintenance", None, Code.UNREADABLE_ANSWER),
    ("bare SUCCESS", "SUCCESS", 200, False, "UNEXPECTED", "Unreadable answer: SUCCESS", None,
     Code.UNREADABLE_ANSWER),
    ("other word", "OK|fine", 200, False, "UNEXPECTED", "Unreadable answer: OK|fine", None,
     Code.UNREADABLE_ANSWER),
    ("204", "", 204, False, "UNEXPECTED", "Unreadable answer: an empty answer", None,
     Code.UNREADABLE_ANSWER),
    ("301", "", 301, False, "UNEXPECTED", "HTTP 301", None, Code.UNREADABLE_ANSWER),
    ("404", "Not Found", 404, False, "UNEXPECTED", "HTTP 404", None, Code.REQUEST_REFUSED),
    ("400", "", 400, False, "UNEXPECTED", "HTTP 400", None, Code.REQUEST_REFUSED),
    ("403", "Forbidden", 403, False, "UNEXPECTED", "HTTP 403", None, Code.REQUEST_REFUSED),
    ("500", HTML_PAGE, 500, False, "UNEXPECTED", "HTTP 500", None, Code.UNREADABLE_ANSWER),
    ("502", HTML_PAGE, 502, False, "UNEXPECTED", "HTTP 502", None, Code.SERVER_UNAVAILABLE),
    ("503", "", 503, False, "UNEXPECTED", "HTTP 503", None, Code.SERVER_UNAVAILABLE),
    ("504", "", 504, False, "UNEXPECTED", "HTTP 504", None, Code.SERVER_UNAVAILABLE),
    ("429", "Too Many Requests", 429, False, "UNEXPECTED", "HTTP 429", None, Code.RATE_LIMITED),
    # A vendor-looking body under an error status is still not an answer to trust.
    ("success under 503", f"SUCCESS|{LEAD_URL}", 503, False, "UNEXPECTED", "HTTP 503", None,
     Code.SERVER_UNAVAILABLE),
    ("success under 500", f"SUCCESS|{LEAD_URL}", 500, False, "UNEXPECTED", "HTTP 500", None,
     Code.UNREADABLE_ANSWER),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "ok", "outcome", "reason", "lead_url", "code"),
    [pytest.param(*row[1:], id=row[0]) for row in ANSWERS],
)
def test_parse_response(
    body: str,
    status: int,
    ok: bool,
    outcome: str,
    reason: str,
    lead_url: str | None,
    code: Code,
) -> None:
    result = parse_response(body, status)
    assert (result.ok, result.outcome, result.reason, result.lead_url, result.code) == (
        ok,
        outcome,
        reason,
        lead_url,
        code,
    )
    assert result.help == code.help
    assert result.status == status
    assert result.body == body


@pytest.mark.parametrize("outcome", ["ERROR", "FAILURE"])
@pytest.mark.parametrize("code", VENDOR_CODES, ids=lambda code: code.name)
def test_every_vendor_code_is_read_after_error_and_failure(outcome: str, code: Code) -> None:
    result = parse_response(f"{outcome}|{code.reason}\n")
    assert result.outcome == outcome
    assert result.code is code
    assert result.reason == code.reason
    assert not result.ok
    assert result.summary == f"{outcome}|{code.reason}"


def test_vendor_codes_are_the_documents_eight_in_its_order() -> None:
    assert [code.reason for code in VENDOR_CODES] == [
        "IDNUMBER IS REQUIRED",
        "UNKNOWN USER",
        "CANCELLED USER",
        "INVALID EMAIL",
        "DUPLICATE EMAIL",
        "CM_ID IS REQUIRED",
        "CM_ID IS INVALID",
        "BAD RESPONSE TYPE",
    ]


@pytest.mark.parametrize("code", list(Code), ids=lambda code: code.name)
def test_every_code_explains_itself(code: Code) -> None:
    assert code.help.strip()
    assert code.help.endswith(".")
    assert code.field in {"", "user_id", "email", "cm_id", "response_type"}
    # UNKNOWN_CODE stands for a reason we do not know, so it has none of its own.
    assert bool(code.reason) is (code is not Code.UNKNOWN_CODE)


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("CM_ID IS INVALID", Code.CM_ID_IS_INVALID),
        (" cm_id  is\tinvalid ", Code.CM_ID_IS_INVALID),
        ("SUCCESS", Code.UNKNOWN_CODE),
        ("NO ANSWER", Code.UNKNOWN_CODE),
        ("HTTP 429", Code.UNKNOWN_CODE),
        ("", Code.UNKNOWN_CODE),
    ],
)
def test_for_reason_knows_only_the_endpoints_codes(reason: str, code: Code) -> None:
    assert Code.for_reason(reason) is code


@pytest.mark.parametrize(
    ("body", "status", "summary"),
    [
        (f"SUCCESS|{LEAD_URL}", 200, "SUCCESS"),
        ("FAILURE|UNKNOWN USER", 200, "FAILURE|UNKNOWN USER"),
        ("", 503, "HTTP 503"),
    ],
)
def test_summary(body: str, status: int, summary: str) -> None:
    assert parse_response(body, status).summary == summary


def test_long_bodies_are_kept_short() -> None:
    result = parse_response("x" * 100_000)
    assert len(result.body) == 2000
    assert len(result.reason) < 120


@pytest.mark.parametrize(
    "body",
    [
        "<title>" * 200_000,
        "<" * 1_000_000,
        "<a " * 300_000,
        "<html><title>" + "x" * 1_000_000,
        "ERROR|" + "A " * 500_000,
    ],
    ids=["unclosed titles", "open brackets", "open tags", "endless title", "huge reason"],
)
def test_huge_or_hostile_bodies_are_read_quickly(body: str) -> None:
    started = time.perf_counter()
    result = parse_response(body)
    assert time.perf_counter() - started < 1.0
    assert not result.ok


@settings(max_examples=examples(200), deadline=None)
@given(
    body=st.one_of(
        st.text(),
        st.builds(
            lambda head, tail: f"{head}|{tail}",
            st.sampled_from(["SUCCESS", "FAILURE", "ERROR", "success", " ERROR ", "<p>"]),
            st.text(),
        ),
    ),
    status=st.one_of(st.integers(min_value=-1, max_value=1000), st.sampled_from([200, 429, 503])),
)
@example(body="\x00|\x00", status=200)
@example(body="|", status=200)
def test_parse_response_never_raises(body: str, status: int) -> None:
    result = parse_response(body, status)
    assert isinstance(result, PostResult)
    assert result.ok is (result.outcome == "SUCCESS")
    assert result.help == result.code.help
    if not 200 <= status < 300:
        assert result.outcome == "UNEXPECTED"
    if result.ok:
        assert result.code is Code.SUCCESS
    else:
        assert result.lead_url is None
    assert result.outcome in ("SUCCESS", "FAILURE", "ERROR", "UNEXPECTED")
