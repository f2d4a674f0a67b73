"""RestClient against the real sandbox (paging, filters, tokens, faults) and a scripted transport
(429 with Retry-After, 5xx, broken answers, a server that ignores paging); the fetched legend."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from leadstream.deliver.client import RawResponse
from leadstream.deliver.rest import (
    MockRestTransport,
    RestClient,
    RestClientError,
    legend_from_fields,
    rest_base,
)
from leadstream.deliver.rest import RestTransportError as TransportGone
from leadstream.prepare.legend import FieldType, LegendField
from leadstream.protocol.rest import CustomField, FieldKind
from leadstream.sandbox import DEMO_TOKEN, Faults, SandboxServer

USER, CM = "377310706", "576846"
NO_WAIT: dict[str, Any] = {"sleep": lambda s: None, "base_delay_s": 0.0}


def post(server: SandboxServer, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        answer = requests.get(
            server.url,
            params={
                "key": "XXXYYYZZZ",
                "user_id": USER,
                "cm_id": CM,
                "email": f"p{i}@example.com",
                "firstname": f"P{i}",
                "phone": f"716293{i:04d}",
            },
            timeout=5,
        )
        assert answer.text.startswith("SUCCESS|")


@pytest.fixture
def client(fresh_sandbox: SandboxServer) -> Iterator[RestClient]:
    with RestClient.for_put_contact(fresh_sandbox.url, DEMO_TOKEN, page_size=2) as rest:
        yield rest


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:8765/api/vendor/put_contact", "http://127.0.0.1:8765/rest/1/"),
        (
            "https://www.phoneburner.com/api/vendor/put_contact",
            "https://www.phoneburner.com/rest/1/",
        ),
        ("http://[::1]:9/x", "http://[::1]:9/rest/1/"),
    ],
)
def test_rest_base_is_the_origin_of_put_contact(url: str, base: str) -> None:
    assert rest_base(url) == base


def test_rest_base_refuses_what_is_not_a_web_address() -> None:
    with pytest.raises(RestClientError, match="not a web address"):
        rest_base("ftp://x/y")


def test_fields_and_contacts_from_the_sandbox(
    client: RestClient, fresh_sandbox: SandboxServer
) -> None:
    client.tranquility()
    assert [f.id for f in client.custom_fields()] == ["297989", "195481", "300100"]
    post(fresh_sandbox, 5)
    before = client.requests_made
    contacts = list(client.contacts())
    assert [c.first_name for c in contacts] == [f"P{i}" for i in range(5)]  # oldest first
    assert client.requests_made - before == 3  # pages of 2, 2, 1
    (found,) = client.contacts(email="P3@EXAMPLE.com")
    assert found.phone == "7162930003"
    earlier = datetime.now(UTC) - timedelta(hours=1)
    assert len(list(client.contacts(updated_from=earlier))) == 5  # include_new is asked for
    later = datetime.now(UTC) + timedelta(hours=1)
    assert list(client.contacts(updated_from=later)) == []


def test_exactly_a_full_last_page_ends_the_list(
    client: RestClient, fresh_sandbox: SandboxServer
) -> None:
    post(fresh_sandbox, 4)
    assert len(list(client.contacts())) == 4
    assert list(client.contacts(email="nobody@example.com")) == []


@pytest.mark.parametrize(("token", "words"), [("", "none was sent"), ("wrong", "did not accept")])
def test_bad_tokens_are_said_plainly_and_not_retried(
    fresh_sandbox: SandboxServer, token: str, words: str
) -> None:
    with RestClient.for_put_contact(fresh_sandbox.url, token) as rest:
        with pytest.raises(RestClientError, match=words) as raised:
            rest.custom_fields()
        assert raised.value.is_auth
        assert rest.requests_made == 1
        rest.tranquility()  # needs no token


def test_a_lossy_sandbox_is_read_completely() -> None:
    faults = Faults(
        fail_rate=0.15,
        garbage_rate=0.15,
        lost_reply_rate=0.15,
        timeout_rate=0.1,
        timeout_hold_s=0.3,
        seed=11,
    )
    with SandboxServer(faults=faults, log=None) as server:
        server._plan = type(server._plan)(Faults())  # posting itself stays clean here
        post(server, 9)
        with RestClient.for_put_contact(
            server.url, DEMO_TOKEN, page_size=2, timeout=(1.0, 0.2), max_attempts=12, **NO_WAIT
        ) as rest:
            assert len(list(rest.contacts())) == 9
            assert len(rest.custom_fields()) == 3
        faults_seen = server.rest_stats()
    assert sum(faults_seen[k] for k in ("fail", "garbage", "lost_reply", "timeout")) >= 1


# --- a scripted transport -----------------------------------------------------------------------

OK_FIELDS = json.dumps(
    {
        "http_status": 200,
        "status": "success",
        "customfields": {
            "customfields": [{"custom_field_id": "1", "display_name": "A", "type_id": "1"}],
            "page": 1,
            "total_pages": 1,
        },
    }
)


def scripted(
    *answers: RawResponse | Exception,
) -> tuple[MockRestTransport, list[Mapping[str, str]]]:
    queue = list(answers)
    headers_seen: list[Mapping[str, str]] = []

    def handler(url: str, headers: Mapping[str, str]) -> RawResponse | Exception:
        headers_seen.append(headers)
        return queue.pop(0)

    return MockRestTransport(handler), headers_seen


def test_429_waits_its_retry_after_then_5xx_backs_off() -> None:
    transport, headers = scripted(
        RawResponse(429, "<html>slow</html>", {"Retry-After": "7"}),
        RawResponse(503, "<html><title>Down</title></html>"),
        RawResponse(200, OK_FIELDS),
    )
    waits: list[float] = []
    rest = RestClient(
        base_url="http://127.0.0.1:1/rest/1",
        token="tok-12345678",
        transport=transport,
        sleep=waits.append,
        base_delay_s=1.0,
    )
    assert [f.display_name for f in rest.custom_fields()] == ["A"]
    assert waits[0] == 7
    assert 1.0 <= waits[1] <= 2.0  # the second try's back-off, jittered
    assert all(h["Authorization"] == "Bearer tok-12345678" for h in headers)
    assert transport.urls[0] == "http://127.0.0.1:1/rest/1/customfields?page=1&page_size=100"


def test_broken_answers_give_up_after_max_attempts_with_the_last_reason() -> None:
    page = RawResponse(200, "<!DOCTYPE html><title>Scheduled Maintenance</title>")
    transport, _ = scripted(page, TransportGone("no answer from x within 1 s"), page)
    rest = RestClient(
        base_url="http://h/rest/1/", token="t", transport=transport, max_attempts=3, **NO_WAIT
    )
    with pytest.raises(RestClientError, match=r"tried 3 times.*Scheduled Maintenance"):
        rest.custom_fields()


def test_dropped_connections_every_time_are_a_transport_error() -> None:
    transport, _ = scripted(*[TransportGone("h closed the connection without answering")] * 2)
    rest = RestClient(
        base_url="http://h/rest/1/", token="t", transport=transport, max_attempts=2, **NO_WAIT
    )
    with pytest.raises(TransportGone, match="closed the connection"):
        rest.tranquility()


def test_a_server_ignoring_page_is_caught_not_read_forever() -> None:
    body = json.dumps({"status": "success", "contacts": {"contacts": [{"contact_user_id": "1"}]}})
    transport = MockRestTransport(lambda url, headers: RawResponse(200, body))
    rest = RestClient(base_url="http://h/rest/1/", token="t", transport=transport, page_size=1)
    with pytest.raises(RestClientError, match="same entries"):
        list(rest.contacts())
    assert len(transport.urls) == 2


def test_an_echoed_token_is_blotted_out_of_messages() -> None:
    token = "SECRET-TOKEN-98765"
    transport, _ = scripted(RawResponse(200, f"Fatal error: Bearer {token} rejected"))
    rest = RestClient(base_url="http://h/rest/1/", token=token, transport=transport, max_attempts=1)
    with pytest.raises(RestClientError) as raised:
        rest.custom_fields()
    assert token not in str(raised.value)
    assert token not in repr(rest)


def test_real_transport_reports_a_closed_port(unused_port_url: str) -> None:
    with (
        RestClient(base_url=unused_port_url, token="t", max_attempts=1, timeout=(0.5, 0.5)) as rest,
        pytest.raises(TransportGone, match="could not connect"),
    ):
        rest.tranquility()


@pytest.fixture
def unused_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/rest/1/"


# --- the legend ---------------------------------------------------------------------------------


def test_legend_from_fields_keeps_three_types_and_notes_the_rest() -> None:
    fields = [
        CustomField("215", "Lead Score", FieldKind.NUMERIC, "Numeric", 3),
        CustomField("7", "Source", FieldKind.DROPDOWN, "Drop Down", 2),
        CustomField("9", "", FieldKind.DATE, "Date Field", 1),
        CustomField("3", "Opt In", FieldKind.CHECKBOX, "Check Box", 0),
        CustomField("4", "Notes", FieldKind.TEXT, "Text Field", None),
        CustomField("3", "Opt In again", FieldKind.CHECKBOX, "Check Box", 5),
    ]
    fetched = legend_from_fields(fields, name="From PhoneBurner", cm_id="576846")
    assert fetched.legend.fields == (
        LegendField("3", "Opt In", FieldType.CHECKBOX),
        LegendField("9", "Custom field 9", FieldType.DATE),
        LegendField("7", "Source", FieldType.TEXT),
        LegendField("215", "Lead Score", FieldType.TEXT),
        LegendField("4", "Notes", FieldType.TEXT),
    )
    notes = " ".join(fetched.notes)
    assert "Lead Score (215) is a Numeric field" in notes
    assert "Source (7) is a Drop Down field" in notes
    assert "Field 9 has no display name" in notes
    assert len(fetched.notes) == 3


# --- the connection test ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "reachable", "token_ok", "words"),
    [
        (DEMO_TOKEN, True, True, "The account has 3 custom fields: Reference # (297989)"),
        ("wrong", True, False, "did not accept the access token"),
        ("", True, None, "No access token is configured"),
    ],
)
def test_connection_report_in_plain_words(
    fresh_sandbox: SandboxServer, token: str, reachable: bool, token_ok: bool | None, words: str
) -> None:
    from leadstream.deliver.rest import connection_report

    with RestClient.for_put_contact(fresh_sandbox.url, token) as rest:
        report = connection_report(rest, has_token=bool(token))
    assert (report.reachable, report.token_ok, report.ok) == (reachable, token_ok, token_ok is True)
    assert "answers at http://127.0.0.1:" in report.messages[0]
    assert words in " ".join(report.messages)


def test_connection_report_when_nothing_answers(unused_port_url: str) -> None:
    from leadstream.deliver.rest import connection_report

    with RestClient(base_url=unused_port_url, token="t", max_attempts=1) as rest:
        report = connection_report(rest)
    assert not report.reachable
    assert "does not answer" in report.messages[0]
    assert "could not connect" in report.messages[0]


@pytest.mark.parametrize("echo", ["{t}", "&lt;{e}&gt;", "{q}"])
def test_escaped_forms_of_the_token_are_blotted_out_too(echo: str) -> None:
    import html
    from urllib.parse import quote

    token = "SECRET/TOKEN+98765&x"
    body = "<html><title>" + echo.format(t=token, e=html.escape(token), q=quote(token, safe=""))
    transport, _ = scripted(RawResponse(200, body + "</title></html>"))
    rest = RestClient(base_url="http://h/rest/1/", token=token, transport=transport, max_attempts=1)
    with pytest.raises(RestClientError) as raised:
        rest.custom_fields()
    message = str(raised.value)
    assert "98765" not in message
    assert "****" in message
