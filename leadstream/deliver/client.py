"""Sending leads over HTTP: the transport seam, timeouts, retries, rate limit and concurrency.

Everything that touches the network goes through a `Transport`: `RequestsTransport` (one
`requests.Session`, urllib3's own retries off so that only the delivery rules decide) in real
use, `MockTransport` in tests. `Client.post` sends one lead, asks
`leadstream.deliver.outcomes.decide`
after every try and returns a `Delivery`; network trouble never raises, it becomes an outcome.

The vendor key travels in the query string, so it is kept out of everything this module lets
out: attempts hold masked URLs, answer bodies and error messages have the key blotted out, the
transport's exceptions are raised without their cause (whose text holds the URL), and urllib3's
debug log lines are masked.
"""

from __future__ import annotations

import html
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import quote, quote_plus, urlsplit

import requests
import requests.adapters
import urllib3.exceptions

from leadstream.deliver.outcomes import (
    AttemptKind,
    DeliveryOutcome,
    RetryPolicy,
    classify,
    decide,
    parse_retry_after,
)
from leadstream.prepare.identity import has_email
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import build_url, mask_secret, mask_url
from leadstream.protocol.response import Code, PostResult, parse_response

__all__ = [
    "Attempt",
    "Client",
    "ClientError",
    "Delivery",
    "MaybeTaken",
    "MockTransport",
    "NotTaken",
    "RawResponse",
    "RequestsTransport",
    "TokenBucket",
    "Transport",
    "TransportError",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 20.0)
NO_CONNECTION = "NO CONNECTION"
_NO_CONNECTION_HELP = (
    "Could not reach the server, so the lead was not sent. Check the target address and the "
    "internet connection; it is safe to send the lead again."
)
_DUPLICATE_AFTER_SILENCE_HELP = (
    "An earlier send got no clear answer; sent again, PhoneBurner said the email is already in "
    "this LeadStream, so the earlier try delivered the lead."
)
_MAX_BODY = 500
_MAX_READ = 64 * 1024
_USER_AGENT = "LeadStream-Desk/0.1"


class ClientError(ValueError):
    """A client that cannot be set up as asked, or a request that got no usable answer."""


class TransportError(ClientError):
    """A request that got no HTTP answer. The message never holds the key."""


class NotTaken(TransportError):
    """The request certainly did not reach the endpoint (refused, connect timeout, bad name)."""


class MaybeTaken(TransportError):
    """The request was sent but no answer came back: the endpoint may have taken it."""


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An HTTP answer as the transport got it: status, body decoded as UTF-8, headers."""

    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The value of header `name`, found regardless of case."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class Transport(Protocol):
    def send(self, url: str, *, timeout: tuple[float, float]) -> RawResponse:
        """GET `url`. Raises `NotTaken` or `MaybeTaken` when no HTTP answer comes."""
        ...

    def close(self) -> None: ...


def _where(url: str) -> str:
    """`host:port` of `url`, to name the server in messages without the query."""
    parts = urlsplit(url)
    host = parts.hostname or "the server"
    return f"{host}:{parts.port}" if parts.port else host


def _causes(error: BaseException) -> Iterable[BaseException]:
    """`error` and what it wraps (urllib3 nests the real reason inside `MaxRetryError`)."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


_CONNECT_FAILURES = (
    urllib3.exceptions.NewConnectionError,  # also NameResolutionError
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.SSLError,  # the handshake comes before the request is written
    urllib3.exceptions.ProxyError,
    ConnectionRefusedError,
)


def _not_taken_message(error: BaseException, where: str, connect_timeout: float) -> str:
    causes = list(_causes(error))
    if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in causes):
        return f"could not find the server {where} (name lookup failed)"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return f"could not connect to {where} (connection refused)"
    if any(isinstance(c, urllib3.exceptions.SSLError) for c in causes):
        return f"could not open a secure connection to {where} (certificate or TLS problem)"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"could not connect to {where} within {connect_timeout:g} s"
    return f"could not connect to {where}"


def _transport_failure(
    error: BaseException, where: str, timeout: tuple[float, float]
) -> TransportError:
    """The transport error for what requests or urllib3 raised, without the URL's key."""
    no_answer = MaybeTaken(f"no answer from {where} within {timeout[1]:g} s")
    if isinstance(error, requests.exceptions.ReadTimeout):
        return no_answer
    if isinstance(error, requests.exceptions.RequestException):
        connect_failed = isinstance(error, requests.exceptions.ConnectTimeout) or any(
            isinstance(cause, _CONNECT_FAILURES) for cause in _causes(error)
        )
        if connect_failed:
            return NotTaken(_not_taken_message(error, where, timeout[0]))
        return MaybeTaken(f"{where} closed the connection without answering")
    # Reading the raw body bypasses requests' own wrapping of urllib3's errors.
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return no_answer
    return MaybeTaken(f"{where} closed the connection while answering")


class RequestsTransport:
    """The real transport: one `requests.Session` whose pool fits the client's concurrency."""

    def __init__(self, pool_size: int = 4) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = _USER_AGENT
        # urllib3 must not retry on its own: a silent second send of a lead that may have been
        # taken is exactly what the delivery rules exist to prevent.
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def send(self, url: str, *, timeout: tuple[float, float]) -> RawResponse:
        try:
            with self._session.get(url, timeout=timeout, stream=True) as response:
                content = response.raw.read(_MAX_READ, decode_content=True) or b""
                return RawResponse(
                    status=response.status_code,
                    body=content.decode("utf-8", errors="replace"),
                    headers=dict(response.headers),
                )
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            failure = _transport_failure(e, _where(url), timeout)
        # Raised outside the handler so that neither __cause__ nor __context__ keeps the original
        # exception, whose text carries the full URL, key included.
        raise failure

    def close(self) -> None:
        self._session.close()


class MockTransport:
    """A transport for tests: `handler(url)` returns the answer or the exception to raise."""

    def __init__(self, handler: Callable[[str], RawResponse | Exception]) -> None:
        self._handler = handler
        self.urls: list[str] = []

    def send(self, url: str, *, timeout: tuple[float, float]) -> RawResponse:
        self.urls.append(url)
        answer = self._handler(url)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


class TokenBucket:
    """A rate limit shared by threads: `rate` requests a second on average, `burst` at once.

    A caller that finds no token books the next one and sleeps outside the lock until it is
    due, so waiting callers are served in order and never hold each other up.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ClientError(
                f"The rate limit is {rate}; use a number of requests a second above 0."
            )
        if burst < 1:
            raise ClientError(f"The burst is {burst}; it must be 1 or more.")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            elapsed = max(now - self._updated, 0.0)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait_s = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait_s > 0:
            self._sleep(wait_s)
        return wait_s


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One try of one lead, safe to show and store: the URL is masked, and so is the body."""

    number: int
    started_at: float  # Unix time
    duration_s: float
    status: int | None  # None when no HTTP answer came
    masked_url: str
    body: str  # the answer's first characters
    error: str  # why no answer came, or ""
    kind: AttemptKind
    code: str  # "SUCCESS", "DUPLICATE EMAIL", "HTTP 503", "NO ANSWER", "NO CONNECTION"…
    result: PostResult | None = field(default=None, repr=False)
    retry_after_s: float | None = None


def _attempt_code(result: PostResult | None, kind: AttemptKind) -> str:
    if result is None:
        return NO_CONNECTION if kind is AttemptKind.NOT_TAKEN else Code.NO_ANSWER.reason
    if result.outcome == "SUCCESS":
        return "SUCCESS"
    if result.outcome == "UNEXPECTED" and not result.reason.startswith("HTTP "):
        return Code.UNREADABLE_ANSWER.reason
    return result.reason


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one lead: the outcome, the last answer, and every try.

    `result` is the last try's answer (`None` if it got none). Read `outcome`, not
    `result.ok`: a lead is also delivered when the last answer was `DUPLICATE EMAIL` after a
    try that went unanswered.
    """

    outcome: DeliveryOutcome
    result: PostResult | None
    attempts: tuple[Attempt, ...]

    @property
    def lead_url(self) -> str | None:
        return self.result.lead_url if self.result is not None else None

    @property
    def code(self) -> str:
        """The short reason: `SUCCESS`, `DUPLICATE EMAIL`, `HTTP 503`, `NO ANSWER`…"""
        return self.attempts[-1].code if self.attempts else ""

    @property
    def help(self) -> str:
        """What happened and what to do, in plain English."""
        result = self.result
        if self.outcome is DeliveryOutcome.DELIVERED:
            if result is not None and result.code is Code.DUPLICATE_EMAIL:
                return _DUPLICATE_AFTER_SILENCE_HELP
            return Code.SUCCESS.help
        if self.outcome is DeliveryOutcome.REJECTED and result is not None:
            return result.help
        last = self.attempts[-1] if self.attempts else None
        if self.outcome is DeliveryOutcome.UNCERTAIN and (
            last is None or last.kind is not AttemptKind.MAYBE_TAKEN
        ):
            # The last try was clearly refused, but an earlier one may have arrived.
            return self.outcome.description
        if last is None:
            return self.outcome.description
        if result is not None:
            detail = result.help
        elif last.kind is AttemptKind.NOT_TAKEN:
            detail = _NO_CONNECTION_HELP
        else:
            detail = Code.NO_ANSWER.help
        tries = len(self.attempts)
        return f"{detail} (Tried {tries} time{'s' if tries != 1 else ''}.)"

    @property
    def detail(self) -> str:
        """The last try's error or the start of its answer, for a results table."""
        if not self.attempts:
            return ""
        last = self.attempts[-1]
        return last.error or " ".join(last.body.split())[:200]


class _MaskKeys(logging.Filter):
    """Masks `key=` values in urllib3's log lines, which quote each request's URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return True
        masked = mask_url(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _install_log_masking() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskKeys) for f in logger.filters):
            logger.addFilter(_MaskKeys())


_install_log_masking()


class Client:
    """Posts leads to one put_contact URL with one key, following the delivery rules.

    Thread-safe. `rate` (requests a second, every try counted) is shared by all threads;
    `concurrency` sizes the connection pool for that many leads in flight at once (the run
    engine's `deliver.runner` sends that many). A `429` with `Retry-After` holds every thread
    back, not only the one that got it.
    """

    def __init__(
        self,
        *,
        url: str,
        key: str,
        transport: Transport | None = None,
        policy: RetryPolicy | None = None,
        rate: float | None = None,
        concurrency: int = 4,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(
                f"The target address {mask_url(url)!r} is not a web address; it should look like "
                "https://www.phoneburner.com/api/vendor/put_contact."
            )
        if parts.query:
            raise ClientError(
                "The target address must not contain a query (`?…`); give the put_contact "
                "address alone."
            )
        if concurrency < 1:
            raise ClientError(f"Concurrency is {concurrency}; send at least 1 lead at a time.")
        if len(timeout) != 2 or min(timeout) <= 0:
            raise ClientError("Timeouts are (connect seconds, read seconds), both above 0.")
        self.url = url
        self._key = key
        self._owns_transport = transport is None
        self._transport: Transport = transport or RequestsTransport(pool_size=concurrency)
        self.policy = policy if policy is not None else RetryPolicy()
        self.concurrency = concurrency
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._bucket = TokenBucket(rate, 1, clock=clock, sleep=sleep) if rate is not None else None
        self._hold_lock = threading.Lock()
        self._hold_until = float("-inf")
        self._secrets = self._secret_forms(key)

    def __repr__(self) -> str:
        return (
            f"Client(url={self.url!r}, key={mask_secret(self._key)!r}, "
            f"concurrency={self.concurrency}, policy={self.policy!r})"
        )

    @staticmethod
    def _secret_forms(key: str) -> tuple[str, ...]:
        # Very short keys are left alone: blotting every "ab" out of a page helps nobody.
        if len(key) < 4:
            return ()
        # An HTML error page quoting the URL escapes `&`, `<`, `>` and quotes in it.
        forms = {key, quote(key, safe=""), quote_plus(key), html.escape(key, quote=False)}
        forms.add(html.escape(key))
        return tuple(sorted(forms, key=len, reverse=True))

    def _redact(self, text: str) -> str:
        """`text` with the key blotted out (a server may echo the URL in an error page)."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, mask_secret(self._key))
        return text

    def _hold(self, seconds: float) -> None:
        with self._hold_lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def _wait_for_turn(self) -> None:
        with self._hold_lock:
            held = self._hold_until - self._clock()
        if held > 0:
            self._sleep(held)
        if self._bucket is not None:
            self._bucket.acquire()

    def _try(self, url: str, masked: str, number: int) -> Attempt:
        self._wait_for_turn()
        started_at = time.time()
        began = self._clock()
        result: PostResult | None = None
        retry_after: float | None = None
        error = ""
        try:
            raw = self._transport.send(url, timeout=self.timeout)
        except NotTaken as problem:
            kind, error = AttemptKind.NOT_TAKEN, self._redact(str(problem))
        except MaybeTaken as problem:
            kind, error = AttemptKind.MAYBE_TAKEN, self._redact(str(problem))
        else:
            result = parse_response(self._redact(raw.body), raw.status)
            kind = classify(result)
            retry_after = parse_retry_after(raw.header("Retry-After"), now=time.time())
        duration = max(self._clock() - began, 0.0)
        return Attempt(
            number=number,
            started_at=started_at,
            duration_s=duration,
            status=result.status if result is not None else None,
            masked_url=masked,
            body=result.body[:_MAX_BODY] if result is not None else "",
            error=error,
            kind=kind,
            code=_attempt_code(result, kind),
            result=result,
            retry_after_s=retry_after,
        )

    def post(
        self,
        lead: Lead,
        *,
        on_attempt: Callable[[Attempt], None] | None = None,
        maybe_sent: bool = False,
    ) -> Delivery:
        """Send one lead, trying again as the delivery rules allow. Never raises for network
        trouble; `on_attempt` hears about every try as it ends (on this thread).

        `maybe_sent` says an earlier send of this lead (say, by an interrupted run) may have
        arrived: a `DUPLICATE EMAIL` answer then means delivered, as after an unanswered try.
        """
        url = build_url(lead, key=self._key, base_url=self.url)
        masked = mask_url(url)
        emailed = has_email(lead)
        attempts: list[Attempt] = []
        had_unanswered_try = maybe_sent
        number = 0
        while True:
            number += 1
            attempt = self._try(url, masked, number)
            attempts.append(attempt)
            log.debug(
                "try %d of %s: %s%s",
                number,
                masked,
                attempt.code,
                f" ({attempt.error})" if attempt.error else "",
            )
            if on_attempt is not None:
                on_attempt(attempt)
            decision = decide(
                attempt.kind,
                attempt.result,
                has_email=emailed,
                attempt=number,
                policy=self.policy,
                had_unanswered_try=had_unanswered_try,
                retry_after=attempt.retry_after_s,
                rng=self._rng,
            )
            had_unanswered_try = had_unanswered_try or attempt.kind is AttemptKind.MAYBE_TAKEN
            if decision.outcome is not None:
                return Delivery(decision.outcome, attempt.result, tuple(attempts))
            if attempt.retry_after_s is not None:
                self._hold(decision.delay_s)
            self._sleep(decision.delay_s)

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
