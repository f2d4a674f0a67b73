"""What put_contact answers: docs/DESIGN.md's rules as one function, and the store of leads.

`answer(pairs, account, store)` is the whole endpoint without HTTP; the server, the in-app
sandbox and the unit tests all call it. The only state is the `LeadStore`, whose duplicate-email
check and insert happen under one lock, so two simultaneous posts of one email store one lead.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from leadstream.protocol.lead import Lead
from leadstream.protocol.query import DecodedQuery, decode_pairs, lead_from_query
from leadstream.protocol.response import Code
from leadstream.sandbox.account import Account

__all__ = ["LEAD_URL", "Answer", "LeadStore", "StoredLead", "answer"]

LEAD_URL = "https://www.phoneburner.com/ms/lead_redirect?upc={upc}"
_UPC_ALPHABET = string.ascii_uppercase + string.digits
_UPC_LENGTH = 8


@dataclass(frozen=True, slots=True)
class StoredLead:
    """A lead the sandbox accepted, as the server read it."""

    upc: str
    time: str  # ISO 8601, UTC
    cm_id: str
    user_id: str
    params: DecodedQuery  # every parameter as PHP's $_GET holds it, the key left out
    lead: Lead
    ignored_fields: tuple[str, ...]  # custom field IDs not in the LeadStream's legend

    @property
    def lead_url(self) -> str:
        return LEAD_URL.format(upc=self.upc)

    def to_dict(self) -> dict[str, Any]:
        return {
            "upc": self.upc,
            "time": self.time,
            "cm_id": self.cm_id,
            "user_id": self.user_id,
            "params": self.params,
            "ignored_fields": list(self.ignored_fields),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """The endpoint's answer: its code, the body text it sends, the lead it stored (if any)."""

    code: Code
    body: str
    lead: StoredLead | None = None

    @property
    def reason(self) -> str:
        """`SUCCESS` or the error reason, such as `DUPLICATE EMAIL` (the key of the stats)."""
        return self.code.reason


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LeadStore:
    """The accepted leads, in arrival order; safe to share between request threads."""

    def __init__(self, *, seed: int | str | None = None, clock: Callable[[], datetime] = _utc_now):
        self._seed = seed
        self._clock = clock
        self._lock = threading.Lock()
        self._leads: list[StoredLead] = []
        self._emails: set[tuple[str, str]] = set()
        self._upcs: set[str] = set()
        self._rng = random.Random(seed)

    def add(
        self,
        *,
        cm_id: str,
        user_id: str,
        email: str,
        params: DecodedQuery,
        lead: Lead,
        ignored_fields: Sequence[str] = (),
    ) -> StoredLead | None:
        """Store the lead, or return None when `email` is already in that LeadStream."""
        email_key = (cm_id, email.casefold()) if email else None
        with self._lock:
            if email_key in self._emails:
                return None
            upc = self._new_upc()
            stored = StoredLead(
                upc=upc,
                time=self._clock().isoformat(timespec="seconds"),
                cm_id=cm_id,
                user_id=user_id,
                params=params,
                lead=lead,
                ignored_fields=tuple(ignored_fields),
            )
            self._leads.append(stored)
            self._upcs.add(upc)
            if email_key is not None:
                self._emails.add(email_key)
            return stored

    def _new_upc(self) -> str:
        while True:
            upc = "".join(self._rng.choices(_UPC_ALPHABET, k=_UPC_LENGTH))
            if upc not in self._upcs:
                return upc

    def leads(self) -> list[StoredLead]:
        with self._lock:
            return list(self._leads)

    def clear(self) -> None:
        """Forget every lead and start the upc sequence again (repeatable with a seed)."""
        with self._lock:
            self._leads.clear()
            self._emails.clear()
            self._upcs.clear()
            self._rng = random.Random(self._seed)

    def __len__(self) -> int:
        with self._lock:
            return len(self._leads)


def _error(code: Code) -> Answer:
    return Answer(code=code, body=f"ERROR|{code.reason}")


def _scalar(decoded: DecodedQuery, name: str) -> str:
    # `name[]=…` or `name[x]=…` is not the plain parameter: PHP's $_GET holds an array there.
    value = decoded.get(name)
    return value.strip() if isinstance(value, str) else ""


def _is_valid_email(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def answer(pairs: Sequence[tuple[str, str]], account: Account, store: LeadStore) -> Answer:
    """Apply the rules of docs/DESIGN.md ("The sandbox") in order; the first match answers."""
    # One reader of query strings for the whole project: re-encoding costs microseconds.
    decoded = decode_pairs(pairs)

    user_id = _scalar(decoded, "user_id")
    # The key is compared exactly: a pasted key with a stray space must fail here as it would
    # live, so that the app learns to clean it before sending.
    if decoded.get("key") != account.key or not user_id:
        return _error(Code.IDNUMBER_IS_REQUIRED)

    user = account.user(user_id)
    if user is None:
        return _error(Code.UNKNOWN_USER)
    if user.status == "cancelled":
        return _error(Code.CANCELLED_USER)

    cm_id = _scalar(decoded, "cm_id")
    if not cm_id:
        return _error(Code.CM_ID_IS_REQUIRED)
    stream = account.leadstream(cm_id)
    if stream is None or stream.user_id != user_id:
        return _error(Code.CM_ID_IS_INVALID)

    if "response_type" in decoded and decoded["response_type"] != "text":
        return _error(Code.BAD_RESPONSE_TYPE)

    email = _scalar(decoded, "email")
    if (account.require_email and not email) or (email and not _is_valid_email(email)):
        return _error(Code.INVALID_EMAIL)

    params = {name: value for name, value in decoded.items() if name != "key"}
    custom = decoded.get("custom_field")
    known = stream.field_ids
    ignored = [fid for fid in custom if fid not in known] if isinstance(custom, dict) else []
    stored = store.add(
        cm_id=cm_id,
        user_id=user_id,
        email=email,
        params=params,
        lead=lead_from_query(params),
        ignored_fields=ignored,
    )
    if stored is None:
        return _error(Code.DUPLICATE_EMAIL)
    return Answer(code=Code.SUCCESS, body=f"SUCCESS|{stored.lead_url}", lead=stored)
