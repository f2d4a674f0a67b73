"""Deliveries as the client reports them, for tests that fill a journal by hand (no tests here)."""

from __future__ import annotations

import time

from leadstream.deliver.client import Attempt, Delivery
from leadstream.deliver.outcomes import AttemptKind, DeliveryOutcome


def refused() -> Delivery:
    """What the client reports when the server could not be reached on any try."""
    attempt = Attempt(
        number=1,
        started_at=time.time(),
        duration_s=0.01,
        status=None,
        masked_url="http://127.0.0.1:9/api/vendor/put_contact?key=****",
        body="",
        error="connection refused",
        kind=AttemptKind.NOT_TAKEN,
        code="NO CONNECTION",
    )
    return Delivery(DeliveryOutcome.FAILED, None, (attempt,))
