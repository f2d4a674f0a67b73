"""Settling a run's `uncertain` rows by looking for them in PhoneBurner over REST.

A row is `uncertain` when a try may have stored it but no answer said so. For each one:

- with an email: ask for contacts with that email (for many rows, look in one listing of the
  contacts added since the run began). Found → `delivered`; none → `failed` (not there, so
  safe to send again; and were it there after all, PhoneBurner would refuse the copy as
  `DUPLICATE EMAIL`).
- without one: among the contacts added since the run was created, look for the lead's phone
  (digits compared). The same phone and the same name (or a lead without a name) → `delivered`;
  no such phone → `failed`; the phone under another name → left `uncertain`, for a person.
- a lead with neither email nor phone, or for another user than the token's, stays `uncertain`.

PhoneBurner's `date_added` carries no time zone in public examples, so the window opens a day
before the run was created, and a contact whose date cannot be read counts as inside it: any
doubt leans towards "it is there", because a lead is never re-sent while it might be there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadstream.deliver.journal import Journal, RunRow
from leadstream.deliver.rest import RestClient
from leadstream.prepare.identity import normalize_email
from leadstream.protocol.lead import Lead
from leadstream.protocol.rest import Contact, digits

__all__ = [
    "FOUND_CODE",
    "NOT_FOUND_CODE",
    "Finding",
    "SettleError",
    "SettleReport",
    "judge",
    "settle_run",
]

FOUND_CODE = "FOUND IN PHONEBURNER"
NOT_FOUND_CODE = "NOT IN PHONEBURNER"
WINDOW_SLACK = timedelta(days=1)
_BATCH = 500


class SettleError(ValueError):
    """A run that cannot be checked now; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What the look-up found for one row: `delivered`, `failed` or (still) `uncertain`."""

    outcome: str
    detail: str
    contact_id: str = ""


@dataclass(frozen=True, slots=True)
class SettleReport:
    run_id: int
    checked: int
    delivered: int
    failed: int
    uncertain: int

    def summary(self) -> str:
        return (
            f"Run {self.run_id}: checked {self.checked} uncertain row"
            f"{'s' * (self.checked != 1)} in PhoneBurner: {self.delivered} found (delivered), "
            f"{self.failed} not there (failed, safe to send again), {self.uncertain} still "
            "uncertain."
        )


def _name(text: str) -> str:
    return " ".join(text.casefold().split())


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def judge(lead: Lead, candidates: list[Contact], *, by: str) -> Finding:
    """The finding for `lead` given the contacts found for it (`by` "email" or "phone"). Pure."""
    if by == "email":
        wanted = normalize_email(lead.email)
        match = next((c for c in candidates if normalize_email(c.email) == wanted), None)
        if match is None:
            return Finding(
                "failed",
                "PhoneBurner has no contact with this email, so the lead did not arrive; it is "
                "safe to send again.",
            )
        return Finding(
            "delivered",
            f"Found in PhoneBurner by its email: contact {match.id}"
            + (f", added {match.date_added}." if match.date_added else "."),
            match.id,
        )
    phone = digits(lead.phone)
    same_phone = [c for c in candidates if c.phone == phone]
    if not same_phone:
        return Finding(
            "failed",
            "No contact with this phone was added to PhoneBurner since the run began, so the "
            "lead did not arrive; it is safe to send again.",
        )
    wanted_name = _name(f"{lead.firstname} {lead.lastname}")
    for contact in same_phone:
        if not wanted_name or _name(f"{contact.first_name} {contact.last_name}") == wanted_name:
            return Finding(
                "delivered",
                f"Found in PhoneBurner by phone and name: contact {contact.id}"
                + (f", added {contact.date_added}." if contact.date_added else "."),
                contact.id,
            )
    other = same_phone[0]
    return Finding(
        "uncertain",
        f"PhoneBurner has contact {other.id} with this phone under another name "
        f"({' '.join(filter(None, (other.first_name, other.last_name))) or 'no name'}); look at "
        "it before sending this lead again.",
        other.id,
    )


class _RecentContacts:
    """Contacts added since the run began, fetched once (all pages), by phone and by email."""

    def __init__(self, rest: RestClient, since: datetime) -> None:
        self._rest = rest
        self._since = since
        self._by_phone: dict[str, list[Contact]] = defaultdict(list)
        self._by_email: dict[str, list[Contact]] = defaultdict(list)
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        for contact in self._rest.contacts(updated_from=self._since):
            added = _when(contact.date_added)
            if added is not None and added < self._since:
                continue  # an older contact updated since: not one the run added
            if contact.phone:
                self._by_phone[contact.phone].append(contact)
            if contact.email:
                self._by_email[normalize_email(contact.email)].append(contact)
        self._loaded = True

    def with_phone(self, phone: str) -> list[Contact]:
        self._load()
        return self._by_phone.get(phone, [])

    def with_email(self, email: str) -> list[Contact]:
        self._load()
        return self._by_email.get(normalize_email(email), [])


def _look_up(
    row: RunRow, rest: RestClient, recent: _RecentContacts, member: str, *, ask_by_email: bool
) -> Finding:
    lead = row.lead
    if member and lead.user_id and lead.user_id != member:
        return Finding(
            "uncertain",
            f"The access token reads the contacts of user {member}, but this lead went to user "
            f"{lead.user_id}; check it with that user's token.",
        )
    if lead.email.strip():
        # One question per email is exact, and cheap for a few rows; for many, one listing of
        # the contacts added since the run began answers them all. A lead this run stored is
        # in that listing; one stored before it would be refused as DUPLICATE EMAIL if sent.
        found = (
            list(rest.contacts(email=lead.email)) if ask_by_email else recent.with_email(lead.email)
        )
        return judge(lead, found, by="email")
    phone = digits(lead.phone)
    if not phone:
        return Finding(
            "uncertain",
            "The lead has neither an email nor a phone to look it up by; look for it in "
            "PhoneBurner by hand before sending it again.",
        )
    return judge(lead, recent.with_phone(phone), by="phone")


def settle_run(
    journal: Journal,
    rest: RestClient,
    run_id: int,
    *,
    on_row: Callable[[RunRow, Finding], None] | None = None,
    email_lookups: int = 100,
) -> SettleReport:
    """Look up every `uncertain` row of run `run_id` in PhoneBurner and record what was found.

    Each row is settled in its own transaction as it is looked up, so an interruption keeps
    what was found. Raises `RestClientError` when PhoneBurner cannot be asked (bad token, no
    answer); the rows not yet looked up stay `uncertain`. Up to `email_lookups` uncertain
    rows, each email is asked about on its own; beyond, the contacts added since the run began
    are listed once and every row is looked up in that listing.
    """
    info = journal.run(run_id)
    if info.status == "running":
        raise SettleError(
            f"Run {run_id} is being sent right now; check it once it has stopped, so that no "
            "row is looked up while it is on its way."
        )
    created = _when(info.created) or datetime.now(UTC)
    recent = _RecentContacts(rest, created - WINDOW_SLACK)
    member = rest.member_id()
    ask_by_email = info.counts.get("uncertain", 0) <= email_lookups
    checked = delivered = failed = left = 0
    offset = 0  # rows left uncertain stay in the listing; settled ones drop out of it
    while True:
        batch = journal.run_rows(run_id, states=["uncertain"], offset=offset, limit=_BATCH)
        if not batch:
            break
        for row in batch:
            finding = _look_up(row, rest, recent, member, ask_by_email=ask_by_email)
            checked += 1
            if finding.outcome == "uncertain":
                left += 1
                offset += 1
            elif journal.settle_uncertain(
                run_id,
                row.row,
                outcome=finding.outcome,
                code=FOUND_CODE if finding.outcome == "delivered" else NOT_FOUND_CODE,
                help=finding.detail,
            ):
                delivered += finding.outcome == "delivered"
                failed += finding.outcome == "failed"
            # else: settled or re-queued meanwhile, so it has left the listing anyway.
            if on_row is not None:
                on_row(row, finding)
    return SettleReport(run_id, checked, delivered, failed, left)
