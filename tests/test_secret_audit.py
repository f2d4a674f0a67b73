"""Secret audit: a whole session with a distinctive vendor key, then every place it could leak.

The CLI (dry run, sends, a rejected cm_id, a closed port, a server that echoes the URL in its
error page, resume, `runs`, the key from a key file and from secrets.toml), the client's
deliveries, attempts and exceptions, the journal's raw SQLite bytes (WAL included), the history
and results CSVs, the sandbox's log stream and banner, and the app through AppTest: the key, its
percent-encoded and HTML-escaped forms and a fragment of it must appear nowhere, and neither in
what pytest captured from stdout, stderr, file descriptors 1 and 2, and the logging tree.

Two keys: a plain one, and one with characters that change when percent-encoded or HTML-escaped.
The REST access token gets the same audit (`legend fetch`, `check --resend`, the REST client, a
server echoing the Authorization header), with a plain and an odd token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import io
import json
import logging
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
import requests
from streamlit.testing.v1 import AppTest
from test_app_support import button, texts

import leadstream.deliver.client
from leadstream.cli import main
from leadstream.deliver.client import Client, RequestsTransport, TransportError
from leadstream.deliver.journal import Journal, history_csv
from leadstream.deliver.outcomes import RetryPolicy
from leadstream.deliver.target import DEMO_CM_ID, DEMO_USER_ID
from leadstream.protocol.lead import Lead
from leadstream.sandbox import Account, Faults, SandboxServer

pytest_plugins = ("test_app_support",)
pytestmark = pytest.mark.slow  # a whole session each: about 20 s for the file

REPO = Path(__file__).resolve().parents[1]
PLAIN_KEY = "AUDIT-7Q9Z-SECRET-KEY-4411"
# `/`, `+`, `=`, `&` and `%` all change when percent-encoded; `&` also when HTML-escaped.
ODD_KEY = "AUDIT-7Q9Z/SECRET+KEY=4411&x%"
FRAGMENT = "7Q9Z"  # in every form of both keys: catches a key cut short, too
KEYS = [pytest.param(PLAIN_KEY, id="plain-key"), pytest.param(ODD_KEY, id="odd-key")]
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)
HEADER = "First Name,Last Name,Email,Phone,Reference #\n"
LEADS = (
    HEADER
    + "".join(f"Ann{n},Lee,ann{n}@example.com,716293{n:04d},R{n}\n" for n in range(5))
    + "Bo,Noemail,,7162930100,R100\n"
    + "Cy,Bad,not-an-email@,7162930101,R101\n"
)


def key_forms(key: str) -> dict[str, str]:
    """Every way the key could be written out, by name."""
    return {
        "key": key,
        "percent-encoded": quote(key, safe=""),
        "percent-encoded (/ kept)": quote(key),
        "form-encoded": quote_plus(key),
        "HTML-escaped": html.escape(key),
        "fragment": FRAGMENT,
    }


@dataclasses.dataclass
class Audit:
    """Everything collected during a session, by where it came from."""

    key: str
    items: list[tuple[str, str | bytes]] = dataclasses.field(default_factory=list)

    def add(self, where: str, data: str | bytes | object) -> None:
        if not isinstance(data, str | bytes):
            data = repr(data)
        self.items.append((where, data))

    def add_files(self, where: str, folder: Path) -> None:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                self.add(f"{where}/{path.relative_to(folder)}", path.read_bytes())

    def leaks(self) -> list[str]:
        found = []
        for where, data in self.items:
            for name, form in key_forms(self.key).items():
                needle: str | bytes = form.encode("utf-8") if isinstance(data, bytes) else form
                at = data.find(needle)  # type: ignore[arg-type]
                if at >= 0:
                    context = data[max(0, at - 40) : at + len(needle) + 40]
                    found.append(f"{where}: the {name} at …{context!r}…")
                    break
        return found

    def assert_clean(self) -> None:
        assert self.items, "the audit looked at nothing"
        leaks = self.leaks()
        assert not leaks, "the key leaked:\n" + "\n".join(leaks)


def add_captured(
    audit: Audit, capture: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """What `capsys` (sys.stdout/err) or `capfd` (file descriptors 1 and 2) and the logging
    tree caught since the last call."""
    out, err = capture.readouterr()
    audit.add("stdout", out)
    audit.add("stderr", err)
    audit.add("log text", caplog.text)
    for record in caplog.records:
        audit.add(f"log record {record.name}", f"{record.getMessage()} {record.args!r}")
    caplog.clear()


# --- servers ------------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """An error page quoting the request, as some servers' debug pages do."""

    def do_GET(self) -> None:
        quoted = html.escape(unquote_plus(self.path))
        body = f"<html><body><h1>Fatal error</h1><p>While serving {quoted}</p>"
        body += f"<pre>{self.path}</pre><p>{unquote_plus(self.path)}</p></body></html>"
        data = body.encode("utf-8")
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def echo_server() -> Iterator[str]:
    """The put_contact URL of a server answering every request with HTTP 500 quoting it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/vendor/put_contact"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/vendor/put_contact"


def account_for(key: str) -> Account:
    # Email optional, so the row without one is stored and sent like any other.
    return dataclasses.replace(Account.demo(), key=key, require_email=False)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients made without a policy (the CLI's) retry quickly; the audit is not about time."""
    monkeypatch.setattr(leadstream.deliver.client, "RetryPolicy", lambda: FAST)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, urllib3's request lines included."""
    caplog.set_level(logging.DEBUG)
    return caplog


# --- the CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.usefixtures("fast_retries")
def test_a_cli_session_never_shows_or_stores_the_key(
    key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    audit = Audit(key)
    home = tmp_path / "home"
    monkeypatch.setenv("LEADSTREAM_HOME", str(home))
    monkeypatch.setenv("LEADSTREAM_KEY", key)
    monkeypatch.chdir(tmp_path)
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS, encoding="utf-8")
    log = io.StringIO()
    faults = Faults(fail_rate=0.2, lost_reply_rate=0.2, garbage_rate=0.2, seed=5)
    ids = ["--user-id", DEMO_USER_ID, "--cm-id", DEMO_CM_ID]

    def cli(*argv: str) -> int:
        code = main(["send", str(leads), *argv])
        add_captured(audit, capsys, logs)
        return code

    with (
        SandboxServer(account_for(key), log=log) as sandbox,
        SandboxServer(account_for(key), faults=faults, log=log) as faulty,
        echo_server() as echo,
    ):
        assert cli("--url", sandbox.url, *ids, "--dry-run") == 0
        assert cli("--url", sandbox.url, *ids, "--results", "sent.csv") == 0
        assert len(sandbox.leads()) == 6, "the key was not the account's: nothing was delivered"
        assert cli("--url", faulty.url, *ids, "--results", "faulty.csv", "--concurrency", "3") in (
            0,
            1,
        )
        # A cm_id of nobody: the first row's answer stops the run; resumed, the rest are refused.
        bad_cm = ["--user-id", DEMO_USER_ID, "--cm-id", "999"]
        assert cli("--url", sandbox.url, *bad_cm) == 1
        with Journal(home / "journal.sqlite3") as journal:
            run_id = max(info.id for info in journal.runs())
        resume = ["--resume", str(run_id), "--results", "bad.csv"]
        assert cli("--url", sandbox.url, *bad_cm, *resume) == 0
        assert cli("--url", closed_port_url(), *ids, "--results", "closed.csv") == 1
        assert cli("--url", echo, *ids, "--results", "echo.csv") == 1
        assert main(["runs", "--all"]) == 0
        add_captured(audit, capsys, logs)
        # The key from a key file, then from .streamlit/secrets.toml, both masked when named.
        monkeypatch.delenv("LEADSTREAM_KEY")
        (tmp_path / "key.txt").write_text(key + "\n", encoding="utf-8")
        assert cli("--url", sandbox.url, *ids, "--dry-run", "--key-file", "key.txt") == 0
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            f"LEADSTREAM_KEY = {json.dumps(key)}\n", encoding="utf-8"
        )
        assert cli("--url", sandbox.url, *ids, "--dry-run") == 0
        audit.add("sandbox /sandbox/leads", requests.get(sandbox.base_url + "/sandbox/leads").text)
        audit.add("stored leads", [s.to_dict() for s in sandbox.leads() + faulty.leads()])
    audit.add("sandbox log", log.getvalue())

    # What the person has on disk afterwards, and the journal read back through its API.
    for name in ("sent.csv", "faulty.csv", "bad.csv", "closed.csv", "echo.csv"):
        audit.add(name, (tmp_path / name).read_bytes())
    with Journal(home / "journal.sqlite3") as journal:
        entries = journal.history(limit=10_000)
        audit.add("history CSV", history_csv(entries))
        audit.add("history entries", [(e, e.attempt_log, e.lead) for e in entries])
        for info in journal.runs():
            audit.add(f"run {info.id}", (info, journal.run_rows(info.id)))
        audit.add_files("journal folder (open)", home)  # the WAL holds the latest writes
    audit.add_files("journal folder (closed)", home)
    assert {e.code for e in entries} >= {"SUCCESS", "CM_ID IS INVALID", "NO CONNECTION"}
    assert any(e.code == "HTTP 500" for e in entries), "the echo server was not reached"
    audit.assert_clean()


def test_the_cli_subprocess_keeps_the_key_out_of_its_output_and_arguments(tmp_path: Path) -> None:
    """As a user runs it: the key only in the environment, never in the arguments."""
    audit = Audit(PLAIN_KEY)
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "LEADSTREAM_HOME": str(tmp_path / "home"),
        "LEADSTREAM_KEY": PLAIN_KEY,
        "PYTHONPATH": str(REPO),
    }
    commands = [
        [
            "send",
            str(leads),
            "--url",
            closed_port_url(),
            "--dry-run",
            "--user-id",
            "1",
            "--cm-id",
            "2",
        ],
        ["send", str(leads), "--url", "ftp://nowhere"],
    ]
    for argv in commands:
        command = [sys.executable, "-m", "leadstream", *argv]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        audit.add(f"{argv[:2]} arguments", " ".join(command))
        audit.add(f"{argv[:2]} stdout", done.stdout)
        audit.add(f"{argv[:2]} stderr", done.stderr)
        assert "Traceback" not in done.stderr
    assert "key=****" in audit.items[1][1]  # the dry run's URLs, key masked
    audit.assert_clean()


# --- the client -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_client_deliveries_attempts_and_errors_never_hold_the_key(
    key: str, capfd: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    audit = Audit(key)
    lead = Lead(firstname="Ann", email="ann@example.com", user_id=DEMO_USER_ID, cm_id=DEMO_CM_ID)
    no_email = dataclasses.replace(lead, email="")
    every_fault = Faults(fail_rate=0.25, lost_reply_rate=0.25, garbage_rate=0.25, seed=2)
    held = Faults(timeout_rate=1.0, timeout_hold_s=1.0)

    with (
        SandboxServer(account_for(key), log=None) as good,
        SandboxServer(account_for(key), faults=every_fault, log=None) as faulty,
        SandboxServer(account_for(key), faults=held, log=None) as slow,
        echo_server() as echo,
    ):
        targets = [good.url, good.url, faulty.url, echo, closed_port_url(), slow.url]
        for url in targets:
            with Client(url=url, key=key, policy=FAST, timeout=(0.5, 0.3)) as client:
                audit.add("client repr", client)
                for one in (lead, no_email):
                    delivery = client.post(one)
                    audit.add(f"delivery from {url}", delivery)
                    audit.add("delivery attempts", delivery.attempts)
                    audit.add("delivery text", f"{delivery.help} {delivery.detail} {delivery.code}")
                    audit.add("answer", (delivery.result, getattr(delivery.result, "body", "")))
                    try:
                        raise RuntimeError(f"row failed: {delivery.detail}")
                    except RuntimeError:
                        logging.getLogger("audit").exception("as an app would log it")

        # The transport's own exceptions, as a traceback would print them.
        transport = RequestsTransport()
        for url in (closed_port_url(), slow.url):
            with pytest.raises(TransportError) as raised:
                transport.send(f"{url}?key={quote(key, safe='')}", timeout=(0.5, 0.3))
            audit.add("exception", (str(raised.value), repr(raised.value)))
            audit.add("traceback", "".join(traceback.format_exception(raised.value)))
        transport.close()
    add_captured(audit, capfd, logs)
    audit.assert_clean()


# --- the sandbox --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_the_sandbox_log_masks_the_key_however_it_is_sent(key: str) -> None:
    audit = Audit(key)
    log = io.StringIO()
    encoded = quote(key, safe="")
    faults = Faults(lost_reply_rate=0.3, garbage_rate=0.3, seed=3)
    with SandboxServer(account_for(key), faults=faults, log=log) as server:
        base, put = server.base_url, server.url
        queries = [
            f"key={encoded}&user_id={DEMO_USER_ID}&cm_id={DEMO_CM_ID}&email=a%40b.co",
            f"k%65y={encoded}&user_id={DEMO_USER_ID}",  # PHP reads `k%65y` as `key`
            f"key[]={encoded}&user_id=1",
            f"key={encoded}&key={encoded}",
            f"key={quote_plus(key)}",
        ]
        for query in queries * 3:
            with contextlib.suppress(requests.RequestException):
                requests.get(f"{put}?{query}", timeout=5)
        requests.get(f"{base}/nowhere?key={encoded}", timeout=5)
        requests.post(f"{put}?key={encoded}", timeout=5)
        # A request line http.server refuses: its error page and log line must not quote it.
        with socket.create_connection((server.host, server.port), timeout=5) as raw:
            raw.sendall(f"GET /api/vendor/put_contact?key={encoded} HTTP/1.1 x\r\n\r\n".encode())
            audit.add("refusal", raw.recv(65536))
        audit.add("stored", [s.to_dict() for s in server.leads()])
        audit.add("/sandbox/leads", requests.get(f"{base}/sandbox/leads", timeout=5).text)
        audit.add("index", requests.get(f"{base}/", timeout=5).text)
    assert server.stats()["requests"] >= len(queries) * 3
    assert log.getvalue().count("key=****") >= len(queries) * 3
    audit.add("sandbox log", log.getvalue())
    audit.assert_clean()


def test_the_sandbox_command_banner_masks_the_account_key(tmp_path: Path) -> None:
    audit = Audit(ODD_KEY)
    account = tmp_path / "account.json"
    account.write_text(account_for(ODD_KEY).to_json(), encoding="utf-8")
    command = [sys.executable, "-m", "leadstream.sandbox", "--port", "0", "--account", str(account)]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        url = next(word for line in banner for word in line.split() if "put_contact?" in word)
        put = url.split("?")[0]
        requests.get(f"{put}?key={quote(ODD_KEY, safe='')}&user_id=1", timeout=5)
        process.terminate()
        out, err = process.communicate(timeout=10)
    audit.add("banner", "".join(banner) + out)
    audit.add("log", err)
    assert "key" in "".join(banner).lower()
    audit.assert_clean()


# --- the app --------------------------------------------------------------------------------------


def _dump(audit: Audit, at: AppTest, step: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    audit.add(f"app after {step}", "\n".join(texts(at)))


@pytest.mark.parametrize("key", KEYS)
def test_an_app_session_never_shows_or_stores_the_key(
    key: str,
    app: AppTest,
    home: Path,
    downloads: Callable[[Any], bytes],
    capfd: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    audit = Audit(key)
    log = io.StringIO()
    with SandboxServer(account_for(key), log=log) as sandbox:
        app.secrets["LEADSTREAM_KEY"] = key
        app.sidebar.radio(key="keep.conn.target").set_value("custom").run()
        app.sidebar.text_input(key="keep.conn.custom_url").input(sandbox.url).run()
        app.sidebar.text_input(key="keep.conn.user_id").input(DEMO_USER_ID).run()
        app.sidebar.text_input(key="keep.conn.cm_id").input(DEMO_CM_ID).run()
        _dump(audit, app, "choosing the custom target")

        button(app, "Fill with example").click().run()
        app.toggle(key="keep.form.preview").set_value(True).run()
        _dump(audit, app, "the preview")
        assert "key=****" in str(audit.items[-1][1])
        button(app, "Send").click().run()
        _dump(audit, app, "sending")
        button(app, "Send").click().run()
        _dump(audit, app, "sending again (duplicate)")
        assert len(sandbox.leads()) == 1, "the key was not the account's: nothing was delivered"
        app.sidebar.text_input(key="keep.conn.cm_id").input("999").run()
        button(app, "Send").click().run()
        _dump(audit, app, "a bad cm_id")
        app.sidebar.text_input(key="keep.conn.cm_id").input(DEMO_CM_ID).run()

        app.switch_page("pages/legend.py").run()
        app.text_area(key="keep.legend.paste").input(
            "custom_field[297989]=Reference #&\ncustom_field[195481]=Follow Up Date&\n"
        ).run()
        button(app, "Send a test lead").click().run()
        _dump(audit, app, "the legend test")
        assert len(sandbox.leads()) == 2

        # The key typed for the session instead (the same key): the box is emptied at once.
        app.sidebar.text_input(key="conn.key_input").input(key).run()
        assert app.sidebar.text_input(key="conn.key_input").value == ""
        _dump(audit, app, "typing the key")

        app.switch_page("pages/history.py").run()
        _dump(audit, app, "the history")
        (export,) = [b for b in app.get("download_button") if "CSV" in b.proto.label]
        audit.add("history download", downloads(export))
        if (REPO / "pages" / "bulk_upload.py").exists():
            app.switch_page("pages/bulk_upload.py").run()
            _dump(audit, app, "the bulk page")
    audit.add("sandbox log", log.getvalue())
    # The app keeps the journal open: its latest writes are still in the write-ahead log.
    assert (home / "journal.sqlite3-wal").stat().st_size > 0
    audit.add_files("journal folder", home)
    add_captured(audit, capfd, logs)
    audit.assert_clean()


# --- the REST access token ----------------------------------------------------------------------

PLAIN_TOKEN = "AUDIT-7Q9Z-ACCESS-TOKEN-5522"
# `/`, `+`, `=`, `&` and `%` change when encoded or escaped, as in ODD_KEY.
ODD_TOKEN = "AUDIT-7Q9Z/ACCESS+TOKEN=5522&x%"
TOKENS = [pytest.param(PLAIN_TOKEN, id="plain-token"), pytest.param(ODD_TOKEN, id="odd-token")]


def account_with_token(token: str) -> Account:
    demo = Account.demo()
    users = tuple(
        dataclasses.replace(user, token=token if user.user_id == DEMO_USER_ID else "")
        for user in demo.users
    )
    return dataclasses.replace(demo, users=users, require_email=False)


class _HeaderEcho(BaseHTTPRequestHandler):
    """A debugging error page that quotes the request's headers, Authorization included."""

    def do_GET(self) -> None:
        headers = html.escape(str(self.headers))
        body = f"<html><body><h1>Fatal error</h1><pre>{headers}</pre>{self.headers}</body></html>"
        data = body.encode("utf-8")
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def header_echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeaderEcho)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/vendor/put_contact"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.usefixtures("fast_retries")
def test_rest_commands_never_show_or_store_the_token(
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    import leadstream.cli_rest

    audit = Audit(token)
    home = tmp_path / "home"
    monkeypatch.setenv("LEADSTREAM_HOME", str(home))
    monkeypatch.setenv("LEADSTREAM_KEY", "XXXYYYZZZ")
    monkeypatch.setenv("LEADSTREAM_TOKEN", token)
    monkeypatch.setattr(
        leadstream.cli_rest,
        "REST_OPTIONS",
        {"max_attempts": 30, "base_delay_s": 0.01, "max_delay_s": 0.05},
    )
    monkeypatch.chdir(tmp_path)
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS, encoding="utf-8")
    log = io.StringIO()
    ids = ["--user-id", DEMO_USER_ID, "--cm-id", DEMO_CM_ID]
    faults = Faults(lost_reply_rate=0.3, timeout_rate=0.1, timeout_hold_s=0.2, seed=8)

    def cli(*argv: str) -> int:
        code = main(list(argv))
        add_captured(audit, capsys, logs)
        return code

    with (
        SandboxServer(account_with_token(token), faults=faults, log=log) as sandbox,
        header_echo_server() as echo,
    ):
        assert cli("legend", "fetch", "--url", sandbox.url) == 0
        assert cli("legend", "fetch", "--url", sandbox.url, "--format", "json", "--save", "L") == 0
        assert cli("legend", "fetch", "--url", echo) == 1
        assert cli("legend", "fetch", "--url", closed_port_url()) == 1
        sent = cli("send", str(leads), "--url", sandbox.url, *ids)
        for _ in range(10):  # a streak of silence pauses the run: carry it on
            if sent == 0:
                break
            sent = cli("send", str(leads), "--url", sandbox.url, *ids, "--resume", "1")
        with Journal(home / "journal.sqlite3") as journal:
            run_id = max(info.id for info in journal.runs())
        cli("check", str(run_id), "--url", sandbox.url, "--resend", "--results", "checked.csv")
        assert cli("check", str(run_id), "--url", echo) == 2  # another target: refused
        # The token from a token file, then from secrets.toml, masked when named.
        monkeypatch.delenv("LEADSTREAM_TOKEN")
        (tmp_path / "token.txt").write_text(token + "\n", encoding="utf-8")
        assert cli("legend", "fetch", "--url", sandbox.url, "--token-file", "token.txt") == 0
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            f"LEADSTREAM_TOKEN = {json.dumps(token)}\n", encoding="utf-8"
        )
        assert cli("legend", "fetch", "--url", sandbox.url) == 0
        assert cli("legend", "fetch", "--url", sandbox.url, "--token-file", "missing.txt") == 0

        # The client itself: its repr, an echoed header, and exceptions as tracebacks show them.
        from leadstream.deliver.rest import RestClient, RestClientError

        with RestClient.for_put_contact(echo, token, max_attempts=2, base_delay_s=0) as rest:
            audit.add("rest client repr", rest)
            with pytest.raises(RestClientError) as raised:
                rest.custom_fields()
            audit.add("exception", (str(raised.value), repr(raised.value), raised.value.problem))
            audit.add("traceback", "".join(traceback.format_exception(raised.value)))
        from leadstream.sandbox.__main__ import _banner

        audit.add("sandbox banner", _banner(sandbox, "account.json"))
        audit.add("stored leads", [s.to_dict() for s in sandbox.leads()])
    audit.add("sandbox log", log.getvalue())
    assert sandbox.rest_stats()["requests"] > 5
    audit.add("checked.csv", (tmp_path / "checked.csv").read_bytes())
    with Journal(home / "journal.sqlite3") as journal:
        audit.add("runs", [(info, journal.run_rows(info.id)) for info in journal.runs()])
        audit.add("legend", journal.legend("L"))
        audit.add_files("journal folder (open)", home)
    audit.add_files("journal folder (closed)", home)
    audit.assert_clean()


def test_rest_subprocess_keeps_the_token_out_of_its_output_and_arguments(tmp_path: Path) -> None:
    audit = Audit(PLAIN_TOKEN)
    env = {
        "PATH": "/usr/bin:/bin",
        "LEADSTREAM_HOME": str(tmp_path / "home"),
        "LEADSTREAM_TOKEN": PLAIN_TOKEN,
        "PYTHONPATH": str(REPO),
    }
    with header_echo_server() as echo:
        for url in (closed_port_url(), echo):
            command = [sys.executable, "-m", "leadstream", "legend", "fetch", "--url", url]
            done = subprocess.run(
                command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
            )
            audit.add("arguments", " ".join(command))
            audit.add("stdout", done.stdout)
            audit.add("stderr", done.stderr)
            assert done.returncode == 1
            assert "Traceback" not in done.stderr
            assert "token: ****" in done.stderr
    audit.assert_clean()
