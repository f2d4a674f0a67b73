"""How fast the bulk sender delivers over a slow endpoint, against two yardsticks.

    python bench/send.py [--leads 2000] [--latency-ms 50] [--concurrency 16] [--sample 200]

Starts the sandbox on loopback with a fixed latency per answer, in its own process (as a remote
endpoint would be: its CPU is not ours; `--in-process` runs it in this process instead), then:

1. the engine: a journal run of `--leads` leads made from `RunSettings` and sent by
   `Engine.start` at `--concurrency` (planning, journal writes, retries, the first row sent
   alone and all), timed from start to the last row settled;
2. a plain sequential loop of `requests.get`, one lead after another. It is timed on
   `--sample` leads only and extrapolated to `--leads` (it scales linearly: one request at a
   time, each waiting out the latency);
3. the floor: `leads × latency / concurrency`, what `--concurrency` requests in flight at once
   could do if nothing but the endpoint's latency took time;
4. for reference, `Client.post` alone on as many leads from a thread pool of the same size (no
   journal, no run): the gap between it and the engine is what the journal costs.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leadstream.deliver.client import Client
from leadstream.deliver.engine import engine_for
from leadstream.deliver.journal import Journal
from leadstream.deliver.run_settings import RunSettings
from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID, Target
from leadstream.prepare.mapping import PreparedRow
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import build_url
from leadstream.sandbox import Account, Faults, SandboxServer


def lead(n: int, prefix: str) -> Lead:
    return Lead(
        firstname=f"Bench{n}",
        lastname="Sender",
        email=f"{prefix}{n}@example.com",
        phone="716-293-2368",
        user_id=DEMO_USER_ID,
        cm_id=DEMO_CM_ID,
        custom_fields={"297989": str(10_000_000 + n)},
        tags=["bench"],
    )


@contextlib.contextmanager
def sandbox(latency_ms: float, in_process: bool) -> Iterator[str]:
    """The put_contact URL of a sandbox answering after `latency_ms`."""
    if in_process:
        with SandboxServer(Account.demo(), faults=Faults(latency_ms=latency_ms), log=None) as s:
            yield s.url
        return
    command = [
        sys.executable,
        "-m",
        "leadstream.sandbox",
        "--port",
        "0",
        "--latency-ms",
        str(latency_ms),
    ]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if found := re.search(r"GET (http://\S+/api/vendor/put_contact)", line):
                    yield found.group(1)
                    return
            raise RuntimeError("the sandbox did not start")
        finally:
            process.terminate()


def stored_count(url: str, prefix: str) -> int:
    base = url.split("/api/")[0]
    leads = requests.get(f"{base}/sandbox/leads", timeout=20).json()
    return sum(1 for item in leads if str(item["params"].get("email", "")).startswith(prefix))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sample", type=int, default=200, help="leads timed in the plain loop")
    parser.add_argument("--in-process", action="store_true", help="run the sandbox in-process")
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    with sandbox(args.latency_ms, args.in_process) as url, tempfile.TemporaryDirectory() as home:
        where = "in this process" if args.in_process else "in its own process"
        print(f"sandbox {url} {where}, latency {args.latency_ms:g} ms per answer")

        # 1. The engine, as the page and the CLI use it.
        with Journal(Path(home) / "journal.sqlite3") as journal:
            rows = [
                PreparedRow(index=n, line=n + 2, lead=lead(n, "engine"), problems=(), source={})
                for n in range(args.leads)
            ]
            runs = engine_for(journal)
            settings = RunSettings(target=Target.sandbox(url), concurrency=args.concurrency)
            run_id, _ = runs.create_run(
                settings, source_name="bench", prepared_rows=rows, origin="bench"
            )
            start, cpu = time.perf_counter(), time.process_time()
            runs.start(run_id, key=DEMO_KEY)
            runs.wait(run_id)
            engine = time.perf_counter() - start
            engine_cpu = time.process_time() - cpu
            info = journal.run(run_id)
        delivered = info.counts["delivered"]
        stored = stored_count(url, "engine")
        assert delivered == stored == args.leads, (info.counts, stored)

        # 4. The client alone.
        with (
            Client(url=url, key=DEMO_KEY, concurrency=args.concurrency) as client,
            ThreadPoolExecutor(args.concurrency) as pool,
        ):
            start, cpu = time.perf_counter(), time.process_time()
            list(pool.map(client.post, [lead(n, "client") for n in range(args.leads)]))
            bare = time.perf_counter() - start
            bare_cpu = time.process_time() - cpu

        # 2. A plain sequential loop, timed on a sample.
        sample = [lead(n, "loop") for n in range(args.sample)]
        start = time.perf_counter()
        for item in sample:
            answer = requests.get(build_url(item, key=DEMO_KEY, base_url=url), timeout=20)
            assert answer.text.startswith("SUCCESS|"), answer.text
        loop_sample = time.perf_counter() - start
        loop = loop_sample * args.leads / args.sample

    floor = args.leads * latency / args.concurrency
    print(
        f"engine, concurrency {args.concurrency:>3}: {engine:7.2f} s for {args.leads:,} leads "
        f"({args.leads / engine:,.0f} leads/s, journal included, all {delivered:,} delivered)"
    )
    print(
        f"plain requests.get loop:   {loop:7.2f} s for {args.leads:,} leads, extrapolated "
        f"from {args.sample} timed ({loop_sample:.2f} s, {args.sample / loop_sample:,.0f} leads/s)"
    )
    print(
        f"floor N·latency/C:         {floor:7.2f} s ({args.leads:,} × {args.latency_ms:g} ms "
        f"/ {args.concurrency})"
    )
    print(f"(client alone, no journal: {bare:7.2f} s)")
    print(
        f"CPU of this process: engine {engine_cpu / args.leads * 1000:.2f} ms a lead, client "
        f"alone {bare_cpu / args.leads * 1000:.2f} ms a lead (the journal's share: the gap)"
    )
    versus_floor = (
        f"{engine / floor:.2f}× the floor, {floor / engine:.2f} of it" if floor else "no floor"
    )
    print(
        f"engine is {loop / engine:.1f}× faster than the loop and {versus_floor} "
        f"({(engine - floor) / args.leads * 1000:.2f} ms more per lead)"
    )


if __name__ == "__main__":
    main()
