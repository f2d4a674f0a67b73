"""AppTest: the Connection sidebar, the vendor key's secrecy, and the live-send confirmation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_app_support import SECRET_KEY, button, errors, texts

from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID
from ui.state import get_journal, get_sandbox

TARGET = "keep.conn.target"

pytest_plugins = ("test_app_support",)


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.sidebar.caption)


def test_the_sandbox_is_the_default_with_its_demo_account(app: AppTest) -> None:
    assert app.sidebar.radio(key=TARGET).value == "sandbox"
    assert f"127.0.0.1:{get_sandbox().port}" in _captions(app)
    assert "demo key" in _captions(app)
    assert app.sidebar.text_input(key="keep.conn.user_id").value == DEMO_USER_ID
    assert app.sidebar.text_input(key="keep.conn.cm_id").value == DEMO_CM_ID


def test_each_target_keeps_its_own_ids(app: AppTest) -> None:
    app.sidebar.radio(key=TARGET).set_value("live").run()
    assert app.sidebar.text_input(key="keep.conn.user_id").value == ""
    app.sidebar.text_input(key="keep.conn.user_id").input("123").run()
    app.sidebar.radio(key=TARGET).set_value("sandbox").run()
    assert app.sidebar.text_input(key="keep.conn.user_id").value == DEMO_USER_ID
    app.sidebar.radio(key=TARGET).set_value("live").run()
    assert app.sidebar.text_input(key="keep.conn.user_id").value == "123"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "Enter the custom URL"),
        ("ftp://example.com/put", "is not a web address"),
        ("http://127.0.0.1:9/put?x=1", "without a query"),
    ],
)
def test_a_bad_custom_url_says_what_to_enter(app: AppTest, url: str, expected: str) -> None:
    app.sidebar.radio(key=TARGET).set_value("custom").run()
    app.sidebar.text_input(key="keep.conn.custom_url").input(url).run()
    assert any(expected in e.value for e in app.sidebar.error)


def test_live_without_a_key_says_where_to_put_it(app: AppTest) -> None:
    app.sidebar.radio(key=TARGET).set_value("live").run()
    assert any("No vendor key is set" in e.value for e in app.sidebar.error)


def test_the_key_is_never_shown_or_stored(home: Path, app: AppTest) -> None:
    """A distinctive key from secrets, sent to a custom URL (the sandbox, which refuses it):
    the key appears in no element, preview, answer or journal row."""
    app.secrets["LEADSTREAM_KEY"] = SECRET_KEY
    app.sidebar.radio(key=TARGET).set_value("custom").run()
    app.sidebar.text_input(key="keep.conn.custom_url").input(get_sandbox().url).run()
    app.sidebar.text_input(key="keep.conn.user_id").input(DEMO_USER_ID).run()
    app.sidebar.text_input(key="keep.conn.cm_id").input(DEMO_CM_ID).run()
    button(app, "Fill with example").click().run()
    app.toggle(key="keep.form.preview").set_value(True).run()
    button(app, "Send").click().run()

    assert "secrets.toml" in _captions(app)  # where the key came from, masked
    assert any("IDNUMBER IS REQUIRED" in e for e in errors(app))
    shown = "\n".join(texts(app))
    assert "key=****" in shown
    assert SECRET_KEY not in shown
    assert SECRET_KEY[-8:] not in shown
    for page in ("pages/history.py", "pages/legend.py"):
        app.switch_page(page).run()
        assert SECRET_KEY not in "\n".join(texts(app))
    get_journal()  # the journal file exists and holds what was recorded
    with sqlite3.connect(home / "journal.sqlite3") as db:
        dump = "\n".join(db.iterdump())
    assert "IDNUMBER IS REQUIRED" in dump
    assert SECRET_KEY not in dump


def test_a_key_typed_for_the_session_is_masked_and_can_be_forgotten(app: AppTest) -> None:
    app.sidebar.radio(key=TARGET).set_value("live").run()
    app.sidebar.text_input(key="conn.key_input").input(SECRET_KEY).run()

    assert "typed for this session" in _captions(app)
    assert app.sidebar.text_input(key="conn.key_input").value == ""
    assert SECRET_KEY not in "\n".join(texts(app))
    button(app, "Forget the typed key").click().run()
    assert any("No vendor key is set" in e.value for e in app.sidebar.error)


def test_live_sends_need_one_confirmation_per_session(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Live" points at the local sandbox here: no test ever reaches PhoneBurner.
    monkeypatch.setattr("leadstream.deliver.target.PHONEBURNER_URL", get_sandbox().url)
    app.secrets["LEADSTREAM_KEY"] = DEMO_KEY
    app.sidebar.radio(key=TARGET).set_value("live").run()
    app.sidebar.text_input(key="keep.conn.user_id").input(DEMO_USER_ID).run()
    app.sidebar.text_input(key="keep.conn.cm_id").input(DEMO_CM_ID).run()
    button(app, "Fill with example").click().run()
    button(app, "Send").click().run()

    assert any("sends real leads to PhoneBurner" in w.value for w in app.warning)
    assert get_sandbox().leads() == []
    button(app, "Yes, send to PhoneBurner live").click().run()
    assert any("SUCCESS" in s.value for s in app.success)
    assert len(get_sandbox().leads()) == 1
    # Confirmed once: the next send goes straight out.
    app.text_input(key="keep.form.email").input("second@example.com").run()
    button(app, "Send").click().run()
    assert not any("sends real leads" in w.value for w in app.warning)
    assert len(get_sandbox().leads()) == 2


@pytest.mark.parametrize("where", ["typed", "secrets"])
def test_the_sandbox_never_gets_a_real_key(app: AppTest, where: str) -> None:
    """A key typed in the sidebar or configured in secrets stays away from the sandbox: it
    gets its demo key, and the lead arrives there (a wrong key would be refused)."""
    if where == "secrets":
        app.secrets["LEADSTREAM_KEY"] = SECRET_KEY
        app.run()
    else:
        app.sidebar.text_input(key="conn.key_input").input(SECRET_KEY).run()
        assert "kept for the other targets" in _captions(app)
    assert "always gets its demo key" in _captions(app)
    button(app, "Fill with example").click().run()
    button(app, "Send").click().run()

    assert any("SUCCESS" in s.value for s in app.success), errors(app)
    stored = get_sandbox().leads()
    assert len(stored) == 1
    assert SECRET_KEY not in "\n".join(texts(app))
    # Switched to live, the typed key is the one used there.
    if where == "typed":
        app.sidebar.radio(key=TARGET).set_value("live").run()
        assert "typed for this session" in _captions(app)
