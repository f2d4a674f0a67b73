"""Run summaries read from a real SQLite journal: skipped rows counted by reason, and the
sending time of a run across a pause (the "so far" timer must not start again on Resume); and
the same on the Runs page through AppTest."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadstream.deliver.client import Attempt, AttemptKind, Delivery
from leadstream.deliver.journal import JOURNAL_FILENAME, Journal, NewRow
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.run_summary import (
    PAUSE_GAP_S,
    earlier_sending_seconds,
    sending_seconds,
    skipped_by_reason,
)
from leadstream.deliver.target import DEMO_CM_ID, DEMO_USER_ID, Target
from leadstream.protocol.lead import Lead

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TARGET = Target.sandbox("http://127.0.0.1:9/api/vendor/put_contact")


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _delivered() -> Delivery:
    attempt = Attempt(
        number=1,
        started_at=time.time(),
        duration_s=0.01,
        status=200,
        masked_url="http://127.0.0.1:9/api/vendor/put_contact?key=****",
        body="SUCCESS",
        error="",
        kind=AttemptKind.ANSWERED,
        code="SUCCESS",
    )
    return Delivery(DeliveryOutcome.DELIVERED, None, (attempt,))


@pytest.mark.parametrize(
    ("finishes", "expected"),
    [
        ([], 0.0),
        ([at(2), at(4), at(10)], 10.0),
        # a quiet gap longer than PAUSE_GAP_S is a pause: not sending time
        ([at(2), at(4), at(4 + PAUSE_GAP_S + 1), at(4 + PAUSE_GAP_S + 3)], 6.0),
        # the run made long before its first row was sent (the person confirmed later)
        ([at(600), at(605)], 5.0),
        ([at(2), at(2 + PAUSE_GAP_S)], 2.0 + PAUSE_GAP_S),
    ],
)
def test_earlier_sending_seconds_counts_gaps_up_to_a_pause(
    finishes: list[str], expected: float
) -> None:
    assert earlier_sending_seconds(at(0), finishes) == pytest.approx(expected)


def make_run(path: Path) -> int:
    """A finished run: 1 delivered now, 3 delivered before, 2 repeated in the file, 1 held by
    another desk, 1 invalid."""
    lead = Lead(firstname="New", email="new@example.com", user_id=DEMO_USER_ID, cm_id=DEMO_CM_ID)
    before = "A lead with this email was already delivered to this LeadStream (History shows …)."
    rows = [
        NewRow(0, 2, lead, {"Email": lead.email}),
        *(
            NewRow(i, i + 2, Lead(email=f"old{i}@example.com"), {}, "duplicate", before)
            for i in (1, 2, 3)
        ),
        NewRow(4, 6, Lead(email="new@example.com"), {}, "duplicate", "Same email as row 2."),
        NewRow(5, 7, Lead(firstname="A"), {}, "duplicate", "Identical to row 3."),
        NewRow(6, 8, Lead(email="z@example.com"), {}, "duplicate", "Being sent by ann since 9:00."),
        NewRow(7, 9, Lead(email="x"), {}, "invalid", "bad email"),
    ]
    with Journal(path) as journal:
        run_id = journal.create_run(target=TARGET, source_name="again.csv", rows=rows)
        journal.begin_run(run_id)
        for row in journal.claim_next_rows(run_id, 10):
            journal.finish_row(run_id, row.row, _delivered())
        journal.set_run_status(run_id, "finished")
    return run_id


def test_skipped_rows_are_counted_by_reason(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILENAME
    run_id = make_run(path)
    with Journal(path) as journal:
        assert skipped_by_reason(journal, run_id) == {
            "delivered before": 3,
            "repeated in the file": 2,
            "being sent elsewhere": 1,
        }


def paused_and_resumed_run(path: Path) -> int:
    """Ten rows: five sent in the first 10 s, a 10-minute pause, five sent in 8 s after Resume."""
    lead_rows = [NewRow(i, i + 2, Lead(email=f"p{i}@example.com"), {}) for i in range(10)]
    with Journal(path) as journal:
        run_id = journal.create_run(target=TARGET, source_name="paused.csv", rows=lead_rows)
        journal.begin_run(run_id)
        for row in journal.claim_next_rows(run_id, 10):
            journal.finish_row(run_id, row.row, _delivered())
        journal.set_run_status(run_id, "finished")
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE runs SET created = ?, started_at = ?, finished_at = ? WHERE id = ?",
            (at(0), at(600), at(609), run_id),
        )
        for number, second in enumerate([2, 4, 6, 8, 10, 602, 604, 606, 607, 608]):
            db.execute(
                "UPDATE run_rows SET finished_at = ? WHERE run_id = ? AND row = ?",
                (at(second), run_id, number),
            )
    return run_id


def test_sending_time_covers_every_span_across_a_pause(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILENAME
    run_id = paused_and_resumed_run(path)
    with Journal(path) as journal:
        info = journal.run(run_id)
        # 10 s before the pause, 8 s after Resume; not the 10 minutes paused between them
        assert sending_seconds(journal, info, now=at(700)) == pytest.approx(18.0)


def open_run(home: Path, run_id: int, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LEADSTREAM_HOME", str(home))
    monkeypatch.delenv("LEADSTREAM_KEY", raising=False)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    app.session_state["keep.conn.target"] = "sandbox"
    app.query_params["run"] = str(run_id)
    app.switch_page("pages/runs.py").run()
    assert not app.exception, app.exception
    return app


def test_runs_page_says_what_was_skipped_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = make_run(tmp_path / JOURNAL_FILENAME)
    app = open_run(tmp_path, run_id, monkeypatch)
    warnings = "\n".join(str(w.value) for w in app.warning)
    assert (
        f"Run #{run_id} finished: 1 delivered, 3 skipped as already delivered, 2 skipped as "
        "repeated in the file, 1 skipped as another desk is sending them, 1 not sent as they "
        "failed the checks (8 rows)."
    ) in warnings


def test_runs_page_timer_covers_the_run_before_its_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = paused_and_resumed_run(tmp_path / JOURNAL_FILENAME)
    app = open_run(tmp_path, run_id, monkeypatch)
    captions = [p.proto.text for p in app.get("progress")]
    assert any(caption.endswith("· 18 s so far") for caption in captions), captions
    assert f"Run #{run_id} finished: 10 delivered (10 rows)." in [s.value for s in app.success]
