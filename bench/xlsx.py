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
import datetime as dt
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook

from leadstream.prepare import files
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.mapping import auto_match, prepare_rows

LEGEND = Legend(
    (
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
    ),
    name="Demo LeadStream",
    cm_id="576846",
)
FIRST = ["Jeff", "Ann", "José", "Zoë", "Łukasz", "Mary-Kate", "O'Neil", "Søren", "Priya"]
LAST = ["Sample", "García", "Müller", "O'Brien", "Smith-Jones", "Núñez", "van der Berg"]
CITIES = ["Buffalo", "São Paulo", "Zürich", "New York", "Montréal", "Austin", "Kraków"]
STATES = ["NY", "CA", "TX", "FL", "WA", "IL", "QC"]


def build_workbook(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    cover = book.create_sheet("Export info")
    cover.append(["Exported by", "Ann Owner"])
    cover.append(["Exported on", dt.datetime(2026, 11, 30, 9, 15)])
    cover.append(["Rows", rows])
    sheet = book.create_sheet("Contacts")
    sheet.append(
        [
            "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
            "Street Address", "City", "State/Region", "Postal Code", "Country/Region",
            "Follow Up Date", "Do Not Call", "Reference #",
        ]
    )  # fmt: skip
    start = dt.date(2025, 1, 1)
    for i in range(rows):
        sheet.append(
            [
                rng.choice(FIRST),
                rng.choice(LAST),
                f"lead{i}@example.com",
                f"716555{i % 10_000:04d}",
                7025300000 + i % 10_000,
                f"{rng.randint(1, 9999)} Main St",
                rng.choice(CITIES),
                rng.choice(STATES),
                f"{rng.randint(10000, 99999)}",
                "United States",
                start + dt.timedelta(days=i % 700),
                rng.choice(["yes", "no", ""]),
                f"REF-{i:06d}",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
