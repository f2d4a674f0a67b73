"""What a bulk run came to, read from the journal: why its skipped rows were skipped, and how
long it has been sending in all, across pauses.

The journal keeps, per run, only the start of its latest sending span (`runs.started_at`, set
again by every Resume) and, per row, when it finished (`run_rows.finished_at`). The sending
time is therefore:

- the latest span exactly: from its start to now while it is sent, else to its last row;
- plus the earlier spans, rebuilt from the rows sent before the latest start: the gaps between
  one row finishing and the next, each counted unless it is longer than `PAUSE_GAP_S` (with
  nothing finishing for that long the run was paused, not sending). The run's creation opens
  the first span. A pause shorter than `PAUSE_GAP_S` counts as sending time; a server that
  answers nothing for longer is taken as a pause: either way the error is at most one gap.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from leadstream.deliver.journal import Journal, RunInfo

__all__ = [
    "PAUSE_GAP_S",
    "SKIP_REASONS",
    "earlier_sending_seconds",
    "sending_seconds",
    "skipped_by_reason",
]

PAUSE_GAP_S = 30.0

# Why a row was skipped, from the words the planner and the journal's claims give it (see
# prepare.plan.plan_rows and Journal's team claims). Ordered as a summary names them.
SKIP_REASONS = ("delivered before", "repeated in the file", "being sent elsewhere")
_REASON_SQL = (
    "CASE WHEN help LIKE 'Same email as row%' OR help LIKE 'Identical to row%'"
    " THEN 'repeated in the file'"
    " WHEN help LIKE 'Being sent by%' THEN 'being sent elsewhere'"
    " ELSE 'delivered before' END"
)


def skipped_by_reason(journal: Journal, run_id: int) -> dict[str, int]:
    """The run's skipped rows (outcome `duplicate`) counted by reason, every reason present:
    `{"delivered before": 278, "repeated in the file": 3, "being sent elsewhere": 0}`."""
    counts = dict.fromkeys(SKIP_REASONS, 0)
    for reason, count in journal.read(
        f"SELECT {_REASON_SQL} AS reason, COUNT(*) FROM run_rows"
        " WHERE run_id = ? AND state = 'duplicate' GROUP BY reason",
        (run_id,),
    ):
        counts[str(reason)] = int(count)
    return counts


def _moment(stored: str) -> datetime:
    return datetime.fromisoformat(stored)


def _seconds(start: str, end: str) -> float:
    if not start or not end:
        return 0.0
    return max((_moment(end) - _moment(start)).total_seconds(), 0.0)


def earlier_sending_seconds(created: str, finishes: Sequence[str]) -> float:
    """Sending time before the latest span: the gaps from `created` through the rows' finish
    times (in order), each gap no longer than `PAUSE_GAP_S`."""
    total = 0.0
    previous = created
    for finished in finishes:
        gap = _seconds(previous, finished)
        if gap <= PAUSE_GAP_S:
            total += gap
        previous = finished
    return total


@functools.lru_cache(maxsize=64)
def _earlier(journal: Journal, run_id: int, created: str, started_at: str) -> float:
    # Rows finished before the latest start never change again: read once per span, not on
    # every redraw of the progress (a 100,000-row run redraws every second).
    rows = journal.read(
        "SELECT finished_at FROM run_rows WHERE run_id = ? AND attempts > 0"
        " AND finished_at <> '' AND finished_at < ? ORDER BY finished_at",
        (run_id, started_at),
    )
    return earlier_sending_seconds(created, [str(row[0]) for row in rows])


def sending_seconds(journal: Journal, info: RunInfo, *, now: str) -> float:
    """How long the run has been sending in all, across pauses (see the module's rule); `now`
    is a journal time (UTC ISO 8601) and ends the latest span while the run is sent."""
    if not info.started_at:
        return 0.0
    end = now if info.status == "running" else (info.last_finished_at or info.finished_at)
    latest = _seconds(info.started_at, end)
    return latest + _earlier(journal, info.id, info.created, info.started_at)
