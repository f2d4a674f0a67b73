"""Talking to PhoneBurner's REST API v1: the client, its transport seam, and the legend it reads.

`RestClient` asks one REST base (`rest_base(put_contact_url)`: the origin of the put_contact URL
plus `/rest/1/`) with one personal access token, sent as `Authorization: Bearer …`. Every call
is a GET, so trying again is always safe: a 429 waits its `Retry-After`, a 5xx, a broken answer
or a dropped connection backs off and tries again, up to `max_attempts`. Lists are read page
by page to the end, never cut short silently.

The token is a secret like the vendor key: it lives in the `Authorization` header only (never a
URL), the client's repr masks it, and any answer text quoted in a message has it blotted out.
"""

from __future__ import annotations

import functools
import html
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import requests
import requests.adapters

from leadstream.deliver.client import RawResponse
from leadstream.deliver.outcomes import parse_retry_after
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.protocol.query import mask_secret
from leadstream.protocol.rest import (
    Contact,
    CustomField,
    FieldKind,
    Page,
    RestError,
    parse_contacts,
    parse_customfields,
    parse_tranquility,
)

__all__ = [
    "ConnectionReport",
    "FetchedLegend",
    "MockRestTransport",
    "RequestsRestTransport",
    "RestClient",
    "RestClientError",
    "RestTransport",
    "connection_report",
    "legend_from_fields",
    "rest_base",
]

T = TypeVar("T")

DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 20.0)
PAGE_SIZE = 100  # the most PhoneBurner gives per page
_MAX_READ = 4 * 1024 * 1024
_USER_AGENT = "LeadStream-Desk/0.1"
_MAX_WAIT_S = 60.0


class RestClientError(ValueError):
    """A REST call that got no usable answer; `problem` holds PhoneBurner's answer if one came.
    The message never holds the token."""

    def __init__(self, message: str, problem: RestError | None = None) -> None:
        super().__init__(message)
        self.problem = problem

    @property
    def is_auth(self) -> bool:
        return self.problem is not None and self.problem.kind in ("auth", "forbidden")


class RestTransportError(RestClientError):
    """No HTTP answer at all (refused, timed out, cut off)."""


def rest_base(put_contact_url: str) -> str:
    """The REST base belonging to a put_contact URL: its origin plus `/rest/1/`."""
    parts = urlsplit(put_contact_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RestClientError(
            f"{put_contact_url!r} is not a web address, so there is no REST API to ask; give "
            "the put_contact address, such as https://www.phoneburner.com/api/vendor/put_contact."
        )
    return f"{parts.scheme}://{parts.netloc}/rest/1/"


class RestTransport(Protocol):
    def get(
        self, url: str, *, headers: Mapping[str, str], timeout: tuple[float, float]
    ) -> RawResponse:
        """GET `url`; raises `RestTransportError` when no HTTP answer comes."""
        ...

    def close(self) -> None: ...


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or "the server"


class RequestsRestTransport:
    """One pooled `requests.Session`; urllib3's own retries off, the client decides."""

    def __init__(self, pool_size: int = 2) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = _USER_AGENT
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def get(
        self, url: str, *, headers: Mapping[str, str], timeout: tuple[float, float]
    ) -> RawResponse:
        where = _where(url)
        try:
            with self._session.get(
                url, headers=dict(headers), timeout=timeout, stream=True, allow_redirects=False
            ) as response:
                content = response.raw.read(_MAX_READ, decode_content=True) or b""
                return RawResponse(
                    status=response.status_code,
                    body=content.decode("utf-8", errors="replace"),
                    headers=dict(response.headers),
                )
        except requests.exceptions.ConnectTimeout:
            failure = RestTransportError(f"could not connect to {where} within {timeout[0]:g} s")
        except requests.exceptions.ReadTimeout:
            failure = RestTransportError(f"no answer from {where} within {timeout[1]:g} s")
        except requests.exceptions.ConnectionError as error:
            refused = "refused" in str(error).lower()
            failure = RestTransportError(
                f"could not connect to {where} (connection refused)"
                if refused
                else f"{where} closed the connection without answering"
            )
        except (requests.exceptions.RequestException, OSError, ValueError):
            failure = RestTransportError(f"{where} closed the connection while answering")
        # Raised outside the handler: the original exception (and its request) stays behind.
        raise failure

    def close(self) -> None:
        self._session.close()


class MockRestTransport:
    """For tests: `handler(url, headers)` returns the answer or the exception to raise."""

    def __init__(
        self, handler: Callable[[str, Mapping[str, str]], RawResponse | Exception]
    ) -> None:
        self._handler = handler
        self.urls: list[str] = []

    def get(
        self, url: str, *, headers: Mapping[str, str], timeout: tuple[float, float]
    ) -> RawResponse:
        self.urls.append(url)
        answer = self._handler(url, headers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


class RestClient:
    """Reads one PhoneBurner account over REST with one access token. Thread-safe for reads."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        transport: RestTransport | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 5,
        base_delay_s: float = 0.5,
        max_delay_s: float = 8.0,
        page_size: int = PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        if max_attempts < 1:
            raise RestClientError(f"max_attempts is {max_attempts}; use 1 or more.")
        if not 1 <= page_size <= PAGE_SIZE:
            raise RestClientError(f"page_size is {page_size}; use 1 to {PAGE_SIZE}.")
        self.base_url = base_url
        self._token = token.strip()
        self._owns_transport = transport is None
        self._transport: RestTransport = transport or RequestsRestTransport()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.page_size = page_size
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self.requests_made = 0

    @classmethod
    def for_put_contact(cls, put_contact_url: str, token: str, **options: Any) -> RestClient:
        """The client of the REST API beside `put_contact_url` (see `rest_base`)."""
        return cls(base_url=rest_base(put_contact_url), token=token, **options)

    def __repr__(self) -> str:
        return f"RestClient(base_url={self.base_url!r}, token={mask_secret(self._token)!r})"

    # -- one request, tried again while that may help -------------------------------------------

    def _redact(self, text: str) -> str:
        """`text` with the token blotted out, as is or as an error page may have escaped it."""
        if len(self._token) < 4:
            return text
        token = self._token
        for form in sorted(
            {token, html.escape(token), html.escape(token, quote=False), quote(token, safe="")},
            key=len,
            reverse=True,
        ):
            if form in text:
                text = text.replace(form, mask_secret(token))
        return text

    def _headers(self, with_token: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if with_token and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_WAIT_S)
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return backoff * (0.5 + self._rng.random() / 2)

    def _call(
        self,
        route: str,
        params: Mapping[str, str | int],
        parse: Callable[[int, str], T | RestError],
        *,
        with_token: bool = True,
    ) -> T:
        url = self.base_url + route + (f"?{urlencode(params)}" if params else "")
        last = ""
        problem: RestError | None = None
        for attempt in range(1, self.max_attempts + 1):
            self.requests_made += 1
            retry_after: float | None = None
            try:
                raw = self._transport.get(
                    url, headers=self._headers(with_token), timeout=self.timeout
                )
            except RestTransportError as error:
                last, problem = self._redact(str(error)), None
            else:
                result = parse(raw.status, self._redact(raw.body))
                if not isinstance(result, RestError):
                    return result
                if not result.retryable:
                    raise RestClientError(result.message, result)
                last, problem = result.message, result
                retry_after = parse_retry_after(raw.header("Retry-After"), now=time.time())
            if attempt < self.max_attempts:
                self._sleep(self._delay(attempt, retry_after))
        tries = f"{self.max_attempts} time{'s' if self.max_attempts != 1 else ''}"
        raise (RestClientError if problem else RestTransportError)(
            f"PhoneBurner's REST API at {_where(url)} gave no usable answer (tried {tries}): "
            f"{last}",
            problem,
        )

    def _pages(
        self,
        route: str,
        params: Mapping[str, str | int],
        parse: Callable[..., Page[T] | RestError],
    ) -> Iterator[T]:
        page_number = 1
        seen_first: set[str] = set()
        while True:
            query = {**params, "page": page_number, "page_size": self.page_size}
            page: Page[T] = self._call(
                route, query, functools.partial(_one_page, parse, page_number)
            )
            first = repr(page.items[0]) if page.items else ""
            if first and first in seen_first:
                # A server that ignores `page` would otherwise be read forever.
                raise RestClientError(
                    f"PhoneBurner gave page {page_number} of {route} the same entries as an "
                    "earlier page; the list could not be read to its end."
                )
            seen_first.add(first)
            yield from page.items
            if page.is_last(self.page_size) or (not page.items and not page.skipped):
                return
            page_number += 1

    # -- what can be asked ----------------------------------------------------------------------

    def tranquility(self) -> None:
        """Check that PhoneBurner's REST API answers (no token needed); raises if not."""
        self._call("tranquility", {}, _tranquility, with_token=False)

    def custom_fields(self) -> list[CustomField]:
        """Every custom field of the token's account, all pages read."""
        return list(self._pages("customfields", {}, parse_customfields))

    def member_id(self) -> str:
        """The user whose contacts this token reads ("" when the answer does not say)."""
        page: Page[Contact] = self._call(
            "contacts", {"page": 1, "page_size": 1}, functools.partial(_one_page, parse_contacts, 1)
        )
        return page.member_user_id

    def contacts(
        self, *, email: str | None = None, updated_from: datetime | None = None
    ) -> Iterator[Contact]:
        """The account's contacts, oldest first: optionally those with this email, or those
        added or updated since a moment."""
        # Oldest first: contacts added while the pages are read then join the end, instead of
        # pushing every entry one place on and being read twice or skipped.
        params: dict[str, str | int] = {"sort_order": "ASC"}
        if email:
            params["email_address"] = email.strip()
        if updated_from is not None:
            params["updated_from"] = updated_from.strftime("%Y-%m-%d %H:%M:%S")
            # Without it PhoneBurner lists only contacts *updated* since, not those added.
            params["include_new"] = 1
        return self._pages("contacts", params, parse_contacts)

    def close(self) -> None:
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _one_page(
    parse: Callable[..., Page[T] | RestError], number: int, status: int, body: str
) -> Page[T] | RestError:
    return parse(status, body, page=number)


def _tranquility(status: int, body: str) -> bool | RestError:
    problem = parse_tranquility(status, body)
    return True if problem is None else problem


# --- the legend from the account ----------------------------------------------------------------

_TYPES = {
    FieldKind.TEXT: FieldType.TEXT,
    FieldKind.CHECKBOX: FieldType.CHECKBOX,
    FieldKind.DATE: FieldType.DATE,
}


@dataclass(frozen=True, slots=True)
class FetchedLegend:
    """The legend read from the account, and what had to be said about it."""

    legend: Legend
    notes: tuple[str, ...]


def legend_from_fields(
    fields: list[CustomField], *, name: str = "", cm_id: str = ""
) -> FetchedLegend:
    """The account's custom fields as a legend. Drop-downs, numbers and unknown types become
    text fields (put_contact takes them as text), and each is named in a note; so is a field
    without a display name, which gets one."""
    legend_fields: list[LegendField] = []
    notes: list[str] = []
    seen: set[str] = set()
    for field in sorted(
        fields, key=lambda f: (f.display_order is None, f.display_order or 0, int(f.id))
    ):
        if field.id in seen:
            continue
        seen.add(field.id)
        label = field.display_name or f"Custom field {field.id}"
        if not field.display_name:
            notes.append(
                f"Field {field.id} has no display name in PhoneBurner; it is called {label!r}."
            )
        field_type = _TYPES.get(field.kind)
        if field_type is None:
            field_type = FieldType.TEXT
            notes.append(
                f"{label} ({field.id}) is a {field.type_label} field in PhoneBurner; it is "
                "sent as text, so write values exactly as PhoneBurner lists them."
            )
        legend_fields.append(LegendField(field.id, label, field_type))
    return FetchedLegend(Legend(fields=tuple(legend_fields), name=name, cm_id=cm_id), tuple(notes))


# --- a connection test, in plain words ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    """Whether PhoneBurner answers, whether the token works, and which custom fields it sees."""

    reachable: bool
    token_ok: bool | None  # None: no token was given, or PhoneBurner could not be reached
    fields: tuple[CustomField, ...]
    messages: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.reachable and self.token_ok is True


def connection_report(rest: RestClient, *, has_token: bool = True) -> ConnectionReport:
    """Ask `tranquility` (no token), then the custom fields (with it); never raises."""
    try:
        rest.tranquility()
    except RestClientError as error:
        return ConnectionReport(
            False,
            None,
            (),
            (f"PhoneBurner's REST API does not answer at {rest.base_url}: {error}",),
        )
    answers = f"PhoneBurner's REST API answers at {rest.base_url}."
    if not has_token:
        return ConnectionReport(
            True, None, (), (answers, "No access token is configured, so nothing more was asked.")
        )
    try:
        fields = tuple(rest.custom_fields())
    except RestClientError as error:
        return ConnectionReport(True, False, (), (answers, str(error)))
    names = ", ".join(f"{f.display_name or 'no name'} ({f.id})" for f in fields[:20])
    more = f" and {len(fields) - 20} more" if len(fields) > 20 else ""
    listing = (
        f"The account has {len(fields)} custom field{'s' * (len(fields) != 1)}: {names}{more}."
        if fields
        else "The account has no custom fields."
    )
    return ConnectionReport(True, True, fields, (answers, "The access token works.", listing))
