"""Two desks sending the same file at once through one PostgreSQL journal, against one desk.

    eval "$(.ci/postgres.sh)"; python bench/team.py [--leads 2000] [--latency-ms 20]

Each desk is the CLI (`python -m leadstream send`) in its own process with its own
LEADSTREAM_HOME, both on the same team database, sending to the sandbox (its account accepting
leads without an email; every other lead has none) on loopback, in its own process as a remote
endpoint would be. Prints the time, the leads stored per second, and how many leads the sandbox
stored twice (the point: 0). On one machine the desks share its cores with the sandbox and
PostgreSQL, so two desks cannot show the speed-up two computers would.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pg import fresh_schema, server_url  # noqa: E402

from leadstream.deliver.target import DEMO_KEY  # noqa: E402
from leadstream.sandbox import Account  # noqa: E402


def write_leads(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Email", "Phone"])
        for n in range(count):
            writer.writerow([f"P{n}", "Smith", f"p{n}@example.com" if n % 2 == 0 else "", ""])


@contextlib.contextmanager
def sandbox(work: Path, latency_ms: int) -> Iterator[str]:
    """The sandbox in its own process; yields its base URL."""
    account = work / "account.json"
    account.write_text(
        dataclasses.replace(Account.demo(), require_email=False).to_json(), encoding="utf-8"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "leadstream.sandbox", "--port", str(port)]
    argv += ["--account", str(account), "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(
        argv,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + "/sandbox/stats", timeout=1).close()
                break
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait()


def stored_names(base: str) -> Counter[str]:
    with urllib.request.urlopen(base + "/sandbox/leads", timeout=30) as answer:
        leads = json.load(answer)
    return Counter(str(lead["params"].get("firstname", "")) for lead in leads)


def send(desks: int, leads: Path, url: str, endpoint: str, work: Path, conc: int) -> float:
    env = {
        **os.environ,
        "LEADSTREAM_DATABASE_URL": url,
        "LEADSTREAM_KEY": DEMO_KEY,
        "PYTHONPATH": str(ROOT),
    }
    argv = [sys.executable, "-m", "leadstream", "send", str(leads), "--url", endpoint]
    argv += ["--user-id", "377310706", "--cm-id", "576846", "--concurrency", str(conc)]
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            argv,
            cwd=work,
            env={**env, "LEADSTREAM_HOME": str(work / f"desk-{n}")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(desks)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"a desk failed: {err}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    server_db = server_url()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        leads = work / "leads.csv"
        write_leads(leads, args.leads)
        print(
            f"{args.leads} leads (half without an email), sandbox latency {args.latency_ms} ms, "
            f"concurrency {args.concurrency} per desk"
        )
        for desks in (1, 2):
            with (
                sandbox(work, args.latency_ms) as base,
                fresh_schema(server_db) as url,
            ):
                endpoint = base + "/api/vendor/put_contact"
                elapsed = send(desks, leads, url, endpoint, work / f"x{desks}", args.concurrency)
                stored = stored_names(base)
            twice = sum(1 for n in stored.values() if n > 1)
            print(
                f"{desks} desk{'s' if desks > 1 else ' '} × {args.leads}: {elapsed:6.2f} s, "
                f"{len(stored) / elapsed:7.1f} leads stored/s, {len(stored)} leads stored, "
                f"stored twice: {twice}"
            )


if __name__ == "__main__":
    main()
