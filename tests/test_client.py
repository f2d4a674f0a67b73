"""The client: tries, outcomes and waits through a mock transport; the real transport's error
mapping over loopback sockets; the rate limit with a fake clock; the key kept secret."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext

import pytest
import requests

from leadstream.deliver.client import (
    Attempt,
    Client,
    ClientError,
    Delivery,
    MaybeTaken,
    MockTransport,
    NotTaken,
    RawResponse,
    RequestsTransport,
    TokenBucket,
    TransportError,
    _transport_failure,
)
from leadstream.deliver.outcomes import AttemptKind, DeliveryOutcome, RetryPolicy
from leadstream.protocol.lead import Lead
from leadstream.protocol.response import Code

URL = "http://leads.test/api/vendor/put_contact"
KEY = "SECRET-KEY-7f3a9"
# A key whose URL form differs from the key itself.
ODD_KEY = "SECRET/KEY+7f3a9 xyz"

WITH_EMAIL = Lead(firstname="Ann", email="ann@example.com", user_id="377310706", cm_id="576846")
NO_EMAIL = Lead(firstname="Bob", phone="7162932368", user_id="377310706", cm_id="576846")

FAST = RetryPolicy(max_attempts=5, base_delay_s=0.1, max_delay_s=1.0, jitter=0.0)


class FakeTime:
    """A clock that moves only when someone sleeps; thread-safe."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def ok(upc: str = "AB12CD34") -> RawResponse:
    return RawResponse(200, f"SUCCESS|https://www.phoneburner.com/ms/lead_redirect?upc={upc}")


def error(reason: str) -> RawResponse:
    return RawResponse(200, f"ERROR|{reason}")


HTTP_503 = RawResponse(503, "<html><title>Service Unavailable</title></html>")
HTTP_500 = RawResponse(500, "Internal Server Error")
HTML_200 = RawResponse(200, "<html><title>Maintenance</title><body>Back soon</body></html>")
RATE_LIMITED = RawResponse(429, "Too many requests", {"Retry-After": "2"})
REFUSED = NotTaken("could not connect to leads.test (connection refused)")
SILENCE = MaybeTaken("no answer from leads.test within 20 s")

Answer = RawResponse | Exception


def scripted(answers: Sequence[Answer]) -> MockTransport:
    """A transport that gives `answers` in turn, then fails the test if asked again."""
    queue = list(answers)

    def handler(url: str) -> Answer:
        assert queue, "the client tried more often than expected"
        return queue.pop(0)

    return MockTransport(handler)


def make_client(
    transport: MockTransport, *, key: str = KEY, time_: FakeTime | None = None, **kwargs: object
) -> Client:
    fake = time_ or FakeTime()
    return Client(
        url=URL,
        key=key,
        transport=transport,
        policy=kwargs.pop("policy", FAST),  # type: ignore[arg-type]
        clock=fake.clock,
        sleep=fake.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


SCRIPTS = [
    # id, lead, answers, outcome, tries, code
    ("success", WITH_EMAIL, [ok()], DeliveryOutcome.DELIVERED, 1, "SUCCESS"),
    ("rejected", WITH_EMAIL, [error("UNKNOWN USER")], DeliveryOutcome.REJECTED, 1, "UNKNOWN USER"),
    (
        "failure form",
        NO_EMAIL,
        [RawResponse(200, "FAILURE|INVALID EMAIL")],
        DeliveryOutcome.REJECTED,
        1,
        "INVALID EMAIL",
    ),
    (
        "real duplicate",
        WITH_EMAIL,
        [error("DUPLICATE EMAIL")],
        DeliveryOutcome.REJECTED,
        1,
        "DUPLICATE EMAIL",
    ),
    ("503 then ok", NO_EMAIL, [HTTP_503, HTTP_503, ok()], DeliveryOutcome.DELIVERED, 3, "SUCCESS"),
    ("503 forever", NO_EMAIL, [HTTP_503] * 5, DeliveryOutcome.FAILED, 5, "HTTP 503"),
    ("refused forever", WITH_EMAIL, [REFUSED] * 5, DeliveryOutcome.FAILED, 5, "NO CONNECTION"),
    ("429 then ok", NO_EMAIL, [RATE_LIMITED, ok()], DeliveryOutcome.DELIVERED, 2, "SUCCESS"),
    (
        "lost reply, email",
        WITH_EMAIL,
        [SILENCE, error("DUPLICATE EMAIL")],
        DeliveryOutcome.DELIVERED,
        2,
        "DUPLICATE EMAIL",
    ),
    (
        "silence, email, then ok",
        WITH_EMAIL,
        [SILENCE, ok()],
        DeliveryOutcome.DELIVERED,
        2,
        "SUCCESS",
    ),
    ("lost reply, no email", NO_EMAIL, [SILENCE], DeliveryOutcome.UNCERTAIN, 1, "NO ANSWER"),
    ("500, no email", NO_EMAIL, [HTTP_500], DeliveryOutcome.UNCERTAIN, 1, "HTTP 500"),
    ("500, email", WITH_EMAIL, [HTTP_500, ok()], DeliveryOutcome.DELIVERED, 2, "SUCCESS"),
    ("garbage, no email", NO_EMAIL, [HTML_200], DeliveryOutcome.UNCERTAIN, 1, "UNREADABLE ANSWER"),
    (
        "garbage, email",
        WITH_EMAIL,
        [HTML_200, error("DUPLICATE EMAIL")],
        DeliveryOutcome.DELIVERED,
        2,
        "DUPLICATE EMAIL",
    ),
    ("silence forever", WITH_EMAIL, [SILENCE] * 5, DeliveryOutcome.UNCERTAIN, 5, "NO ANSWER"),
    (
        "silence then busy",
        WITH_EMAIL,
        [SILENCE, HTTP_503, HTTP_503, HTTP_503, HTTP_503],
        DeliveryOutcome.UNCERTAIN,
        5,
        "HTTP 503",
    ),
    (
        "refused then duplicate",  # a refused try took nothing: the duplicate is real
        WITH_EMAIL,
        [REFUSED, error("DUPLICATE EMAIL")],
        DeliveryOutcome.REJECTED,
        2,
        "DUPLICATE EMAIL",
    ),
    (
        "silence then invalid",
        WITH_EMAIL,
        [SILENCE, error("INVALID EMAIL")],
        DeliveryOutcome.REJECTED,
        2,
        "INVALID EMAIL",
    ),
]


@pytest.mark.parametrize(
    ("lead", "answers", "outcome", "tries", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in SCRIPTS],
)
def test_post_follows_the_delivery_rules(
    lead: Lead, answers: list[Answer], outcome: DeliveryOutcome, tries: int, code: str
) -> None:
    transport = scripted(answers)
    seen: list[Attempt] = []
    delivery = make_client(transport).post(lead, on_attempt=seen.append)
    assert delivery.outcome is outcome
    assert delivery.code == code
    assert len(delivery.attempts) == tries == len(transport.urls) == len(seen)
    assert [a.number for a in seen] == list(range(1, tries + 1))
    assert tuple(seen) == delivery.attempts
    assert len(set(transport.urls)) == 1  # every try sends the very same request
    assert delivery.help


MAYBE_SENT = [
    # answers, maybe_sent, outcome
    ([error("DUPLICATE EMAIL")], False, DeliveryOutcome.REJECTED),
    ([error("DUPLICATE EMAIL")], True, DeliveryOutcome.DELIVERED),
    ([ok()], True, DeliveryOutcome.DELIVERED),
    ([error("UNKNOWN USER")], True, DeliveryOutcome.REJECTED),
    ([HTTP_503] * 5, True, DeliveryOutcome.UNCERTAIN),
    ([HTTP_503] * 5, False, DeliveryOutcome.FAILED),
]


@pytest.mark.parametrize(("answers", "maybe_sent", "outcome"), MAYBE_SENT)
def test_a_lead_that_may_have_been_sent_before(
    answers: list[Answer], maybe_sent: bool, outcome: DeliveryOutcome
) -> None:
    delivery = make_client(scripted(answers)).post(WITH_EMAIL, maybe_sent=maybe_sent)
    assert delivery.outcome is outcome


def test_attempts_record_what_happened() -> None:
    transport = scripted([HTTP_503, SILENCE, ok("ZZ99YY88")])
    delivery = make_client(transport).post(WITH_EMAIL)
    busy, silent, good = delivery.attempts
    assert (busy.status, busy.kind, busy.code, busy.error) == (
        503,
        AttemptKind.NOT_TAKEN,
        "HTTP 503",
        "",
    )
    assert "Service Unavailable" in busy.body
    assert (silent.status, silent.kind, silent.code) == (None, AttemptKind.MAYBE_TAKEN, "NO ANSWER")
    assert silent.error == "no answer from leads.test within 20 s"
    assert (good.status, good.kind, good.code) == (200, AttemptKind.ANSWERED, "SUCCESS")
    assert delivery.lead_url == "https://www.phoneburner.com/ms/lead_redirect?upc=ZZ99YY88"
    assert delivery.result is good.result
    assert all(a.masked_url.startswith(URL + "?key=****") for a in delivery.attempts)
    assert all(abs(a.started_at - time.time()) < 60 for a in delivery.attempts)


def test_long_bodies_are_cut_in_attempts() -> None:
    delivery = make_client(scripted([RawResponse(200, "<p>" + "x" * 5000)])).post(NO_EMAIL)
    assert len(delivery.attempts[0].body) == 500
    assert delivery.outcome is DeliveryOutcome.UNCERTAIN


def test_waits_back_off_between_tries() -> None:
    fake = FakeTime()
    transport = scripted([HTTP_503, HTTP_503, HTTP_503, ok()])
    make_client(transport, time_=fake).post(NO_EMAIL)
    assert fake.sleeps == pytest.approx([0.1, 0.2, 0.4])


def test_rate_limited_answer_waits_as_told() -> None:
    fake = FakeTime()
    delivery = make_client(scripted([RATE_LIMITED, ok()]), time_=fake).post(NO_EMAIL)
    assert delivery.outcome is DeliveryOutcome.DELIVERED
    assert delivery.attempts[0].retry_after_s == 2.0
    assert sum(fake.sleeps) == pytest.approx(2.0)
    assert delivery.attempts[0].code == "HTTP 429"


def test_rate_limited_answer_holds_back_every_thread() -> None:
    fake = FakeTime()
    client = make_client(scripted([RATE_LIMITED, ok("AAAA1111"), ok("BBBB2222")]), time_=fake)
    client.post(NO_EMAIL)
    fake.now -= 1.5  # as if another thread started its try soon after the 429
    client.post(WITH_EMAIL)
    assert fake.sleeps == pytest.approx([2.0, 1.5])


HELP = [
    # answers, lead, a phrase of the help
    ([ok()], NO_EMAIL, Code.SUCCESS.help),
    ([error("CM_ID IS INVALID")], NO_EMAIL, Code.CM_ID_IS_INVALID.help),
    ([SILENCE, error("DUPLICATE EMAIL")], WITH_EMAIL, "the earlier try delivered the lead"),
    ([HTTP_503] * 5, NO_EMAIL, "(Tried 5 times.)"),
    ([REFUSED] * 5, NO_EMAIL, "Could not reach the server"),
    ([SILENCE], NO_EMAIL, Code.NO_ANSWER.help),
    ([HTML_200], NO_EMAIL, Code.UNREADABLE_ANSWER.help),
    ([SILENCE] + [HTTP_503] * 4, WITH_EMAIL, DeliveryOutcome.UNCERTAIN.description),
]


@pytest.mark.parametrize(("answers", "lead", "phrase"), HELP)
def test_help_explains_the_outcome(answers: list[Answer], lead: Lead, phrase: str) -> None:
    delivery = make_client(scripted(answers)).post(lead)
    assert phrase in delivery.help


def test_detail_shows_the_error_or_the_answer() -> None:
    assert make_client(scripted([SILENCE])).post(NO_EMAIL).detail == SILENCE.args[0]
    assert make_client(scripted([error("UNKNOWN USER")])).post(NO_EMAIL).detail == (
        "ERROR|UNKNOWN USER"
    )


# ---- the key stays secret ----------------------------------------------------------------


def echo_url_page(url: str) -> RawResponse:
    """A careless server's error page that quotes the request back."""
    return RawResponse(404, f"<html><body>Not found: {url}</body></html>")


def everything_shown(client: Client, delivery: Delivery) -> str:
    parts = [repr(client), repr(delivery), delivery.help, delivery.code, delivery.detail]
    for attempt in delivery.attempts:
        parts += [repr(attempt), attempt.body, attempt.error, attempt.masked_url]
        if attempt.result is not None:
            parts += [repr(attempt.result), attempt.result.body, attempt.result.reason]
    return "\n".join(parts)


@pytest.mark.parametrize("key", [KEY, ODD_KEY])
@pytest.mark.parametrize(
    "handler",
    [
        echo_url_page,
        lambda url: RawResponse(200, f"<title>{url}</title>"),
        lambda url: NotTaken(f"refused for {url}"),
        lambda url: MaybeTaken(f"no answer for {url}"),
    ],
)
def test_key_never_shows(
    key: str, handler: Callable[[str], Answer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    transport = MockTransport(handler)
    client = make_client(transport, key=key)
    delivery = client.post(NO_EMAIL)
    assert transport.urls  # the key did go out on the wire…
    shown = everything_shown(client, delivery) + caplog.text
    for form in (key, key.replace("/", "%2F").replace("+", "%2B").replace(" ", "%20")):
        assert form not in shown  # …and nowhere else
    assert "****" in shown


def test_key_stays_out_of_setup_errors() -> None:
    with pytest.raises(ClientError) as raised:
        Client(url=f"ftp://leads.test/put_contact?key={KEY}", key=KEY)
    assert KEY not in str(raised.value)


BAD_SETUPS = [
    {"url": "leads.test/put_contact"},
    {"url": "ftp://leads.test/put_contact"},
    {"url": "http:///put_contact"},
    {"url": URL + "?key=1"},
    {"concurrency": 0},
    {"timeout": (0.0, 5.0)},
    {"rate": 0.0},
]


@pytest.mark.parametrize("kwargs", BAD_SETUPS)
def test_client_refuses_bad_setup(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"url": URL, "key": KEY, "transport": scripted([])}
    arguments.update(kwargs)
    with pytest.raises(ClientError):
        Client(**arguments)  # type: ignore[arg-type]


def test_transport_errors_are_value_errors() -> None:
    assert issubclass(NotTaken, TransportError)
    assert issubclass(MaybeTaken, TransportError)
    assert issubclass(TransportError, ValueError)


# ---- the rate limit --------------------------------------------------------------------


def test_token_bucket_spaces_requests() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2.0, 1, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.acquire() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.5, 0.5, 0.5])
    assert fake.now == pytest.approx(1001.5)


def test_token_bucket_allows_a_burst_then_refills() -> None:
    fake = FakeTime()
    bucket = TokenBucket(4.0, 3, clock=fake.clock, sleep=fake.sleep)
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.25])
    fake.now += 100  # a long pause refills only up to the burst
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.25])


def test_token_bucket_books_turns_for_waiting_threads() -> None:
    fake = FakeTime()
    fake.sleep = lambda seconds: None  # type: ignore[method-assign]  # nobody's clock moves
    bucket = TokenBucket(10.0, 1, clock=fake.clock, sleep=fake.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        wait = bucket.acquire()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([0.1 * n for n in range(8)])


def test_client_rate_counts_every_try() -> None:
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.0, max_delay_s=0.0, jitter=0.0)
    transport = scripted([HTTP_503, HTTP_503, ok()])
    client = make_client(transport, time_=fake, rate=4.0, policy=policy)
    client.post(NO_EMAIL)
    assert sum(fake.sleeps) == pytest.approx(0.5)  # three tries, a quarter second apart


# ---- many leads ------------------------------------------------------------------------


def test_client_closes_only_its_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []

    class Tracked(MockTransport):
        def close(self) -> None:
            closed.append("given")

    monkeypatch.setattr(RequestsTransport, "close", lambda self: closed.append("own"))
    with Client(url=URL, key=KEY, transport=Tracked(lambda url: ok())) as client:
        client.post(NO_EMAIL)
    assert closed == []
    with Client(url=URL, key=KEY):
        pass
    assert closed == ["own"]


# ---- the real transport over loopback ----------------------------------------------------


@contextmanager
def tcp_server(behaviour: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-purpose TCP server on 127.0.0.1; yields its put_contact URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                behaviour(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/api/vendor/put_contact"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def answer_with(raw: bytes) -> Callable[[socket.socket], None]:
    def behaviour(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(raw)

    return behaviour


def hang_up(conn: socket.socket) -> None:
    read_request(conn)


def stay_silent(conn: socket.socket) -> None:
    read_request(conn)
    time.sleep(0.6)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SECRET_URL_QUERY = f"?key={KEY}&email=a%40b.example"


def test_real_transport_reads_an_answer() -> None:
    body = "SUCCESS|https://www.phoneburner.com/ms/lead_redirect?upc=QQ11WW22"
    raw = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nRetry-After: 3\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
    ).encode()
    transport = RequestsTransport(pool_size=1)
    with tcp_server(answer_with(raw)) as url:
        response = transport.send(url + SECRET_URL_QUERY, timeout=(1.0, 2.0))
    transport.close()
    assert (response.status, response.body) == (200, body)
    assert response.header("retry-after") == "3"


def test_real_transport_decodes_bad_bytes_and_caps_the_body() -> None:
    body = b"\xff\xfe<html>" + b"x" * 200_000
    raw = (
        b"HTTP/1.1 200 OK\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )
    transport = RequestsTransport(pool_size=1)
    with tcp_server(answer_with(raw)) as url:
        response = transport.send(url, timeout=(1.0, 2.0))
    transport.close()
    assert response.body.startswith("\ufffd\ufffd<html>")
    assert len(response.body) == 64 * 1024


TRANSPORT_FAILURES = [
    # behaviour of the server (None: nothing listens), error raised, words in its message
    (None, NotTaken, "connection refused"),
    (hang_up, MaybeTaken, "closed the connection"),
    (stay_silent, MaybeTaken, "no answer from 127.0.0.1"),
    (answer_with(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nSUCC"), MaybeTaken, "closed"),
    (answer_with(b"this is not HTTP at all\r\n\r\n"), MaybeTaken, "closed the connection"),
]


@pytest.mark.parametrize(("behaviour", "raised", "words"), TRANSPORT_FAILURES)
def test_real_transport_maps_network_trouble(
    behaviour: Callable[[socket.socket], None] | None, raised: type[TransportError], words: str
) -> None:
    transport = RequestsTransport(pool_size=1)
    server = (
        nullcontext(f"http://127.0.0.1:{closed_port()}/api/vendor/put_contact")
        if behaviour is None
        else tcp_server(behaviour)
    )
    with server as url, pytest.raises(raised) as caught:
        transport.send(url + SECRET_URL_QUERY, timeout=(1.0, 0.3))
    transport.close()
    message = str(caught.value)
    assert words in message
    assert KEY not in message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None  # nothing chained keeps the URL


def test_connect_timeout_is_not_taken() -> None:
    # Tests reach only 127.0.0.1, where a connect timeout cannot be made on demand; the mapping
    # from what requests raises is checked directly instead.
    error = requests.exceptions.ConnectTimeout(f"timed out: http://127.0.0.1:9/{SECRET_URL_QUERY}")
    failure = _transport_failure(error, "127.0.0.1:9", (0.05, 0.05))
    assert isinstance(failure, NotTaken)
    assert KEY not in str(failure)


def test_client_over_real_transport_without_a_server_fails_safely() -> None:
    fake = FakeTime()
    url = f"http://127.0.0.1:{closed_port()}/api/vendor/put_contact"
    with Client(url=url, key=KEY, policy=FAST, clock=fake.clock, sleep=fake.sleep) as client:
        delivery = client.post(NO_EMAIL)
    assert delivery.outcome is DeliveryOutcome.FAILED
    assert delivery.code == "NO CONNECTION"
    assert len(delivery.attempts) == FAST.max_attempts
    assert "connection refused" in delivery.attempts[0].error


# A non-429 4xx is refused before the lead is read: one try, `failed`, with or without email.
REFUSALS = [
    (404, WITH_EMAIL),
    (404, NO_EMAIL),
    (400, WITH_EMAIL),
    (401, NO_EMAIL),
    (403, WITH_EMAIL),
    (405, NO_EMAIL),
]


@pytest.mark.parametrize(("status", "lead"), REFUSALS)
def test_a_4xx_fails_at_once(status: int, lead: Lead) -> None:
    transport = MockTransport(lambda url: RawResponse(status, "<html>Nope</html>"))
    delivery = make_client(transport).post(lead)
    assert delivery.outcome is DeliveryOutcome.FAILED
    assert len(transport.urls) == 1
    assert delivery.code == f"HTTP {status}"
    assert "refused the request" in delivery.help


def test_a_4xx_after_a_silent_try_is_uncertain() -> None:
    delivery = make_client(scripted([SILENCE, RawResponse(404, "")])).post(WITH_EMAIL)
    assert delivery.outcome is DeliveryOutcome.UNCERTAIN
