"""Fault soak: thousands of leads through the real CLI into a misbehaving sandbox, then checked
against what the sandbox itself stored and logged.

    python bench/soak.py [--rows 10000] [--seed 7] [--concurrency 16] [--timeout-hold 30]
                         [--keep DIR]

Generates `--rows` realistic leads, about a quarter without an email, each carrying a unique
marker in the custom field "Reference #" (297989) so that rows without an email can be found in
the sandbox too. Starts `python -m leadstream.sandbox` in its own process (an account that does
not require email, so rows without one are stored rather than rejected) with 10% HTTP 503, 5%
timeouts, 5% lost replies, 2% HTML garbage and a 200 requests/s limit, then runs
`python -m leadstream send … --concurrency 16 --results OUT.csv` as a user would
(`LEADSTREAM_HOME` in a temporary folder, `LEADSTREAM_KEY` set). A run that pauses (five rows in
a row went wrong) is resumed with `--resume`, as its own message says, and counted.

The checks, each against the sandbox's records (`/sandbox/leads`, `/sandbox/stats` and its
request log on standard error):

1. every row has exactly one final outcome in the results CSV;
2. no lead is stored twice (by email; rows without one by their marker);
3. every row the results call delivered is stored, under the lead URL the results give;
4. a row stored but not called delivered is `uncertain`;
5. a row without an email is never sent again after a try that may have arrived; it is
   `uncertain` exactly when its last try got a timeout, a lost reply or an HTML page. A row
   with an email is `uncertain` only when every try went wrong (the retries ran out);
6. `failed` rows are not stored and only ever met faults that certainly stored nothing;
7. each row's `attempts` equals the requests the sandbox logged for it, and the sandbox's own
   counts agree with its log and its store.

Prints the figures and exits 1 when a check fails (2 when the soak itself could not run).
`--timeout-hold` shortens how long a timeout fault holds the request (the client gives up after
its 20 s read timeout, which the CLI does not let you change).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID  # noqa: E402
from leadstream.sandbox import Account  # noqa: E402  (after the path is set)

MARKER_FIELD = "297989"  # "Reference #" in the demo LeadStream's legend
HEADER = (
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Address",
    "City",
    "State",
    "Zip",
    "Reference #",
)
FINAL_OUTCOMES = frozenset({"delivered", "rejected", "failed", "uncertain", "invalid", "duplicate"})
# Faults after which the lead may have been stored; the others certainly stored nothing.
MAYBE_TAKEN_FAULTS = frozenset({"timeout", "lost_reply", "garbage"})
NOT_TAKEN_FAULTS = frozenset({"fail", "rate_limited"})
MAX_ATTEMPTS = 5  # leadstream.deliver.outcomes.RetryPolicy's default, which the CLI uses
DEFAULT_FAULTS: dict[str, float] = {
    "fail_rate": 0.1,
    "timeout_rate": 0.05,
    "lost_reply_rate": 0.05,
    "garbage_rate": 0.02,
    "rate_limit": 200.0,
}
_MAX_RESUMES = 10

_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "María",
    "José",
    "Zoë",
    "Renée",
    "Siobhán",
    "Nguyễn",
    "Wei",
    "Aaliyah",
    "Mohammed",
    "Olga",
    "Dmitri",
    "Fatima",
    "Hiroshi",
    "Ingrid",
    "Bjørn",
    "Chloé",
    "François",
)
_LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "O'Brien",
    "Müller",
    "Dubois",
    "Kowalski",
    "Nakamura",
    "Okafor",
    "Van-der-Berg",
    "Schmidt",
    "Rossi",
    "Andersson",
    "Ivanova",
)
_DOMAINS = ("example.com", "example.org", "mail.example.net", "test.example")
_PLACES = (
    ("716", "Buffalo", "NY", "142"),
    ("212", "New York", "NY", "100"),
    ("312", "Chicago", "IL", "606"),
    ("415", "San Francisco", "CA", "941"),
    ("617", "Boston", "MA", "021"),
    ("303", "Denver", "CO", "802"),
    ("512", "Austin", "TX", "787"),
    ("206", "Seattle", "WA", "981"),
)
_STREETS = ("Main St", "Oak Ave", "Elm St", "Maple Dr", "2nd Ave", "Park Blvd", "Lakeview Rd")


class SoakError(RuntimeError):
    """The soak could not run (the sandbox or the CLI would not start); not a failed check."""


# --- the leads --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoakRow:
    """One generated lead; `row` counts data rows from 1, as the results CSV does."""

    row: int
    marker: str
    first: str
    last: str
    email: str
    phone: str
    address: str
    city: str
    state: str
    zip: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.first,
            self.last,
            self.email,
            self.phone,
            self.address,
            self.city,
            self.state,
            self.zip,
            self.marker,
        )


def _ascii(text: str) -> str:
    table = str.maketrans("áéíóúëöüøñễ", "aeiouEouone".lower())
    return re.sub(r"[^a-z0-9]", "", text.lower().translate(table))


def make_rows(count: int, seed: int, *, no_email_share: float = 0.25) -> list[SoakRow]:
    """`count` leads with unique emails and markers; about `no_email_share` without an email."""
    rng = random.Random(seed)
    rows = []
    for n in range(1, count + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        area, city, state, zip_prefix = rng.choice(_PLACES)
        email = ""
        if rng.random() >= no_email_share:
            # The row number keeps emails unique; the style varies as real lists do.
            local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}"))
            email = f"{_ascii(local)}{n}@{rng.choice(_DOMAINS)}"
            if rng.random() < 0.1:
                email = email.upper()
        phone = rng.choice(("({a}) {x}-{n}", "{a}-{x}-{n}", "{a}{x}{n}", "1 {a} {x} {n}")).format(
            a=area, x=rng.randint(201, 989), n=f"{rng.randint(0, 9999):04d}"
        )
        rows.append(
            SoakRow(
                row=n,
                marker=f"SOAK-{seed}-{n:06d}",
                first=first,
                last=last,
                email=email,
                phone=phone,
                address=f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
                city=city,
                state=state,
                zip=f"{zip_prefix}{rng.randint(0, 99):02d}",
            )
        )
    return rows


def write_inputs(folder: Path, rows: Sequence[SoakRow]) -> tuple[Path, Path, Path]:
    """The leads CSV, a legend naming the marker field, and an account not requiring email."""
    leads = folder / "leads.csv"
    with leads.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(row.cells() for row in rows)
    legend = folder / "legend.txt"
    legend.write_text(f"custom_field[{MARKER_FIELD}]=Reference #&\n", encoding="utf-8")
    account = folder / "account.json"
    lenient = dataclasses.replace(Account.demo(), require_email=False)
    account.write_text(lenient.to_json(), encoding="utf-8")
    return leads, legend, account


# --- the sandbox and the CLI, as separate processes ------------------------------------------


def _env(home: Path, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSTREAM_")}
    path = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH", ""))))
    return {**env, "LEADSTREAM_HOME": str(home), "LEADSTREAM_KEY": key, "PYTHONPATH": path}


@contextlib.contextmanager
def sandbox_process(
    account: Path,
    log_path: Path,
    *,
    seed: int,
    faults: Mapping[str, float],
    timeout_hold: float | None,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m leadstream.sandbox` on a free port; yields the process and its base URL.

    Stopped with SIGTERM on the way out, which also ends requests it is holding, so that every
    request has its log line by the time this returns.
    """
    command = [
        sys.executable,
        "-m",
        "leadstream.sandbox",
        "--port",
        "0",
        "--account",
        str(account),
        "--seed",
        str(seed),
    ]
    for name, value in faults.items():
        command += [f"--{name.replace('_', '-')}", f"{value:g}"]
    if timeout_hold is not None:
        command += ["--timeout-hold", f"{timeout_hold:g}"]
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=REPO,
            env=_env(log_path.parent, DEMO_KEY),
        )
        try:
            assert process.stdout is not None
            base = ""
            for line in process.stdout:
                if found := re.search(r"GET (http://\S+)/api/vendor/put_contact", line):
                    base = found.group(1)
                    break
            if not base:
                raise SoakError(f"the sandbox did not start: {log_path.read_text()[-2000:]}")
            yield process, base
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


@dataclass(frozen=True, slots=True)
class CliRun:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_cli(
    leads: Path,
    legend: Path,
    url: str,
    results: Path,
    *,
    home: Path,
    concurrency: int,
    key: str = DEMO_KEY,
    timeout_s: float | None = None,
) -> list[CliRun]:
    """`python -m leadstream send …`, then `--resume RUN_ID` while it exits 1 (a pause)."""
    base = [
        sys.executable,
        "-m",
        "leadstream",
        "send",
        str(leads),
        "--url",
        url,
        "--legend",
        str(legend),
        "--user-id",
        DEMO_USER_ID,
        "--cm-id",
        DEMO_CM_ID,
        "--concurrency",
        str(concurrency),
        "--results",
        str(results),
    ]
    runs: list[CliRun] = []
    argv = base
    for _ in range(_MAX_RESUMES + 1):
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            cwd=home.parent,
            env=_env(home, key),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        runs.append(
            CliRun(
                tuple(argv),
                done.returncode,
                done.stdout,
                done.stderr,
                time.perf_counter() - started,
            )
        )
        if done.returncode != 1:
            break
        found = re.search(r"--resume (\d+)", done.stderr)
        if found is None:
            break
        argv = [*base, "--resume", found.group(1)]
    return runs


# --- what the sandbox logged ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One put_contact request as the sandbox's log line tells it."""

    marker: str  # "" when the line was cut before the marker
    status: str  # "200", "503", "429", "no answer"
    fault: str  # "" or one of the fault kinds
    reason: str  # the rule's answer (SUCCESS, DUPLICATE EMAIL…) when the rules were asked

    @property
    def answered(self) -> bool:
        """The vendor's rules answered and the answer reached the client."""
        return not self.fault


_LOG_LINE = re.compile(
    r" sandbox \S+ GET /api/vendor/put_contact\?(?P<query>\S*) "
    r"(?P<status>\d{3}|no answer)(?P<note>.*?) \d+ms$"
)
_MARKER_IN_QUERY = re.compile(rf"custom_field\[{MARKER_FIELD}\]=(?P<marker>[A-Za-z0-9-]+)")


def parse_log(text: str) -> list[LoggedRequest]:
    """The put_contact requests of the sandbox's log, in the order they were logged."""
    requests_: list[LoggedRequest] = []
    for line in text.splitlines():
        match = _LOG_LINE.search(line)
        if match is None:
            continue
        marker = _MARKER_IN_QUERY.search(match.group("query"))
        note = match.group("note").strip()
        fault = re.search(r"fault:(\w+)", note)
        requests_.append(
            LoggedRequest(
                marker=marker.group("marker") if marker else "",
                status=match.group("status"),
                fault=fault.group(1) if fault else "",
                reason=re.sub(r"\s*fault:\w+", "", note).strip(),
            )
        )
    return requests_


# --- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def _examples(items: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(str(item) for item in list(items)[:limit])
    return shown + (f" … ({len(items)} in all)" if len(items) > limit else "")


def _check(name: str, bad: Sequence[Any], what: str) -> Check:
    return Check(name, not bad, f"{what}: {_examples(bad)}" if bad else "")


def check_soak(
    rows: Sequence[SoakRow],
    results: Sequence[Mapping[str, str]],
    stored: Sequence[Mapping[str, Any]],
    stats: Mapping[str, Any],
    logged: Sequence[LoggedRequest],
) -> list[Check]:
    """Every check of the module docstring; pure, so that a test can feed it doctored records."""
    by_marker = {row.marker: row for row in rows}
    checks: list[Check] = []

    # 1. One final outcome per row.
    outcome: dict[str, str] = {}
    result_of: dict[str, Mapping[str, str]] = {}
    problems: list[str] = []
    listed: set[str] = set()
    for record in results:
        marker = record.get("Reference #", "")
        if marker not in by_marker:
            problems.append(f"unknown row {record.get('row')!r}")
        elif marker in listed:
            problems.append(f"{marker} listed twice")
        elif record.get("outcome") not in FINAL_OUTCOMES:
            problems.append(f"{marker} is {record.get('outcome')!r}")
        else:
            outcome[marker] = record["outcome"]
            result_of[marker] = record
        listed.add(marker)
    problems += [f"{m} missing" for m in by_marker if m not in listed]
    checks.append(_check("every row has exactly one final outcome", problems, "not so"))

    # 2. Nothing stored twice.
    markers = Counter(
        str((lead.get("params", {}).get("custom_field") or {}).get(MARKER_FIELD, ""))
        for lead in stored
    )
    emails = Counter(
        str(lead.get("params", {}).get("email", "")).casefold()
        for lead in stored
        if lead.get("params", {}).get("email")
    )
    twice = [m for m, n in markers.items() if n > 1] + [e for e, n in emails.items() if n > 1]
    checks.append(_check("no lead stored twice", twice, "stored more than once"))
    unknown = [m for m in markers if m not in by_marker]
    checks.append(_check("only the file's leads are stored", unknown, "stored but not in file"))

    # 3. Delivered means stored, at the lead URL given.
    upc_of = {
        str((lead.get("params", {}).get("custom_field") or {}).get(MARKER_FIELD, "")): str(
            lead.get("upc", "")
        )
        for lead in stored
    }
    lost = [m for m, o in outcome.items() if o == "delivered" and m not in upc_of]
    checks.append(_check("every delivered row is stored", lost, "delivered but not stored"))
    wrong_url = [
        m
        for m, o in outcome.items()
        if o == "delivered"
        and result_of[m].get("lead_url")
        and m in upc_of
        and not result_of[m]["lead_url"].endswith(f"upc={upc_of[m]}")
    ]
    checks.append(
        _check("delivered rows carry their stored lead URL", wrong_url, "another lead's URL")
    )

    # 4. Stored but not delivered: only uncertain rows.
    unclaimed = [m for m in upc_of if m in outcome and outcome[m] != "delivered"]
    bad = [f"{m} ({outcome[m]})" for m in unclaimed if outcome[m] != "uncertain"]
    checks.append(_check("rows stored but not called delivered are uncertain", bad, "stored, yet"))

    # 5. and 6. Each row's tries as the sandbox saw them.
    tries: dict[str, list[LoggedRequest]] = defaultdict(list)
    for request in logged:
        tries[request.marker].append(request)
    resent: list[str] = []
    wrong_uncertain: list[str] = []
    missed_uncertain: list[str] = []
    bad_failed: list[str] = []
    for marker, row in by_marker.items():
        seen = tries.get(marker, [])
        result = outcome.get(marker)
        maybe = [i for i, r in enumerate(seen) if r.fault in MAYBE_TAKEN_FAULTS]
        if not row.email:
            if maybe and maybe[0] != len(seen) - 1:
                resent.append(marker)
            last_maybe = bool(seen) and seen[-1].fault in MAYBE_TAKEN_FAULTS
            if result == "uncertain" and not last_maybe:
                wrong_uncertain.append(f"{marker} (no email; last try {_describe(seen)})")
            if last_maybe and result != "uncertain":
                missed_uncertain.append(f"{marker} ({result} after {seen[-1].fault})")
        elif result == "uncertain":
            ran_out = len(seen) >= MAX_ATTEMPTS and maybe and all(r.fault for r in seen)
            if not ran_out:
                wrong_uncertain.append(f"{marker} (email; tries {_describe(seen)})")
        if result == "failed" and (
            marker in upc_of or any(r.fault not in NOT_TAKEN_FAULTS for r in seen)
        ):
            bad_failed.append(f"{marker} ({_describe(seen)})")
    checks.append(
        _check(
            "no row without email is sent again after a try that may have arrived",
            resent,
            "re-sent",
        )
    )
    checks.append(
        _check(
            "uncertain only after a lost or garbled reply (no email) or when retries ran out",
            wrong_uncertain,
            "uncertain without cause",
        )
    )
    checks.append(
        _check(
            "a lost or garbled last reply on a row without email makes it uncertain",
            missed_uncertain,
            "not uncertain",
        )
    )
    checks.append(
        _check("failed rows were certainly not taken", bad_failed, "failed, yet maybe taken")
    )

    # 7. Bookkeeping agrees on both sides.
    wrong_attempts = [
        f"{m} ({result_of[m].get('attempts')} vs {len(tries.get(m, []))} logged)"
        for m in outcome
        if str(result_of[m].get("attempts", "")) != str(len(tries.get(m, [])))
    ]
    checks.append(
        _check("attempts in the results match the sandbox's log", wrong_attempts, "mismatch")
    )
    unmarked = [r for r in logged if not r.marker]
    faults = Counter(r.fault for r in logged if r.fault)
    counts = [
        ("requests", stats.get("requests"), len(logged)),
        ("stored", stats.get("answers", {}).get("SUCCESS"), len(stored)),
        *((f"fault {k}", stats.get("faults", {}).get(k), faults[k]) for k in faults),
    ]
    disagree = [f"{name} {a} vs {b}" for name, a, b in counts if a != b]
    disagree += [f"{len(unmarked)} log lines without a marker"] if unmarked else []
    checks.append(_check("the sandbox's counts, store and log agree", disagree, "they do not"))
    return checks


def _describe(seen: Sequence[LoggedRequest]) -> str:
    return "+".join(r.fault or r.reason or r.status for r in seen) or "never sent"


# --- the whole soak -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoakRecords:
    """What a soak produced: the generated rows and both sides' records of the sending."""

    rows: list[SoakRow]
    results: list[dict[str, str]]
    stored: list[dict[str, Any]]
    stats: dict[str, Any]
    logged: list[LoggedRequest]

    def check(self) -> list[Check]:
        return check_soak(self.rows, self.results, self.stored, self.stats, self.logged)


@dataclass(frozen=True, slots=True, kw_only=True)
class SoakReport:
    records: SoakRecords = field(repr=False)
    rows: int
    no_email: int
    outcomes: Counter[str]
    uncertain_without_email: int
    uncertain_with_email: int
    stored: int
    stored_uncertain: int
    duplicates_in_store: int
    requests: int
    faults: dict[str, int]
    answers: dict[str, int]
    cli_runs: tuple[CliRun, ...] = field(repr=False)
    wall_s: float
    send_s: float
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks) and self.cli_runs[-1].returncode == 0

    def lines(self) -> list[str]:
        o = self.outcomes
        faults = ", ".join(f"{k} {v}" for k, v in self.faults.items())
        answers = ", ".join(f"{k} {v}" for k, v in self.answers.items() if v)
        exits = ", ".join(str(run.returncode) for run in self.cli_runs)
        rate = self.rows / self.send_s if self.send_s else 0.0
        out = [
            f"rows          {self.rows} ({self.no_email} without email)",
            f"delivered     {o['delivered']}",
            f"rejected      {o['rejected']}",
            f"failed        {o['failed']}",
            f"uncertain     {o['uncertain']} ({self.uncertain_without_email} without email, "
            f"{self.uncertain_with_email} with email: retries ran out)",
            f"invalid/dup   {o['invalid']}/{o['duplicate']}",
            f"stored        {self.stored} ({self.stored_uncertain} of them uncertain rows)",
            f"dup in store  {self.duplicates_in_store}",
            f"requests      {self.requests}",
            f"faults        {faults}",
            f"answers       {answers}",
            f"CLI runs      {len(self.cli_runs)} (exit {exits}; {len(self.cli_runs) - 1} resumes)",
            f"send time     {self.send_s:.1f} s ({rate:.1f} rows/s); wall {self.wall_s:.1f} s",
            "checks:",
        ]
        for check in self.checks:
            out.append(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}")
            if check.detail:
                out.append(f"       {check.detail}")
        if self.cli_runs[-1].returncode != 0:
            out.append(f"  FAIL the CLI's last exit status is {self.cli_runs[-1].returncode}")
        return out


def read_results(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def run_soak(
    *,
    rows: int,
    seed: int,
    workdir: Path,
    concurrency: int = 16,
    timeout_hold: float | None = None,
    faults: Mapping[str, float] = DEFAULT_FAULTS,
    cli_timeout_s: float | None = None,
) -> SoakReport:
    """Generate, send through the CLI, check; everything written under `workdir`."""
    started = time.perf_counter()
    generated = make_rows(rows, seed)
    leads, legend, account = write_inputs(workdir, generated)
    home = workdir / "home"
    out = workdir / "results.csv"
    log_path = workdir / "sandbox.log"
    with sandbox_process(
        account, log_path, seed=seed, faults=faults, timeout_hold=timeout_hold
    ) as (_process, base):
        url = f"{base}/api/vendor/put_contact"
        cli_runs = run_cli(
            leads,
            legend,
            url,
            out,
            home=home,
            concurrency=concurrency,
            timeout_s=cli_timeout_s,
        )
        stored = requests.get(f"{base}/sandbox/leads", timeout=60).json()
        stats = requests.get(f"{base}/sandbox/stats", timeout=60).json()
    if cli_runs[-1].returncode not in (0, 1) or not out.exists():
        last = cli_runs[-1]
        raise SoakError(f"the CLI exited {last.returncode}: {last.stderr[-3000:]}")
    results = read_results(out)
    logged = parse_log(log_path.read_text(encoding="utf-8"))
    records = SoakRecords(generated, results, stored, stats, logged)
    checks = records.check()

    email_of = {row.marker: row.email for row in generated}
    outcome = {r.get("Reference #", ""): r.get("outcome", "") for r in results}
    uncertain = [m for m, o in outcome.items() if o == "uncertain"]
    stored_markers = [
        str((lead["params"].get("custom_field") or {}).get(MARKER_FIELD, "")) for lead in stored
    ]
    counted = Counter(stored_markers)
    return SoakReport(
        records=records,
        rows=rows,
        no_email=sum(1 for row in generated if not row.email),
        outcomes=Counter(outcome.values()),
        uncertain_without_email=sum(1 for m in uncertain if not email_of.get(m)),
        uncertain_with_email=sum(1 for m in uncertain if email_of.get(m)),
        stored=len(stored),
        stored_uncertain=sum(1 for m in counted if outcome.get(m) == "uncertain"),
        duplicates_in_store=sum(n - 1 for n in counted.values() if n > 1),
        requests=int(stats.get("requests", 0)),
        faults=dict(stats.get("faults", {})),
        answers=dict(stats.get("answers", {})),
        cli_runs=tuple(cli_runs),
        wall_s=time.perf_counter() - started,
        send_s=sum(run.seconds for run in cli_runs),
        checks=tuple(checks),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--timeout-hold",
        type=float,
        help="seconds a timeout fault holds the request (the sandbox's default: 30)",
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    hold = "30 (default)" if args.timeout_hold is None else f"{args.timeout_hold:g}"
    print(
        f"soak: {args.rows} rows, seed {args.seed}, concurrency {args.concurrency}, "
        f"faults {DEFAULT_FAULTS}, timeout hold {hold} s",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            workdir = args.keep
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
        try:
            report = run_soak(
                rows=args.rows,
                seed=args.seed,
                workdir=workdir,
                concurrency=args.concurrency,
                timeout_hold=args.timeout_hold,
            )
        except SoakError as error:
            print(f"soak could not run: {error}", file=sys.stderr)
            return 2
        print("\n".join(report.lines()))
        if not report.ok:
            print(f"CLI stderr (last run):\n{report.cli_runs[-1].stderr[-3000:]}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
