"""AppTest: sign-in for a shared server, and the refusal to serve the network without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

pytest_plugins = ("test_app_support",)

AUTH = {
    "redirect_uri": "https://leads.example.com/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "desk",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
}


@pytest.fixture(autouse=True)
def auth_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a server set up per the README (`pip install "streamlit[auth]"`)."""
    import ui.signin

    monkeypatch.setattr(ui.signin, "auth_installed", lambda: True)


@pytest.fixture
def listening_on_the_network() -> Iterator[None]:
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_on_the_loopback_without_sign_in_the_app_just_works(app: AppTest) -> None:
    assert not at_refused(app)
    assert [b.label for b in app.button if b.label == "Sign in"] == []


def at_refused(at: AppTest) -> bool:
    return any("sign-in is not configured" in e for e in _errors(at))


@pytest.mark.usefixtures("listening_on_the_network")
def test_on_the_network_without_sign_in_the_app_refuses_and_says_why(app: AppTest) -> None:
    at = app.run()
    assert at_refused(at)
    why = next(e for e in _errors(at) if "sign-in is not configured" in e)
    assert "0.0.0.0" in why
    assert "[auth]" in why
    assert not at.title  # no page is drawn
    assert not at.exception


@pytest.mark.usefixtures("listening_on_the_network")
def test_with_sign_in_configured_people_are_asked_to_sign_in(app: AppTest) -> None:
    app.secrets["auth"] = AUTH
    at = app.run()
    assert not at_refused(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Post a lead" not in [t.value for t in at.title]


@pytest.mark.usefixtures("listening_on_the_network")
def test_a_signed_in_person_uses_the_app_and_sends_as_themselves(app: AppTest) -> None:
    app.secrets["auth"] = AUTH
    app.user["is_logged_in"] = True
    app.user["email"] = "ann@example.com"
    at = app.run()
    assert not at.exception
    assert "Signed in as ann@example.com" in [c.value for c in at.sidebar.caption]
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert "Sign in" not in [b.label for b in at.button]


@pytest.mark.usefixtures("listening_on_the_network")
def test_sign_in_configured_without_its_support_installed_says_what_to_install(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.signin

    monkeypatch.setattr(ui.signin, "auth_installed", lambda: False)
    app.secrets["auth"] = AUTH
    at = app.run()
    assert any('pip install "streamlit[auth]"' in e for e in _errors(at))
    assert not [b for b in at.button if b.label == "Sign in"]
