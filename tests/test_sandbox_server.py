"""The sandbox over real HTTP on 127.0.0.1: routes, the document's example, faults, the CLI."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from urllib.parse import quote

import pytest
import requests
from vendor_example import KEY, LEAD, PARAMS, QUERY

from leadstream import Lead, build_url, parse_response
from leadstream.sandbox import Account, Faults, SandboxServer
from leadstream.sandbox.__main__ import main as sandbox_main

USER, CM_ID = "377310706", "576846"
PATH = "/api/vendor/put_contact"

# The vendor document's example GET as printed, with spaces written as %20.
DOC_QUERY = QUERY.replace(" ", "%20")
SUCCESS = re.compile(
    r"^SUCCESS\|https://www\.phoneburner\.com/ms/lead_redirect\?upc=([A-Z0-9]{8})$"
)


def lead_query(email: str = "jeff@example.com", **extra: str) -> str:
    params = {"key": KEY, "email": email, "user_id": USER, "cm_id": CM_ID, **extra}
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())


def raw_get(server: SandboxServer, target: str, timeout: float = 5) -> tuple[int, str, dict]:
    """GET `target` exactly as written, with http.client (no re-quoting)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8"), dict(response.headers)
    finally:
        conn.close()


# The document's example


def test_document_example_get_is_accepted_as_written(fresh_sandbox: SandboxServer) -> None:
    status, body, headers = raw_get(fresh_sandbox, f"{PATH}?{DOC_QUERY}")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    match = SUCCESS.match(body)
    assert match, body
    assert parse_response(body, status).ok

    leads = requests.get(fresh_sandbox.base_url + "/sandbox/leads", timeout=5).json()
    assert len(leads) == 1
    (lead,) = leads
    assert lead["upc"] == match.group(1)
    assert (lead["cm_id"], lead["user_id"], lead["ignored_fields"]) == (CM_ID, USER, [])
    assert lead["params"] == PARAMS
    assert list(lead["params"]) == list(PARAMS)  # in the order they arrived
    assert fresh_sandbox.leads()[0].lead == LEAD


def test_build_url_of_the_document_lead_arrives_identically(fresh_sandbox: SandboxServer) -> None:
    url = build_url(LEAD, key=KEY, base_url=fresh_sandbox.url)
    response = requests.get(url, timeout=5)
    assert SUCCESS.match(response.text)
    assert fresh_sandbox.leads()[0].params == PARAMS
    assert fresh_sandbox.leads()[0].lead == LEAD


def test_values_arrive_exactly_as_typed(fresh_sandbox: SandboxServer) -> None:
    lead = Lead(
        firstname="Zoë & Ann",
        lastname="O'Brien-Łukasz",
        email="zoe+x@example.com",
        phone="+44 20 7946 0958",
        address1="1 #2 Rue = Paix; 50%",
        user_id=USER,
        cm_id=CM_ID,
        custom_fields={"297989": "a+b c/d?e", "424242": "unknown field"},
    )
    response = requests.get(build_url(lead, key=KEY, base_url=fresh_sandbox.url), timeout=5)
    assert SUCCESS.match(response.text)
    (stored,) = fresh_sandbox.leads()
    assert stored.lead == lead
    assert stored.ignored_fields == ("424242",)


def test_raw_utf8_bytes_in_the_query_are_read_as_utf8(fresh_sandbox: SandboxServer) -> None:
    request = f"GET {PATH}?{lead_query()}&firstname=José HTTP/1.1\r\nHost: x\r\n"
    request += "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", fresh_sandbox.port), timeout=5) as sock:
        sock.sendall(request.encode("utf-8"))
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert b"SUCCESS|" in reply
    assert fresh_sandbox.leads()[0].lead.firstname == "José"


# Rule answers and routes


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (lead_query(), None),
        (lead_query(key="wrong"), "ERROR|IDNUMBER IS REQUIRED"),
        (lead_query(user_id="1"), "ERROR|UNKNOWN USER"),
        (lead_query(user_id="377310000"), "ERROR|CANCELLED USER"),
        (lead_query(cm_id=""), "ERROR|CM_ID IS REQUIRED"),
        (lead_query(cm_id="1"), "ERROR|CM_ID IS INVALID"),
        (lead_query(response_type="json"), "ERROR|BAD RESPONSE TYPE"),
        (lead_query(response_type="text"), None),
        (lead_query(email="nope"), "ERROR|INVALID EMAIL"),
        ("", "ERROR|IDNUMBER IS REQUIRED"),
    ],
)
def test_every_rule_answer_is_200_text(fresh_sandbox: SandboxServer, query: str, body: str | None):
    response = requests.get(f"{fresh_sandbox.url}?{query}", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    if body is None:
        assert SUCCESS.match(response.text)
    else:
        assert response.text == body


def test_duplicate_email_over_http_and_stats(fresh_sandbox: SandboxServer) -> None:
    base = fresh_sandbox.url
    first = requests.get(f"{base}?{lead_query('Jeff@Example.com')}", timeout=5).text
    second = requests.get(f"{base}?{lead_query('jeff@example.COM')}", timeout=5).text
    assert SUCCESS.match(first)
    assert second == "ERROR|DUPLICATE EMAIL"
    stats = requests.get(fresh_sandbox.base_url + "/sandbox/stats", timeout=5).json()
    assert stats == {
        "requests": 2,
        "answers": {
            "SUCCESS": 1,
            "IDNUMBER IS REQUIRED": 0,
            "UNKNOWN USER": 0,
            "CANCELLED USER": 0,
            "INVALID EMAIL": 0,
            "DUPLICATE EMAIL": 1,
            "CM_ID IS REQUIRED": 0,
            "CM_ID IS INVALID": 0,
            "BAD RESPONSE TYPE": 0,
        },
        "faults": {"fail": 0, "timeout": 0, "lost_reply": 0, "garbage": 0, "rate_limited": 0},
    }
    assert fresh_sandbox.stats() == stats


def test_reset_forgets_leads_and_counts(fresh_sandbox: SandboxServer) -> None:
    requests.get(f"{fresh_sandbox.url}?{lead_query()}", timeout=5)
    assert len(fresh_sandbox.leads()) == 1
    response = requests.post(fresh_sandbox.base_url + "/sandbox/reset", timeout=5)
    assert response.status_code == 200
    assert fresh_sandbox.leads() == []
    assert fresh_sandbox.stats()["requests"] == 0
    # The email is free again.
    assert SUCCESS.match(requests.get(f"{fresh_sandbox.url}?{lead_query()}", timeout=5).text)


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("POST", PATH, 405, "GET"),
        ("PUT", PATH, 405, "GET"),
        ("DELETE", PATH, 405, "GET"),
        ("GET", "/sandbox/reset", 405, "POST"),
        ("POST", "/sandbox/leads", 405, "GET"),
        ("GET", "/api/vendor/put_contacts", 404, None),
        ("GET", "/nothing", 404, None),
    ],
)
def test_wrong_method_or_path(
    fresh_sandbox: SandboxServer, method: str, path: str, status: int, allow: str | None
) -> None:
    response = requests.request(method, f"{fresh_sandbox.base_url}{path}?{lead_query()}", timeout=5)
    assert response.status_code == status
    assert response.headers.get("Allow") == allow
    assert fresh_sandbox.leads() == []


def test_post_body_does_not_confuse_the_next_request_on_the_connection(
    fresh_sandbox: SandboxServer,
) -> None:
    with requests.Session() as session:
        response = session.post(fresh_sandbox.url, data="x" * 5000, timeout=5)
        assert response.status_code == 405
        after = session.get(f"{fresh_sandbox.url}?{lead_query()}", timeout=5)
    assert SUCCESS.match(after.text)


def test_index_and_leads_routes(fresh_sandbox: SandboxServer) -> None:
    index = requests.get(fresh_sandbox.base_url + "/", timeout=5)
    assert index.status_code == 200
    assert "emulator of PhoneBurner's put_contact" in index.text
    assert fresh_sandbox.url in index.text
    assert KEY not in index.text
    leads = requests.get(fresh_sandbox.base_url + "/sandbox/leads", timeout=5)
    assert leads.headers["Content-Type"] == "application/json; charset=utf-8"
    assert leads.json() == []


def test_addresses() -> None:
    server = SandboxServer(log=None)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.url == f"http://127.0.0.1:{server.port}{PATH}"
        assert server.port > 0


# Logging


def test_log_has_one_line_per_request_and_never_the_key() -> None:
    secret = "LIVE-KEY-0123456789abcdef"
    account = Account(
        key=secret, users=Account.demo().users, leadstreams=Account.demo().leadstreams
    )
    log = io.StringIO()
    with SandboxServer(account, log=log) as server:
        targets = [
            f"{PATH}?{lead_query().replace(KEY, secret)}",
            f"{PATH}?{lead_query().replace(KEY, 'WRONG-BUT-SECRET-0001')}",
            f"{PATH}?k%65y={secret}&user_id=1",  # PHP decodes the name to `key`
            f"{PATH}?key[]={secret}",
            "/sandbox/stats",
        ]
        for target in targets:
            raw_get(server, target)
        # A malformed request line that carries the key.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(f"GET {PATH}?key={secret} HTTP/1.1 junk\r\n\r\n".encode())
            reply = b"".join(iter(lambda: sock.recv(4096), b""))
        assert b"400" in reply
        assert secret.encode() not in reply  # not even echoed back in the error page
    lines = log.getvalue().splitlines()
    assert len(lines) == len(targets) + 1
    for line in lines:
        assert secret not in line
        assert "WRONG-BUT-SECRET" not in line
    # Masked, yet two keys can be told apart by their last two characters.
    assert f"GET {PATH}?key=****ef&email=jeff%40example.com&" in lines[0]
    assert " 200 SUCCESS " in lines[0]
    assert "?key=****01&" in lines[1]
    assert " 200 IDNUMBER IS REQUIRED " in lines[1]
    assert "?key=****ef&user_id=1 " in lines[2]
    assert "?key[]=****ef " in lines[3]
    assert "HTTP 400" in lines[-1]


# Faults, observed from the client's side


def test_fail_fault_is_503_html_and_stores_nothing() -> None:
    with SandboxServer(faults=Faults(fail_rate=1.0, seed=1), log=None) as server:
        response = requests.get(f"{server.url}?{lead_query()}", timeout=5)
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("text/html")
        assert "<html>" in response.text
        assert parse_response(response.text, response.status_code).outcome == "UNEXPECTED"
        status, _, _ = raw_get(server, f"{PATH}?{lead_query()}")
        assert status == 503
        # Faults never touch the inspection routes.
        stats = requests.get(server.base_url + "/sandbox/stats", timeout=5).json()
        assert stats["faults"]["fail"] == 2
        assert stats["requests"] == 2
        assert sum(stats["answers"].values()) == 0
        assert requests.get(server.base_url + "/sandbox/leads", timeout=5).json() == []


def test_garbage_fault_is_200_html_and_stores_nothing() -> None:
    with SandboxServer(faults=Faults(garbage_rate=1.0, seed=1), log=None) as server:
        response = requests.get(f"{server.url}?{lead_query()}", timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        result = parse_response(response.text, response.status_code)
        assert result.outcome == "UNEXPECTED"
        assert not result.ok
        status, body, headers = raw_get(server, f"{PATH}?{lead_query()}")
        assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
        assert parse_response(body, status).outcome == "UNEXPECTED"
        assert server.leads() == []
        assert server.stats()["faults"]["garbage"] == 2


def test_rate_limit_answers_429_with_retry_after() -> None:
    with SandboxServer(faults=Faults(rate_limit=2), log=None) as server, requests.Session() as s:
        responses = [
            s.get(f"{server.url}?{lead_query(f'r{i}@example.com')}", timeout=5) for i in range(5)
        ]
        assert [r.status_code for r in responses[:3]] == [200, 200, 429]
        limited = [r for r in responses if r.status_code == 429]
        assert all(r.headers["Retry-After"] == "1" for r in limited)
        assert len(server.leads()) == 5 - len(limited)
        assert server.stats()["faults"]["rate_limited"] == len(limited)
        status, _, headers = raw_get(server, f"{PATH}?{lead_query('x@example.com')}")
        assert (status, headers["Retry-After"]) == (429, "1")
        time.sleep(0.55)  # refills one request's worth at 2 a second
        assert s.get(f"{server.url}?{lead_query('late@example.com')}", timeout=5).ok


def test_timeout_fault_holds_then_hangs_up_without_storing() -> None:
    faults = Faults(timeout_rate=1.0, timeout_hold_s=1.0, seed=1)
    with SandboxServer(faults=faults, log=None) as server:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{server.url}?{lead_query()}", timeout=(2, 0.2))
        started = time.monotonic()
        with pytest.raises(http.client.RemoteDisconnected):
            raw_get(server, f"{PATH}?{lead_query()}", timeout=5)
        assert time.monotonic() - started >= 0.9
        assert server.leads() == []
        assert server.stats()["faults"]["timeout"] == 2


def test_lost_reply_stores_the_lead_and_drops_the_connection() -> None:
    with SandboxServer(faults=Faults(lost_reply_rate=1.0, seed=1), log=None) as server:
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            requests.get(f"{server.url}?{lead_query()}", timeout=5)
        assert not isinstance(caught.value, requests.exceptions.Timeout)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            raw_get(server, f"{PATH}?{lead_query('other@example.com')}", timeout=5)
        assert time.monotonic() - started < 2  # dropped at once, not timed out
        assert [lead.lead.email for lead in server.leads()] == [
            "jeff@example.com",
            "other@example.com",
        ]
        stats = server.stats()
        assert stats["faults"]["lost_reply"] == 2
        assert stats["answers"]["SUCCESS"] == 2  # stored: the sender just never heard
        # The delivery rule this fault exists for: a retry with the email says DUPLICATE EMAIL.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{server.url}?{lead_query()}", timeout=5)
        assert server.stats()["answers"]["DUPLICATE EMAIL"] == 1


def test_latency_delays_put_contact_only() -> None:
    with SandboxServer(faults=Faults(latency_ms=200), log=None) as server:
        started = time.monotonic()
        assert requests.get(f"{server.url}?{lead_query()}", timeout=5).ok
        assert time.monotonic() - started >= 0.19
        started = time.monotonic()
        assert requests.get(server.base_url + "/sandbox/stats", timeout=5).ok
        assert time.monotonic() - started < 0.19


def test_seeded_faults_repeat() -> None:
    faults = Faults(fail_rate=0.3, garbage_rate=0.3, seed=11)

    def run(server: SandboxServer) -> list[tuple[int, str]]:
        with requests.Session() as session:
            responses = [
                session.get(f"{server.url}?{lead_query(f'{i}@example.com')}", timeout=5)
                for i in range(20)
            ]
        return [(r.status_code, r.headers["Content-Type"]) for r in responses]

    with (
        SandboxServer(faults=faults, log=None) as one,
        SandboxServer(faults=faults, log=None) as two,
    ):
        first = run(one)
        assert run(two) == first
        kinds = Counter(first)
        assert set(kinds) == {
            (200, "text/plain; charset=utf-8"),
            (200, "text/html; charset=utf-8"),
            (503, "text/html; charset=utf-8"),
        }
        one.reset()
        assert run(one) == first
        assert [lead.upc for lead in one.leads()] == [lead.upc for lead in two.leads()]


def test_stop_ends_a_held_request_promptly() -> None:
    server = SandboxServer(faults=Faults(timeout_rate=1.0, timeout_hold_s=30), log=None).start()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            raw_get(server, f"{PATH}?{lead_query()}", timeout=10)
        except Exception as e:
            errors.append(e)

    client = threading.Thread(target=hold)
    client.start()
    deadline = time.monotonic() + 5
    while server.stats()["requests"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    client.join(5)
    assert len(errors) == 1
    assert isinstance(errors[0], (http.client.RemoteDisconnected, ConnectionError))


def test_stop_closes_idle_keep_alive_connections_and_the_socket() -> None:
    server = SandboxServer(log=None).start()
    port = server.port
    session = requests.Session()
    assert session.get(f"{server.url}?{lead_query()}", timeout=5).ok  # leaves a pooled connection
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    assert not [t for t in threading.enumerate() if t.name.startswith(f"sandbox-{port}")]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    session.close()
    server.stop()  # a second stop is harmless


# Concurrency


def test_sixteen_threads_each_success_is_exactly_one_stored_lead(
    fresh_sandbox: SandboxServer,
) -> None:
    threads, per_thread, distinct = 16, 50, 150
    upcs: list[str] = []
    reasons: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            for i in range(per_thread):
                k = (n * 7 + i * 13) % distinct
                email = f"Lead{k}@Example.com" if (n + i) % 2 else f"lead{k}@example.com"
                text = session.get(f"{fresh_sandbox.url}?{lead_query(email)}", timeout=10).text
                match = SUCCESS.match(text)
                with lock:
                    reasons["SUCCESS" if match else text] += 1
                    if match:
                        upcs.append(match.group(1))

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)

    stored = fresh_sandbox.leads()
    assert sum(reasons.values()) == threads * per_thread
    assert set(reasons) == {"SUCCESS", "ERROR|DUPLICATE EMAIL"}
    assert len(upcs) == len(set(upcs)) == len(stored) == distinct
    assert sorted(upcs) == sorted(lead.upc for lead in stored)
    assert len({lead.lead.email.lower() for lead in stored}) == distinct
    stats = fresh_sandbox.stats()
    assert stats["requests"] == threads * per_thread
    assert stats["answers"]["SUCCESS"] == distinct


# The command line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sandbox_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadstream.sandbox", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cli_serves_until_ctrl_c() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadstream.sandbox", "--port", str(port), "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(banner)
        assert f"http://127.0.0.1:{port}{PATH}" in text
        assert "Vendor key: XXXYYYZZZ" in text
        response = requests.get(f"http://127.0.0.1:{port}{PATH}?{lead_query()}", timeout=5)
        assert SUCCESS.match(response.text)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert "Sandbox stopped." in out
    (log_line,) = err.splitlines()
    assert f"GET {PATH}?key=****&" in log_line
    assert KEY not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-rate", "2"], "fail_rate is 2.0"),
        (["--fail-rate", "0.7", "--garbage-rate", "0.7"], "add up to more than 1"),
        (["--rate-limit", "0"], "rate_limit is 0"),
        (["--timeout-hold", "-1"], "timeout_hold_s is -1.0"),
        (["--port", "99999"], "not a port"),
        (["--latency-ms", "soon"], "invalid float value"),
        (["--account", "/nonexistent/account.json"], "Cannot read the account file"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_cli_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        sandbox_main([*args, "--port", "0"])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert sandbox_main(["--port", str(busy.getsockname()[1])]) == 1
    assert "Choose another --port" in capsys.readouterr().err


def test_cli_print_account(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _sandbox_cli("--print-account")
    assert result.returncode == 0
    assert Account.from_json(result.stdout) == Account.demo()
    assert json.loads(result.stdout)["leadstreams"][0]["fields"][2] == {
        "id": "300100",
        "name": "Do Not Call",
        "type": "checkbox",
    }
    mine = Account(key="K", require_email=False, users=Account.demo().users)
    path = tmp_path / "mine.json"
    path.write_text(mine.to_json(), encoding="utf-8")
    assert sandbox_main(["--account", str(path), "--print-account"]) == 0
    assert Account.from_json(capsys.readouterr().out) == mine


def test_an_idle_keep_alive_connection_is_logged_as_normal(monkeypatch: pytest.MonkeyPatch) -> None:
    from leadstream.sandbox import server as server_module

    monkeypatch.setattr(server_module._Handler, "timeout", 0.2)
    log = io.StringIO()
    with (
        SandboxServer(Account.demo(), log=log) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        assert sock.recv(1) == b""  # the server hangs up on the silent connection
    assert "idle connection closed" in log.getvalue()
    assert "malformed" not in log.getvalue()
