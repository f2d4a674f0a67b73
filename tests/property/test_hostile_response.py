"""Hostile answers: whatever a server sends back, `parse_response` reads it without raising, calls
it a success only when it is the vendor's `SUCCESS|…` under a 2xx status, and hands on nothing
that could repaint a terminal or pose as a link.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from leadstream.protocol.response import VENDOR_CODES, Code, parse_response

from .hostile_strategies import deadline, fuzz, response_bodies, statuses

# What no reason, link or description may carry: control characters (ESC starts a terminal
# escape) and the marks that reverse the direction of text.
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
VENDOR_ANSWER = re.compile(r"\s*\ufeff?\s*(SUCCESS|FAILURE|ERROR)\s*\|", re.IGNORECASE | re.ASCII)


def _vendor_outcome(body: str) -> str | None:
    """The vendor's outcome word that `body` starts with, read strictly (ASCII letters only)."""
    stripped = body.strip().lstrip("\ufeff").strip()
    head, bar, _ = stripped.partition("|")
    if bar and head.strip().isascii() and head.strip().upper() in ("SUCCESS", "FAILURE", "ERROR"):
        return head.strip().upper()
    return None


@fuzz(300)
@given(body=response_bodies(), status=statuses())
@example(body="ſuccess|https://www.phoneburner.com/x", status=200)  # "ſ".upper() == "S"
@example(body="faılure|CM_ID IS INVALID", status=200)  # "ı".upper() == "I"
@example(body="ERROR|\x1b[2J\x1b]0;owned\x07UNKNOWN USER", status=200)
@example(body="<title>&#27;[31m</title>", status=200)
@example(body="SUCCESS|javascript:alert(1)", status=200)
@example(body="SUCCESS|https://x/\x1b[2J", status=200)
@example(body="\u202eSUCCESS|x", status=200)
@example(body="SUCCESS|https://x", status=-1)
def test_any_answer_is_read_without_raising(body: str, status: int) -> None:
    result = parse_response(body, status)
    vendor = _vendor_outcome(body) if 200 <= status < 300 else None
    assert result.ok == (vendor == "SUCCESS")
    assert result.outcome == (vendor or "UNEXPECTED")
    assert result.status == status
    assert result.body == body[:2000]
    assert result.help
    assert isinstance(result.code, Code)
    assert not UNSAFE.search(result.reason), result.reason
    assert result.reason == " ".join(result.reason.split())
    if result.ok:
        assert result.code is Code.SUCCESS
        assert result.reason == ""
        if result.lead_url is not None:
            assert re.fullmatch(r"https?://[!-~]+", result.lead_url, re.IGNORECASE)
    else:
        assert result.lead_url is None
        assert result.code is not Code.SUCCESS
    if result.outcome in ("FAILURE", "ERROR"):
        assert result.code in (*VENDOR_CODES, Code.UNKNOWN_CODE)
    summary = result.summary
    assert isinstance(summary, str)
    assert summary
    assert not UNSAFE.search(summary)


@fuzz(50)
@given(
    code=st.sampled_from(VENDOR_CODES),
    outcome=st.sampled_from(["ERROR", "FAILURE", "error", " Failure "]),
    noise=st.sampled_from(["", " ", "\r\n", "\t", "  \n "]),
)
def test_every_vendor_code_is_known_however_it_is_spaced(
    code: Code, outcome: str, noise: str
) -> None:
    reason = code.reason.replace(" ", f" {noise}")
    result = parse_response(f"{noise}{outcome}|{noise}{reason}{noise}", 200)
    assert (result.ok, result.code, result.reason) == (False, code, code.reason)


LARGE = [
    ("a megabyte of <", "<" * 1_000_000),
    ("a megabyte of unclosed tags", "<a " * 333_333),
    ("a megabyte page", "<html><title>" + "x" * 1_000_000 + "</title></html>"),
    ("a megabyte reason", "ERROR|" + "A " * 500_000),
    ("a megabyte link", "SUCCESS|https://x/" + "a" * 1_000_000),
    ("a megabyte of bars", "|" * 1_000_000),
    ("ten megabytes of spaces", " " * 10_000_000),
]


@pytest.mark.parametrize(("case", "body"), LARGE, ids=[case for case, _ in LARGE])
def test_huge_answers_are_read_quickly(case: str, body: str) -> None:
    with deadline(5):
        result = parse_response(body, 200)
    assert len(result.body) <= 2000
    assert result.ok == body.startswith("SUCCESS|")


@pytest.mark.parametrize("status", [429, 502, 503, 504, 500, 404, 302, 100, 0, -1, 10**9])
def test_a_success_body_under_a_non_2xx_status_is_never_ok(status: int) -> None:
    result = parse_response("SUCCESS|https://www.phoneburner.com/x", status)
    assert (result.ok, result.outcome, result.lead_url) == (False, "UNEXPECTED", None)
    assert result.reason == f"HTTP {status}"
