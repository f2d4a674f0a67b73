"""Team mode on a real PostgreSQL: desks (CLI processes, each with its own LEADSTREAM_HOME)
sharing one journal send each lead once, tell the truth about who sent what, and finish each
other's runs. The sandbox's account accepts leads without an email, as in issue 12: those are
the leads the endpoint cannot tell apart by itself."""

from __future__ import annotations

import csv
import dataclasses
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from cli_process import cli_argv, cli_env, run_cli, send_argv, wait_for_stored

from leadstream.deliver.journal import Journal, default_sender
from leadstream.sandbox import Account, Faults, SandboxServer
from leadstream.sandbox.rules import StoredLead

NO_EMAIL_ACCOUNT = dataclasses.replace(Account.demo(), require_email=False)


def write_leads(path: Path, count: int) -> Path:
    """`count` leads, every other one without an email (told apart by name and phone)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Email", "Phone"])
        for n in range(count):
            email = f"p{n}@example.com" if n % 2 == 0 else ""
            writer.writerow([f"P{n}", "Smith", email, f"716293{n:04d}"])
    return path


def desk_env(tmp_path: Path, name: str, url: str) -> dict[str, str]:
    """A desk's environment: its own LEADSTREAM_HOME, the team's journal at `url`."""
    return cli_env(tmp_path / name, LEADSTREAM_DATABASE_URL=url)


def identities(stored: list[StoredLead]) -> Counter[str]:
    """Each stored lead by who it is (its first name is unique in the file)."""
    return Counter(s.lead.firstname for s in stored)


def test_two_desks_sending_one_file_at_once_store_each_lead_once(
    pg_url: str, tmp_path: Path
) -> None:
    count = 400
    leads = write_leads(tmp_path / "leads.csv", count)
    with SandboxServer(NO_EMAIL_ACCOUNT, faults=Faults(latency_ms=5), log=None) as server:
        desks = [
            subprocess.Popen(
                send_argv(leads, server),
                cwd=tmp_path,
                env=desk_env(tmp_path, name, pg_url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("desk-a", "desk-b")
        ]
        for desk in desks:
            _, err = desk.communicate(timeout=180)
            assert desk.returncode == 0, err
        stored = server.leads()

    once = identities(stored)
    assert len(once) == count, "a lead was lost"
    assert max(once.values()) == 1, "a lead was stored twice"
    with Journal(url=pg_url) as journal:
        runs = journal.runs()
        assert len(runs) == 2
        rows = {info.id: journal.run_rows(info.id) for info in runs}
    delivered = {
        run_id: {r.lead.firstname for r in run if r.state == "delivered"}
        for run_id, run in rows.items()
    }
    first, second = delivered.values()
    # Each desk's results tell the truth: what it says it delivered is stored, and the two
    # desks' deliveries split the file between them.
    assert not first & second
    assert first | second == set(once)
    for run_id, run in rows.items():
        odd = [(r.row, r.state, r.help) for r in run if r.state not in ("delivered", "duplicate")]
        assert not odd, odd
        other = next(i for i in rows if i != run_id)
        for row in run:
            if row.state == "duplicate":
                # Claimed by the other desk as this one came to send it, or (a desk that
                # started late) already delivered when this desk planned its run.
                named = f"(run {other})" in row.help and "sent by" in row.help.lower()
                assert named or "already delivered" in row.help, row.help


def test_a_killed_desk_run_is_finished_from_another_desk(pg_url: str, tmp_path: Path) -> None:
    count = 300
    leads = write_leads(tmp_path / "leads.csv", count)
    with SandboxServer(NO_EMAIL_ACCOUNT, faults=Faults(latency_ms=25), log=None) as server:
        first = subprocess.Popen(
            send_argv(leads, server),
            cwd=tmp_path,
            env=desk_env(tmp_path, "desk-a", pg_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_for_stored(server, first, count // 3, "the first desk made no progress")
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        time.sleep(0.2)  # requests the dead desk left on the wire finish server-side

        other = desk_env(tmp_path, "desk-b", pg_url)
        listed = run_cli(cli_argv("runs"), cwd=tmp_path, env=other, timeout=60)
        # The other desk sees the team's unfinished run, and whose it is.
        assert "interrupted" in listed.stdout, listed.stdout + listed.stderr
        assert f"by {default_sender()}" in listed.stdout
        resumed = run_cli(cli_argv("send", "--resume", "1"), cwd=tmp_path, env=other, timeout=180)
        assert resumed.returncode == 0, resumed.stderr
        stored = server.leads()

    once = identities(stored)
    assert max(once.values()) == 1, "a lead was stored twice"
    with Journal(url=pg_url) as journal:
        info = journal.run(1)
        rows = journal.run_rows(1)
    assert info.status == "finished"
    states = Counter(r.state for r in rows)
    # Leads without an email that were on the wire when the desk died stay `uncertain` (never
    # sent again); every other lead is delivered, once.
    assert set(states) <= {"delivered", "uncertain"}
    assert states["uncertain"] <= 4
    delivered = {r.lead.firstname for r in rows if r.state == "delivered"}
    assert delivered <= set(once)
    assert len(once) >= states["delivered"]
    assert len(once) <= count


def test_a_run_whose_lease_ran_out_may_be_resumed_by_any_desk(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sender on another computer cannot be checked by its process id: only its lease
    says it is alive. Renewed, the lease keeps the run; left, it runs out."""
    monkeypatch.setenv("LEADSTREAM_LEASE_SECONDS", "1")
    from leadstream.deliver.target import Target
    from leadstream.protocol.lead import Lead

    with Journal(url=pg_url) as here, Journal(url=pg_url) as there:
        run_id = here.create_run(
            target=Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact"),
            source_name="f.csv",
            rows=[(0, 2, Lead(firstname="A", email="a@x.org", cm_id="1"), {})],
        )
        there.begin_run(run_id)
        with there._tx() as tx:  # the sender is on another computer
            tx.execute("UPDATE runs SET owner_host = 'desk-far-away' WHERE id = ?", (run_id,))
        there._host = "desk-far-away"
        time.sleep(2.5)  # renewed twice a second: still held
        assert here.run_status(run_id) == "running"
        from leadstream.deliver.journal import JournalError

        with pytest.raises(JournalError, match="being sent by process"):
            here.begin_run(run_id)
        there.close()  # the far desk dies: nobody renews
        time.sleep(1.5)
        assert here.run_status(run_id) == "interrupted"
        here.begin_run(run_id)
        assert here.run_status(run_id) == "running"
