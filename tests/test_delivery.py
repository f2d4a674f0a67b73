"""The delivery rules: classification of answers, retry decisions, backoff, Retry-After."""

from __future__ import annotations

import itertools
import random
from email.utils import formatdate
from typing import Any

import pytest

from leadstream.deliver.outcomes import (
    AttemptKind,
    Decision,
    DeliveryError,
    DeliveryOutcome,
    RetryPolicy,
    classify,
    decide,
    may_send_again,
    parse_retry_after,
)
from leadstream.protocol.response import PostResult, parse_response

ANSWERED = AttemptKind.ANSWERED
NOT_TAKEN = AttemptKind.NOT_TAKEN
MAYBE = AttemptKind.MAYBE_TAKEN
REFUSED = AttemptKind.REFUSED

DELIVERED = DeliveryOutcome.DELIVERED
REJECTED = DeliveryOutcome.REJECTED
FAILED = DeliveryOutcome.FAILED
UNCERTAIN = DeliveryOutcome.UNCERTAIN
RETRY = None

SUCCESS = parse_response("SUCCESS|https://www.phoneburner.com/ms/lead_redirect?upc=AB12CD34")
DUPLICATE = parse_response("ERROR|DUPLICATE EMAIL")
DUPLICATE_FAILURE = parse_response("FAILURE|DUPLICATE EMAIL")
UNKNOWN_USER = parse_response("FAILURE|UNKNOWN USER")
INVALID_EMAIL = parse_response("ERROR|INVALID EMAIL")
NEW_CODE = parse_response("ERROR|SOMETHING NEW")
HTTP_429 = parse_response("", 429)
HTTP_503 = parse_response("<html><title>Service Unavailable</title></html>", 503)
HTTP_500 = parse_response("Internal Server Error", 500)
HTML_200 = parse_response("<html><title>Welcome</title></html>", 200)
HTTP_404 = parse_response("<html><title>Not Found</title></html>", 404)

# Three tries, no jitter: the retry delay after try n is 1, 2, … seconds.
POLICY = RetryPolicy(max_attempts=3, base_delay_s=1.0, max_delay_s=8.0, jitter=0.0)


CLASSIFY = [
    ("SUCCESS|https://x/ms/lead_redirect?upc=AAAA1111", 200, ANSWERED),
    ("ERROR|UNKNOWN USER", 200, ANSWERED),
    ("FAILURE|CM_ID IS INVALID", 200, ANSWERED),
    ("ERROR|A CODE NOBODY KNOWS", 200, ANSWERED),
    ("", 429, NOT_TAKEN),
    ("<html>Bad Gateway</html>", 502, NOT_TAKEN),
    ("<html>Service Unavailable</html>", 503, NOT_TAKEN),
    ("", 504, NOT_TAKEN),
    ("Internal Server Error", 500, MAYBE),
    ("SUCCESS|https://x/ms/lead_redirect?upc=AAAA1111", 500, MAYBE),
    ("<html><title>Hello</title></html>", 200, MAYBE),
    ("", 200, MAYBE),
    ("<html>Not Found</html>", 404, REFUSED),
    ("Bad Request", 400, REFUSED),
    ("", 401, REFUSED),
    ("Forbidden", 403, REFUSED),
    ("Method Not Allowed", 405, REFUSED),
    ("SUCCESS|https://x/ms/lead_redirect?upc=AAAA1111", 404, REFUSED),
    ("", 499, REFUSED),
    ("", 399, MAYBE),
]


@pytest.mark.parametrize(("body", "status", "kind"), CLASSIFY)
def test_classify(body: str, status: int, kind: AttemptKind) -> None:
    assert classify(parse_response(body, status)) is kind


# Tries that got no vendor answer: every kind × email or not × try number × an earlier try
# that may have been taken. `RETRY` means "try again".
UNANSWERED_DECISIONS = [
    # kind, result, has_email, attempt, had_unanswered_try, expected
    (NOT_TAKEN, None, True, 1, False, RETRY),
    (NOT_TAKEN, None, True, 2, False, RETRY),
    (NOT_TAKEN, None, True, 3, False, FAILED),
    (NOT_TAKEN, None, True, 2, True, RETRY),
    (NOT_TAKEN, None, True, 3, True, UNCERTAIN),
    (NOT_TAKEN, None, False, 1, False, RETRY),
    (NOT_TAKEN, None, False, 2, False, RETRY),
    (NOT_TAKEN, None, False, 3, False, FAILED),
    (NOT_TAKEN, None, False, 2, True, UNCERTAIN),
    (NOT_TAKEN, None, False, 3, True, UNCERTAIN),
    (NOT_TAKEN, HTTP_429, True, 1, False, RETRY),
    (NOT_TAKEN, HTTP_503, False, 2, False, RETRY),
    (NOT_TAKEN, HTTP_503, False, 3, False, FAILED),
    (NOT_TAKEN, HTTP_503, True, 3, True, UNCERTAIN),
    (MAYBE, None, True, 1, False, RETRY),
    (MAYBE, None, True, 2, False, RETRY),
    (MAYBE, None, True, 2, True, RETRY),
    (MAYBE, None, True, 3, False, UNCERTAIN),
    (MAYBE, None, True, 3, True, UNCERTAIN),
    (MAYBE, None, False, 1, False, UNCERTAIN),
    (MAYBE, None, False, 2, False, UNCERTAIN),
    (MAYBE, None, False, 3, False, UNCERTAIN),
    (MAYBE, None, False, 2, True, UNCERTAIN),
    (MAYBE, HTTP_500, True, 1, False, RETRY),
    (MAYBE, HTTP_500, False, 1, False, UNCERTAIN),
    (MAYBE, HTML_200, True, 1, False, RETRY),
    (MAYBE, HTML_200, False, 1, False, UNCERTAIN),
    (MAYBE, HTML_200, True, 3, False, UNCERTAIN),
    # A non-429 4xx: never tried again, the lead was not taken...
    (REFUSED, HTTP_404, True, 1, False, FAILED),
    (REFUSED, HTTP_404, False, 1, False, FAILED),
    (REFUSED, HTTP_404, True, 2, False, FAILED),
    # ...unless an earlier silent try may have landed it.
    (REFUSED, HTTP_404, True, 2, True, UNCERTAIN),
    (REFUSED, HTTP_404, False, 2, True, UNCERTAIN),
]


@pytest.mark.parametrize(
    ("kind", "result", "has_email", "attempt", "unanswered", "expected"), UNANSWERED_DECISIONS
)
def test_decide_without_vendor_answer(
    kind: AttemptKind,
    result: PostResult | None,
    has_email: bool,
    attempt: int,
    unanswered: bool,
    expected: DeliveryOutcome | None,
) -> None:
    decision = decide(
        kind,
        result,
        has_email=has_email,
        attempt=attempt,
        policy=POLICY,
        had_unanswered_try=unanswered,
    )
    assert decision.outcome is expected
    assert decision.retry is (expected is None)
    if decision.retry:
        assert decision.delay_s == POLICY.delay(attempt)
    else:
        assert decision.delay_s == 0


# Vendor answers are final whatever the email or the try number; only DUPLICATE EMAIL after a
# try that may have been taken changes meaning.
ANSWERED_DECISIONS = [
    # result, had_unanswered_try, expected
    (SUCCESS, False, DELIVERED),
    (SUCCESS, True, DELIVERED),
    (DUPLICATE, False, REJECTED),
    (DUPLICATE, True, DELIVERED),
    (DUPLICATE_FAILURE, False, REJECTED),
    (DUPLICATE_FAILURE, True, DELIVERED),
    (UNKNOWN_USER, False, REJECTED),
    (UNKNOWN_USER, True, REJECTED),
    (INVALID_EMAIL, True, REJECTED),
    (NEW_CODE, False, REJECTED),
    (NEW_CODE, True, REJECTED),
]


@pytest.mark.parametrize(
    ("result", "unanswered", "expected", "has_email", "attempt"),
    [
        (*case, has_email, attempt)
        for case, has_email, attempt in itertools.product(ANSWERED_DECISIONS, [True, False], [1, 3])
    ],
)
def test_decide_with_vendor_answer(
    result: PostResult | None,
    unanswered: bool,
    expected: DeliveryOutcome,
    has_email: bool,
    attempt: int,
) -> None:
    decision = decide(
        ANSWERED,
        result,
        has_email=has_email,
        attempt=attempt,
        policy=POLICY,
        had_unanswered_try=unanswered,
    )
    assert decision == Decision(expected)
    assert not decision.retry


def test_decide_passes_retry_after_and_jitter_to_the_policy() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=1.0, jitter=0.5)
    decision = decide(
        NOT_TAKEN,
        HTTP_429,
        has_email=False,
        attempt=1,
        policy=policy,
        had_unanswered_try=False,
        retry_after=4.0,
        rng=random.Random(1),
    )
    assert decision.retry
    assert decision.delay_s == 4.0


@pytest.mark.parametrize(
    ("kind", "result", "attempt"),
    [
        (ANSWERED, None, 1),
        (ANSWERED, HTML_200, 1),
        (NOT_TAKEN, None, 0),
    ],
)
def test_decide_refuses_nonsense(
    kind: AttemptKind, result: PostResult | None, attempt: int
) -> None:
    with pytest.raises(DeliveryError):
        decide(
            kind,
            result,
            has_email=True,
            attempt=attempt,
            policy=POLICY,
            had_unanswered_try=False,
        )


class FixedRandom(random.Random):
    """A random source that always draws the same number."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


BACKOFF = [
    # attempt, expected delay (base 0.5, cap 8, no jitter)
    (1, 0.5),
    (2, 1.0),
    (3, 2.0),
    (4, 4.0),
    (5, 8.0),
    (6, 8.0),
    (1000, 8.0),
]


@pytest.mark.parametrize(("attempt", "expected"), BACKOFF)
def test_backoff_doubles_up_to_the_cap(attempt: int, expected: float) -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=8.0, jitter=0.0)
    assert policy.delay(attempt, FixedRandom(0.9)) == expected
    assert policy.delay(attempt) == expected


JITTER = [
    # jitter, drawn number, attempt, expected
    (0.5, 0.0, 3, 2.0),
    (0.5, 0.5, 3, 1.5),
    (0.5, 0.999, 3, 2.0 * (1 - 0.5 * 0.999)),
    (1.0, 0.25, 2, 0.75),
    (0.2, 0.5, 5, 8.0 * 0.9),
]


@pytest.mark.parametrize(("jitter", "drawn", "attempt", "expected"), JITTER)
def test_jitter_shortens_the_wait_by_a_random_part(
    jitter: float, drawn: float, attempt: int, expected: float
) -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=8.0, jitter=jitter)
    assert policy.delay(attempt, FixedRandom(drawn)) == pytest.approx(expected)


def test_jitter_spreads_real_random_waits_within_bounds() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0, jitter=0.5)
    rng = random.Random(7)
    waits = [policy.delay(2, rng) for _ in range(200)]
    assert all(1.0 <= w <= 2.0 for w in waits)
    assert len({round(w, 6) for w in waits}) > 100


RETRY_AFTER = [
    # attempt, retry_after, expected (base 0.5, cap 8, Retry-After cap 60, no jitter)
    (1, 3.0, 3.0),  # the server's wait is longer than the backoff: honour it
    (4, 1.0, 4.0),  # the backoff is longer: keep it
    (1, 0.0, 0.5),
    (1, -5.0, 0.5),
    (1, 1000.0, 60.0),  # a runaway Retry-After is capped
    (1, None, 0.5),
]


@pytest.mark.parametrize(("attempt", "retry_after", "expected"), RETRY_AFTER)
def test_retry_after_is_a_floor(attempt: int, retry_after: float | None, expected: float) -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=8.0, jitter=0.0, max_retry_after_s=60.0)
    assert policy.delay(attempt, FixedRandom(0.5), retry_after) == expected


BAD_POLICIES = [
    {"max_attempts": 0},
    {"base_delay_s": -1.0},
    {"max_delay_s": -0.1},
    {"jitter": 1.5},
    {"jitter": -0.1},
    {"max_retry_after_s": -1.0},
]


@pytest.mark.parametrize("kwargs", BAD_POLICIES)
def test_policy_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DeliveryError):
        RetryPolicy(**kwargs)


NOW = 1_700_000_000.0

PARSE_RETRY_AFTER = [
    ("1", 1.0),
    (" 2.5 ", 2.5),
    ("0", 0.0),
    ("-3", 0.0),
    (formatdate(NOW + 10, usegmt=True), 10.0),
    (formatdate(NOW - 100, usegmt=True), 0.0),
    ("soon", None),
    ("", None),
    ("nan", None),
    ("inf", None),
    (None, None),
]


@pytest.mark.parametrize(("header", "expected"), PARSE_RETRY_AFTER)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


OUTCOME_VALUES = [
    (DeliveryOutcome.DELIVERED, "delivered"),
    (DeliveryOutcome.REJECTED, "rejected"),
    (DeliveryOutcome.FAILED, "failed"),
    (DeliveryOutcome.INVALID, "invalid"),
    (DeliveryOutcome.DUPLICATE, "duplicate"),
    (DeliveryOutcome.UNCERTAIN, "uncertain"),
]


@pytest.mark.parametrize(("outcome", "value"), OUTCOME_VALUES)
def test_outcomes_are_plain_strings(outcome: DeliveryOutcome, value: str) -> None:
    assert outcome == value
    assert DeliveryOutcome(value) is outcome
    assert f"{outcome}" == value


def test_every_outcome_has_its_own_description() -> None:
    descriptions = [outcome.description for outcome in DeliveryOutcome]
    assert all(len(d) > 20 and d.endswith(".") for d in descriptions)
    assert len(set(descriptions)) == len(descriptions)
    assert "safe to send it again" in DeliveryOutcome.FAILED.description
    assert "may or may not" in DeliveryOutcome.UNCERTAIN.description


def test_only_failed_and_invalid_are_always_safe_to_resend() -> None:
    assert {o for o in DeliveryOutcome if o.safe_to_resend} == {FAILED, DeliveryOutcome.INVALID}


# state, has_email, may it be sent again
RESEND = [
    ("pending", False, True),
    ("pending", True, True),
    ("failed", False, True),
    ("failed", True, True),
    ("invalid", False, True),
    ("rejected", False, True),
    ("rejected", True, True),
    ("in_flight", True, True),
    ("in_flight", False, False),
    ("uncertain", True, True),
    ("uncertain", False, False),
    ("delivered", True, False),
    ("delivered", False, False),
    ("duplicate", True, False),
    ("duplicate", False, False),
]


@pytest.mark.parametrize(("state", "has_email", "allowed"), RESEND)
def test_may_send_again(state: str, has_email: bool, allowed: bool) -> None:
    assert may_send_again(state, has_email=has_email) is allowed


@pytest.mark.parametrize("outcome", list(DeliveryOutcome))
def test_may_send_again_is_built_on_safe_to_resend(outcome: DeliveryOutcome) -> None:
    # Safe whatever the lead holds means safe without an email too.
    if outcome.safe_to_resend:
        assert may_send_again(outcome, has_email=False)
        assert may_send_again(outcome, has_email=True)


def test_may_send_again_refuses_unknown_states() -> None:
    with pytest.raises(DeliveryError, match="'lost'"):
        may_send_again("lost", has_email=True)
