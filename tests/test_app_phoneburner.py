"""AppTest: the PhoneBurner REST widgets (`ui.phoneburner`) against a real sandbox: Test
connection, Fetch from PhoneBurner, Check PhoneBurner then Send the missing ones, and the token
typed for a session (never shown)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from streamlit.testing.v1 import AppTest

from leadstream.deliver.journal import Journal, NewRow
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import lead_to_pairs
from leadstream.sandbox import DEMO_TOKEN, SandboxServer

USER, CM = "377310706", "576846"


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADSTREAM_TOKEN", raising=False)


def _widgets(url: str) -> None:
    import streamlit as st

    from leadstream.deliver.target import Target
    from ui.phoneburner import connection_test_button, fetch_legend_button, render_token_input

    target = Target.custom(url)
    render_token_input(target)
    connection_test_button(target)
    fetched = fetch_legend_button(target)
    if fetched is not None:
        st.session_state["fetched"] = [(f.id, f.name, f.type.value) for f in fetched.legend.fields]


def widgets(url: str) -> AppTest:
    return AppTest.from_function(_widgets, args=(url,), default_timeout=30).run()


def _shown(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("success", "warning", "error", "info", "caption")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def test_connection_and_fetch_need_a_token(fresh_sandbox: SandboxServer) -> None:
    at = widgets(fresh_sandbox.url)
    assert "No access token set" in _shown(at)
    at.button(key="pb.test").click().run()
    assert "answers at" in _shown(at)
    assert "No access token is configured" in _shown(at)
    at.button(key="pb.fetch").click().run()
    assert "Make a personal access token" in _shown(at)
    assert "fetched" not in at.session_state


def test_a_typed_token_is_kept_hidden_and_used(fresh_sandbox: SandboxServer) -> None:
    at = widgets(fresh_sandbox.url)
    at.text_input(key="pb.token_input").input(DEMO_TOKEN).run()
    assert at.text_input(key="pb.token_input").value == ""
    assert DEMO_TOKEN not in _shown(at)
    assert "typed for this session" in _shown(at)
    at.button(key="pb.test").click().run()
    assert "The access token works" in _shown(at)
    assert "3 custom fields: Reference # (297989)" in _shown(at)
    at.button(key="pb.fetch").click().run()
    assert at.session_state["fetched"] == [
        ("297989", "Reference #", "text"),
        ("195481", "Follow Up Date", "date"),
        ("300100", "Do Not Call", "checkbox"),
    ]


def test_a_wrong_token_is_said_plainly(
    fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", "not-the-token-123456")
    at = widgets(fresh_sandbox.url)
    at.button(key="pb.test").click().run()
    assert "did not accept the access token" in _shown(at)
    assert "not-the-token-123456" not in _shown(at)


def _check(path: str, run_id: int) -> None:
    from leadstream.deliver.journal import Journal
    from ui.phoneburner import check_phoneburner_button

    check_phoneburner_button(Journal(path), run_id, vendor_key="XXXYYYZZZ")


def test_check_then_send_the_missing_ones(
    fresh_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", DEMO_TOKEN)
    arrived = Lead(email="here@example.com", user_id=USER, cm_id=CM)
    lost = Lead(email="lost@example.com", user_id=USER, cm_id=CM)
    answer = requests.get(
        fresh_sandbox.url, params=lead_to_pairs(arrived, key="XXXYYYZZZ"), timeout=5
    )
    assert answer.text.startswith("SUCCESS|")
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        run_id = journal.create_run(
            target=Target.custom(fresh_sandbox.url),
            source_name="leads.csv",
            rows=[NewRow(0, 2, arrived, {}, "uncertain"), NewRow(1, 3, lost, {}, "uncertain")],
        )
    at = AppTest.from_function(_check, args=(str(path), run_id), default_timeout=30).run()
    at.button(key="pb.check").click().run()
    assert "1 found (delivered), 1 not there" in _shown(at)
    at.button(key="pb.check.resend").click().run()
    assert "is sending the 1 missing rows" in _shown(at)
    with Journal(path) as journal:
        from leadstream.deliver.engine import engine_for

        retry = journal.runs(limit=1)[0]
        assert retry.id != run_id
        engine_for(journal).wait(retry.id, 30)
        assert journal.run(retry.id).counts["delivered"] == 1
    assert sorted(s.lead.email for s in fresh_sandbox.leads()) == [
        "here@example.com",
        "lost@example.com",
    ]
