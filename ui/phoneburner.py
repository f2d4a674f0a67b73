"""The PhoneBurner REST widgets pages call, one function each: the session's access token, "Test
connection", "Fetch from PhoneBurner" (the legend) and "Check PhoneBurner" with "Send the missing
ones" (a run's uncertain rows).

The rules live in `leadstream.deliver.rest` and `leadstream.deliver.settle`; this module only
lays out buttons and messages. The access token is read like the vendor key: typed for this
session (kept in memory, the box emptied at once), `LEADSTREAM_TOKEN` in the environment, or
`.streamlit/secrets.toml`; the sandbox always gets its demo token. It is only ever shown masked.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import streamlit as st

from leadstream.deliver.engine import EngineError, engine_for
from leadstream.deliver.journal import Journal
from leadstream.deliver.rest import (
    FetchedLegend,
    RestClient,
    RestClientError,
    connection_report,
    legend_from_fields,
)
from leadstream.deliver.settle import SettleError, settle_run
from leadstream.deliver.target import (
    TOKEN_VARIABLE,
    SettingsError,
    Target,
    TargetKind,
    find_token,
)
from leadstream.protocol.query import mask_secret
from leadstream.sandbox import DEMO_TOKEN

__all__ = [
    "check_phoneburner_button",
    "configured_token",
    "connection_test_button",
    "fetch_legend_button",
    "forget_connection_reports",
    "render_token_input",
    "was_checked",
]

TYPED_TOKEN = "pb.typed_token"  # plain state, never a widget's
TOKEN_INPUT = "pb.token_input"
_REPORT = ".report"  # suffix of the state key holding a connection test's report


def _secrets_token() -> str:
    try:
        value = st.secrets.get(TOKEN_VARIABLE, "")
    except Exception:  # no secrets file, or a broken one: the app must go on
        return ""
    return value.strip() if isinstance(value, str) else ""


def configured_token(target: Target) -> tuple[str, str]:
    """The access token for `target` and where it came from; `("", "")` when none is set."""
    if target.kind is TargetKind.SANDBOX:
        return DEMO_TOKEN, "the sandbox's demo token"
    typed = str(st.session_state.get(TYPED_TOKEN, "")).strip()
    if typed:
        return typed, "typed for this session"
    try:
        found = find_token(env=os.environ, secrets_path=None)
    except SettingsError:
        found = None
    if found is not None:
        return found.value, found.source
    if value := _secrets_token():
        return value, ".streamlit/secrets.toml"
    return "", ""


def forget_connection_reports() -> None:
    """Drop the reports of earlier connection tests: they spoke of another target or token."""
    state = st.session_state
    for name in [k for k in state if isinstance(k, str) and k.endswith(_REPORT)]:
        del state[name]


def _take_typed_token() -> None:
    typed = str(st.session_state.get(TOKEN_INPUT, "")).strip()
    if typed:
        st.session_state[TYPED_TOKEN] = typed
        forget_connection_reports()
    st.session_state[TOKEN_INPUT] = ""


def _forget_typed_token() -> None:
    st.session_state.pop(TYPED_TOKEN, None)
    forget_connection_reports()


def render_token_input(target: Target) -> None:
    """The access token's line for the sidebar: where it comes from, masked, and a box to type
    one for this session."""
    token, source = configured_token(target)
    st.markdown("**PhoneBurner access token** (for reading the account)")
    if target.kind is TargetKind.SANDBOX:
        st.caption(f"The sandbox uses its demo token `{mask_secret(DEMO_TOKEN)}`.")
        return
    if token:
        st.caption(f"Token `{mask_secret(token)}` from {source}.")
    else:
        st.caption(
            "No access token set: the legend and unsure leads cannot be read from the account."
        )
    if st.session_state.get(TYPED_TOKEN):
        st.button(
            "Forget the typed token",
            key="pb.forget_token",
            on_click=_forget_typed_token,
            help="Go back to the configured token, if there is one.",
        )
    with st.expander("Use another access token for this session", expanded=False):
        st.text_input(
            "Access token",
            key=TOKEN_INPUT,
            type="password",
            on_change=_take_typed_token,
            help="A personal access token made in PhoneBurner. Kept in memory for this browser "
            "session only; never saved or shown.",
        )


def _client(target: Target, url: str | None = None) -> RestClient | None:
    token, _ = configured_token(target)
    if not token:
        st.warning(
            "No PhoneBurner access token is set. Make a personal access token in PhoneBurner, "
            f"then set {TOKEN_VARIABLE}, put it in .streamlit/secrets.toml, or type it in the "
            "sidebar.",
            icon=":material/key:",
        )
        return None
    try:
        return RestClient.for_put_contact(url or target.url, token)
    except RestClientError as error:
        st.error(str(error))
        return None


def connection_test_button(target: Target, *, key: str = "pb.test") -> None:
    """The "Test connection" button: whether PhoneBurner answers, whether the token works, and
    which custom fields the account has."""
    if st.button("Test connection", key=key, icon=":material/network_check:"):
        token, _ = configured_token(target)
        try:
            rest = RestClient.for_put_contact(target.url, token or "")
        except RestClientError as error:
            st.error(str(error))
            return
        with rest, st.spinner("Asking PhoneBurner…"):
            st.session_state[key + _REPORT] = connection_report(rest, has_token=bool(token))
    report = st.session_state.get(key + _REPORT)
    if report is None:
        return
    show = st.success if report.ok else st.warning if report.reachable else st.error
    show("\n\n".join(report.messages))


def fetch_legend_button(target: Target, *, key: str = "pb.fetch") -> FetchedLegend | None:
    """The "Fetch from PhoneBurner" button: the account's custom fields as a legend, on the run
    the button was clicked (None otherwise); notes on the types sent as text are shown."""
    if not st.button(
        "Fetch from PhoneBurner",
        key=key,
        icon=":material/cloud_download:",
        help="Read the custom fields of the account behind the sidebar's target, with their types.",
    ):
        return None
    rest = _client(target)
    if rest is None:
        return None
    try:
        with rest, st.spinner("Reading the account's custom fields…"):
            fetched = legend_from_fields(rest.custom_fields())
    except RestClientError as error:
        st.error(str(error))
        return None
    count = len(fetched.legend.fields)
    st.success(f"{count} custom field{'s' * (count != 1)} read from PhoneBurner.")
    for note in fetched.notes:
        st.info(note, icon=":material/info:")
    return fetched


def was_checked(key: str = "pb.check") -> bool:
    """Whether "Check PhoneBurner" with this `key` has reported in this session (so a page keeps
    showing its summary and "Send the missing ones" once no row is uncertain any more)."""
    return bool(st.session_state.get(f"{key}.summary"))


def check_phoneburner_button(
    journal: Journal,
    run_id: int,
    *,
    vendor_key: str = "",
    url: str | None = None,
    key: str = "pb.check",
    open_run: Callable[[int], None] | None = None,
) -> None:
    """The "Check PhoneBurner" button for a run's uncertain rows, then "Send the missing ones".

    `vendor_key` is the configured key, for sending (the sandbox gets its demo key anyway);
    `url` is where the run's target listens now when it moved (the built-in sandbox takes a new
    port each time the app starts); `open_run` shows the new run once it is sending.
    """
    info = journal.run(run_id)
    target = info.target
    where = url or info.target_url
    unsure = info.counts.get("uncertain", 0)
    if st.button(
        "Check PhoneBurner",
        key=key,
        icon=":material/manage_search:",
        disabled=not unsure or info.status == "running",
        help="Look up each uncertain row in the account: found ones become delivered, absent "
        "ones failed (safe to send again).",
    ):
        rest = _client(target, where)
        if rest is not None:
            try:
                with rest, st.spinner(f"Looking up {unsure} uncertain rows in PhoneBurner…"):
                    report = settle_run(journal, rest, run_id)
                st.session_state[f"{key}.summary"] = report.summary()
            except (RestClientError, SettleError) as error:
                st.error(str(error))
    if summary := st.session_state.get(f"{key}.summary"):
        st.info(summary, icon=":material/fact_check:")
    failed = journal.run(run_id).counts.get("failed", 0)
    if not failed:
        return
    live_ok = True
    if target.is_live:
        live_ok = st.checkbox(
            f"Yes, send these {failed} leads to PhoneBurner live", key=f"{key}.live_ok"
        )
    if st.button(
        f"Send the missing ones ({failed})",
        key=f"{key}.resend",
        icon=":material/send:",
        disabled=not live_ok,
        help="Send the failed rows again as a new run. Rows that might already be in "
        "PhoneBurner are never sent again.",
    ):
        engine = engine_for(journal)
        try:
            retry_id = engine.retry(run_id, ["failed"])
            engine.start(retry_id, key=vendor_key, url=where)
        except EngineError as error:
            st.error(str(error))
            return
        st.session_state[f"{key}.summary"] = ""
        if open_run is not None:
            open_run(retry_id)
        st.success(f"Run {retry_id} is sending the {failed} missing rows; see it on the Runs page.")
