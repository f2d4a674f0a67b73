"""The contacts export the upload benchmarks write: HubSpot-style headers ("State/Region",
"Country/Region"), names with accents, two phones, an address, a date, a checkbox and a text
custom field; as rows, as CSV, and as a workbook whose first sheet is a cover page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Sequence
from typing import Any

HEADERS = [
    "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Street Address", "City", "State/Region", "Postal Code", "Country/Region",
    "Follow Up Date", "Do Not Call", "Reference #",
]  # fmt: skip
FIRST = ["Jeff", "Ann", "José", "Zoë", "Łukasz", "Mary-Kate", "O'Neil", "Søren", "Priya"]
LAST = ["Sample", "García", "Müller", "O'Brien", "Smith-Jones", "Núñez", "van der Berg"]
CITIES = ["Buffalo", "São Paulo", "Zürich", "New York", "Montréal", "Austin", "Kraków"]
STATES = ("NY", "CA", "TX", "FL", "WA", "IL")


def contacts(rows: int, seed: int = 7, *, states: Sequence[str] = STATES) -> list[list[Any]]:
    """`rows` contacts, the same ones for the same seed, in the order of HEADERS."""
    rng = random.Random(seed)
    start = dt.date(2025, 1, 1)
    return [
        [
            rng.choice(FIRST),
            rng.choice(LAST),
            f"lead{i}@example.com",
            f"716555{i % 10_000:04d}",
            f"702530{i % 10_000:04d}",
            f"{rng.randint(1, 9999)} Main St",
            rng.choice(CITIES),
            rng.choice(states),
            f"{rng.randint(10000, 99999)}",
            "United States",
            start + dt.timedelta(days=i % 700),
            rng.choice(["yes", "no", ""]),
            f"REF-{i:06d}",
        ]
        for i in range(rows)
    ]


def as_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([v.strftime("%m/%d/%Y") if isinstance(v, dt.date) else v for v in row])
    return out.getvalue().encode()


def as_xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    cover = book.create_sheet("Export info")
    cover.append(["Exported by", "Ann Owner"])
    cover.append(["Exported on", dt.datetime(2026, 11, 30, 9, 15)])
    cover.append(["Rows", len(rows)])
    sheet = book.create_sheet("Contacts")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
