"""What the sandbox's REST routes answer: PhoneBurner's REST API v1 as pure functions.

`rest_answer(path, pairs, authorization, account, store)` is the whole of `/rest/1/…` without
HTTP, as `rules.answer` is put_contact: the server wraps it and adds faults. The shapes follow
the public material in docs/DESIGN.md ("REST API"); where that is silent the choices are
written here:

- The token names one user. `customfields` lists the fields of that user's LeadStreams (one entry
  per field ID, first LeadStream first); `contacts` lists the leads stored for that user.
- `date_added` is UTC, written `YYYY-MM-DD HH:MM:SS` as the public example is. `updated_from`
  takes that form, a bare date, or ISO 8601. As PhoneBurner's route list says, `updated_from`
  alone lists contacts *updated* since then, and `include_new=1` adds those *created* since;
  a stored lead is never updated here, so without `include_new` the list is empty.
- Contacts come newest first, as PhoneBurner's default `sort_order=DESC`; `ASC` is oldest first.
- Counts come back as strings in some places (`total_results`, `type_id`), as seen live, so
  that readers of these answers stay tolerant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadstream.prepare.legend import FieldType
from leadstream.sandbox.account import Account, User
from leadstream.sandbox.rules import LeadStore, StoredLead

__all__ = [
    "CONTACT_ID_BASE",
    "REST_PREFIX",
    "RestAnswer",
    "contact_id",
    "rest_answer",
]

REST_PREFIX = "/rest/1/"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# Contact IDs look like PhoneBurner's (eight digits); the n-th stored lead gets BASE + n.
CONTACT_ID_BASE = 30_000_000

# PhoneBurner's type IDs, as public examples give them.
_TYPE_IDS: dict[FieldType, tuple[str, str]] = {
    FieldType.TEXT: ("1", "Text Field"),
    FieldType.CHECKBOX: ("2", "Check Box"),
    FieldType.DATE: ("3", "Date Field"),
}


@dataclass(frozen=True, slots=True)
class RestAnswer:
    """An answer of the REST API: HTTP status and the JSON body as data."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False, indent=1) + "\n"


def _error(
    status: int, *, errors: Sequence[str] = (), debug: Sequence[tuple[int, str]] = ()
) -> RestAnswer:
    body: dict[str, Any] = {"http_status": status, "status": "error"}
    if debug:
        body["debug_codes"] = [{"code": code, "reason": reason} for code, reason in debug]
    if errors:
        body["errors"] = list(errors)
    return RestAnswer(status, body)


_NO_HEADER = _error(401, debug=[(40101, "Login Failure: Authorization Header required")])
_BAD_TOKEN = _error(401, errors=["Invalid access token"])


def contact_id(index: int) -> str:
    """The contact ID the sandbox gives the `index`-th stored lead (from 0)."""
    return str(CONTACT_ID_BASE + index + 1)


def _bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is no such header."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def _user_for(token: str, account: Account) -> User | None:
    if not token:
        return None
    return next((u for u in account.users if u.token and u.token == token), None)


def _params(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    # The last value wins, as PHP's $_GET keeps it.
    return dict(pairs)


class _BadRequest(ValueError):
    pass


def _paging(params: dict[str, str]) -> tuple[int, int]:
    def number(name: str, default: int, low: int, high: int) -> int:
        text = params.get(name, "").strip()
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            raise _BadRequest(f"{name} must be a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise _BadRequest(f"{name} must be between {low} and {high}")
        return value

    return number("page", 1, 1, 10**9), number("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)


def _page(items: Sequence[Any], page: int, size: int) -> tuple[list[Any], int]:
    total_pages = max(1, -(-len(items) // size))
    start = (page - 1) * size
    return list(items[start : start + size]), total_pages


def _customfields(user: User, account: Account, params: dict[str, str]) -> RestAnswer:
    page, size = _paging(params)
    seen: set[str] = set()
    fields: list[dict[str, Any]] = []
    for stream in account.leadstreams:
        if stream.user_id != user.user_id:
            continue
        for legend_field in stream.fields:
            if legend_field.id in seen:
                continue
            seen.add(legend_field.id)
            type_id, type_name = _TYPE_IDS[legend_field.type]
            fields.append(
                {
                    "custom_field_id": legend_field.id,
                    "display_name": legend_field.name,
                    "type_id": type_id,
                    "type_name": type_name,
                    "display_order": str(len(fields)),
                }
            )
    shown, total_pages = _page(fields, page, size)
    return RestAnswer(
        200,
        {
            "http_status": 200,
            "status": "success",
            "customfields": {
                "customfields": shown,
                "page_size": size,
                "total_results": str(len(fields)),
                "page": page,
                "total_pages": total_pages,
            },
        },
    )


def _when(text: str) -> datetime:
    text = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRequest(
            f"updated_from must be a date such as 2026-01-31 or 2026-01-31 14:05:00, not {text!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stored_time(lead: StoredLead) -> datetime:
    moment = datetime.fromisoformat(lead.time)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _contact(index: int, stored: StoredLead) -> dict[str, Any]:
    lead = stored.lead
    return {
        "contact_user_id": contact_id(index),
        "owner_id": stored.user_id,
        "first_name": lead.firstname,
        "last_name": lead.lastname,
        "date_added": _stored_time(stored).strftime("%Y-%m-%d %H:%M:%S"),
        "raw_phone": lead.phone,
        "primary_email": {"email": lead.email} if lead.email else None,
        "category_id": stored.cm_id,
    }


def _contacts(user: User, store: LeadStore, params: dict[str, str]) -> RestAnswer:
    page, size = _paging(params)
    email = params.get("email_address", "").strip().casefold()
    since = _when(params["updated_from"]) if params.get("updated_from", "").strip() else None
    category = params.get("category_id", "").strip()
    include_new = params.get("include_new", "").strip() not in ("", "0")
    order = params.get("sort_order", "DESC").strip().upper() or "DESC"
    if order not in ("ASC", "DESC"):
        raise _BadRequest(f"sort_order must be ASC or DESC, not {order!r}")
    if since is not None and not include_new:
        return _contact_page(user, [], page, size)  # nothing here is ever updated after adding
    found: list[dict[str, Any]] = []
    for index, stored in enumerate(store.leads()):
        if stored.user_id != user.user_id:
            continue
        if email and stored.lead.email.strip().casefold() != email:
            continue
        if since is not None and _stored_time(stored) < since:
            continue
        if category and stored.cm_id != category:
            continue
        found.append(_contact(index, stored))
    if order == "DESC":
        found.reverse()
    return _contact_page(user, found, page, size)


def _contact_page(user: User, found: list[dict[str, Any]], page: int, size: int) -> RestAnswer:
    shown, total_pages = _page(found, page, size)
    return RestAnswer(
        200,
        {
            "http_status": 200,
            "status": "success",
            "contacts": {
                "member_user_id": user.user_id,
                "contacts": shown,
                "page": page,
                "page_size": size,
                "total_pages": total_pages,
                "total_results": len(found),
            },
        },
    )


ROUTES = ("tranquility", "customfields", "contacts")


def rest_answer(
    path: str,
    pairs: Sequence[tuple[str, str]],
    authorization: str | None,
    account: Account,
    store: LeadStore,
) -> RestAnswer:
    """The answer to `GET path?pairs` with the given `Authorization` header (None: absent)."""
    route = path[len(REST_PREFIX) :].strip("/") if path.startswith(REST_PREFIX) else ""
    if route not in ROUTES:
        return _error(404, errors=[f"No such resource: {path}"])
    if route == "tranquility":
        # The shape of PhoneBurner's own example.
        meaning = {"meaning": "the quality or state of being tranquil; calm."}
        listing = {"tranquility": [meaning], "total_results": 1, "page": 1, "page_size": 1}
        return RestAnswer(
            200,
            {
                "http_status": 200,
                "status": "success",
                "tranquility": listing | {"total_pages": 1},
            },
        )
    token = _bearer(authorization)
    if token is None:
        return _NO_HEADER
    user = _user_for(token, account)
    if user is None:
        return _BAD_TOKEN
    params = _params(pairs)
    try:
        if route == "customfields":
            return _customfields(user, account, params)
        return _contacts(user, store, params)
    except _BadRequest as problem:
        return _error(400, errors=[str(problem)])
