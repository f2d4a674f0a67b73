"""Former home of bulk planning and sending, now split up; kept only while importers switch.

Planning is `leadstream.prepare.plan`, the runner `leadstream.deliver.runner`, runs as a whole
`leadstream.deliver.engine` (`engine_for(journal)`), results `leadstream.deliver.reports`.
Import from those; this module will go.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadstream.deliver.engine import EngineError, engine_for, plan_with
from leadstream.deliver.journal import Journal
from leadstream.deliver.reports import RESULT_COLUMNS, results_csv, results_frame
from leadstream.deliver.runner import (
    ACCOUNT_WIDE_CODES,
    Progress,
    RunController,
    progress_from_info,
    run_progress,
    start_run,
)
from leadstream.prepare.plan import PlannedRow, Seen, plan_summary

__all__ = [
    "ACCOUNT_WIDE_CODES",
    "RESULT_COLUMNS",
    "BulkError",
    "PlannedRow",
    "Progress",
    "RunController",
    "Seen",
    "create_retry_run",
    "plan_rows",
    "plan_summary",
    "progress_from_info",
    "results_csv",
    "results_frame",
    "run_progress",
    "start_run",
]

BulkError = EngineError


def plan_rows(
    prepared_rows: Sequence[object],
    *,
    delivered: Seen,
    uncertain: Seen = frozenset(),
    include_duplicates: bool = False,
) -> list[PlannedRow]:
    """`engine.plan_with`, under its old name."""
    return plan_with(prepared_rows, delivered, uncertain, include_duplicates)  # type: ignore[arg-type]


def create_retry_run(journal: Journal, run_id: int, states: Sequence[str] = ("failed",)) -> int:
    """`engine_for(journal).retry(run_id, states)`, under its old name."""
    return engine_for(journal).retry(run_id, states)
