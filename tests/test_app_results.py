"""AppTest: `ui.results.results_table` over a real 25,000-row run: no exception (the whole run
was once one Styler over Streamlit's 262,144 cells), exact counts, one page at a time, and the
download above the table holding what the filter shows."""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from leadstream.deliver.journal import Journal, NewRow
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from fill_journal import fill_run, outcome_of

pytest_plugins = ("test_app_support",)

ROWS = 25_000
COUNTS = Counter(outcome_of(i) for i in range(ROWS))


@pytest.fixture(scope="module")
def big_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("results") / "journal.sqlite3"
    return path, fill_run(path, ROWS)


def _script(path: str, run_id: int) -> None:
    from leadstream.deliver.journal import Journal
    from ui.results import results_table

    results_table(Journal(path), run_id, key="t")


def _table(path: Path, run_id: int) -> AppTest:
    return AppTest.from_function(_script, args=(str(path), run_id), default_timeout=30)


@pytest.fixture
def shown(big_run: tuple[Path, int]) -> AppTest:
    return _table(*big_run).run()


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_a_big_run_shows_a_page_with_exact_counts(shown: AppTest) -> None:
    assert not shown.exception
    radio = shown.radio(key="t.show")
    labels = list(radio.options)
    assert labels[:3] == [
        f"All rows ({ROWS:,})",
        f"Not delivered ({ROWS - COUNTS['delivered']:,})",
        f"Delivered ({COUNTS['delivered']:,})",
    ]
    assert f"Rejected ({COUNTS['rejected']:,})" in labels
    assert f"Rows 1–100 of {ROWS:,}." in _captions(shown)
    [table] = shown.dataframe
    assert list(table.value["row"]) == list(range(2, 102))
    assert list(table.value.columns)[:6] == [
        "row", "outcome", "code", "detail", "lead_url", "attempts",
    ]  # fmt: skip


def test_the_download_sits_above_the_table(shown: AppTest) -> None:
    kinds = [node.type for node in shown.main]
    assert kinds.index("download_button") < kinds.index("dataframe")
    assert shown.get("download_button")[0].proto.label == "Download the results (CSV)"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("rejected", COUNTS["rejected"]),
        ("not delivered", ROWS - COUNTS["delivered"]),
        ("uncertain", COUNTS["uncertain"]),
    ],
)
def test_a_filter_shows_and_downloads_its_rows(
    big_run: tuple[Path, int],
    downloads: Callable[[Any], bytes],
    choice: str,
    expected: int,
) -> None:
    at = _table(*big_run).run()
    at.radio(key="t.show").set_value(choice).run()
    assert not at.exception
    assert f"Rows 1–{min(expected, 100)} of {expected:,}." in _captions(at)
    outcomes = set(at.dataframe[0].value["outcome"])
    assert outcomes == ({choice} if choice != "not delivered" else outcomes - {"delivered"})
    data = downloads(at.get("download_button")[0])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == expected
    assert "delivered" not in {r["outcome"] for r in rows}


def test_the_last_page(big_run: tuple[Path, int]) -> None:
    at = _table(*big_run)
    at.session_state["t.page.all"] = ROWS // 100
    at.run()
    assert not at.exception
    assert f"Rows {ROWS - 99:,}–{ROWS:,} of {ROWS:,}." in _captions(at)
    assert at.dataframe[0].value["row"].iloc[-1] == ROWS + 1


def test_a_run_with_no_rows_and_a_run_that_is_not_there(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        empty = journal.create_run(
            target=Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact"),
            source_name="f.csv",
            rows=[],
        )
    at = _table(path, empty).run()
    assert "This run has no rows." in _captions(at)
    at = _table(path, 999).run()
    assert not at.exception
    assert "no bulk run 999" in at.error[0].value


def test_a_run_not_yet_sent_counts_its_rows_as_not_sent(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        run_id = journal.create_run(
            target=Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact"),
            source_name="f.csv",
            rows=[
                NewRow(i, i + 2, Lead(email=f"p{i}@example.com"), {"Email": f"p{i}@example.com"})
                for i in range(150)
            ],
        )
    at = _table(path, run_id).run()
    assert list(at.radio(key="t.show").options) == [
        "All rows (150)",
        "Not delivered (150)",
        "Not sent (150)",
    ]
    at.radio(key="t.show").set_value("not sent").run()
    assert "Rows 1–100 of 150." in _captions(at)
    assert set(at.dataframe[0].value["outcome"]) == {"not sent"}
