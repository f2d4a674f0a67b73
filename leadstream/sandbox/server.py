"""The sandbox over HTTP: put_contact on loopback, with inspection routes and injected faults.

`SandboxServer` is a thin wrapper around `rules.answer`: it reads the query string, asks
`FaultPlan` whether to misbehave, and writes the answer. The same server runs from
`python -m leadstream.sandbox`, inside the app, and in the tests (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from leadstream.protocol.query import encode_pairs, mask_secret, mask_url, split_pairs
from leadstream.protocol.response import VENDOR_CODES, Code
from leadstream.sandbox.account import Account
from leadstream.sandbox.faults import FAULT_KINDS, FaultKind, FaultPlan, Faults
from leadstream.sandbox.rest import REST_PREFIX, RestAnswer, rest_answer
from leadstream.sandbox.rules import Answer, LeadStore, StoredLead, answer

__all__ = ["PUT_CONTACT_PATH", "SandboxServer"]

PUT_CONTACT_PATH = "/api/vendor/put_contact"
_REASONS = (Code.SUCCESS.reason, *(code.reason for code in VENDOR_CODES))
# An idle keep-alive connection is closed after this long, so it does not pin a thread.
_IDLE_TIMEOUT_S = 30.0
_MAX_DRAINED_BODY = 1 << 20
_MAX_LOGGED_TARGET = 300
_JOIN_TIMEOUT_S = 5.0

_FAIL_PAGE = (
    "<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><h1>Service Temporarily Unavailable</h1><p>The server is temporarily unable to "
    "service your request. Please try again later.</p></body></html>"
)
_GARBAGE_PAGE = (
    "<!DOCTYPE html><html><head><title>PhoneBurner - Scheduled Maintenance</title></head>"
    "<body><h1>We'll be right back</h1><p>PhoneBurner is undergoing scheduled maintenance."
    "</p></body></html>"
)
_RATE_LIMITED_PAGE = (
    "<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head>"
    "<body><h1>Too Many Requests</h1><p>Slow down and try again in a second.</p></body></html>"
)


class _Stats:
    """Counts for `/sandbox/stats`: requests to put_contact, rule answers, injected faults.

    A lead stored and then cut off by a `lost_reply` fault counts as a SUCCESS answer too, so
    `answers["SUCCESS"]` always equals the number of stored leads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._answers: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()

    def request(self, fault: FaultKind | None) -> None:
        with self._lock:
            self._requests += 1
            if fault is not None:
                self._faults[fault] += 1

    def answered(self, reason: str) -> None:
        with self._lock:
            self._answers[reason] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            answers = {reason: self._answers[reason] for reason in _REASONS}
            answers.update(self._answers)
            return {
                "requests": self._requests,
                "answers": answers,
                "faults": {kind: self._faults[kind] for kind in FAULT_KINDS},
            }


@dataclass(frozen=True, slots=True)
class _Route:
    methods: tuple[str, ...]
    handle: Callable[[_Handler, str], None]


class _HTTPServer(ThreadingHTTPServer):
    """Tracks each connection's thread and socket, so `stop()` can end and join them all."""

    daemon_threads = True
    block_on_close = False  # joined by close_connections(), with a time limit

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer):
        self.sandbox = sandbox
        self._conn_lock = threading.Lock()
        self._live: dict[threading.Thread, socket.socket] = {}
        self._closing = False
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"sandbox-{self.server_address[1]}-conn-{client_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            if self._closing:
                self.shutdown_request(request)
                return
            self._live[thread] = request
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._live.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return  # the client went away, or stop() cut the connection: nothing to report
        self.sandbox._write_log(
            f"{client_address[0]} internal error: {type(error).__name__}: {mask_url(str(error))}"
        )

    def close_connections(self) -> None:
        """Refuse new connections, cut the live ones, and wait for their threads."""
        with self._conn_lock:
            self._closing = True
            live = dict(self._live)
        for sock in live.values():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        for thread in live:
            thread.join(max(0.0, deadline - time.monotonic()))


def _safe_target(path: str, query: str) -> str:
    """The request target for the log: every `key` value masked, and not too long."""
    if query:
        # Names are decoded first, so `k%65y=…` (which PHP reads as `key`) is masked too.
        path += "?" + "&".join(
            f"{name}={mask_secret(value)}"
            if name.partition("[")[0] == "key"
            else encode_pairs([(name, value)])
            for name, value in split_pairs(query)
        )
    if len(path) > _MAX_LOGGED_TARGET:
        path = path[: _MAX_LOGGED_TARGET - 1] + "…"
    return path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real endpoint and `requests` use it
    server_version = "LeadStreamSandbox/1.0"
    timeout = _IDLE_TIMEOUT_S
    # Headers and body go out in two writes; with Nagle on, keep-alive answers wait ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer

    # Every method goes through _dispatch, so unknown methods on known paths get a 405.
    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        started = time.monotonic()
        self._status: int | str = "-"
        self._note = ""
        target, _, raw_query = self.path.partition("?")
        # http.server reads the request line as Latin-1; PHP sees the bytes, which are UTF-8.
        query = raw_query.encode("latin-1").decode("utf-8", errors="replace")
        self._started = started
        self._target = f"{self.command} {_safe_target(target, query)}"
        self._logged = False
        try:
            self._drain_body()
            route = _ROUTES.get(target)
            if route is None and target.startswith(REST_PREFIX):
                route = _REST_ROUTE
            if route is None:
                self._send(HTTPStatus.NOT_FOUND, f"No such page: {target}\n")
            elif self.command not in route.methods:
                self._send(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    f"{self.command} is not allowed here; use {' or '.join(route.methods)}.\n",
                    headers={"Allow": ", ".join(route.methods)},
                )
            else:
                route.handle(self, query)
        finally:
            self._log_once()

    def _log_once(self) -> None:
        # Written before the answer leaves, so whoever got the answer can already read the line.
        if self._logged:
            return
        self._logged = True
        elapsed_ms = (time.monotonic() - self._started) * 1000
        note = f" {self._note}" if self._note else ""
        self.server.sandbox._write_log(
            f"{self.client_address[0]} {self._target} {self._status}{note} {elapsed_ms:.0f}ms"
        )

    def _drain_body(self) -> None:
        # With keep-alive, an unread body would be taken for the next request.
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= _MAX_DRAINED_BODY:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def _send(
        self,
        status: int,
        body: str,
        *,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode("utf-8")
        self._status = int(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self._log_once()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, data: object) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        self._send(HTTPStatus.OK, body, content_type="application/json; charset=utf-8")

    def _hang_up(self) -> None:
        """Close the connection without a word: the client sees it drop, not a timeout."""
        self._status = "no answer"
        self.close_connection = True
        self._log_once()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # Routes

    def _faulted(self, fault: str | None) -> bool:
        """Wait the latency, then play a fault that stops the request before it is answered
        (rate limit, failure, garbage, timeout); True when the request is done with. Shared by
        put_contact and REST, so both fail alike."""
        sandbox = self.server.sandbox
        if sandbox._pause(sandbox.faults.latency_ms / 1000):
            self._hang_up()
            return True
        if fault == "rate_limited":
            self._send(
                HTTPStatus.TOO_MANY_REQUESTS,
                _RATE_LIMITED_PAGE,
                content_type="text/html; charset=utf-8",
                headers={"Retry-After": "1"},
            )
        elif fault == "fail":
            self._send(
                HTTPStatus.SERVICE_UNAVAILABLE, _FAIL_PAGE, content_type="text/html; charset=utf-8"
            )
        elif fault == "garbage":
            self._send(HTTPStatus.OK, _GARBAGE_PAGE, content_type="text/html; charset=utf-8")
        elif fault == "timeout":
            sandbox._pause(sandbox.faults.timeout_hold_s)
            self._hang_up()
        else:
            return False
        return True

    def _put_contact(self, query: str) -> None:
        sandbox = self.server.sandbox
        fault = sandbox._plan.draw()
        sandbox._stats.request(fault)
        if fault is not None:
            self._note = f"fault:{fault}"
        if self._faulted(fault):
            return None
        result = sandbox._answer(query)
        self._note = f"{result.reason} {self._note}".strip()
        if fault == "lost_reply":
            return self._hang_up()
        return self._send(HTTPStatus.OK, result.body)

    def _rest(self, query: str) -> None:
        """PhoneBurner's REST API v1 (`rest.rest_answer`), with faults drawn on their own dice
        so that REST calls leave put_contact's seeded sequence as it was."""
        sandbox = self.server.sandbox
        fault = sandbox._rest_plan.draw()
        sandbox._count_rest(fault)
        if fault is not None:
            self._note = f"fault:{fault}"
        if self._faulted(fault):
            return None
        target = self.path.partition("?")[0]
        # The header is read here and handed on; it is never logged.
        result = sandbox._rest_answer(target, query, self.headers.get("Authorization"))
        if fault == "lost_reply":
            return self._hang_up()
        return self._send(
            result.status,
            result.text(),
            content_type="application/json; charset=utf-8",
            headers=result.headers,
        )

    def _leads(self, query: str) -> None:
        self._send_json([lead.to_dict() for lead in self.server.sandbox.leads()])

    def _stats(self, query: str) -> None:
        self._send_json(self.server.sandbox.stats())

    def _reset(self, query: str) -> None:
        self.server.sandbox.reset()
        self._send_json({"reset": True})

    def _index(self, query: str) -> None:
        self._send(HTTPStatus.OK, self.server.sandbox.describe())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's messages quote the raw request line, key included: say only the status.
        super().send_error(code)

    # http.server's own logging would print the raw request line, key included.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        # http.server calls this for an idle keep-alive connection timing out (normal: a
        # client's pool keeps connections open) and for requests it refuses (`code %d, …`).
        if format.startswith("Request timed out"):
            message = "idle connection closed"
        else:
            code = args[0] if args else "?"
            message = f"malformed request refused: HTTP {code}"
        self.server.sandbox._write_log(f"{self.client_address[0]} {message}")


_ROUTES: dict[str, _Route] = {
    PUT_CONTACT_PATH: _Route(("GET",), _Handler._put_contact),
    "/sandbox/leads": _Route(("GET",), _Handler._leads),
    "/sandbox/stats": _Route(("GET",), _Handler._stats),
    "/sandbox/reset": _Route(("POST",), _Handler._reset),
    "/": _Route(("GET",), _Handler._index),
}
_REST_ROUTE = _Route(("GET",), _Handler._rest)


def _rest_faults(faults: Faults) -> Faults:
    # The same rates on other dice: a seed gives REST its own repeatable sequence.
    seed = None if faults.seed is None else faults.seed + 7919
    return dataclasses.replace(faults, seed=seed)


class SandboxServer:
    """put_contact on loopback, answering by `rules.answer`; start it, post to `url`, stop it.

    Use as a context manager, or call `start()` and `stop()`. `port=0` picks a free port.
    """

    def __init__(
        self,
        account: Account | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        log: TextIO | None = sys.stderr,
    ):
        self.account = account if account is not None else Account.demo()
        self.faults = faults if faults is not None else Faults()
        self.host = host
        self._requested_port = port
        self._log = log
        self._log_lock = threading.Lock()
        seed = self.faults.seed
        self.store = LeadStore(seed=None if seed is None else f"upc-{seed}")
        self._plan = FaultPlan(self.faults)
        self._rest_plan = FaultPlan(_rest_faults(self.faults))
        self._stats = _Stats()
        self._rest_lock = threading.Lock()
        self._rest_counts: Counter[str] = Counter()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> SandboxServer:
        """Bind, listen and serve in a background thread; returns once connections are taken."""
        if self._httpd is not None:
            raise RuntimeError("This sandbox is already running.")
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self._requested_port), self)
        serving = threading.Event()

        def serve() -> None:
            serving.set()
            httpd.serve_forever(poll_interval=0.05)

        self._httpd = httpd
        self._thread = threading.Thread(
            target=serve, name=f"sandbox-{httpd.server_address[1]}", daemon=True
        )
        self._thread.start()
        serving.wait()
        return self

    def stop(self) -> None:
        """Stop serving, end held and open connections, join the threads, close the socket."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Addresses

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The sandbox is not running; call start() first.")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + PUT_CONTACT_PATH

    # Inspection

    def leads(self) -> list[StoredLead]:
        return self.store.leads()

    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot()

    def rest_stats(self) -> dict[str, int]:
        """Counts of REST requests: `requests`, and one entry per injected fault kind."""
        with self._rest_lock:
            return {"requests": self._rest_counts["requests"]} | {
                kind: self._rest_counts[kind] for kind in FAULT_KINDS
            }

    def reset(self) -> None:
        """Forget stored leads and counts; seeded faults and upcs start their sequence again."""
        self.store.clear()
        self._stats.reset()
        self._plan.reset()
        self._rest_plan.reset()
        with self._rest_lock:
            self._rest_counts.clear()

    def describe(self) -> str:
        """What this is and where to look, as the text of `GET /`."""
        streams = ", ".join(f"{s.cm_id} (user {s.user_id})" for s in self.account.leadstreams)
        return (
            "LeadStream sandbox: a local emulator of PhoneBurner's put_contact.\n"
            "Nothing sent here reaches PhoneBurner.\n\n"
            f"Post leads:  GET {self.url}?key=…&user_id=…&cm_id=…&email=…\n"
            f"LeadStreams: {streams or 'none'}\n"
            f"Faults:      {self.faults.describe()}\n\n"
            f"What arrived: GET {self.base_url}/sandbox/leads\n"
            f"Counts:       GET {self.base_url}/sandbox/stats\n"
            f"Start over:   POST {self.base_url}/sandbox/reset\n"
            f"REST API:     GET {self.base_url}{REST_PREFIX}tranquility, customfields, contacts "
            "(Authorization: Bearer <user's access token>)\n"
        )

    # Used by the request handler

    def _answer(self, query: str) -> Answer:
        result = answer(split_pairs(query), self.account, self.store)
        self._stats.answered(result.reason)
        return result

    def _rest_answer(self, path: str, query: str, authorization: str | None) -> RestAnswer:
        return rest_answer(path, split_pairs(query), authorization, self.account, self.store)

    def _count_rest(self, fault: FaultKind | None) -> None:
        with self._rest_lock:
            self._rest_counts["requests"] += 1
            if fault is not None:
                self._rest_counts[fault] += 1

    def _pause(self, seconds: float) -> bool:
        """Wait `seconds`; True when the server is stopping and the request should be dropped."""
        if seconds <= 0:
            return self._stopping.is_set()
        return self._stopping.wait(seconds)

    def _write_log(self, line: str) -> None:
        if self._log is None:
            return
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        with self._log_lock:
            try:
                self._log.write(f"{stamp} sandbox {line}\n")
                self._log.flush()
            except (OSError, ValueError):
                pass  # a closed log stream must not break the answer
