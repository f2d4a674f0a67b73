"""How fast `send --dry-run` turns a big CSV into URLs, against a plain loop doing the least.

    python bench/dryrun.py [--rows 100000] [--repeat 3]

Writes a CSV of `--rows` leads (names, email, phone, address, a note) to a temporary folder,
then times, best of `--repeat`:

1. `python -m leadstream send FILE --url … --dry-run` as a person runs it, in its own process
   with an empty journal: reading the file, matching the columns, checking every row, planning
   against the journal (duplicates included), printing one masked URL a row;
2. a plain loop in its own process: `csv.reader` over the same file and `urlencode` of the same
   columns, one URL a row, no checks at all.

The ratio is what the checks and the plan cost over the bare minimum (target: at most 2.5×).
Both write their URLs to a file; both counts of URLs are checked. Wall time and CPU time (user
and system, of the child process) are both shown: on a shared machine the CPU time is the
steadier measure.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL = "http://127.0.0.1:9/api/vendor/put_contact"
HEADER = ["First Name", "Last Name", "Email", "Phone", "Address", "City", "State", "Zip", "Notes"]

PLAIN_LOOP = """
import csv, sys
from urllib.parse import quote, urlencode

names = {"First Name": "firstname", "Last Name": "lastname", "Email": "email",
         "Phone": "phone", "Address": "address1", "City": "city", "State": "state",
         "Zip": "zip", "Notes": "notes"}
url, key = sys.argv[2], "XXXYYYZZZ"
out = sys.stdout
count = 0
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = csv.reader(handle)
    header = next(rows)
    fields = [names.get(h) for h in header]
    for row in rows:
        pairs = [("key", key)]
        pairs += [(f, v) for f, v in zip(fields, row) if f and v and f != "notes"]
        pairs += [("user_id", "377310706"), ("cm_id", "576846")]
        out.write(url + "?" + urlencode(pairs, quote_via=quote) + "\\n")
        count += 1
print(count, file=sys.stderr)
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"First{n}",
                    f"Last-{n % 977}",
                    f"lead{n}@example.com",
                    f"716-293-{n % 10_000:04d}",
                    f"{n % 900 + 1} Main Street",
                    "Buffalo",
                    "NY",
                    f"{14200 + n % 99:05d}",
                    "called twice, wants a quote" if n % 3 else "",
                ]
            )


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds, and the lines written to standard output."""
    start, cpu = time.perf_counter(), _cpu()
    with tempfile.TemporaryFile() as out:
        run = subprocess.run(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.PIPE, text=False
        )
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        out.seek(0)
        lines = sum(block.count(b"\n") for block in iter(lambda: out.read(1 << 20), b""))
    if run.returncode != 0:
        err = run.stderr.decode("utf-8", "replace")
        raise SystemExit(f"{command[2:4]} failed ({run.returncode}):\n{err}")
    return seconds, cpu, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        write_csv(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size:.1f} MB CSV")
        env = {
            **os.environ,
            "LEADSTREAM_HOME": str(Path(folder) / "home"),
            "LEADSTREAM_KEY": "XXXYYYZZZ",
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        dry_run = [
            sys.executable,
            "-m",
            "leadstream",
            "send",
            str(path),
            "--url",
            URL,
            "--user-id",
            "377310706",
            "--cm-id",
            "576846",
            "--dry-run",
        ]
        plain = [sys.executable, "-c", PLAIN_LOOP, str(path), URL]
        dry = plain_best = (float("inf"), float("inf"))
        for _ in range(args.repeat):
            seconds, cpu, lines = timed(dry_run, env)
            assert lines == args.rows, lines
            dry = (min(dry[0], seconds), min(dry[1], cpu))
            seconds, cpu, lines = timed(plain, env)
            assert lines == args.rows, lines
            plain_best = (min(plain_best[0], seconds), min(plain_best[1], cpu))
        startup = timed([sys.executable, "-m", "leadstream", "--help"], env)

    print(
        f"send --dry-run:            {dry[0]:6.2f} s wall, {dry[1]:6.2f} s CPU "
        f"({args.rows / dry[0]:,.0f} rows/s, every row checked and planned)"
    )
    print(
        f"csv.reader + urlencode:    {plain_best[0]:6.2f} s wall, {plain_best[1]:6.2f} s CPU "
        f"({args.rows / plain_best[0]:,.0f} rows/s)"
    )
    print(f"(leadstream --help alone:  {startup[0]:6.2f} s wall: interpreter and imports)")
    print(
        f"dry run / plain loop:      {dry[0] / plain_best[0]:6.2f}× wall, "
        f"{dry[1] / plain_best[1]:.2f}× CPU (target ≤ 2.5×)"
    )


if __name__ == "__main__":
    main()
