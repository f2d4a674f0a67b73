"""The delivery rules: what each try's answer means for the lead, and whether to try again.

Pure: no network, no clock, no threads. The client (`leadstream.deliver.client`) performs the
tries and
asks `decide` after each one; the bulk run, the journal and the pages read the resulting
`DeliveryOutcome`.

The rules, from the design:

- An answer in the vendor's format is final: `SUCCESS` is delivered, `FAILURE`/`ERROR` rejected,
  except `DUPLICATE EMAIL` after an earlier try that may have been taken, which means that try
  arrived (the endpoint answers so instead of storing the lead twice).
- A try that certainly was not taken (connection refused, connect timeout, 429, 502, 503, 504) is
  tried again until the tries run out, then the lead has `failed` and is safe to send again.
- A try that may have been taken (read timeout, connection closed after sending, 500, any answer
  not in the vendor's format) is tried again only when the lead has an email, because only then
  can a second try not store it twice. Without an email the lead is `uncertain` at once.
- A non-429 4xx (a mistyped URL's 404, 400, 401, 403, 405) was refused before the lead was read:
  certainly not taken, and every try would get the same, so the lead has `failed` at once.

`may_send_again` is the one rule for sending a row again later (a resumed run, a new run of
the same file, "re-send failed rows"): built on `DeliveryOutcome.safe_to_resend`, with the email
deciding for rows whose earlier send may have arrived.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from leadstream.protocol.response import Code, PostResult
from leadstream.words import OUTCOME_HELP

__all__ = [
    "AttemptKind",
    "Decision",
    "DeliveryError",
    "DeliveryOutcome",
    "RetryPolicy",
    "classify",
    "decide",
    "may_send_again",
    "parse_retry_after",
]


class DeliveryError(ValueError):
    """A retry policy or a decision request that makes no sense (a programming error)."""


class DeliveryOutcome(StrEnum):
    """What finally happened to one lead (one row of a file, one form post)."""

    DELIVERED = "delivered"
    REJECTED = "rejected"
    FAILED = "failed"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    UNCERTAIN = "uncertain"

    @property
    def description(self) -> str:
        """What the outcome means and what to do, for the person who sent the lead."""
        return OUTCOME_HELP[self.value]

    @property
    def safe_to_resend(self) -> bool:
        """Whether sending the lead again cannot store it twice, whatever the lead holds."""
        return self in (DeliveryOutcome.FAILED, DeliveryOutcome.INVALID)


class AttemptKind(StrEnum):
    """What one try tells us about whether the endpoint took the lead."""

    ANSWERED = "answered"  # an answer in the vendor's format: the endpoint said what it did
    NOT_TAKEN = "not_taken"  # certainly not taken: safe to try again
    MAYBE_TAKEN = "maybe_taken"  # may have been taken: trying again could store it twice
    REFUSED = "refused"  # a 4xx other than 429: not taken, and trying again changes nothing


# The server or a proxy in front of it refused the request before the application saw it.
_NOT_TAKEN_STATUSES = frozenset({429, 502, 503, 504})


def classify(result: PostResult) -> AttemptKind:
    """The kind of a try that got an HTTP answer, read by `parse_response`."""
    if result.outcome != "UNEXPECTED":
        return AttemptKind.ANSWERED
    if result.status in _NOT_TAKEN_STATUSES:
        return AttemptKind.NOT_TAKEN
    if 400 <= result.status < 500:
        # The server turned the request down before the application took the lead (a wrong
        # address, method or key at the web server); 429 alone asks us to come back.
        return AttemptKind.REFUSED
    return AttemptKind.MAYBE_TAKEN


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many tries a lead gets and how long to wait between them.

    The wait after try `n` is `base_delay_s * 2**(n-1)`, capped at `max_delay_s`, then shortened
    by a random part of up to `jitter` of itself, so that many leads failing together do not
    come back together. A server's `Retry-After` is a floor (capped at `max_retry_after_s`).
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    jitter: float = 0.5
    max_retry_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise DeliveryError(f"max_attempts is {self.max_attempts}; a lead needs 1 try or more.")
        if min(self.base_delay_s, self.max_delay_s, self.max_retry_after_s) < 0:
            raise DeliveryError("Retry delays cannot be negative.")
        if not 0 <= self.jitter <= 1:
            raise DeliveryError(f"jitter is {self.jitter}; use a fraction from 0 to 1.")

    def delay(
        self, attempt: int, rng: random.Random | None = None, retry_after: float | None = None
    ) -> float:
        """Seconds to wait after try number `attempt` (from 1). Without `rng`, no jitter."""
        exponent = min(max(attempt, 1) - 1, 32)
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0**exponent)
        if rng is not None and self.jitter:
            backoff *= 1 - self.jitter * rng.random()
        if retry_after is not None:
            return max(backoff, min(max(retry_after, 0.0), self.max_retry_after_s))
        return backoff


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds asked for by a `Retry-After` header (seconds or an HTTP date); `None` if unusable.

    `now` is the current time as a Unix timestamp, needed for the date form.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite: not a usable wait
        return None
    return max(seconds, 0.0)


@dataclass(frozen=True, slots=True)
class Decision:
    """Either finish the lead with `outcome`, or (when `outcome` is `None`) try again after
    `delay_s` seconds."""

    outcome: DeliveryOutcome | None
    delay_s: float = 0.0

    @property
    def retry(self) -> bool:
        return self.outcome is None


def decide(
    kind: AttemptKind,
    result: PostResult | None,
    *,
    has_email: bool,
    attempt: int,
    policy: RetryPolicy,
    had_unanswered_try: bool,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """What to do after try number `attempt` (from 1) of one lead.

    `result` is the answer read from this try (`None` when no HTTP answer came);
    `had_unanswered_try` says whether an *earlier* try of the same lead may have been taken;
    `retry_after` is the server's `Retry-After` in seconds, if it sent one.
    """
    if attempt < 1:
        raise DeliveryError(f"Try numbers start at 1, not {attempt}.")
    if kind is AttemptKind.ANSWERED:
        if result is None or result.outcome == "UNEXPECTED":
            raise DeliveryError("An answered try needs the vendor's answer to decide on.")
        if result.ok:
            return Decision(DeliveryOutcome.DELIVERED)
        if result.code is Code.DUPLICATE_EMAIL and had_unanswered_try:
            # The earlier unanswered try stored the lead; this one found it there.
            return Decision(DeliveryOutcome.DELIVERED)
        return Decision(DeliveryOutcome.REJECTED)

    if kind is AttemptKind.REFUSED:
        # The same request would be refused again; only an earlier silent try may have landed.
        return Decision(DeliveryOutcome.UNCERTAIN if had_unanswered_try else DeliveryOutcome.FAILED)
    may_have_arrived = had_unanswered_try or kind is AttemptKind.MAYBE_TAKEN
    if may_have_arrived and not has_email:
        # Nothing would stop the endpoint from storing a second copy.
        return Decision(DeliveryOutcome.UNCERTAIN)
    if attempt >= policy.max_attempts:
        return Decision(DeliveryOutcome.UNCERTAIN if may_have_arrived else DeliveryOutcome.FAILED)
    return Decision(None, policy.delay(attempt, rng, retry_after))


# Row states on the way (`pending`, `in_flight`) next to the final `DeliveryOutcome`s.
_NEVER_SENT = "pending"
_ON_THE_WAY = "in_flight"


def may_send_again(state: str, *, has_email: bool) -> bool:
    """Whether a lead left in `state` (a row state or outcome) may be sent again without risk
    of a second copy in PhoneBurner.

    Never sent (`pending`), or certainly not taken (`safe_to_resend`: failed, invalid), or
    refused by the endpoint (`rejected`: it stored nothing): yes. Maybe arrived (`in_flight`,
    `uncertain`): only with an email, since the endpoint then refuses a second copy as
    `DUPLICATE EMAIL`, which confirms the first. Delivered or skipped as a duplicate: no.
    """
    if state == _NEVER_SENT:
        return True
    if state == _ON_THE_WAY:
        return has_email
    try:
        outcome = DeliveryOutcome(state)
    except ValueError:
        raise DeliveryError(f"{state!r} is not a row state or an outcome.") from None
    if outcome.safe_to_resend or outcome is DeliveryOutcome.REJECTED:
        return True
    if outcome is DeliveryOutcome.UNCERTAIN:
        return has_email
    return False
