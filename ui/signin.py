"""Sign-in for a shared server, and who the app records as the sender.

With `[auth]` in `.streamlit/secrets.toml` every page first asks people to sign in with the
company's identity provider (`st.login`, OpenID Connect) and records what they send under
their email. Without it the app is a desktop app: it serves the loopback only
(`leadstream.serving` says why when it must refuse) and records the computer's user@host.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

import streamlit as st

from leadstream.deliver.journal import act_as
from leadstream.serving import refusal, sign_in_configured

__all__ = ["auth_installed", "gate", "signed_in_person"]


def _secrets() -> Mapping[str, Any]:
    try:
        return dict(st.secrets)
    except Exception:  # no secrets file, or a broken one: no sign-in configured
        return {}


def auth_installed() -> bool:
    """Whether Streamlit's sign-in support (Authlib, `pip install "streamlit[auth]"`) is
    there: `st.login` fails without it."""
    return importlib.util.find_spec("authlib") is not None


def signed_in_person() -> str:
    """The signed-in person's email (else name), "" when nobody is signed in."""
    user = st.user
    if not user.get("is_logged_in"):
        return ""
    return str(user.get("email") or user.get("name") or "")


def _visitor() -> str | None:
    """The visitor's address, None when on this computer. Through a reverse proxy on this
    computer the connection is local, but the proxy says who it forwards for."""
    headers = st.context.headers
    forwarded = headers.get("X-Forwarded-For") if isinstance(headers, Mapping) else None
    if isinstance(forwarded, str) and forwarded.strip():
        return forwarded.split(",")[0].strip()
    peer = st.context.ip_address  # None on the loopback
    return peer if isinstance(peer, str) else None  # (AppTest gives a stand-in object)


def gate() -> None:
    """At the top of every page run: refuse the network without sign-in, ask people to sign
    in when it is configured, and record what this session sends as theirs."""
    required = sign_in_configured(_secrets())
    why = refusal(
        listen_address=str(st.get_option("server.address") or ""),
        peer=_visitor(),
        signed_in_required=required,
    )
    if why:
        st.error(why, icon=":material/lock:")
        st.stop()
    if not required:
        act_as("")  # the computer's user@host
        return
    if not auth_installed():
        st.error(
            "Sign-in is configured ([auth] in .streamlit/secrets.toml) but Streamlit's sign-in "
            'support is not installed on this server: pip install "streamlit[auth]".',
            icon=":material/lock:",
        )
        st.stop()
    person = signed_in_person()
    if not person:
        st.title("LeadStream Desk")
        st.write("Sign in with your company account to post leads and see the team's runs.")
        st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")
        st.stop()
    act_as(person)
    with st.sidebar:
        st.caption(f"Signed in as {person}")
        st.button("Sign out", on_click=st.logout, key="signin.logout")
