"""The client against the real sandbox over loopback HTTP: every vendor code, and every fault
handled by the delivery rules without losing or doubling a lead."""

from __future__ import annotations

import dataclasses
import io
import logging
import socket
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from leadstream.deliver.client import (
    Client,
    Delivery,
    MockTransport,
    NotTaken,
    RawResponse,
    RequestsTransport,
)
from leadstream.deliver.outcomes import AttemptKind, DeliveryOutcome, RetryPolicy
from leadstream.protocol.lead import Lead
from leadstream.protocol.response import Code
from leadstream.sandbox import Account, Faults, SandboxServer
from leadstream.sandbox.faults import FaultKind, FaultPlan

DEMO_KEY = "XXXYYYZZZ"
USER = "377310706"
CANCELLED_USER = "377310000"
CM_ID = "576846"
SECRET_KEY = "SECRET-KEY-7f3a9"

FAST = RetryPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.05, jitter=0.5)
TIMEOUT = (1.0, 3.0)


def lead(email: str = "", **fields: Any) -> Lead:
    values = {"firstname": "Jeff", "user_id": USER, "cm_id": CM_ID, **fields}
    return Lead(email=email, **values)


@contextmanager
def sandbox_with(
    *, account: Account | None = None, log: io.StringIO | None = None, **faults: Any
) -> Iterator[SandboxServer]:
    with SandboxServer(account, faults=Faults(**faults), log=log) as server:
        yield server


def seed_for(pattern: Sequence[FaultKind | None], **faults: float) -> int:
    """A seed whose first draws are `pattern` (e.g. a fault, then none), found with the
    sandbox's own dice so that the test does not guess at how they roll."""
    for seed in range(10_000):
        plan = FaultPlan(Faults(**faults, seed=seed))
        if [plan.draw() for _ in pattern] == list(pattern):
            return seed
    raise AssertionError(f"no seed gives {pattern}")


def client_for(server: SandboxServer, **kwargs: object) -> Client:
    options: dict[str, object] = {"policy": FAST, "timeout": TIMEOUT, "key": DEMO_KEY}
    options.update(kwargs)
    return Client(url=server.url, **options)  # type: ignore[arg-type]


def post_all(client: Client, leads: Sequence[Lead]) -> list[Delivery]:
    """Every lead posted, `client.concurrency` at a time, as the run engine sends them."""
    with ThreadPoolExecutor(client.concurrency) as pool:
        return list(pool.map(client.post, leads))


def no_email_account() -> Account:
    return dataclasses.replace(Account.demo(), require_email=False)


# ---- every vendor code, end to end --------------------------------------------------------

CODES = [
    # id, lead, key, code
    ("wrong key", lead("a@example.com"), "WRONGKEY1", Code.IDNUMBER_IS_REQUIRED),
    ("no user", lead("a@example.com", user_id=""), DEMO_KEY, Code.IDNUMBER_IS_REQUIRED),
    ("unknown user", lead("a@example.com", user_id="1"), DEMO_KEY, Code.UNKNOWN_USER),
    (
        "cancelled user",
        lead("a@example.com", user_id=CANCELLED_USER),
        DEMO_KEY,
        Code.CANCELLED_USER,
    ),
    ("no cm_id", lead("a@example.com", cm_id=""), DEMO_KEY, Code.CM_ID_IS_REQUIRED),
    ("other cm_id", lead("a@example.com", cm_id="111111"), DEMO_KEY, Code.CM_ID_IS_INVALID),
    ("no email", lead(""), DEMO_KEY, Code.INVALID_EMAIL),
    ("bad email", lead("jeff@"), DEMO_KEY, Code.INVALID_EMAIL),
]


@pytest.mark.parametrize(
    ("the_lead", "key", "code"), [pytest.param(*case[1:], id=case[0]) for case in CODES]
)
def test_each_refusal_is_rejected_with_its_code(
    fresh_sandbox: SandboxServer, the_lead: Lead, key: str, code: Code
) -> None:
    with client_for(fresh_sandbox, key=key) as client:
        delivery = client.post(the_lead)
    assert delivery.outcome is DeliveryOutcome.REJECTED
    assert delivery.code == code.reason
    assert delivery.result is not None
    assert delivery.result.code is code
    assert delivery.help == code.help
    assert len(delivery.attempts) == 1  # refusals are final: never tried again
    assert fresh_sandbox.leads() == []


def test_success_then_duplicate(fresh_sandbox: SandboxServer) -> None:
    with client_for(fresh_sandbox) as client:
        first = client.post(lead("jeff@example.com", custom_fields={"297989": "75048327"}))
        again = client.post(lead("JEFF@example.com"))
    assert first.outcome is DeliveryOutcome.DELIVERED
    assert first.code == "SUCCESS"
    (stored,) = fresh_sandbox.leads()
    assert first.lead_url == stored.lead_url
    assert stored.params["custom_field"] == {"297989": "75048327"}
    assert again.outcome is DeliveryOutcome.REJECTED
    assert again.code == Code.DUPLICATE_EMAIL.reason
    assert len(again.attempts) == 1


class WithResponseType:
    """Adds `response_type=json` to every request: the Lead itself never carries it."""

    def __init__(self, inner: RequestsTransport) -> None:
        self.inner = inner

    def send(self, url: str, *, timeout: tuple[float, float]) -> RawResponse:
        return self.inner.send(url + "&response_type=json", timeout=timeout)

    def close(self) -> None:
        self.inner.close()


def test_bad_response_type_is_rejected(fresh_sandbox: SandboxServer) -> None:
    transport = WithResponseType(RequestsTransport(pool_size=1))
    with client_for(fresh_sandbox, transport=transport) as client:
        delivery = client.post(lead("a@example.com"))
    transport.close()
    assert delivery.outcome is DeliveryOutcome.REJECTED
    assert delivery.code == Code.BAD_RESPONSE_TYPE.reason


# ---- faults ---------------------------------------------------------------------------------


def test_lost_reply_with_email_ends_delivered_once() -> None:
    seed = seed_for(["lost_reply", None], lost_reply_rate=0.5)
    with (
        sandbox_with(lost_reply_rate=0.5, seed=seed) as server,
        client_for(server) as client,
    ):
        delivery = client.post(lead("lost@example.com"))
        stats = server.stats()
        stored = server.leads()
    assert delivery.outcome is DeliveryOutcome.DELIVERED
    assert [a.kind for a in delivery.attempts] == [AttemptKind.MAYBE_TAKEN, AttemptKind.ANSWERED]
    assert delivery.code == "DUPLICATE EMAIL"
    assert "earlier try delivered" in delivery.help
    assert len(stored) == 1
    assert stats["faults"]["lost_reply"] == 1
    assert stats["answers"]["DUPLICATE EMAIL"] == 1


def test_lost_reply_without_email_ends_uncertain_and_is_not_resent() -> None:
    seed = seed_for(["lost_reply", None], lost_reply_rate=0.5)
    with (
        sandbox_with(account=no_email_account(), lost_reply_rate=0.5, seed=seed) as server,
        client_for(server) as client,
    ):
        delivery = client.post(lead("", phone="7162932368"))
        stored = server.leads()
        requests_seen = server.stats()["requests"]
    assert delivery.outcome is DeliveryOutcome.UNCERTAIN
    assert delivery.code == "NO ANSWER"
    assert len(delivery.attempts) == 1
    assert requests_seen == 1
    assert len(stored) == 1  # it did arrive; only looking can tell


def test_rate_limit_waits_and_succeeds() -> None:
    with sandbox_with(rate_limit=1) as server, client_for(server) as client:
        first = client.post(lead("one@example.com"))
        started = time.monotonic()
        second = client.post(lead("two@example.com"))
        waited = time.monotonic() - started
        stats = server.stats()
    assert first.outcome is second.outcome is DeliveryOutcome.DELIVERED
    assert second.attempts[0].status == 429
    assert second.attempts[0].retry_after_s == 1.0
    assert second.attempts[-1].code == "SUCCESS"
    assert waited >= 0.95  # Retry-After: 1 honoured
    assert stats["faults"]["rate_limited"] == len(second.attempts) - 1 >= 1
    assert len(server.leads()) == 2


def test_client_rate_keeps_under_the_server_limit() -> None:
    with (
        sandbox_with(rate_limit=25) as server,
        client_for(server, rate=20.0, concurrency=4) as client,
    ):
        leads = [lead(f"paced{n}@example.com") for n in range(24)]
        deliveries = post_all(client, leads)
        stats = server.stats()
    assert all(d is not None and d.outcome is DeliveryOutcome.DELIVERED for d in deliveries)
    assert stats["faults"]["rate_limited"] == 0
    assert stats["requests"] == 24


def test_unavailable_is_retried_and_succeeds() -> None:
    seed = seed_for(["fail", None], fail_rate=0.5)
    with (
        sandbox_with(account=no_email_account(), fail_rate=0.5, seed=seed) as server,
        client_for(server) as client,
    ):
        delivery = client.post(lead("", phone="7162932368"))  # no email: 503 is still safe
        stored = server.leads()
    assert delivery.outcome is DeliveryOutcome.DELIVERED
    assert [a.status for a in delivery.attempts] == [503, 200]
    assert delivery.attempts[0].code == "HTTP 503"
    assert len(stored) == 1


def test_unavailable_every_time_fails() -> None:
    with sandbox_with(fail_rate=1.0) as server, client_for(server) as client:
        delivery = client.post(lead("busy@example.com"))
        stored = server.leads()
    assert delivery.outcome is DeliveryOutcome.FAILED
    assert len(delivery.attempts) == FAST.max_attempts
    assert stored == []


def test_garbage_with_email_is_retried_and_delivered() -> None:
    seed = seed_for(["garbage", None], garbage_rate=0.5)
    with sandbox_with(garbage_rate=0.5, seed=seed) as server, client_for(server) as client:
        delivery = client.post(lead("garbage@example.com"))
        stored = server.leads()
    assert delivery.outcome is DeliveryOutcome.DELIVERED
    assert [a.code for a in delivery.attempts] == ["UNREADABLE ANSWER", "SUCCESS"]
    assert delivery.attempts[0].status == 200
    assert len(stored) == 1


def test_garbage_without_email_is_uncertain() -> None:
    seed = seed_for(["garbage", None], garbage_rate=0.5)
    with (
        sandbox_with(account=no_email_account(), garbage_rate=0.5, seed=seed) as server,
        client_for(server) as client,
    ):
        delivery = client.post(lead("", phone="7162932368"))
        requests_seen = server.stats()["requests"]
    assert delivery.outcome is DeliveryOutcome.UNCERTAIN
    assert delivery.code == "UNREADABLE ANSWER"
    assert requests_seen == 1


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused_fails() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/vendor/put_contact"
    with Client(url=url, key=DEMO_KEY, policy=FAST, timeout=TIMEOUT) as client:
        delivery = client.post(lead("nobody@example.com"))
    assert delivery.outcome is DeliveryOutcome.FAILED
    assert delivery.code == "NO CONNECTION"
    assert len(delivery.attempts) == FAST.max_attempts
    assert all("connection refused" in a.error for a in delivery.attempts)


def test_transport_errors_keep_no_trace_of_the_url() -> None:
    secret = "SECRET-KEY-chain-91d2"
    url = f"http://127.0.0.1:{closed_port()}/api/vendor/put_contact?key={secret}"
    transport = RequestsTransport(pool_size=1)
    with pytest.raises(NotTaken) as caught:
        transport.send(url, timeout=(1.0, 1.0))
    transport.close()
    error: BaseException | None = caught.value
    while error is not None:
        assert secret not in str(error)
        assert error.__cause__ is None
        error = error.__context__
    assert caught.value.__context__ is None


@pytest.mark.parametrize(
    ("email", "outcome", "tries", "stored"),
    [
        ("held@example.com", DeliveryOutcome.DELIVERED, 2, 1),
        ("", DeliveryOutcome.UNCERTAIN, 1, 0),
    ],
)
def test_read_timeout_is_handled(
    email: str, outcome: DeliveryOutcome, tries: int, stored: int
) -> None:
    seed = seed_for(["timeout", None], timeout_rate=0.5)
    with (
        sandbox_with(
            account=no_email_account(), timeout_rate=0.5, timeout_hold_s=4.0, seed=seed
        ) as server,
        client_for(server, timeout=(1.0, 0.2)) as client,
    ):
        started = time.monotonic()
        delivery = client.post(lead(email, phone="7162932368"))
        elapsed = time.monotonic() - started
        stored_leads = server.leads()
    assert delivery.outcome is outcome
    assert len(delivery.attempts) == tries
    first = delivery.attempts[0]
    assert (first.kind, first.code) == (AttemptKind.MAYBE_TAKEN, "NO ANSWER")
    assert "within 0.2 s" in first.error
    assert elapsed < 3.0  # did not sit out the server's 4 s hold
    assert len(stored_leads) == stored


def test_many_leads_through_every_fault_arrive_exactly_once() -> None:
    policy = RetryPolicy(max_attempts=12, base_delay_s=0.005, max_delay_s=0.02, jitter=0.5)
    faults: dict[str, Any] = {
        "fail_rate": 0.1,
        "garbage_rate": 0.1,
        "lost_reply_rate": 0.1,
        "seed": 7,
    }
    leads = [lead(f"person{n}@example.com", firstname=f"P{n}") for n in range(40)]
    with (
        sandbox_with(**faults) as server,
        client_for(server, policy=policy, concurrency=4) as client,
    ):
        deliveries = post_all(client, leads)
        stored = server.leads()
        stats = server.stats()
    assert [d.outcome if d else None for d in deliveries] == [DeliveryOutcome.DELIVERED] * 40
    assert sorted(s.lead.email for s in stored) == sorted(x.email for x in leads)
    assert sum(stats["faults"].values()) > 0  # the faults did happen


def test_many_leads_without_email_are_never_doubled() -> None:
    faults: dict[str, Any] = {
        "fail_rate": 0.15,
        "lost_reply_rate": 0.15,
        "garbage_rate": 0.1,
        "seed": 11,
    }
    leads = [lead("", firstname=f"Q{n}", phone="7162932368") for n in range(40)]
    with (
        sandbox_with(account=no_email_account(), **faults) as server,
        client_for(server, concurrency=4) as client,
    ):
        deliveries = post_all(client, leads)
        stored = server.leads()
    names = [s.lead.firstname for s in stored]
    assert len(names) == len(set(names))  # nothing stored twice
    for item, delivery in zip(leads, deliveries, strict=True):
        assert delivery is not None
        arrived = item.firstname in names
        if delivery.outcome is DeliveryOutcome.DELIVERED:
            assert arrived
        else:
            assert delivery.outcome in (DeliveryOutcome.UNCERTAIN, DeliveryOutcome.FAILED)
            if delivery.outcome is DeliveryOutcome.FAILED:
                assert not arrived
    outcomes = {d.outcome for d in deliveries if d is not None}
    assert DeliveryOutcome.UNCERTAIN in outcomes


# ---- the key stays secret on the real path ---------------------------------------------------


def test_key_stays_out_of_logs_and_results(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    account = dataclasses.replace(Account.demo(), key=SECRET_KEY)
    seed = seed_for(["lost_reply", "garbage", None], lost_reply_rate=0.3, garbage_rate=0.3)
    log = io.StringIO()
    with (
        sandbox_with(
            account=account, log=log, lost_reply_rate=0.3, garbage_rate=0.3, seed=seed
        ) as server,
        client_for(server, key=SECRET_KEY) as client,
    ):
        delivery = client.post(lead("secret@example.com"))
    assert delivery.outcome is DeliveryOutcome.DELIVERED
    assert "put_contact" in caplog.text  # urllib3 did log the requests…
    shown = [caplog.text, log.getvalue(), repr(client), repr(delivery), delivery.help]
    shown += [repr(a) + a.error + a.body + a.masked_url for a in delivery.attempts]
    assert all(SECRET_KEY not in text for text in shown)  # …with the key masked


def test_mock_and_real_transports_agree() -> None:
    # The mock stands in for the real transport in unit tests: same answer, same delivery.
    with sandbox_with() as server:
        with client_for(server) as real_client:
            real = real_client.post(lead("same@example.com"))
        body = real.attempts[0].body
        mocked = Client(
            url=server.url,
            key=DEMO_KEY,
            transport=MockTransport(lambda url: RawResponse(200, body)),
            policy=FAST,
        ).post(lead("same@example.com"))
    assert (mocked.outcome, mocked.code, mocked.lead_url) == (
        real.outcome,
        real.code,
        real.lead_url,
    )


@pytest.mark.parametrize("email", ["wrong.path@example.com", ""])
def test_a_mistyped_url_fails_once_and_stores_nothing(email: str) -> None:
    with sandbox_with() as server:
        wrong = server.url.replace("/put_contact", "/put_contacts")
        with Client(url=wrong, key=DEMO_KEY, policy=FAST, timeout=TIMEOUT) as client:
            delivery = client.post(lead(email))
        stats = server.stats()
    assert delivery.outcome is DeliveryOutcome.FAILED
    assert delivery.code == "HTTP 404"
    assert len(delivery.attempts) == 1
    assert stats["requests"] == 0  # put_contact never saw it
    assert server.leads() == []
