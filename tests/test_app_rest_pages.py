"""AppTest: PhoneBurner's REST API where people use it, against real sandboxes: the sidebar's
access token and "Test connection", the legend page's "Fetch from PhoneBurner", and "Check
PhoneBurner" then "Send the missing ones" on a run's results (Runs page) and in History. A typed
access token never appears in what a page draws."""

from __future__ import annotations

import html
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import pytest
from streamlit.testing.v1 import AppTest
from test_app_support import button, texts

from leadstream.deliver.client import Attempt, AttemptKind, Client, Delivery
from leadstream.deliver.engine import engine_for
from leadstream.deliver.journal import NewRow
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID, Target
from leadstream.prepare.legend import FieldType
from leadstream.protocol.lead import Lead
from leadstream.sandbox import Account, SandboxServer
from leadstream.sandbox.account import User
from ui.state import get_journal, get_sandbox

pytest_plugins = ("test_app_support",)

SECRET_TOKEN = "PBT-7f3q-SECRET-never-shown-42"
DEMO_FIELDS = [
    {"id": "297989", "name": "Reference #", "type": "text"},
    {"id": "195481", "name": "Follow Up Date", "type": "date"},
    {"id": "300100", "name": "Do Not Call", "type": "checkbox"},
]


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADSTREAM_TOKEN", raising=False)


@pytest.fixture
def secret_sandbox() -> Iterator[SandboxServer]:
    """The demo account, but its user's access token is SECRET_TOKEN (so a leak is findable)."""
    demo = Account.demo()
    users = tuple(
        User(u.user_id, u.status, token=SECRET_TOKEN) if u.token else u for u in demo.users
    )
    account = Account(key=demo.key, users=users, leadstreams=demo.leadstreams)
    with SandboxServer(account, port=0, log=None) as server:
        yield server


def shown(at: AppTest) -> str:
    return "\n".join(
        str(e.value) for kind in ("success", "warning", "error", "info") for e in getattr(at, kind)
    )


def to_custom(at: AppTest, url: str) -> AppTest:
    at.sidebar.radio(key="keep.conn.target").set_value("custom").run()
    return at.sidebar.text_input(key="keep.conn.custom_url").input(url).run()


# ---------------------------------------------------------------------------- the sidebar


def test_the_sandbox_connection_test_names_its_fields(app: AppTest) -> None:
    app.sidebar.button(key="pb.test.sandbox").click().run()
    report = "\n".join(str(s.value) for s in app.sidebar.success)
    assert "PhoneBurner's REST API answers at" in report
    assert "The access token works." in report
    assert "3 custom fields: Reference # (297989), Follow Up Date (195481)" in report


def test_a_typed_token_works_on_a_custom_target_and_is_never_shown(
    app: AppTest, secret_sandbox: SandboxServer
) -> None:
    at = to_custom(app, secret_sandbox.url)
    at.sidebar.button(key="pb.test.custom").click().run()
    assert "No access token is configured" in shown(at)

    at.sidebar.text_input(key="pb.token_input").input(SECRET_TOKEN).run()
    assert at.sidebar.text_input(key="pb.token_input").value == ""
    assert "typed for this session" in "\n".join(str(c.value) for c in at.sidebar.caption)
    assert "No access token is configured" not in shown(at)  # that report is out of date
    at.sidebar.button(key="pb.test.custom").click().run()
    assert "The access token works." in shown(at)
    assert not at.exception
    # Neither a caption, a message, a label nor any element's raw proto holds the token.
    assert not [t for t in texts(at) if SECRET_TOKEN in t]
    # Another page: still typed, still hidden.
    at.switch_page("pages/legend.py").run()
    assert "typed for this session" in "\n".join(str(c.value) for c in at.sidebar.caption)
    assert not [t for t in texts(at) if SECRET_TOKEN in t]
    at.sidebar.button(key="pb.forget_token").click().run()
    assert "The access token works." not in shown(at)  # that report was the typed token's
    assert "No access token set" in "\n".join(str(c.value) for c in at.sidebar.caption)
    at.sidebar.text_input(key="pb.token_input").input(SECRET_TOKEN).run()
    at.sidebar.button(key="pb.test.custom").click().run()
    at.sidebar.radio(key="keep.conn.target").set_value("sandbox").run()
    assert "The access token works." not in shown(at)  # that report was the custom target's


def test_a_wrong_token_and_a_dead_address_are_said_plainly(
    app: AppTest, fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", "not-the-token-1234")
    at = to_custom(app, fresh_sandbox.url)
    at.sidebar.button(key="pb.test.custom").click().run()
    assert "did not accept the access token" in "\n".join(str(w.value) for w in at.sidebar.warning)
    assert not [t for t in texts(at) if "not-the-token-1234" in t]

    at = to_custom(at, "http://127.0.0.1:9/api/vendor/put_contact")
    assert "did not accept" not in shown(at)  # the report spoke of the address before
    at.sidebar.button(key="pb.test.custom").click().run()
    assert "does not answer at http://127.0.0.1:9/rest/1/" in shown(at)


def test_the_live_target_offers_the_token_and_the_test(app: AppTest) -> None:
    # Not clicked: tests never reach phoneburner.com.
    at = app.sidebar.radio(key="keep.conn.target").set_value("live").run()
    assert at.sidebar.text_input(key="pb.token_input").proto.type == 1  # PASSWORD
    assert at.sidebar.button(key="pb.test.live").label == "Test connection"


# ---------------------------------------------------------------------------- the legend page


def test_fetch_from_phoneburner_fills_the_table_to_save(app: AppTest) -> None:
    at = app.switch_page("pages/legend.py").run()
    at.text_area(key="keep.legend.paste").input("custom_field[1]=Old&").run()
    at.button(key="legend.fetch").click().run()
    assert not at.exception, at.exception
    assert at.session_state["legend.rows"] == DEMO_FIELDS
    assert at.text_area(key="keep.legend.paste").value == ""  # the box no longer disagrees
    assert any("Fetched 3 fields from PhoneBurner" in str(s.value) for s in at.success)
    assert at.text_input(key="keep.legend.cm_id").value == DEMO_CM_ID
    at.text_input(key="keep.legend.name").input("From the account").run()
    button(at, "Save legend").click().run()
    saved = get_journal().legend("From the account")
    assert saved is not None
    assert [f.type for f in saved.fields] == [FieldType.TEXT, FieldType.DATE, FieldType.CHECKBOX]
    assert saved.cm_id == DEMO_CM_ID


def test_fetch_without_a_token_says_how_to_get_one(
    app: AppTest, fresh_sandbox: SandboxServer
) -> None:
    at = to_custom(app, fresh_sandbox.url).switch_page("pages/legend.py").run()
    at.button(key="legend.fetch").click().run()
    assert "Make a personal access token in PhoneBurner" in shown(at)
    assert at.session_state["legend.rows"] == []


DROP_DOWN_FIELDS = (
        {"custom_field_id": "501", "display_name": "Region", "type_id": "6",
         "type_name": "Drop Down", "display_order": "0"},
        {"custom_field_id": "502", "display_name": "Budget", "type_id": "7",
         "type_name": "Numeric", "display_order": "1"},
        {"custom_field_id": "503", "display_name": "Call Back", "type_id": "3",
         "type_name": "Date Field", "display_order": "2"},
)  # fmt: skip


class _AccountWithDropDowns(BaseHTTPRequestHandler):
    """PhoneBurner's documented customfields envelope for fields the sandbox does not model
    (a Drop Down and a Numeric field); every other path is a 404."""

    def do_GET(self) -> None:
        if self.path.startswith("/rest/1/customfields"):
            listing = {
                "customfields": list(DROP_DOWN_FIELDS),
                "page_size": 25,
                "total_results": str(len(DROP_DOWN_FIELDS)),
                "page": 1,
                "total_pages": 1,
            }
            body = {"http_status": 200, "status": "success", "customfields": listing}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def drop_down_account() -> Iterator[str]:
    """A put_contact URL on loopback whose REST API lists drop-down and numeric fields."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AccountWithDropDowns)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/vendor/put_contact"
    server.shutdown()
    server.server_close()


def test_drop_downs_and_numbers_are_fetched_as_text_and_said_so(
    app: AppTest, drop_down_account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", SECRET_TOKEN)
    at = to_custom(app, drop_down_account).switch_page("pages/legend.py").run()
    at.button(key="legend.fetch").click().run()
    assert at.session_state["legend.rows"] == [
        {"id": "501", "name": "Region", "type": "text"},
        {"id": "502", "name": "Budget", "type": "text"},
        {"id": "503", "name": "Call Back", "type": "date"},
    ]
    notes = "\n".join(str(i.value) for i in at.info).replace("\\", "")  # markdown escapes
    assert "Region (501) is a Drop Down field in PhoneBurner; it is sent as text" in notes
    assert "Budget (502) is a Numeric field" in notes
    at.text_area(key="keep.legend.paste").input("custom_field[9]=Other&").run()
    assert "is sent as text" not in "\n".join(str(i.value) for i in at.info)  # a new legend
    assert not [t for t in texts(at) if SECRET_TOKEN in t]


# ---------------------------------------------------------------------------- unsure rows


def unanswered() -> Delivery:
    """What the client reports when a try got no answer: it may have been stored."""
    attempt = Attempt(
        number=1,
        started_at=time.time(),
        duration_s=10.0,
        status=None,
        masked_url="http://127.0.0.1/api/vendor/put_contact?key=****",
        body="",
        error="read timed out",
        kind=AttemptKind.MAYBE_TAKEN,
        code="NO ANSWER",
    )
    return Delivery(DeliveryOutcome.UNCERTAIN, None, (attempt,))


def unsure_run(sandbox: SandboxServer | None = None) -> tuple[int, list[str]]:
    """A finished run whose two rows got no answer: the first did arrive (sent for real, its
    answer thrown away), the second never did. To the in-app sandbox, or to `sandbox` as a
    custom target."""
    in_app = sandbox is None
    sandbox = sandbox or get_sandbox()
    stamp = time.time_ns()
    leads = [
        Lead(firstname=name, email=f"{name.lower()}{stamp}@example.com", user_id=DEMO_USER_ID,
             cm_id=DEMO_CM_ID)
        for name in ("Arrived", "Lost")
    ]  # fmt: skip
    journal = get_journal()
    run_id = journal.create_run(
        target=Target.sandbox(sandbox.url) if in_app else Target.custom(sandbox.url),
        source_name="monday.csv",
        rows=[NewRow(i, i + 2, lead, {"Email": lead.email}) for i, lead in enumerate(leads)],
    )
    journal.begin_run(run_id)
    rows = journal.claim_next_rows(run_id, 2)
    with Client(url=sandbox.url, key=DEMO_KEY) as client:
        assert client.post(rows[0].lead).outcome == DeliveryOutcome.DELIVERED
    for row in rows:
        journal.finish_row(run_id, row.row, unanswered())
    journal.set_run_status(run_id, "finished")
    return run_id, [lead.email for lead in leads]


def stored_emails() -> Counter[str]:
    return Counter(s.lead.email for s in get_sandbox().leads())


def sent_again(at: AppTest, original: int) -> int:
    """The run "Send the missing ones" made and opened, once it has finished."""
    new_id = int(at.query_params["run"])
    assert new_id != original
    assert engine_for(get_journal()).wait(new_id, 30)
    return new_id


def test_check_phoneburner_on_a_runs_results(app: AppTest) -> None:
    run_id, (here, lost) = unsure_run()
    app.query_params["run"] = str(run_id)
    at = app.switch_page("pages/runs.py").run()
    assert "2 rows got no clear answer" in shown(at)
    assert not [b for b in at.button if b.key == f"run.retry.{run_id}"]  # one re-send button

    at.button(key=f"run.check.{run_id}").click().run()
    assert "1 found (delivered), 1 not there (failed, safe to send again)" in shown(at)
    assert get_journal().run(run_id).counts["uncertain"] == 0
    resend = at.button(key=f"run.check.{run_id}.resend")
    assert resend.label == "Send the missing ones (1)"
    resend.click().run()
    assert not at.exception, at.exception
    new_id = sent_again(at, run_id)
    assert get_journal().run(new_id).counts["delivered"] == 1
    assert stored_emails() == Counter({here: 1, lost: 1})  # each lead stored exactly once


def test_check_phoneburner_in_history(app: AppTest) -> None:
    run_id, (here, lost) = unsure_run()
    at = app.switch_page("pages/history.py").run()
    assert "Leads with no clear answer" in [s.value for s in at.subheader]
    at.button(key=f"history.check.{run_id}").click().run()
    assert "1 found (delivered), 1 not there" in shown(at)
    at.button(key=f"history.check.{run_id}.resend").click().run()
    assert not at.exception, at.exception
    sent_again(at, run_id)
    assert stored_emails() == Counter({here: 1, lost: 1})


def test_history_with_only_single_unsure_posts_says_to_look_by_hand(app: AppTest) -> None:
    sandbox = get_sandbox()
    lead = Lead(email="one@example.com", user_id=DEMO_USER_ID, cm_id=DEMO_CM_ID)
    get_journal().record_post(
        source="form", target=Target.sandbox(sandbox.url), lead=lead, delivery=unanswered()
    )
    at = app.switch_page("pages/history.py").run()
    assert any("sent one at a time" in str(c.value) for c in at.caption)
    assert not [b for b in at.button if str(b.key).startswith("history.check.")]


@pytest.mark.parametrize("token", [SECRET_TOKEN, "PBT/odd+token=7&x%22<b>"])
def test_a_typed_token_shows_nowhere_after_every_button(app: AppTest, token: str) -> None:
    """Typed in the sidebar for a custom target, used by Test connection, Fetch from PhoneBurner
    and Check PhoneBurner, then every page drawn: no element, in raw, URL-encoded or
    HTML-escaped form, and not the journal file either."""
    demo = Account.demo()
    users = tuple(User(u.user_id, u.status, token=token) if u.token else u for u in demo.users)
    account = Account(key=demo.key, users=users, leadstreams=demo.leadstreams)
    forms = {token, quote(token, safe=""), quote_plus(token), html.escape(token)}

    def leaks(at: AppTest) -> list[str]:
        return [t for t in texts(at) if any(form in t for form in forms)]

    with SandboxServer(account, port=0, log=None) as sandbox:
        run_id, _ = unsure_run(sandbox)
        at = to_custom(app, sandbox.url)
        at.sidebar.text_input(key="pb.token_input").input(token).run()
        at.sidebar.button(key="pb.test.custom").click().run()
        assert "The access token works." in shown(at)
        at.switch_page("pages/legend.py").run()
        at.button(key="legend.fetch").click().run()
        assert at.session_state["legend.rows"] == DEMO_FIELDS
        assert not leaks(at)
        at.switch_page("pages/history.py").run()
        at.button(key=f"history.check.{run_id}").click().run()
        assert "1 found (delivered), 1 not there" in shown(at)
        assert not leaks(at)
        for page in ("pages/post_lead.py", "pages/bulk_upload.py", "pages/runs.py"):
            at.switch_page(page).run()
            assert not at.exception, at.exception
            assert not leaks(at), page
    path = get_journal().path
    assert path is not None
    stored = b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))  # with -wal
    assert b"monday.csv" in stored
    assert not any(form.encode() in stored for form in forms)
