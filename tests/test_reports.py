"""Reports from a real journal file: History and a run's results a page at a time, exact counts,
filter choices from SQL, and CSV exports streamed from the journal at 100,000 rows."""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadstream.deliver import reports
from leadstream.deliver.client import Delivery
from leadstream.deliver.journal import HistoryFilter, Journal, JournalError, NewRow
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead
from leadstream.protocol.response import parse_response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from fill_journal import OUTCOME_CYCLE, fill_history, fill_run, outcome_of, post_time

POSTS = 6_000  # above the 5,000 the page used to stop at
RUN_ROWS = 1_234
SOURCES = ("bulk", "cli", "form", "legend test")
LIVE_URL = Target.live().name


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A journal with `POSTS` posts and a finished run of `RUN_ROWS` rows (read-only here)."""
    path = tmp_path_factory.mktemp("reports") / "journal.sqlite3"
    fill_history(path, POSTS)
    return path, fill_run(path, RUN_ROWS)


@pytest.fixture
def journal(filled: tuple[Path, int]) -> Journal:
    return Journal(filled[0])


def _csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# -- History -------------------------------------------------------------------------------------


def _expected(index_ok: Callable[[int], bool]) -> int:
    return sum(1 for i in range(POSTS) if index_ok(i))


HISTORY_FILTERS = [
    (HistoryFilter(), lambda i: True),
    (HistoryFilter(outcomes=("rejected",)), lambda i: outcome_of(i) == "rejected"),
    (
        HistoryFilter(outcomes=("failed", "uncertain")),
        lambda i: outcome_of(i) in ("failed", "uncertain"),
    ),
    (HistoryFilter(sources=("cli",)), lambda i: i % 5 == 2),
    (HistoryFilter(targets=(LIVE_URL,)), lambda i: i % 7 == 0),
    (
        HistoryFilter(targets=("sandbox",), outcomes=("delivered",)),
        lambda i: i % 7 != 0 and outcome_of(i) == "delivered",
    ),
    (HistoryFilter(search="lead4999@"), lambda i: i == 4999),
    (HistoryFilter(search="LEAD12"), lambda i: str(i).startswith("12")),
    (HistoryFilter(search="100%"), lambda i: False),  # `%` is a character, not a wildcard
    (
        HistoryFilter(since=datetime(2026, 11, 1, 1, 0, tzinfo=UTC)),
        lambda i: post_time(i) >= datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
    ),
    (HistoryFilter(run_id=99), lambda i: False),
]


@pytest.mark.parametrize(("wanted", "matches"), HISTORY_FILTERS)
def test_history_count_and_outcomes_are_exact(
    journal: Journal, wanted: HistoryFilter, matches: Callable[[int], bool]
) -> None:
    expected = _expected(matches)
    assert journal.history_count(wanted) == expected
    assert sum(journal.history_outcome_counts(wanted).values()) == expected


def test_history_outcome_counts_match_the_data(journal: Journal) -> None:
    expected = Counter(outcome_of(i) for i in range(POSTS))
    assert journal.history_outcome_counts() == dict(expected)


def test_history_pages_cover_every_post_once_newest_first(journal: Journal) -> None:
    wanted = HistoryFilter(outcomes=("rejected", "invalid"))
    seen: list[int] = []
    offset = 0
    while page := journal.history_page(wanted, offset, 500):
        assert len(page) <= 500
        seen.extend(entry.id for entry in page)
        offset += len(page)
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == journal.history_count(wanted)


def test_history_choices_come_from_every_post(journal: Journal) -> None:
    assert journal.history_sources() == sorted(set(SOURCES))
    assert journal.history_targets() == [LIVE_URL, "sandbox"]


@pytest.mark.parametrize(("wanted", "matches"), HISTORY_FILTERS[:6])
def test_history_csv_holds_every_match(
    journal: Journal, wanted: HistoryFilter, matches: Callable[[int], bool]
) -> None:
    rows = _csv(reports.history_csv_bytes(journal, wanted))
    assert len(rows) == _expected(matches)
    assert [r["outcome"] for r in rows[:3]] == [e.outcome for e in journal.history_page(wanted)][:3]


def test_history_csv_matches_the_in_memory_export(journal: Journal) -> None:
    from leadstream.deliver.journal import history_csv

    wanted = HistoryFilter(search="lead59")
    assert reports.history_csv_bytes(journal, wanted) == history_csv(
        journal.history_page(wanted, 0, 1000)
    )


def test_history_row_is_the_spreadsheet_line(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        target = Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact")
        run_id = journal.create_run(
            target=target,
            source_name="f.csv",
            rows=[NewRow(7, 9, Lead(email="a@example.com", cm_id="1"), {"Email": "=a"})],
        )
        delivery = Delivery(DeliveryOutcome.DELIVERED, parse_response("SUCCESS|"), ())
        journal.finish_row(run_id, 7, delivery)
        [entry] = journal.history_page(HistoryFilter(run_id=run_id))
        assert entry.row == 9
        [row] = _csv(reports.history_csv_bytes(journal, HistoryFilter(run_id=run_id)))
        assert (row["run"], row["row"]) == (str(run_id), "9")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM posts",
        "SELECT 1; DELETE FROM posts",
        "UPDATE posts SET name = ''",
        "WITH x AS (SELECT 1) DELETE FROM posts",
    ],
)
def test_journal_read_refuses_anything_but_one_select(journal: Journal, sql: str) -> None:
    with pytest.raises(JournalError, match="one SELECT"):
        journal.read(sql)


# -- a run's results -----------------------------------------------------------------------------


def test_run_counts_are_exact(journal: Journal, filled: tuple[Path, int]) -> None:
    run_id = filled[1]
    expected = Counter(outcome_of(i) for i in range(RUN_ROWS))
    assert reports.run_state_counts(journal, run_id) == dict(expected)
    for state, n in expected.items():
        assert reports.run_rows_count(journal, run_id, [state]) == n
    assert reports.run_rows_count(journal, run_id) == RUN_ROWS


@pytest.mark.parametrize(
    ("labels", "states"),
    [
        ([], ()),
        (["all"], ("",)),
        (["delivered"], ("delivered",)),
        (["not delivered"], ("failed", "in_flight", "pending", "rejected")),
        (["not sent"], ("pending",)),
        (["in flight", "failed"], ("failed", "in_flight")),
        (["uncertain"], ("",)),  # none here: it must not widen into "everything"
    ],
)
def test_states_for(labels: list[str], states: tuple[str, ...]) -> None:
    counts = {"delivered": 5, "rejected": 1, "failed": 2, "pending": 3, "in_flight": 1}
    assert reports.states_for(labels, counts) == states


@pytest.mark.parametrize(
    ("states", "offset", "limit"),
    [(None, 0, 100), (None, 1200, 100), (("rejected",), 50, 30), (("failed", "uncertain"), 0, 5)],
)
def test_run_rows_page(
    journal: Journal, filled: tuple[Path, int], states: tuple[str, ...] | None, offset: int,
    limit: int,
) -> None:  # fmt: skip
    wanted = [i for i in range(RUN_ROWS) if states is None or outcome_of(i) in states]
    page = reports.run_rows_page(journal, filled[1], states, offset, limit)
    assert [r.row for r in page] == [i + 2 for i in wanted[offset : offset + limit]]
    assert all(r.outcome == outcome_of(r.row - 2) for r in page)


def test_results_csv_columns_and_cells(journal: Journal, filled: tuple[Path, int]) -> None:
    rows = _csv(reports.results_csv(journal, filled[1]))
    assert list(rows[0]) == [
        "First name", "Last name", "Email", "Phone", "Notes",
        "row", "outcome", "code", "detail", "lead_url", "attempts",
    ]  # fmt: skip
    assert len(rows) == RUN_ROWS
    assert [r["row"] for r in rows[:3]] == ["2", "3", "4"]  # the spreadsheet lines
    assert rows[0]["Notes"] == "'=1+2"  # a formula is neutralised
    assert rows[0]["lead_url"].startswith("https://www.phoneburner.com/")
    assert Counter(r["outcome"] for r in rows) == Counter(outcome_of(i) for i in range(RUN_ROWS))


@pytest.mark.parametrize("states", [("rejected",), ("delivered", "invalid"), ("pending",)])
def test_results_csv_keeps_the_filter(
    journal: Journal, filled: tuple[Path, int], states: tuple[str, ...]
) -> None:
    rows = _csv(reports.results_csv(journal, filled[1], states))
    assert len(rows) == reports.run_rows_count(journal, filled[1], states)
    assert {r["outcome"] for r in rows} <= set(states)


def test_results_of_rows_not_yet_sent_and_file_columns_named_like_ours(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact"),
            source_name="f.csv",
            rows=[
                NewRow(0, 2, Lead(email="a@example.com"), {"outcome": "mine", "A": "1"}),
                NewRow(1, 3, Lead(email="b@example.com"), {"B": "2"}),
            ],
        )
        rows = _csv(reports.results_csv(journal, run_id))
        frame = reports.results_frame(journal, run_id)
    assert list(rows[0])[:3] == ["outcome (file)", "A", "B"]
    assert [(r["outcome (file)"], r["B"], r["outcome"]) for r in rows] == [
        ("mine", "", "not sent"),
        ("", "2", "not sent"),
    ]
    assert list(frame.columns) == list(rows[0])


class _Sink(io.RawIOBase):
    """Counts what is written, keeping none of it."""

    def __init__(self) -> None:
        self.size = 0
        self.writes: list[int] = []

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        size = len(data)  # type: ignore[arg-type]
        self.size += size
        self.writes.append(size)
        return size


def test_100000_rows_stream_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite3"
    run_id = fill_run(path, 100_000)
    with Journal(path) as journal:
        sink = _Sink()
        assert reports.write_results_csv(journal, run_id, sink) == 100_000  # type: ignore[arg-type]
        assert reports.run_rows_count(journal, run_id) == 100_000
        assert len(reports.run_rows_page(journal, run_id, None, 99_950, 100)) == 50
    # Written a chunk at a time: never more than one chunk's rows held as text.
    assert len(sink.writes) == 1 + 100_000 // reports.CHUNK_ROWS
    assert max(sink.writes) < reports.CHUNK_ROWS * 400
    assert sink.size > 100_000 * 100
    assert len(OUTCOME_CYCLE) == 100


def test_journal_history_is_not_capped(journal: Journal) -> None:
    assert len(journal.history()) == POSTS
    assert len(journal.history(outcomes=["delivered"], limit=10)) == 10


def test_history_indexes_are_added_to_an_older_journal(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        for name in ("posts_outcome", "posts_source", "posts_target", "posts_run"):
            db.execute(f"DROP INDEX {name}")
    with Journal(path) as journal:
        names = {
            row[0] for row in journal.read("SELECT name FROM sqlite_master WHERE type='index'")
        }
    assert {"posts_outcome", "posts_source", "posts_target", "posts_run"} <= names
