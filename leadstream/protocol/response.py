"""What put_contact answered: the body text read into a `PostResult`, and the catalogue of codes.

The endpoint answers `SUCCESS|<lead url>`, or `FAILURE|REASON` / `ERROR|REASON` with the same
eight reasons. Anything else (an empty body, an HTML error page, a non-2xx status) is
`UNEXPECTED`: the lead may or may not have been taken, and it is never `ok`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from leadstream.words import CODE_HELP

__all__ = ["Code", "Outcome", "PostResult", "parse_response"]

Outcome = Literal["SUCCESS", "FAILURE", "ERROR", "UNEXPECTED"]


class Code(Enum):
    """Every answer the endpoint is known to give, with help for the person who sent the lead.

    Each member's value is `(reason as the endpoint writes it, the lead field or setting to
    fix)`; what happened and what to do is in `leadstream.words.CODE_HELP`, by member name.
    """

    SUCCESS = ("SUCCESS", "")
    IDNUMBER_IS_REQUIRED = ("IDNUMBER IS REQUIRED", "user_id")
    UNKNOWN_USER = ("UNKNOWN USER", "user_id")
    CANCELLED_USER = ("CANCELLED USER", "user_id")
    INVALID_EMAIL = ("INVALID EMAIL", "email")
    DUPLICATE_EMAIL = ("DUPLICATE EMAIL", "email")
    CM_ID_IS_REQUIRED = ("CM_ID IS REQUIRED", "cm_id")
    CM_ID_IS_INVALID = ("CM_ID IS INVALID", "cm_id")
    BAD_RESPONSE_TYPE = ("BAD RESPONSE TYPE", "response_type")
    UNKNOWN_CODE = ("", "")
    RATE_LIMITED = ("HTTP 429", "")
    SERVER_UNAVAILABLE = ("SERVER UNAVAILABLE", "")
    REQUEST_REFUSED = ("REQUEST REFUSED", "")
    UNREADABLE_ANSWER = ("UNREADABLE ANSWER", "")
    NO_ANSWER = ("NO ANSWER", "")

    @property
    def reason(self) -> str:
        return self.value[0]

    @property
    def help(self) -> str:
        """What happened and what to do, in the words of `leadstream.words`."""
        return CODE_HELP[self.name]

    @property
    def field(self) -> str:
        """The lead field or setting that the user should change, or `""`."""
        return self.value[1]

    @classmethod
    def for_reason(cls, reason: str) -> Code:
        """The member for a reason the endpoint gave; `UNKNOWN_CODE` for one it is not known to.

        Only the endpoint's own codes are looked up: a body `ERROR|HTTP 429` or `ERROR|NO ANSWER`
        is a refusal, not the transport trouble (safe to resend) that those members describe.
        """
        normalized = " ".join(reason.upper().split())
        return _BY_REASON.get(normalized, cls.UNKNOWN_CODE)


# The endpoint's own codes, in the order the vendor document lists them.
VENDOR_CODES: tuple[Code, ...] = (
    Code.IDNUMBER_IS_REQUIRED,
    Code.UNKNOWN_USER,
    Code.CANCELLED_USER,
    Code.INVALID_EMAIL,
    Code.DUPLICATE_EMAIL,
    Code.CM_ID_IS_REQUIRED,
    Code.CM_ID_IS_INVALID,
    Code.BAD_RESPONSE_TYPE,
)

_BY_REASON = {code.reason: code for code in VENDOR_CODES}


@dataclass(frozen=True, slots=True)
class PostResult:
    """The endpoint's answer to one request."""

    ok: bool
    outcome: Outcome
    reason: str
    lead_url: str | None
    help: str
    code: Code
    status: int = 200
    body: str = ""

    @property
    def summary(self) -> str:
        """One line for tables and logs: `SUCCESS`, `ERROR|UNKNOWN USER`, `HTTP 503`…"""
        if self.outcome == "SUCCESS":
            return "SUCCESS"
        if self.outcome == "UNEXPECTED":
            return self.reason
        return f"{self.outcome}|{self.reason}"


_MAX_BODY = 2000
# A page's title is near its top; looking further only costs time on a huge or hostile body.
_MAX_DESCRIBED = 64 * 1024
# `<` is excluded inside a tag so that a body full of unclosed `<` is read in linear time.
_TAG = re.compile(r"<[^<>]*>")
_TITLE_OPEN = re.compile(r"<title\b[^<>]*>", re.IGNORECASE)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.IGNORECASE)
# Control characters (a terminal escape such as ESC[2J, a NUL) and the invisible marks that
# reverse the direction of text: a reason is shown in the terminal, the app and the journal, and
# a hostile or broken server must not be able to repaint the terminal or disguise the text.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A lead's link is offered as a link to click: only a plain http(s) address is one.
_LEAD_URL = re.compile(r"https?://[!-~]+", re.IGNORECASE)


def _clean(text: str) -> str:
    """`text` on one line, without control characters, runs of whitespace made one space."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def _unexpected(code: Code, reason: str, status: int, body: str) -> PostResult:
    return PostResult(
        ok=False,
        outcome="UNEXPECTED",
        reason=reason,
        lead_url=None,
        help=code.help,
        code=code,
        status=status,
        body=body[:_MAX_BODY],
    )


def _describe_page(body: str) -> str:
    """A short human description of a non-vendor body, such as an HTML page's title."""
    body = body[:_MAX_DESCRIBED]
    text = body
    opening = _TITLE_OPEN.search(body)
    if opening is not None:
        closing = _TITLE_CLOSE.search(body, opening.end())
        if closing is not None:
            text = body[opening.end() : closing.start()]
    text = _clean(html.unescape(_TAG.sub(" ", text)))
    return text[:80].rstrip() or "an empty answer"


def parse_response(body: str, status: int = 200) -> PostResult:
    """Read the endpoint's answer. Never raises: every body maps to a result."""
    # A byte-order mark before `SUCCESS` comes from a PHP file saved with one; it is not content.
    text = body.strip().lstrip("\ufeff").strip()
    if status == 429:
        return _unexpected(Code.RATE_LIMITED, "HTTP 429", status, body)
    if status in (502, 503, 504):
        return _unexpected(Code.SERVER_UNAVAILABLE, f"HTTP {status}", status, body)
    if 400 <= status < 500:
        return _unexpected(Code.REQUEST_REFUSED, f"HTTP {status}", status, body)
    if not 200 <= status < 300:
        return _unexpected(Code.UNREADABLE_ANSWER, f"HTTP {status}", status, body)
    head, bar, tail = text.partition("|")
    # ASCII only: "ſuccess".upper() is "SUCCESS", and a garbled answer must never read as one.
    outcome = head.strip().upper() if head.isascii() else ""
    if not bar or outcome not in ("SUCCESS", "FAILURE", "ERROR"):
        return _unexpected(
            Code.UNREADABLE_ANSWER, f"Unreadable answer: {_describe_page(text)}", status, body
        )
    tail = tail.strip()
    if outcome == "SUCCESS":
        # The document itself prints `lead_redirect? upc=…`; stray whitespace is not meaningful.
        url = re.sub(r"\s+", "", tail)
        return PostResult(
            ok=True,
            outcome="SUCCESS",
            reason="",
            # Anything else (`javascript:…`, text with control characters) is no link to offer.
            lead_url=url if _LEAD_URL.fullmatch(url) else None,
            help=Code.SUCCESS.help,
            code=Code.SUCCESS,
            status=status,
            body=body[:_MAX_BODY],
        )
    reason = _clean(tail)
    code = Code.for_reason(reason)
    return PostResult(
        ok=False,
        outcome="FAILURE" if outcome == "FAILURE" else "ERROR",
        reason=reason,
        lead_url=None,
        help=code.help,
        code=code,
        status=status,
        body=body[:_MAX_BODY],
    )
