"""Process-wide resources and the per-session connection, shared by every page.

`get_journal`, `get_sandbox` and `get_client` are cached for the whole process (one SQLite
journal per home folder, one in-process sandbox, one pooled client per target and key).
`connection()` reads what the Connection sidebar (`render_connection_sidebar`, called from
app.py on every page) holds in `st.session_state`. The vendor key is only ever shown masked.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import streamlit as st

from leadstream.deliver.target import (
    DEMO_CM_ID,
    DEMO_KEY,
    DEMO_USER_ID,
    KEY_VARIABLE,
    SettingsError,
    Target,
    TargetKind,
    find_key,
    key_for,
    leadstream_home,
)
from leadstream.protocol.query import mask_secret
from ui.phoneburner import (
    connection_test_button,
    forget_connection_reports,
    render_token_input,
)

if TYPE_CHECKING:
    from leadstream.deliver.client import Client
    from leadstream.deliver.journal import Journal
    from leadstream.sandbox import SandboxServer

__all__ = [
    "DEMO_LEGEND_NAME",
    "FORM_LEGEND_KEY",
    "FORM_LOAD_KEY",
    "Connection",
    "configured_key",
    "confirm_live",
    "confirmed_now",
    "connection",
    "get_client",
    "get_journal",
    "get_sandbox",
    "keep_widget_state",
    "render_connection_sidebar",
]

# Session-state keys. Widget keys that start with KEEP survive page switches (see
# `keep_widget_state`); the others are plain values that Streamlit never cleans up.
KEEP = "keep."
TARGET_KEY = "keep.conn.target"
CUSTOM_URL_KEY = "keep.conn.custom_url"
TYPED_KEY = "conn.typed_key"  # plain state, never a widget's: the password box is emptied
KEY_INPUT = "conn.key_input"
USER_ID_KEY = "keep.conn.user_id"
CM_ID_KEY = "keep.conn.cm_id"
LIVE_CONFIRMED = "conn.live_confirmed"
_IDS_BY_KIND = "conn.ids_by_kind"
# Read by the Post a lead page: the legend chosen on its form, and a lead another page asks it
# to show (`{"lead": Lead, "note": str}`, then `st.switch_page("pages/post_lead.py")`).
FORM_LEGEND_KEY = "keep.form.legend"
FORM_LOAD_KEY = "form.load"
_LIVE_GO = "conn.live_go"

_KINDS = (TargetKind.SANDBOX, TargetKind.LIVE, TargetKind.CUSTOM)


# ---------------------------------------------------------------------------- resources


DEMO_LEGEND_NAME = "Demo LeadStream"


@st.cache_resource(show_spinner=False)
def _journal_at(home: str, url: str = "") -> Journal:
    from leadstream.deliver.journal import JOURNAL_FILENAME, Journal
    from leadstream.sandbox import Account

    if url:  # the team's database: its legends are the team's, nothing is added to them
        return Journal(url=url)
    path = Path(home) / JOURNAL_FILENAME
    first_run = not path.exists()
    journal = Journal(path)
    if first_run:
        # So the demo works out of the box: the sandbox's LeadStream and its legend. Only on the
        # very first run, so a user who deletes it is not given it back.
        for stream in Account.demo().leadstreams:
            journal.save_legend(stream.legend)
    return journal


def _database_url() -> str:
    """The team database (`LEADSTREAM_DATABASE_URL`: environment, then st.secrets), or ""."""
    from leadstream.deliver.database import DATABASE_URL_VARIABLE

    value = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if value:
        return value
    try:
        found = st.secrets.get(DATABASE_URL_VARIABLE, "")
    except Exception:  # no secrets file, or a broken one: no team database
        return ""
    return found.strip() if isinstance(found, str) else ""


def get_journal() -> Journal:
    """The team's journal when `LEADSTREAM_DATABASE_URL` is configured, else the one in
    `leadstream_home()` (one per home folder, so tests with a temporary LEADSTREAM_HOME each
    get their own). A journal that cannot be opened (a team server out of reach, an older
    schema) stops the page with the reason, never a traceback."""
    from leadstream.deliver.journal import JournalError

    try:
        return _journal_at(str(leadstream_home()), _database_url())
    except JournalError as error:
        st.error(str(error), icon=":material/database:")
        st.stop()


@st.cache_resource(show_spinner="Starting the built-in sandbox…")
def get_sandbox() -> SandboxServer:
    """The in-process sandbox with the demo account on a free loopback port, started once per
    process and stopped when the process exits."""
    from leadstream.sandbox import SandboxServer

    server = SandboxServer()
    server.start()
    atexit.register(server.stop)
    return server


def _close_client(client: Client) -> None:
    client.close()


@st.cache_resource(show_spinner=False, max_entries=8, on_release=_close_client)
def _client_for(url: str, key: str) -> Client:
    from leadstream.deliver.client import Client

    return Client(url=url, key=key)


def get_client(conn: Connection) -> Client:
    """One pooled client per target URL and key."""
    return _client_for(conn.target.url, conn.key)


# ---------------------------------------------------------------------------- connection


@dataclass(frozen=True, slots=True)
class Connection:
    """Where the session sends leads, with which key and default routing IDs.

    `problem` is "" when leads can be sent; otherwise it says what to fix in the sidebar.
    """

    target: Target
    key: str = field(repr=False)
    key_source: str
    user_id: str
    cm_id: str
    live_confirmed: bool
    problem: str = ""

    @property
    def ready(self) -> bool:
        return not self.problem

    @property
    def masked_key(self) -> str:
        return mask_secret(self.key) if self.key else "(none)"


def _secrets_key() -> str:
    """`LEADSTREAM_KEY` from st.secrets, or "" when there is no secrets file or no such entry."""
    try:
        value = st.secrets.get(KEY_VARIABLE, "")
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return ""
    except Exception:  # a broken secrets.toml must not take the whole app down
        return ""
    return value.strip() if isinstance(value, str) else ""


def configured_key(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The vendor key and where it came from: typed for this session, then the environment,
    then secrets.toml; `("", "")` when none is set."""
    typed = str(st.session_state.get(TYPED_KEY, "")).strip()
    if typed:
        return typed, "typed for this session"
    try:
        found = find_key(env=os.environ if env is None else env, secrets_path=None)
    except SettingsError:
        found = None
    if found is not None:
        return found.value, found.source
    if value := _secrets_key():
        return value, ".streamlit/secrets.toml"
    return "", ""


def _kind() -> TargetKind:
    value = st.session_state.get(TARGET_KEY, TargetKind.SANDBOX.value)
    try:
        return TargetKind(value)
    except ValueError:
        return TargetKind.SANDBOX


def _sandbox_url() -> str:
    return str(get_sandbox().url)


def connection() -> Connection:
    """The session's connection as the sidebar holds it."""
    state = st.session_state
    kind = _kind()
    problem = ""
    user_id = str(state.get(USER_ID_KEY, "")).strip()
    cm_id = str(state.get(CM_ID_KEY, "")).strip()
    key, source = configured_key()
    if kind is TargetKind.SANDBOX:
        target = Target.sandbox(_sandbox_url())
    elif kind is TargetKind.LIVE:
        target = Target.live()
    else:
        typed_url = str(state.get(CUSTOM_URL_KEY, "")).strip()
        try:
            target = Target.custom(typed_url)
        except SettingsError as error:
            target = Target(TargetKind.CUSTOM, typed_url)
            problem = "Enter the custom URL in the sidebar." if not typed_url else str(error)
    sent_key = key_for(target, key)
    if sent_key != key:
        # The sandbox knows only its demo account, and a real or typed key never goes to it.
        key, source = sent_key, "the sandbox's demo account"
    if not key and not problem:
        problem = (
            f"No vendor key is set. Type it in the sidebar under Vendor key, or set "
            f"{KEY_VARIABLE} in .streamlit/secrets.toml or the environment."
        )
    return Connection(
        target=target,
        key=key,
        key_source=source,
        user_id=user_id,
        cm_id=cm_id,
        live_confirmed=bool(state.get(LIVE_CONFIRMED, False)),
        problem=problem,
    )


# ---------------------------------------------------------------------------- live guard


def _confirm(action: str) -> None:
    st.session_state[LIVE_CONFIRMED] = True
    st.session_state[_LIVE_GO] = action


def confirmed_now(action: str = "send") -> bool:
    """True once, on the rerun right after the user confirmed live sending for `action`, so the
    page can carry out the send the confirmation interrupted."""
    if st.session_state.get(_LIVE_GO) == action:
        del st.session_state[_LIVE_GO]
        return True
    return False


def confirm_live(conn: Connection, *, action: str = "send") -> bool:
    """Whether a send may go ahead. For the live target, the first time in a session, shows a
    confirmation instead and returns False; its "Yes" button allows live sends for the rest
    of the session and makes `confirmed_now(action)` true on the next run."""
    if not conn.target.is_live or st.session_state.get(LIVE_CONFIRMED, False):
        return True
    with st.container(border=True):
        st.warning(
            "**This sends real leads to PhoneBurner.** They land in the LeadStream "
            f"`{conn.cm_id or '(no cm_id)'}` and reach sales staff. Send to the built-in "
            "sandbox instead to try things out.",
            icon=":material/warning:",
        )
        left, right = st.columns(2)
        left.button(
            "Yes, send to PhoneBurner live",
            key=f"conn.confirm_live.{action}",
            type="primary",
            on_click=_confirm,
            args=(action,),
        )
        right.button("Cancel", key=f"conn.cancel_live.{action}")
    return False


# ---------------------------------------------------------------------------- sidebar


def keep_widget_state() -> None:
    """Keep the values of `keep.*` widgets while their page is not shown.

    Streamlit forgets a widget's value when a run does not draw it (switching pages does
    that); assigning the value back as plain state on every run keeps what the user typed.
    Use the `keep.` prefix only for widgets whose value may be set through session state
    (text, number, date, checkbox, toggle, radio, selectbox, multiselect); never for buttons,
    download buttons, file uploaders or data editors, which refuse it.
    """
    state = st.session_state
    for name in [k for k in state if isinstance(k, str) and k.startswith(KEEP)]:
        state[name] = state[name]


def _on_target_change() -> None:
    """Each target keeps its own user ID and cm_id, so switching back restores them and the
    sandbox's demo IDs never travel to PhoneBurner by accident."""
    state = st.session_state
    previous = state.get("conn.previous_kind", TargetKind.SANDBOX.value)
    ids = state.setdefault(_IDS_BY_KIND, {})
    ids[previous] = (state.get(USER_ID_KEY, ""), state.get(CM_ID_KEY, ""))
    kind = _kind()
    default = (DEMO_USER_ID, DEMO_CM_ID) if kind is TargetKind.SANDBOX else ("", "")
    state[USER_ID_KEY], state[CM_ID_KEY] = ids.get(kind.value, default)
    state["conn.previous_kind"] = kind.value
    forget_connection_reports()


def _take_typed_key() -> None:
    typed = str(st.session_state.get(KEY_INPUT, "")).strip()
    if typed:
        st.session_state[TYPED_KEY] = typed
    st.session_state[KEY_INPUT] = ""


def _forget_typed_key() -> None:
    st.session_state.pop(TYPED_KEY, None)


def _init_defaults() -> None:
    state = st.session_state
    if TARGET_KEY not in state:
        state[TARGET_KEY] = TargetKind.SANDBOX.value
        state["conn.previous_kind"] = TargetKind.SANDBOX.value
    if USER_ID_KEY not in state:
        state[USER_ID_KEY] = DEMO_USER_ID if _kind() is TargetKind.SANDBOX else ""
    if CM_ID_KEY not in state:
        state[CM_ID_KEY] = DEMO_CM_ID if _kind() is TargetKind.SANDBOX else ""
    state.setdefault(CUSTOM_URL_KEY, "")


def render_connection_sidebar() -> Connection:
    """The Connection section of the sidebar; returns the resulting connection."""
    _init_defaults()
    with st.sidebar:
        st.subheader("Connection")
        st.radio(
            "Send leads to",
            [k.value for k in _KINDS],
            format_func=lambda v: TargetKind(v).label,
            key=TARGET_KEY,
            on_change=_on_target_change,
            help="Try everything on the built-in sandbox first; it behaves like PhoneBurner "
            "but nothing reaches real people.",
        )
        kind = _kind()
        if kind is TargetKind.SANDBOX:
            parts = urlsplit(_sandbox_url())
            st.caption(f":material/science: Sandbox running at {parts.hostname}:{parts.port}")
        elif kind is TargetKind.LIVE:
            st.caption(":material/public: Real PhoneBurner: leads reach your sales team.")
        else:
            st.text_input(
                "Custom URL",
                key=CUSTOM_URL_KEY,
                placeholder="http://127.0.0.1:8765/api/vendor/put_contact",
                help="The full address of a put_contact endpoint, without `?…`.",
                on_change=forget_connection_reports,
            )
        conn = connection()
        _render_key(conn)
        st.text_input(
            "Default user ID",
            key=USER_ID_KEY,
            help="The PhoneBurner user who receives leads. Used when a lead has none.",
        )
        st.text_input(
            "Default LeadStream ID (cm_id)",
            key=CM_ID_KEY,
            help="The LeadStream that leads are posted to. Used when a lead has none.",
        )
        if kind is TargetKind.SANDBOX:
            st.caption(f"Demo account: user ID {DEMO_USER_ID}, cm_id {DEMO_CM_ID}.")
        conn = connection()
        if conn.problem:
            st.error(conn.problem, icon=":material/front_hand:")
        _render_account(conn)
        return conn


def _render_account(conn: Connection) -> None:
    """The access token (for reading the account over REST) and "Test connection"; only once
    the target has an address to ask."""
    if conn.target.kind is TargetKind.CUSTOM:
        try:
            Target.custom(conn.target.url)
        except SettingsError:
            return
    st.divider()
    render_token_input(conn.target)
    connection_test_button(conn.target, key=f"pb.test.{conn.target.kind.value}")


def _render_key(conn: Connection) -> None:
    st.markdown("**Vendor key**")
    typed = bool(st.session_state.get(TYPED_KEY))
    if conn.target.kind is TargetKind.SANDBOX:
        kept = " Your typed key is kept for the other targets." if typed else ""
        st.caption(f"The sandbox always gets its demo key `{mask_secret(DEMO_KEY)}`.{kept}")
    elif conn.key:
        st.caption(f"Key `{conn.masked_key}` from {conn.key_source}.")
    else:
        st.caption("No key set yet.")
    if typed:
        st.button(
            "Forget the typed key",
            key="conn.forget_key",
            on_click=_forget_typed_key,
            help="Go back to the configured key (or the sandbox's demo key).",
        )
    with st.expander("Use another key for this session", expanded=not conn.key):
        st.text_input(
            "Vendor key",
            key=KEY_INPUT,
            type="password",
            on_change=_take_typed_key,
            help="Kept in memory for this browser session only; never saved or shown.",
        )
