"""Reading PhoneBurner's REST API v1 answers: envelopes, pages, custom fields and contacts.

Pure functions from `(HTTP status, body text)` to typed results; no I/O. Public material
(docs/DESIGN.md, "REST API") shows the shapes, but not every detail, so reading is tolerant:

- numbers may come as strings (`"total_results": "1"`), and paging fields may be missing: a
  missing `total_pages` is None and the reader of pages stops at a short or empty page;
- a list may sit inside its object (`{"customfields": {"customfields": [...], "page": 1}}`, as
  documented), directly under the envelope (`{"customfields": [...]}`), or be an object keyed
  by ID; entries that are not objects are skipped and counted;
- `primary_email` may be `{"email": …}`, a bare string, a list of those, or null;
- `display_name` may be blank.

Anything else (an HTML page, truncated or non-JSON text, an error envelope, a status that is
not 2xx) is a `RestError` with a message a person can act on; `retryable` says whether asking
again may help (429, 5xx, a broken answer — every REST call here is a GET, safe to repeat).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

__all__ = [
    "Contact",
    "CustomField",
    "FieldKind",
    "Page",
    "RestError",
    "digits",
    "parse_contacts",
    "parse_customfields",
    "parse_tranquility",
    "read_envelope",
]

T = TypeVar("T")

_MAX_QUOTED = 120


class FieldKind(StrEnum):
    """PhoneBurner's custom-field types (`type_id`), as public examples give them."""

    TEXT = "Text Field"
    CHECKBOX = "Check Box"
    DATE = "Date Field"
    DROPDOWN = "Drop Down"
    NUMERIC = "Numeric"
    UNKNOWN = "Unknown"


_KIND_BY_ID = {
    "1": FieldKind.TEXT,
    "2": FieldKind.CHECKBOX,
    "3": FieldKind.DATE,
    "6": FieldKind.DROPDOWN,
    "7": FieldKind.NUMERIC,
}
_KIND_BY_NAME = {re.sub(r"[^a-z]", "", kind.value.lower()): kind for kind in FieldKind}


@dataclass(frozen=True, slots=True)
class RestError:
    """An answer that is not the data asked for, said in words.

    `kind`: `auth` (no or wrong token), `forbidden`, `not_found`, `bad_request`,
    `rate_limited`, `server` (5xx), `unreadable` (HTML, truncated or non-JSON text, or JSON of
    an unknown shape), `error` (an error envelope of another status).
    """

    kind: str
    status: int
    message: str
    codes: tuple[str, ...] = ()

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "server", "unreadable")

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; `total_*` are None when the answer did not say."""

    items: tuple[T, ...]
    page: int
    page_size: int | None
    total_results: int | None
    total_pages: int | None
    skipped: int = 0  # entries that were not readable objects
    member_user_id: str = ""  # whose list it is, where the answer says (contacts)

    def is_last(self, requested_size: int) -> bool:
        """Whether no further page should be asked for."""
        if self.total_pages is not None:
            return self.page >= self.total_pages
        return len(self.items) + self.skipped < requested_size


@dataclass(frozen=True, slots=True)
class CustomField:
    id: str
    display_name: str
    kind: FieldKind
    type_label: str  # as the answer named it ("Numeric"), for notes
    display_order: int | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    owner_id: str
    first_name: str
    last_name: str
    date_added: str  # as PhoneBurner wrote it, e.g. "2023-10-15 10:38:07"
    phone: str  # digits only
    email: str


# --- small tolerant readers ---------------------------------------------------------------------


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    return None


def _text(value: object) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(_int(value) if _int(value) is not None else value)
    return ""


def digits(text: str) -> str:
    """The digits of a phone number, a leading US `1` of an 11-digit number dropped."""
    only = "".join(c for c in text if c.isdigit())
    return only[1:] if len(only) == 11 and only.startswith("1") else only


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 1] + "…"


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _describe_page(body: str) -> str:
    match = _TITLE.search(body) or _H1.search(body)
    if match:
        return f"a web page ({_short(html.unescape(_TAGS.sub('', match.group(1))))!r})"
    return "a web page"


def _looks_like_html(body: str) -> bool:
    head = body.lstrip()[:200].lower()
    return head.startswith(("<!doctype", "<html", "<head", "<body")) or "<html" in head


# --- the envelope -------------------------------------------------------------------------------


def _error_words(data: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The reasons and codes an error envelope gives, joined for a message."""
    reasons: list[str] = []
    codes: list[str] = []
    for entry in _as_list(data.get("debug_codes")):
        if isinstance(entry, Mapping):
            if code := _text(entry.get("code")):
                codes.append(code)
            if reason := _text(entry.get("reason") or entry.get("message")):
                reasons.append(reason)
    for entry in _as_list(data.get("errors")):
        if isinstance(entry, Mapping):
            entry = entry.get("message") or entry.get("reason") or entry.get("error")
        if text := _text(entry):
            reasons.append(text)
    for name in ("message", "error_description", "error"):
        if text := _text(data.get(name)):
            reasons.append(text)
    return "; ".join(dict.fromkeys(reasons)), tuple(codes)


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None or value == "":
        return []
    return [value]


def _status_error(status: int, reasons: str, codes: tuple[str, ...]) -> RestError:
    said = f" PhoneBurner said: {_short(reasons)}." if reasons else ""
    if status == 401:
        if "40101" in codes or "header required" in reasons.lower():
            message = (
                "PhoneBurner asked for an access token and none was sent. Make a personal "
                "access token in PhoneBurner and configure it."
            )
        else:
            message = (
                "PhoneBurner did not accept the access token (it may be mistyped, revoked or "
                "expired). Make a new personal access token in PhoneBurner and configure it."
            )
        return RestError("auth", status, message + said, codes)
    if status == 403:
        return RestError(
            "forbidden",
            status,
            "The access token is not allowed to read this (HTTP 403); use a token of the "
            "account that owns the LeadStreams." + said,
            codes,
        )
    if status == 404:
        return RestError(
            "not_found",
            status,
            "The address answered that there is no such REST resource (HTTP 404); check that "
            "it is PhoneBurner's." + said,
            codes,
        )
    if status == 429:
        return RestError(
            "rate_limited", status, "PhoneBurner asks to slow down (HTTP 429)." + said, codes
        )
    if status >= 500:
        return RestError(
            "server",
            status,
            f"PhoneBurner's server failed (HTTP {status}); try again." + said,
            codes,
        )
    if 400 <= status < 500:
        return RestError(
            "bad_request", status, f"PhoneBurner refused the request (HTTP {status})." + said, codes
        )
    return RestError(
        "error", status, f"PhoneBurner answered with an error (HTTP {status})." + said, codes
    )


def read_envelope(status: int, body: str) -> dict[str, Any] | RestError:
    """The JSON envelope of a successful answer, or what went wrong."""
    text = body.lstrip("\ufeff").strip()
    data: object = None
    problem = ""
    if not text:
        problem = "an empty answer"
    elif _looks_like_html(text):
        problem = _describe_page(text)
    else:
        try:
            data = json.loads(text)
        except RecursionError:
            problem = "JSON nested too deeply to read"
        except ValueError as error:
            cut = (
                text[0] in "[{"
                and isinstance(error, json.JSONDecodeError)
                and (error.pos >= len(text) - 1 or error.msg.startswith("Unterminated"))
            )
            problem = (
                "JSON cut off before its end"
                if cut
                else f"text that is not JSON ({_short(text)!r})"
            )
    if problem or not isinstance(data, dict):
        if not problem:
            problem = f"JSON of an unexpected shape ({_short(text)!r})"
        if status == 429 or status >= 500:
            plain = _status_error(status, "", ())
            return RestError(plain.kind, status, f"{plain.message} The answer was {problem}.")
        if status in (401, 403, 404):
            return _status_error(status, "", ())
        return RestError(
            "unreadable",
            status,
            f"The answer (HTTP {status}) was {problem}, not PhoneBurner's REST JSON; the "
            "service may be down for maintenance, or the address is not PhoneBurner's.",
        )
    envelope_status = _text(data.get("status")).lower()
    declared = _int(data.get("http_status"))
    effective = status if not 200 <= status < 300 else (declared or status)
    if envelope_status == "error" or not 200 <= effective < 300:
        reasons, codes = _error_words(data)
        return _status_error(effective if effective >= 400 else 400, reasons, codes)
    return data


# --- lists --------------------------------------------------------------------------------------


def _list_and_paging(
    data: Mapping[str, Any], name: str
) -> tuple[list[Any], Mapping[str, Any]] | None:
    """The entries of list `name` and the object holding its paging fields."""
    holder: object = data.get(name)
    if isinstance(holder, Mapping):
        inner = holder.get(name)
        if inner is None:
            # The object may hold the entries keyed by ID, or another list name.
            lists = [v for v in holder.values() if isinstance(v, list)]
            if len(lists) == 1:
                return lists[0], holder
            entries = [v for v in holder.values() if isinstance(v, Mapping)]
            if entries and len(entries) == len(holder):
                return entries, data
            return None
        if isinstance(inner, Mapping):
            return list(inner.values()), holder
        if isinstance(inner, list):
            return inner, holder
        return None
    if isinstance(holder, list):
        return holder, data
    return None


def _page(
    status: int,
    body: str,
    name: str,
    read: Callable[[Mapping[str, Any]], T | None],
    requested_page: int,
) -> Page[T] | RestError:
    data = read_envelope(status, body)
    if isinstance(data, RestError):
        return data
    found = _list_and_paging(data, name)
    if found is None:
        return RestError(
            "unreadable",
            status,
            f"PhoneBurner's answer has no `{name}` list; this version of its API is not one "
            "LeadStream Desk knows.",
        )
    entries, paging = found
    items: list[T] = []
    skipped = 0
    for entry in entries:
        item = read(entry) if isinstance(entry, Mapping) else None
        if item is None:
            skipped += 1
        else:
            items.append(item)
    return Page(
        items=tuple(items),
        page=_int(paging.get("page")) or requested_page,
        page_size=_int(paging.get("page_size")),
        total_results=_int(paging.get("total_results")),
        total_pages=_int(paging.get("total_pages")),
        skipped=skipped,
        member_user_id=_text(paging.get("member_user_id")),
    )


def _kind(entry: Mapping[str, Any]) -> tuple[FieldKind, str]:
    type_id = _text(entry.get("type_id"))
    type_name = _text(entry.get("type_name") or entry.get("type"))
    kind = _KIND_BY_ID.get(type_id)
    if kind is None and type_name:
        kind = _KIND_BY_NAME.get(re.sub(r"[^a-z]", "", type_name.lower()))
    label = type_name or (kind.value if kind else f"type {type_id or '?'}")
    return kind or FieldKind.UNKNOWN, label


def _custom_field(entry: Mapping[str, Any]) -> CustomField | None:
    field_id = _text(entry.get("custom_field_id") or entry.get("id"))
    if not re.fullmatch(r"[0-9]{1,50}", field_id):
        return None
    kind, label = _kind(entry)
    return CustomField(
        id=field_id,
        display_name=_text(entry.get("display_name") or entry.get("name")),
        kind=kind,
        type_label=label,
        display_order=_int(entry.get("display_order")),
    )


def _email(value: object) -> str:
    for entry in _as_list(value):
        if isinstance(entry, Mapping):
            entry = entry.get("email") or entry.get("email_address")
        if text := _text(entry):
            return text
    return ""


def _contact(entry: Mapping[str, Any]) -> Contact | None:
    contact_id = _text(
        entry.get("contact_user_id") or entry.get("user_id") or entry.get("contact_id")
    )
    if not contact_id:
        return None
    return Contact(
        id=contact_id,
        owner_id=_text(entry.get("owner_id")),
        first_name=_text(entry.get("first_name")),
        last_name=_text(entry.get("last_name")),
        date_added=_text(entry.get("date_added")),
        phone=digits(_text(entry.get("raw_phone") or entry.get("phone"))),
        email=_email(
            entry.get("primary_email") or entry.get("email_address") or entry.get("email")
        ),
    )


def parse_customfields(status: int, body: str, *, page: int = 1) -> Page[CustomField] | RestError:
    """One page of `GET /rest/1/customfields`."""
    return _page(status, body, "customfields", _custom_field, page)


def parse_contacts(status: int, body: str, *, page: int = 1) -> Page[Contact] | RestError:
    """One page of `GET /rest/1/contacts`."""
    return _page(status, body, "contacts", _contact, page)


def parse_tranquility(status: int, body: str) -> RestError | None:
    """None when `GET /rest/1/tranquility` says PhoneBurner is there, else what went wrong."""
    data = read_envelope(status, body)
    return data if isinstance(data, RestError) else None
