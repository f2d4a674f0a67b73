"""Where leads go and with which key: the target choice, the vendor key's sources, and the REST
access token's (the same three kinds of place, `LEADSTREAM_TOKEN` for the token).

The key is read from, in order: the `LEADSTREAM_KEY` environment variable, a Streamlit
`secrets.toml` (`LEADSTREAM_KEY = "…"`), or a key file. It is never taken from a command-line
argument, which would show in the process list.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from leadstream.protocol.query import PHONEBURNER_URL, mask_secret

__all__ = [
    "DEMO_CM_ID",
    "DEMO_KEY",
    "DEMO_USER_ID",
    "KEY_VARIABLE",
    "TOKEN_VARIABLE",
    "AccessToken",
    "SettingsError",
    "Target",
    "TargetKind",
    "VendorKey",
    "find_key",
    "find_token",
    "leadstream_home",
]

KEY_VARIABLE = "LEADSTREAM_KEY"
TOKEN_VARIABLE = "LEADSTREAM_TOKEN"
HOME_VARIABLE = "LEADSTREAM_HOME"
# The built-in sandbox's demo account (see leadstream.sandbox.account).
DEMO_KEY = "XXXYYYZZZ"
DEMO_USER_ID = "377310706"
DEMO_CM_ID = "576846"


class SettingsError(ValueError):
    """A target or key setting that cannot be used; the message says what to change."""


class TargetKind(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    TargetKind.SANDBOX: "Built-in sandbox",
    TargetKind.LIVE: "PhoneBurner live",
    TargetKind.CUSTOM: "Custom URL",
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where leads are posted. `name` is stable across restarts (the sandbox's port is not), so
    the journal can tell whether a lead was already delivered to the same place."""

    kind: TargetKind
    url: str

    @property
    def name(self) -> str:
        return "sandbox" if self.kind is TargetKind.SANDBOX else self.url

    @property
    def is_live(self) -> bool:
        return self.kind is TargetKind.LIVE

    @classmethod
    def sandbox(cls, url: str) -> Target:
        return cls(TargetKind.SANDBOX, url)

    @classmethod
    def live(cls) -> Target:
        return cls(TargetKind.LIVE, PHONEBURNER_URL)

    @classmethod
    def custom(cls, url: str) -> Target:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(
                f"{url!r} is not a web address. Enter a full URL such as "
                "http://127.0.0.1:8765/api/vendor/put_contact."
            )
        if parts.query or parts.fragment:
            raise SettingsError("Enter the URL without a query (`?…`): the lead is added to it.")
        return cls(TargetKind.CUSTOM, url)


@dataclass(frozen=True, slots=True)
class _Secret:
    """A secret and where it came from; its repr and str never show it."""

    value: str = field(repr=False)
    source: str

    def __str__(self) -> str:
        return f"{mask_secret(self.value)} (from {self.source})"


@dataclass(frozen=True, slots=True)
class VendorKey(_Secret):
    """The vendor key and where it came from; its repr and str never show it."""


def key_for(target: Target, configured_key: str) -> str:
    """The key to send to `target`: the configured (or typed) one, except that the built-in
    sandbox always gets its demo key. The sandbox knows only its demo account, and a real key
    has no business travelling to a rehearsal, where logs and screens are less guarded."""
    if target.kind is TargetKind.SANDBOX:
        return DEMO_KEY
    return configured_key.strip()


def leadstream_home(env: Mapping[str, str] | None = None) -> Path:
    """Where the journal and saved settings live: `$LEADSTREAM_HOME`, else `~/.leadstream`."""
    env = os.environ if env is None else env
    configured = env.get(HOME_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".leadstream"


def _key_from_secrets(path: Path, name: str = KEY_VARIABLE) -> str:
    try:
        with path.open("rb") as handle:
            secrets = tomllib.load(handle)
    except FileNotFoundError:
        return ""
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(
            f"{path} could not be read as TOML ({error}); fix or remove it."
        ) from error
    value = secrets.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _find_secret(
    variable: str,
    env: Mapping[str, str] | None,
    secrets_path: Path | None,
    secret_file: Path | None,
    *,
    short: str,
    long: str,
) -> tuple[str, str] | None:
    """`(value, where it came from)` from the environment variable, then secrets.toml, then
    the file; None when none holds it. The file must hold one word of text."""
    env = os.environ if env is None else env
    if value := env.get(variable, "").strip():
        return value, f"the {variable} environment variable"
    if secrets_path is not None and (value := _key_from_secrets(secrets_path, variable)):
        return value, str(secrets_path)
    if secret_file is None:
        return None
    try:
        value = secret_file.read_text(encoding="utf-8-sig").strip()
    except OSError as error:
        raise SettingsError(
            f"The {short} file {secret_file} could not be read: {error.strerror}."
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(
            f"The {short} file {secret_file} is not text; put the {long} in it alone."
        ) from None
    if not value:
        raise SettingsError(f"The {short} file {secret_file} is empty; put the {long} in it.")
    if any(c.isspace() for c in value):
        raise SettingsError(
            f"The {short} file {secret_file} holds more than one word; put the {long} in it alone."
        )
    return value, str(secret_file)


def find_key(
    *,
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = Path(".streamlit/secrets.toml"),
    key_file: Path | None = None,
) -> VendorKey | None:
    """The configured vendor key (`LEADSTREAM_KEY`, then secrets.toml, then a key file), or
    None when none is set anywhere. Never from a command-line argument."""
    found = _find_secret(KEY_VARIABLE, env, secrets_path, key_file, short="key", long="vendor key")
    return None if found is None else VendorKey(*found)


# --- the REST access token: a secret like the key, from the same kinds of places ---------------


@dataclass(frozen=True, slots=True)
class AccessToken(_Secret):
    """A PhoneBurner personal access token and where it came from; repr and str mask it."""


def find_token(
    *,
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = Path(".streamlit/secrets.toml"),
    token_file: Path | None = None,
) -> AccessToken | None:
    """The configured REST access token (`LEADSTREAM_TOKEN`, then secrets.toml, then a token
    file), or None when none is set anywhere. Never from a command-line argument."""
    found = _find_secret(
        TOKEN_VARIABLE,
        env,
        secrets_path,
        token_file,
        short="token",
        long="PhoneBurner access token",
    )
    return None if found is None else AccessToken(*found)
