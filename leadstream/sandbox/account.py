"""The sandbox's account: its vendor key, users (with their REST access tokens), LeadStreams and
their custom-field legends.

`Account.demo()` is the built-in account of docs/DESIGN.md (the vendor document's example values);
`Account.load(path)` reads another one from JSON in the same shape that `to_json()` writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from leadstream.prepare.legend import FieldType, Legend, LegendField

__all__ = ["DEMO_TOKEN", "Account", "AccountError", "LeadStream", "User", "UserStatus"]

UserStatus = Literal["active", "cancelled"]
_STATUSES: tuple[str, ...] = get_args(UserStatus)
_TYPES = tuple(t.value for t in FieldType)
# The demo user's REST access token (docs/DESIGN.md, "REST API").
DEMO_TOKEN = "demo-access-token"


class AccountError(ValueError):
    """An account file that cannot be used; the message names the entry and what to change."""


@dataclass(frozen=True, slots=True)
class User:
    """A PhoneBurner user; `token` is the personal access token its REST calls carry, if any."""

    user_id: str
    status: UserStatus = "active"
    token: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class LeadStream:
    """One LeadStream (`cm_id`), the user who owns it, and its custom-field legend."""

    cm_id: str
    user_id: str
    name: str = ""
    fields: tuple[LegendField, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))

    @property
    def field_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.fields)

    @property
    def legend(self) -> Legend:
        return Legend(fields=self.fields, name=self.name, cm_id=self.cm_id)


@dataclass(frozen=True, slots=True)
class Account:
    key: str
    require_email: bool = True
    users: tuple[User, ...] = ()
    leadstreams: tuple[LeadStream, ...] = ()

    def __post_init__(self) -> None:
        # Lists are accepted and kept as tuples, so that accounts compare and hash.
        object.__setattr__(self, "users", tuple(self.users))
        object.__setattr__(self, "leadstreams", tuple(self.leadstreams))
        _check_consistent(self)

    @classmethod
    def demo(cls) -> Account:
        """The built-in account: the vendor document's key, user and LeadStream."""
        return cls(
            key="XXXYYYZZZ",
            require_email=True,
            users=(
                User("377310706", "active", token=DEMO_TOKEN),
                User("377310000", "cancelled"),
            ),
            leadstreams=(
                LeadStream(
                    cm_id="576846",
                    user_id="377310706",
                    name="Demo LeadStream",
                    fields=(
                        LegendField("297989", "Reference #", FieldType.TEXT),
                        LegendField("195481", "Follow Up Date", FieldType.DATE),
                        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
                    ),
                ),
            ),
        )

    @property
    def is_demo(self) -> bool:
        return self == Account.demo()

    def user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.user_id == user_id), None)

    def leadstream(self, cm_id: str) -> LeadStream | None:
        return next((s for s in self.leadstreams if s.cm_id == cm_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "require_email": self.require_email,
            "users": [
                {"user_id": u.user_id, "status": u.status} | ({"token": u.token} if u.token else {})
                for u in self.users
            ],
            "leadstreams": [
                {
                    "cm_id": s.cm_id,
                    "user_id": s.user_id,
                    "name": s.name,
                    "fields": [
                        {"id": f.id, "name": f.name, "type": f.type.value} for f in s.fields
                    ],
                }
                for s in self.leadstreams
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "the account") -> Account:
        """Read an account written in `to_json()`'s shape; `source` names it in messages."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise AccountError(
                f"{source} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}). "
                "Compare it with `python -m leadstream.sandbox --print-account`."
            ) from e
        except (ValueError, RecursionError):
            # A number of thousands of digits (ValueError) or brackets nested thousands deep,
            # as legend and mapping files already guard against.
            raise AccountError(
                f"{source} holds a number too long or lists nested too deeply to be an account. "
                "Compare it with `python -m leadstream.sandbox --print-account`."
            ) from None
        return _account_from_data(data, source)

    @classmethod
    def load(cls, path: str | Path) -> Account:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise AccountError(f"Cannot read the account file {path}: {e}.") from e
        return cls.from_json(text, source=f"The account file {path}")


def _check_consistent(account: Account) -> None:
    if not account.key:
        raise AccountError("The account has no vendor key; set `key` to a non-empty string.")
    seen_users: set[str] = set()
    seen_tokens: set[str] = set()
    for user in account.users:
        if user.status not in _STATUSES:
            raise AccountError(
                f"User {user.user_id} has status {user.status!r}; use one of {_STATUSES}."
            )
        if user.user_id in seen_users:
            raise AccountError(f"User {user.user_id} is listed twice; keep one entry.")
        seen_users.add(user.user_id)
        if user.token:
            if user.token in seen_tokens:
                raise AccountError(
                    f"User {user.user_id} has the same access token as another user; give each "
                    "user its own."
                )
            seen_tokens.add(user.token)
    seen_streams: set[str] = set()
    for stream in account.leadstreams:
        if stream.cm_id in seen_streams:
            raise AccountError(f"LeadStream {stream.cm_id} is listed twice; keep one entry.")
        seen_streams.add(stream.cm_id)
        if stream.user_id not in seen_users:
            raise AccountError(
                f"LeadStream {stream.cm_id} belongs to user {stream.user_id}, who is not in "
                "`users`; add that user or change the LeadStream's user_id."
            )
        ids = [f.id for f in stream.fields]
        if len(ids) != len(set(ids)):
            raise AccountError(
                f"LeadStream {stream.cm_id} lists a custom field ID twice; keep one of each."
            )


# Reading JSON: every problem names its place, such as `leadstreams[0].fields[2].type`.


def _expect(value: object, kind: type, where: str, source: str) -> Any:
    if not isinstance(value, kind):
        raise AccountError(f"{source}: `{where}` must be {_KIND_NAMES[kind]}, not {value!r}.")
    return value


_KIND_NAMES: dict[type, str] = {dict: "an object", list: "a list", bool: "true or false"}


def _id(value: object, where: str, source: str) -> str:
    # IDs are strings in the shape we write, but a number typed by hand means the same.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise AccountError(f'{source}: `{where}` must be a non-empty ID such as "377310706".')


def _text(obj: dict[str, Any], name: str, where: str, source: str, default: str = "") -> str:
    value = obj.get(name, default)
    if not isinstance(value, str):
        raise AccountError(f"{source}: `{where}.{name}` must be text, not {value!r}.")
    return value


def _account_from_data(parsed: object, source: str) -> Account:
    data: dict[str, Any] = _expect(parsed, dict, "(top level)", source)
    key = data.get("key")
    if not isinstance(key, str) or not key:
        raise AccountError(f"{source}: `key` must be the vendor key, a non-empty string.")
    require_email = _expect(data.get("require_email", True), bool, "require_email", source)
    users = []
    for i, raw in enumerate(_expect(data.get("users", []), list, "users", source)):
        where = f"users[{i}]"
        raw = _expect(raw, dict, where, source)
        status = _text(raw, "status", where, source, "active")
        if status not in _STATUSES:
            raise AccountError(
                f'{source}: `{where}.status` is {status!r}; use "active" or "cancelled".'
            )
        token = raw.get("token", "")
        if not isinstance(token, str):
            # Not quoted back: whatever is there may be the secret itself.
            raise AccountError(f'{source}: `{where}.token` must be text in quotes, such as "…".')
        token = token.strip()
        if any(c.isspace() or not c.isprintable() for c in token):
            raise AccountError(
                f"{source}: `{where}.token` holds a space or a control character; an access "
                "token is one word."
            )
        users.append(
            User(
                _id(raw.get("user_id"), f"{where}.user_id", source),
                cast(UserStatus, status),
                token=token,
            )
        )
    streams = []
    for i, raw in enumerate(_expect(data.get("leadstreams", []), list, "leadstreams", source)):
        where = f"leadstreams[{i}]"
        raw = _expect(raw, dict, where, source)
        fields = []
        raw_fields = _expect(raw.get("fields", []), list, f"{where}.fields", source)
        for j, raw_field in enumerate(raw_fields):
            fwhere = f"{where}.fields[{j}]"
            raw_field = _expect(raw_field, dict, fwhere, source)
            type_name = _text(raw_field, "type", fwhere, source, "text").strip().lower()
            if type_name not in _TYPES:
                raise AccountError(
                    f"{source}: `{fwhere}.type` is {type_name!r}; use one of {', '.join(_TYPES)}."
                )
            fields.append(
                LegendField(
                    _id(raw_field.get("id"), f"{fwhere}.id", source),
                    _text(raw_field, "name", fwhere, source),
                    FieldType(type_name),
                )
            )
        streams.append(
            LeadStream(
                cm_id=_id(raw.get("cm_id"), f"{where}.cm_id", source),
                user_id=_id(raw.get("user_id"), f"{where}.user_id", source),
                name=_text(raw, "name", where, source),
                fields=tuple(fields),
            )
        )
    try:
        return Account(
            key=key, require_email=require_email, users=tuple(users), leadstreams=tuple(streams)
        )
    except AccountError as e:
        raise AccountError(f"{source}: {e}") from e
