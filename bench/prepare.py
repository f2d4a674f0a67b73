"""How long a big file takes from bytes to ready-to-send URLs: read, match, check, encode.

    python bench/prepare.py [--rows 100000] [--seed 7] [--xlsx] [--tracemalloc]

Generates a realistic CSV in memory (names with accents, US phones in several spellings, extra
phones, custom fields of every type, tags, a few bad emails and dates), then times
`read_table`, `auto_match`, `prepare_rows` and `build_url` for every row, and prints wall and
CPU seconds a stage, rows per second and peak memory. `--xlsx` reads the same rows from an
Excel workbook instead (written beforehand, not timed). `--tracemalloc` also reports Python's
own peak allocation (slower: it traces every allocation).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leadstream.prepare.files import read_table
from leadstream.prepare.mapping import auto_match, find_duplicates, prepare_rows
from leadstream.protocol.query import build_url
from leadstream.sandbox.account import Account

KEY = "BENCHKEY-not-a-secret"
LEGEND = Account.demo().leadstreams[0].legend  # Reference #, Follow Up Date, Do Not Call
HEADER = [
    "First Name", "Last Name", "E-mail", "Phone", "Mobile", "Work Phone", "Address",
    "Address 2", "City", "State", "Zip Code", "Reference #", "Follow Up Date", "Do Not Call",
    "Tags",
]  # fmt: skip
FIRST = ["Jeff", "Ann", "José", "Zoë", "Mary-Kate", "Liam", "Noah", "Olivia", "Chloé", "Sean"]
LAST = ["Sample", "O’Brien", "Smith", "Müller", "García", "Nguyen", "Johnson", "de la Cruz"]
CITIES = [
    ("Buffalo", "NY", "14204"), ("Boston", "MA", "02108"), ("Austin", "TX", "78701"),
    ("Newark", "NJ", "07102"), ("Denver", "CO", "80202"), ("Miami", "fl", "33101"),
]  # fmt: skip
TAGS = ["Hot Lead", "Lead Type", "Webinar", "Referral", "2024", "Spring Promo"]


# Real area codes: random ones are often unassigned, and the phone check rightly refuses them.
AREA_CODES = [716, 212, 617, 512, 973, 303, 305, 702, 646, 415, 312, 206, 404, 614, 919]


def _phone(rng: random.Random) -> str:
    area, mid, last = rng.choice(AREA_CODES), rng.randint(212, 989), rng.randint(0, 9999)
    style = rng.randrange(4)
    if style == 0:
        return f"({area}) {mid}-{last:04d}"
    if style == 1:
        return f"{area}-{mid}-{last:04d}"
    if style == 2:
        return f"+1 {area} {mid} {last:04d}"
    return f"{area}{mid}{last:04d}"


def make_csv(rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state, zip_code = rng.choice(CITIES)
        email = f"{first.lower()}.{n}@example.com".replace("é", "e").replace("ë", "e")
        if n % 997 == 0:
            email = "not-an-email"
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        date = rng.choice([f"2025-{month:02d}-{day:02d}", f"{month}/{day}/2025", ""])
        if n % 1009 == 0:
            date = "someday"
        writer.writerow(
            [
                first,
                last,
                email,
                _phone(rng),
                _phone(rng) if rng.random() < 0.6 else "",
                _phone(rng) if rng.random() < 0.3 else "",
                f"{rng.randint(1, 9999)} Hickory St",
                rng.choice(["", "", f"Apt {rng.randint(1, 99)}"]),
                city,
                state,
                zip_code,
                str(rng.randint(10_000_000, 99_999_999)),
                date,
                rng.choice(["yes", "no", "", "x", "1"]),
                ", ".join(rng.sample(TAGS, rng.randint(0, 3))),
            ]
        )
    return out.getvalue().encode("utf-8")


def to_xlsx(data: bytes) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Leads")
    for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--xlsx", action="store_true", help="read an Excel workbook instead")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()

    data = make_csv(args.rows, args.seed)
    filename = "bench.csv"
    if args.xlsx:
        data, filename = to_xlsx(data), "bench.xlsx"
    print(f"generated {args.rows:,} rows, {len(data) / 2**20:.1f} MiB of {filename}")
    rss_before = _rss_mib()
    if args.tracemalloc:
        tracemalloc.start()

    # Wall and CPU seconds a stage: on a shared machine the CPU time is the steadier measure.
    timings: dict[str, tuple[float, float]] = {}
    start, cpu_start = time.perf_counter(), time.process_time()

    def lap(stage: str, wall: float, cpu: float) -> None:
        timings[stage] = (time.perf_counter() - wall, time.process_time() - cpu)

    table = read_table(data, filename)
    lap("read_table", start, cpu_start)

    mark, cpu_mark = time.perf_counter(), time.process_time()
    mapping = auto_match(table.columns, LEGEND)
    mapping = mapping.with_constant("cm_id", "576846").with_constant("user_id", "377310706")
    lap("auto_match", mark, cpu_mark)

    mark, cpu_mark = time.perf_counter(), time.process_time()
    rows = prepare_rows(table.frame, mapping, legend=LEGEND, row_numbers=table.row_numbers)
    lap("prepare_rows", mark, cpu_mark)

    mark, cpu_mark = time.perf_counter(), time.process_time()
    duplicates = find_duplicates(rows)
    lap("find_duplicates", mark, cpu_mark)

    mark, cpu_mark = time.perf_counter(), time.process_time()
    length = sum(len(build_url(row.lead, key=KEY)) for row in rows if row.status != "invalid")
    lap("build_url", mark, cpu_mark)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start

    for stage, (seconds, cpu_seconds) in timings.items():
        print(f"  {stage:<16}{seconds:8.2f} s wall {cpu_seconds:8.2f} s CPU")
    print(
        f"total {total:.2f} s for {len(rows):,} rows: {len(rows) / total:,.0f} rows/s "
        f"(CPU {cpu:.2f} s; the work runs on one core)"
    )
    statuses = Counter(row.status for row in rows)
    print(f"statuses {dict(statuses)}, duplicates {len(duplicates):,}, URL bytes {length:,}")
    print(f"peak RSS {_rss_mib():.0f} MiB (before reading: {rss_before:.0f} MiB)")
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"tracemalloc peak {peak / 2**20:.0f} MiB (timings above include tracing)")


if __name__ == "__main__":
    main()
