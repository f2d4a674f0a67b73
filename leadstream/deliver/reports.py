"""Reports read from the journal a page or a chunk at a time: a bulk run's results and History.

Screens ask for one page (`run_rows_page`, `Journal.history_page`) and exact counts from SQL
(`run_state_counts`, `Journal.history_count`); downloads (`write_results_csv`,
`write_history_csv`) stream every matching row from the journal in chunks, keyed on the row or
post id, so that a 100,000-row run or history costs a few thousand rows of memory at a time.

Every export is CSV in UTF-8 with a byte-order mark (Excel then reads accents right), with
cells that a spreadsheet would run as formulas neutralised. `row` is always the spreadsheet
line the row had in the person's file, the number the screen shows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from leadstream.deliver.journal import HISTORY_COLUMNS, HistoryEntry, HistoryFilter, Journal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CHUNK_ROWS",
    "NOT_DELIVERED",
    "RESULT_COLUMNS",
    "ResultRow",
    "file_column_names",
    "history_csv_bytes",
    "history_entries",
    "outcome_label",
    "result_file_columns",
    "results_csv",
    "results_frame",
    "run_rows_count",
    "run_rows_page",
    "run_state_counts",
    "states_for",
    "write_history_csv",
    "write_results_csv",
]

# Rows fetched per query while streaming: small enough to keep memory flat, large enough that
# the per-query cost disappears.
CHUNK_ROWS = 2000

RESULT_COLUMNS = ("row", "outcome", "code", "detail", "lead_url", "attempts")
# Row states that are not yet an outcome, as a person reads them.
_NOT_FINAL_LABELS = {"pending": "not sent", "in_flight": "in flight"}
NOT_DELIVERED = "not delivered"


def outcome_label(state: str) -> str:
    """A run row's state as the results show it: `delivered`, …, `not sent`, `in flight`."""
    return _NOT_FINAL_LABELS.get(state, state)


def states_for(labels: Sequence[str], counts: dict[str, int]) -> tuple[str, ...]:
    """The row states behind outcome `labels` (as `outcome_label` gives them, or
    `not delivered`), among the states in `counts`; empty `labels` means every state."""
    if not labels:
        return ()
    wanted: set[str] = set()
    for label in labels:
        if label == NOT_DELIVERED:
            wanted |= {state for state in counts if state != "delivered"}
        else:
            wanted |= {state for state in counts if outcome_label(state) == label}
    # A label with no rows still filters: it must not widen into "everything".
    return tuple(sorted(wanted)) or ("",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRow:
    """One row of a run's results: its spreadsheet line, what happened, and the file's cells."""

    row: int
    outcome: str
    code: str
    detail: str
    lead_url: str
    attempts: int
    source: dict[str, str] = field(repr=False)

    def cells(self) -> tuple[str | int, ...]:
        return (self.row, self.outcome, self.code, self.detail, self.lead_url, self.attempts)


_RESULT_SELECT = "SELECT row, line, state, code, help, lead_url, attempts, source FROM run_rows"


def _result_row(row: Any) -> ResultRow:
    return ResultRow(
        row=int(row["line"]),
        outcome=outcome_label(str(row["state"])),
        code=str(row["code"]),
        detail=str(row["help"]),
        lead_url=str(row["lead_url"]),
        attempts=int(row["attempts"]),
        source=json.loads(row["source"] or "{}"),
    )


def _run_where(run_id: int, states: Sequence[str] | None) -> tuple[str, list[Any]]:
    where = "run_id = ?"
    params: list[Any] = [int(run_id)]
    if states:
        where += f" AND state IN ({','.join('?' * len(states))})"
        params.extend(states)
    return where, params


def run_state_counts(journal: Journal, run_id: int) -> dict[str, int]:
    """How many of the run's rows are in each state (states with none left out), exactly."""
    rows = journal.read(
        "SELECT state, COUNT(*) FROM run_rows WHERE run_id = ? GROUP BY state", (int(run_id),)
    )
    return {str(row[0]): int(row[1]) for row in rows}


def run_rows_count(journal: Journal, run_id: int, states: Sequence[str] | None = None) -> int:
    """How many of the run's rows are in `states` (all when none are given)."""
    where, params = _run_where(run_id, states)
    return int(journal.read(f"SELECT COUNT(*) FROM run_rows WHERE {where}", params)[0][0])


def run_rows_page(
    journal: Journal,
    run_id: int,
    states: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[ResultRow]:
    """One page of the run's results in file order, only rows in `states` when given."""
    where, params = _run_where(run_id, states)
    rows = journal.read(
        f"{_RESULT_SELECT} WHERE {where} ORDER BY row LIMIT ? OFFSET ?",
        [*params, max(int(limit), 0), max(int(offset), 0)],
    )
    return [_result_row(row) for row in rows]


def _run_chunks(
    journal: Journal, run_id: int, states: Sequence[str] | None, columns: str
) -> Iterator[list[Any]]:
    """Every matching row, `CHUNK_ROWS` at a time, keyed on the row (no OFFSET to skip)."""
    where, params = _run_where(run_id, states)
    after = -1
    while True:
        chunk = journal.read(
            f"SELECT row, {columns} FROM run_rows WHERE {where} AND row > ? ORDER BY row LIMIT ?",
            [*params, after, CHUNK_ROWS],
        )
        if not chunk:
            return
        yield chunk
        after = int(chunk[-1]["row"])


def result_file_columns(
    journal: Journal, run_id: int, states: Sequence[str] | None = None
) -> list[str]:
    """The file's own columns over the matching rows, in the order they first appear."""
    where, params = _run_where(run_id, states)
    # Rows of one file share their columns: SQLite lists each distinct set of names once (in
    # the order they first appear), so Python never parses 100,000 rows just for a header.
    keys = (
        "(SELECT json_agg(k)::text FROM json_object_keys(source::json) AS k)"
        if journal.kind == "postgresql"
        else "(SELECT json_group_array(key) FROM json_each(source))"
    )
    lists = journal.read(
        f"SELECT names FROM (SELECT row, {keys} AS names FROM run_rows WHERE {where}) AS per_row"
        " GROUP BY names ORDER BY MIN(row)",
        params,
    )
    found: dict[str, None] = {}
    for (names,) in lists:
        found.update(dict.fromkeys(json.loads(names)))
    return list(found)


def file_column_names(originals: Sequence[str]) -> list[str]:
    """The file's column names as results show them: one called like a results column keeps
    its cells under a marked name (`outcome (file)`)."""
    return [f"{name} (file)" if name in RESULT_COLUMNS else name for name in originals]


def _neutralizer() -> Callable[[str], str]:
    from leadstream.prepare.files import neutralize_formula  # pandas is slow to import

    return neutralize_formula


def write_results_csv(
    journal: Journal, run_id: int, out: BinaryIO, states: Sequence[str] | None = None
) -> int:
    """Write the run's results (only rows in `states` when given) to `out` as CSV: the file's
    own columns, then row, outcome, code, detail, lead_url and attempts. Returns the rows
    written."""
    clean = _neutralizer()
    originals = result_file_columns(journal, run_id, states)
    written = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([clean(name) for name in (*file_column_names(originals), *RESULT_COLUMNS)])
    out.write(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    for chunk in _run_chunks(
        journal, run_id, states, "line, state, code, help, lead_url, attempts, source"
    ):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for raw in chunk:
            source = json.loads(raw["source"] or "{}")
            cells = [clean(str(source.get(name, ""))) for name in originals]
            state = raw["state"]
            cells += (
                raw["line"],
                _NOT_FINAL_LABELS.get(state, state),
                clean(raw["code"]),
                clean(raw["help"]),
                clean(raw["lead_url"]),
                raw["attempts"],
            )
            writer.writerow(cells)
        out.write(buffer.getvalue().encode("utf-8"))
        written += len(chunk)
    return written


def results_csv(journal: Journal, run_id: int, states: Sequence[str] | None = None) -> bytes:
    """`write_results_csv` into bytes, for a download button or a file."""
    out = io.BytesIO()
    write_results_csv(journal, run_id, out, states)
    return out.getvalue()


def results_frame(journal: Journal, run_id: int) -> pd.DataFrame:
    """The whole run as one table (the columns of `write_results_csv`). It holds every row:
    for a screen, use `run_rows_page`."""
    import pandas as pd

    originals = result_file_columns(journal, run_id)
    records = []
    for chunk in _run_chunks(
        journal, run_id, None, "line, state, code, help, lead_url, attempts, source"
    ):
        for raw in chunk:
            result = _result_row(raw)
            records.append([*(result.source.get(n, "") for n in originals), *result.cells()])
    return pd.DataFrame.from_records(
        records, columns=[*file_column_names(originals), *RESULT_COLUMNS]
    )


def history_entries(journal: Journal, wanted: HistoryFilter) -> Iterator[HistoryEntry]:
    """Every post matching `wanted`, newest first, fetched `CHUNK_ROWS` at a time."""
    before: int | None = None
    while True:
        chunk = journal.history_after(wanted, before, CHUNK_ROWS)
        if not chunk:
            return
        yield from chunk
        before = chunk[-1].id


# The export's columns straight from SQL: decoding each post's lead would cost more than the
# whole rest of the export.
_HISTORY_EXPORT = (
    "SELECT p.id, p.time, p.source, p.target_name, p.name, p.email, p.user_id, p.cm_id,"
    " p.outcome, p.code, p.help, p.lead_url, p.attempts, p.run_id, COALESCE(r.line, p.row)"
    " FROM posts p LEFT JOIN run_rows r ON r.run_id = p.run_id AND r.row = p.row"
)


def write_history_csv(journal: Journal, wanted: HistoryFilter, out: BinaryIO) -> int:
    """Write every post matching `wanted` to `out` as CSV (the columns of `history_csv`),
    newest first. Returns the posts written."""
    clean = _neutralizer()
    where, params = wanted.where()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(HISTORY_COLUMNS)
    out.write(buffer.getvalue().encode("utf-8-sig"))
    written = 0
    before: int | None = None
    while True:
        keyset = "" if before is None else " AND p.id < ?"
        chunk = journal.read(
            f"{_HISTORY_EXPORT} WHERE {where}{keyset} ORDER BY p.id DESC LIMIT ?",
            [*params, *(() if before is None else (before,)), CHUNK_ROWS],
        )
        if not chunk:
            return written
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in chunk:
            writer.writerow(["" if cell is None else clean(str(cell)) for cell in tuple(row)[1:]])
        out.write(buffer.getvalue().encode("utf-8"))
        written += len(chunk)
        before = int(chunk[-1][0])


def history_csv_bytes(journal: Journal, wanted: HistoryFilter) -> bytes:
    """`write_history_csv` into bytes, for a download button."""
    out = io.BytesIO()
    write_history_csv(journal, wanted, out)
    return out.getvalue()
