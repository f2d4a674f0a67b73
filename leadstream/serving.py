"""Who may reach the app: the rule that keeps a desk's journal off the network unless people
have to sign in.

LeadStream Desk shows every lead a team sent and sends leads with the company's vendor key.
Alone on a desk it listens on the loopback only (`.streamlit/config.toml`). Served to a team,
it must know who is there: with `[auth]` in `.streamlit/secrets.toml` people sign in through
the company's identity provider (OpenID Connect, Streamlit's `st.login`). Without sign-in, an
app listening beyond the loopback refuses to serve its pages and says why. Pure: the app
applies it (`ui.signin`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

__all__ = ["is_loopback", "refusal", "sign_in_configured"]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(address: str | None) -> bool:
    """Whether a listening address (or a peer's) stays on this computer. "" and "0.0.0.0" mean
    every interface: not the loopback."""
    text = (address or "").strip().strip("[]").lower()
    if not text:
        return False
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def sign_in_configured(secrets: Mapping[str, Any]) -> bool:
    """Whether `secrets.toml` configures sign-in: an `[auth]` table with a provider (its own
    `client_id`, or one `[auth.NAME]` table holding one)."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping) or not auth.get("redirect_uri"):
        return False
    if auth.get("client_id"):
        return True
    return any(isinstance(v, Mapping) and v.get("client_id") for v in auth.values())


def refusal(*, listen_address: str | None, peer: str | None, signed_in_required: bool) -> str:
    """Why the app must not serve this visitor ("" when it may): it is set to listen beyond
    the loopback, or the visitor is on another computer (`peer`: their address, None on the
    loopback), while nobody has to sign in.

    An unset `listen_address` is judged by the visitor alone: Streamlit then listens on every
    interface, but only a visitor from this computer is served."""
    if signed_in_required:
        return ""
    listens_wide = bool(listen_address) and not is_loopback(listen_address)
    remote = peer is not None and not is_loopback(peer)
    if not listens_wide and not remote:
        return ""
    where = listen_address if listens_wide else f"the network (reached from {peer})"
    return (
        f"LeadStream Desk is listening on {where}, so other computers can reach it, and "
        "sign-in is not configured: anyone on the network could read the team's leads and send "
        "with the company's vendor key. Configure sign-in (an [auth] section in "
        ".streamlit/secrets.toml; see the README's 'A team server'), or run it on this computer "
        'only (server.address = "127.0.0.1" in .streamlit/config.toml).'
    )
