"""Benchmark: a 100,000-row .xlsx read and prepared, by openpyxl (before) and python-calamine.

Writes a realistic contacts workbook (a cover sheet "Export info" first, then "Contacts" with
names, emails, phones, address, a date and a checkbox column) with openpyxl's write-only mode,
then times, for each reader,

- `read_table` (the sheet is chosen by `sheet_score`, so the cover sheet is read too), and
- `auto_match` + `prepare_rows` with the demo legend (the checked preview's work),

and prints seconds and rows per second. Run: `python bench/xlsx.py [--rows N]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _contacts import STATES, as_xlsx, contacts

from leadstream.prepare import files
from leadstream.prepare.mapping import auto_match, prepare_rows
from leadstream.sandbox.account import Account

LEGEND = Account.demo().leadstreams[0].legend  # Reference #, Follow Up Date, Do Not Call


def build_workbook(rows: int, seed: int = 7) -> bytes:
    """The upload benchmark's contacts, with the mobile numbers stored as numbers (as many
    exports do) and a Canadian province among the states."""
    contacts_ = contacts(rows, seed, states=(*STATES, "QC"))
    for row in contacts_:
        row[4] = int(row[4])
    return as_xlsx(contacts_)


def run(data: bytes, *, calamine: bool) -> tuple[float, float, int]:
    # The two readers `read_table` chooses between, called directly so each is timed alone.
    reader = files._read_xlsx_calamine if calamine else files._read_xlsx_openpyxl
    began = time.perf_counter()
    table = reader(data, "contacts.xlsx", None)
    read_s = time.perf_counter() - began
    began = time.perf_counter()
    mapping = auto_match(table.columns, LEGEND).with_constant("user_id", "377310706")
    mapping = mapping.with_constant("cm_id", "576846")
    prepared = prepare_rows(table.frame, mapping, legend=LEGEND, row_numbers=table.row_numbers)
    prepare_s = time.perf_counter() - began
    assert table.sheet == "Contacts", table.sheet
    return read_s, prepare_s, len(prepared)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    began = time.perf_counter()
    data = build_workbook(args.rows)
    print(
        f"workbook: {args.rows:,} rows, {len(data) / 1e6:.1f} MB, written in "
        f"{time.perf_counter() - began:.1f} s"
    )
    for label, calamine in (("openpyxl (before)", False), ("python-calamine", True)):
        read_s, prepare_s, count = run(data, calamine=calamine)
        total = read_s + prepare_s
        print(
            f"{label:18} read {read_s:6.2f} s  prepare {prepare_s:6.2f} s  total {total:6.2f} s"
            f"  ({count / total:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
