"""Who may reach the app: loopback only, unless people sign in."""

from __future__ import annotations

from typing import Any

import pytest

from leadstream.serving import is_loopback, refusal, sign_in_configured

AUTH = {
    "redirect_uri": "https://desk.example.com/oauth2callback",
    "cookie_secret": "s",
    "client_id": "id",
    "client_secret": "c",
    "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
}


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("", False),
        (None, False),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("desk.example.com", False),
    ],
)
def test_loopback_addresses(address: str | None, expected: bool) -> None:
    assert is_loopback(address) is expected


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        ({}, False),
        ({"auth": {}}, False),
        ({"auth": AUTH}, True),
        ({"auth": {"redirect_uri": AUTH["redirect_uri"], "google": {"client_id": "x"}}}, True),
        ({"auth": {"client_id": "x"}}, False),  # no redirect_uri: st.login cannot work
        ({"LEADSTREAM_KEY": "k"}, False),
    ],
)
def test_sign_in_is_configured_by_an_auth_table(secrets: dict[str, Any], expected: bool) -> None:
    assert sign_in_configured(secrets) is expected


@pytest.mark.parametrize(
    ("listen", "peer", "signed_in", "refused"),
    [
        ("127.0.0.1", None, False, False),  # the desktop app
        ("0.0.0.0", None, False, True),  # listening on the network, nobody signs in
        ("", None, False, False),  # address unset (every interface): a visitor from here
        ("", "10.0.0.7", False, True),  # … and one from elsewhere
        ("127.0.0.1", "127.0.0.1", False, False),
        ("127.0.0.1", "10.0.0.7", False, True),  # reached from elsewhere somehow
        ("0.0.0.0", "10.0.0.7", True, False),  # a team server with sign-in
        ("127.0.0.1", None, True, False),  # behind a TLS proxy on the same machine
    ],
)
def test_the_app_refuses_the_network_without_sign_in(
    listen: str, peer: str | None, signed_in: bool, refused: bool
) -> None:
    why = refusal(listen_address=listen, peer=peer, signed_in_required=signed_in)
    assert bool(why) is refused
    if refused:
        assert "sign-in is not configured" in why
        assert "[auth]" in why
