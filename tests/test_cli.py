"""`python -m leadstream`: usage errors, dry run, sending, results, live guard, kill -9 + resume."""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from cli_process import cli_argv, cli_env, run_cli, send_argv, wait_for_stored

import leadstream.deliver.target
from leadstream.cli import main
from leadstream.deliver.journal import Journal
from leadstream.deliver.target import DEMO_KEY
from leadstream.sandbox import Account, Faults, SandboxServer

HEADER = ["First Name", "Last Name", "Email", "Phone", "Note"]


def write_leads(path: Path, count: int, *, extra: list[list[str]] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(count):
            writer.writerow([f"P{n}", "Smith", f"p{n}@example.com", f"716293{n:04d}", "x"])
        for row in extra or []:
            writer.writerow(row)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty journal home, the demo key, and a working folder without secrets."""
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LEADSTREAM_KEY", DEMO_KEY)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def runs_in(home: Path) -> list[int]:
    if not (home / "journal.sqlite3").exists():
        return []
    with Journal(home / "journal.sqlite3") as journal:
        return [info.id for info in journal.runs()]


USAGE_ERRORS = [
    pytest.param(["send", "f.csv"], "one of the arguments", id="no-target"),
    pytest.param(["send", "f.csv", "--sandbox", "--live"], "not allowed with", id="two-targets"),
    pytest.param(["send", "f.csv", "--sandbox", "--concurrency", "0"], "too small", id="conc"),
    pytest.param(["send", "f.csv", "--sandbox", "--rate", "-1"], "above 0", id="rate"),
    pytest.param(["send", "--sandbox"], "required: FILE", id="no-file"),
    pytest.param(["frobnicate"], "invalid choice", id="command"),
    pytest.param(["send", "f.csv", "--sandbox", "--key", "k"], "unrecognized", id="key-arg"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE_ERRORS)
def test_usage_errors_exit_2(
    argv: list[str], message: str, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_input_problems_exit_2_with_a_message(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = write_leads(tmp_path / "leads.csv", 2)
    url = "http://127.0.0.1:9/api/vendor/put_contact"
    cases = [
        (["send", "missing.csv", "--sandbox"], "could not be read"),
        (["send", str(leads), "--sandbox", "--mapping", "nope.json"], "mapping file"),
        (["send", str(leads), "--sandbox", "--legend", "Nope"], "neither a file nor a saved"),
        (["send", str(leads), "--url", "ftp://x"], "not a web address"),
        (["send", str(leads), "--sandbox", "--resume", "7"], "no bulk run 7"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err, (argv, err)
        assert "Traceback" not in err
    monkeypatch.delenv("LEADSTREAM_KEY")
    assert main(["send", str(leads), "--url", url]) == 2
    assert "No vendor key" in capsys.readouterr().err
    assert runs_in(home) == []


def test_dry_run_prints_masked_urls_and_sends_nothing(
    home: Path,
    tmp_path: Path,
    fresh_sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "SECRET-KEY-3b8e1d77aa"
    monkeypatch.setenv("LEADSTREAM_KEY", secret)
    bad = ["Bad", "Row", "not-an-email@", "7162930000", ""]
    dup = ["Again", "Smith", "P0@example.com", "7162939999", ""]
    leads = write_leads(tmp_path / "leads.csv", 3, extra=[bad, dup])
    argv = [
        "send",
        str(leads),
        "--url",
        fresh_sandbox.url,
        "--dry-run",
        "--user-id",
        "377310706",
        "--cm-id",
        "576846",
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(fresh_sandbox.url + "?key=****") for line in lines)
    assert "email=p1%40example.com" in lines[1]
    assert secret not in out + err
    assert "Row 5" in err
    assert "invalid" in err
    assert "duplicate: Same email as row 2." in err
    assert fresh_sandbox.stats()["requests"] == 0
    assert runs_in(home) == []


def test_send_writes_results_and_exits_0(
    home: Path, tmp_path: Path, fresh_sandbox: SandboxServer, capsys
) -> None:
    rejected = ["Cancel", "Led", "c@example.com", "7162930001", "=1+1"]
    leads = write_leads(tmp_path / "leads.csv", 5, extra=[rejected])
    mapping = tmp_path / "map.json"
    mapping.write_text(
        '{"columns": {"First Name": "firstname", "Email": "email", "Phone": "phone"},'
        ' "constants": {"user_id": "377310706", "cm_id": "576846"}}'
    )
    results = tmp_path / "out.csv"
    argv = [
        "send",
        str(leads),
        "--url",
        fresh_sandbox.url,
        "--mapping",
        str(mapping),
        "--results",
        str(results),
        "--concurrency",
        "3",
    ]
    assert main(argv) == 0
    out, _err = capsys.readouterr()
    assert out.strip() == (
        "Run 1 finished: 6 rows: 6 delivered, 0 rejected, 0 failed, 0 uncertain, 0 invalid, "
        "0 duplicate"
    )
    assert "\x1b[" not in out  # no progress bar when standard output is not a terminal
    assert len(fresh_sandbox.leads()) == 6
    data = results.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(table[0])[:5] == HEADER
    assert {"row", "outcome", "code", "detail", "lead_url"} <= set(table[0])
    assert [r["outcome"] for r in table] == ["delivered"] * 6
    assert table[5]["Note"] == "'=1+1"
    assert all(r["lead_url"].startswith("https://www.phoneburner.com/ms/") for r in table)
    with Journal(home / "journal.sqlite3") as journal:
        assert {entry.source for entry in journal.history()} == {"cli"}
    # Sending the same file again: every row was delivered from this computer already.
    assert main(argv) == 0
    assert "0 delivered" in capsys.readouterr().out
    assert len(fresh_sandbox.leads()) == 6


def test_sandbox_flag_uses_an_in_process_emulator(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADSTREAM_KEY")
    leads = write_leads(tmp_path / "leads.csv", 4)
    assert main(["send", str(leads), "--sandbox"]) == 0
    out, err = capsys.readouterr()
    assert "4 delivered" in out
    assert "demo" in err


def test_sandbox_flag_never_sends_a_configured_real_key(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "SECRET-KEY-real-5c1e"
    monkeypatch.setenv("LEADSTREAM_KEY", secret)
    leads = write_leads(tmp_path / "leads.csv", 2)
    assert main(["send", str(leads), "--sandbox"]) == 0
    out, err = capsys.readouterr()
    assert "2 delivered" in out
    assert secret not in out + err


def test_unfinished_run_exits_1_and_resumes(
    home: Path, tmp_path: Path, fresh_sandbox: SandboxServer, capsys
) -> None:
    leads = write_leads(tmp_path / "leads.csv", 3)
    # A cancelled user: the first row's answer would be every row's, so the run pauses.
    argv = [
        "send",
        str(leads),
        "--url",
        fresh_sandbox.url,
        "--user-id",
        "377310000",
        "--cm-id",
        "576846",
    ]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "Run 1 paused" in out
    assert "2 not sent" in out
    assert "CANCELLED USER" in err
    assert "To carry on: python -m leadstream send --resume 1" in err
    assert fresh_sandbox.stats()["requests"] == 1
    assert main(["runs"]) == 0
    assert "paused" in capsys.readouterr().out
    # Resuming against another address is refused: the run belongs to its target.
    other = "http://127.0.0.1:9/api/vendor/put_contact"
    assert main(["send", str(leads), "--url", other, "--resume", "1"]) == 2
    assert "was sent to" in capsys.readouterr().err
    # Resumed as it is, the canary has had its say: the rest go and are rejected too.
    assert main([*argv, "--resume", "1"]) == 0
    assert "3 rejected" in capsys.readouterr().out
    assert main(["runs"]) == 0
    assert "No unfinished runs." in capsys.readouterr().err


def test_resuming_a_run_another_program_is_sending_is_refused(
    home: Path, tmp_path: Path, fresh_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = write_leads(tmp_path / "leads.csv", 3)
    argv = ["send", str(leads), "--url", fresh_sandbox.url, "--user-id", "377310000"]
    assert main([*argv, "--cm-id", "576846"]) == 1  # a cancelled user: paused after one row
    capsys.readouterr()
    # Another program (a desk, a terminal) takes the run up and keeps sending it.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom leadstream.deliver.journal import Journal\n"
            f"j = Journal({str(home / 'journal.sqlite3')!r})\nj.begin_run(1)\n"
            "print('ready', flush=True)\ntime.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(home),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        requests = fresh_sandbox.stats()["requests"]
        assert main(["send", "--resume", "1"]) == 2
        err = capsys.readouterr().err
        assert f"Bulk run 1 is being sent by process {holder.pid}" in err
        assert "Traceback" not in err
        assert fresh_sandbox.stats()["requests"] == requests  # nothing sent twice
    finally:
        holder.kill()
        holder.wait()


def test_live_needs_confirmation(
    home: Path,
    tmp_path: Path,
    fresh_sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "Live" points at the loopback sandbox, so that no test can reach PhoneBurner.
    monkeypatch.setattr(leadstream.deliver.target, "PHONEBURNER_URL", fresh_sandbox.url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    leads = write_leads(tmp_path / "leads.csv", 2)
    argv = ["send", str(leads), "--live", "--user-id", "377310706", "--cm-id", "576846"]
    assert main(argv) == 2
    assert "--yes" in capsys.readouterr().err
    assert fresh_sandbox.stats()["requests"] == 0
    assert main([*argv, "--dry-run"]) == 0
    assert fresh_sandbox.stats()["requests"] == 0
    assert main([*argv, "--yes"]) == 0
    assert len(fresh_sandbox.leads()) == 2


@pytest.mark.slow
def test_kill_9_midway_then_resume_loses_and_doubles_nothing(tmp_path: Path) -> None:
    count = 300
    leads = write_leads(tmp_path / "leads.csv", count)
    env = cli_env(tmp_path / "home")
    with SandboxServer(Account.demo(), faults=Faults(latency_ms=25), log=None) as server:
        argv = send_argv(leads, server)
        first = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_for_stored(server, first, count // 3, "the first run made no progress")
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        time.sleep(0.2)  # requests the dead sender left on the wire finish server-side
        stored_before = len(server.leads())
        assert stored_before < count

        listed = run_cli(cli_argv("runs"), cwd=tmp_path, env=env, timeout=60)
        assert "interrupted" in listed.stdout

        resumed = run_cli(
            [*argv, "--resume", "1", "--results", "out.csv"], cwd=tmp_path, env=env, timeout=120
        )
        assert resumed.returncode == 0, resumed.stderr
        stored = server.leads()

    emails = Counter(s.lead.email for s in stored)
    assert len(emails) == count, "a row was lost"
    assert max(emails.values()) == 1, "a row was sent twice"
    with Journal(tmp_path / "home" / "journal.sqlite3") as journal:
        info = journal.run(1)
        rows = journal.run_rows(1)
    assert info.status == "finished"
    assert Counter(r.state for r in rows) == {"delivered": count}
    assert len(stored) == count
    assert f"Run 1 finished: {count} rows: {count} delivered" in resumed.stdout
    table = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text("utf-8-sig"))))
    assert len(table) == count


LEGEND_HEADER = ["First Name", "Email", "Follow Up Date", "Do Not Call", "Favourite Colour"]


def test_sandbox_uses_its_own_legend_and_unmatched_columns_are_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "legend.csv"
    leads.write_text(
        ",".join(LEGEND_HEADER) + "\nAnn,ann@example.com,2025-03-05,yes,blue\n", encoding="utf-8"
    )
    assert main(["send", str(leads), "--sandbox", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "custom_field[195481]=03%2F05%2F2025" in out
    assert "custom_field[300100]=1" in out
    assert "Favourite Colour" not in out
    assert "using the sandbox's legend 'Demo LeadStream'" in err
    # The bulk page's words for it (views.unsent_columns_warning), then the CLI's way to act
    assert (
        "warning: 4 of 5 columns are sent. Ignored: “Favourite Colour”. Those columns are not "
        "sent: choose a field for any you want in PhoneBurner. Here: --legend for custom "
        "fields, or --mapping saved in the app."
    ) in err


def test_without_a_legend_custom_field_columns_are_named_as_not_sent(
    home: Path, tmp_path: Path, fresh_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = tmp_path / "legend.csv"
    leads.write_text(
        ",".join(LEGEND_HEADER) + "\nAnn,ann@example.com,2025-03-05,yes,blue\n", encoding="utf-8"
    )
    argv = ["send", str(leads), "--url", fresh_sandbox.url, "--dry-run", "--cm-id", "576846"]
    assert main([*argv, "--user-id", "377310706"]) == 0
    out, err = capsys.readouterr()
    assert "custom_field" not in out
    assert (
        "2 of 5 columns are sent. Ignored: “Follow Up Date”, “Do Not Call”, “Favourite Colour”. "
        "Those columns are not sent"
    ) in err


# --- runs and run: any run, started here or in the app --------------------------------------


def app_run(
    home: Path, count: int, *, settings: str | None = None, user_id: str = "377310706"
) -> int:
    """A run as the app's bulk page makes it: sandbox target, RunSettings (or an older shape)."""
    from leadstream.deliver.engine import engine_for
    from leadstream.deliver.run_settings import RunSettings
    from leadstream.deliver.target import Target
    from leadstream.prepare.mapping import PreparedRow
    from leadstream.protocol.lead import Lead

    rows = [
        PreparedRow(
            index=n,
            line=n + 2,
            lead=Lead(email=f"app{n}@example.com", user_id=user_id, cm_id="576846"),
            problems=(),
            source={"Email": f"app{n}@example.com"},
        )
        for n in range(count)
    ]
    with Journal(home / "journal.sqlite3") as journal:
        run_id, _ = engine_for(journal).create_run(
            RunSettings(target=Target.sandbox("http://127.0.0.1:1/gone"), concurrency=2),
            source_name="app.csv",
            prepared_rows=rows,
            origin="bulk",
        )
        if settings is not None:
            with journal._tx() as db:
                db.execute("UPDATE runs SET settings = ? WHERE id = ?", (settings, run_id))
    return run_id


# The bulk page's settings before they had one form: the mapping as an object, rate 0 = none.
OLD_PAGE_SETTINGS = (
    '{"origin": "bulk upload page", "concurrency": 3, "rate": 0.0, "canary": true,'
    ' "pause_after_failures": 5, "legend": "Demo LeadStream",'
    ' "mapping": {"columns": {"Email": "email"}, "constants": {"cm_id": "576846"}}}'
)


@pytest.mark.parametrize("settings", [None, OLD_PAGE_SETTINGS], ids=["current", "old-page"])
def test_send_resume_alone_finishes_an_app_run(
    home: Path, capsys: pytest.CaptureFixture[str], settings: str | None
) -> None:
    run_id = app_run(home, 5, settings=settings)
    assert main(["run", "show", str(run_id)]) == 0
    out, err = capsys.readouterr()
    assert f"Run {run_id} paused: 5 rows" in out
    assert "Built-in sandbox" in out
    assert "app.csv, from bulk" in out
    assert f"send --resume {run_id}" in err
    assert main(["send", "--resume", str(run_id)]) == 0
    out, err = capsys.readouterr()
    assert f"Run {run_id} finished: 5 rows: 5 delivered" in out
    assert "sandbox's demo key" in err


def test_runs_lists_unfinished_runs_or_all(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = app_run(home, 2)
    second = app_run(home, 3)
    assert main(["send", "--resume", str(first)]) == 0
    capsys.readouterr()
    assert main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split()[0]) for line in lines] == [second]
    assert "paused" in lines[0]
    assert "0/3 done" in lines[0]
    assert "bulk" in lines[0]
    assert main(["runs", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split()[0]) for line in lines] == [second, first]
    assert "finished" in lines[1]
    assert "2/2 done" in lines[1]


def test_run_cancel_export_and_unknown_runs(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = app_run(home, 3)
    assert main(["run", "pause", str(run_id)]) == 0
    assert "nothing to pause" in capsys.readouterr().err
    assert main(["run", "cancel", str(run_id)]) == 0
    assert f"Run {run_id} cancelled: 3 rows" in capsys.readouterr().out
    assert main(["run", "cancel", str(run_id)]) == 0
    assert "is cancelled; there is nothing to cancel" in capsys.readouterr().err
    out = tmp_path / "export.csv"
    assert main(["run", "export", str(run_id), str(out)]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [r["outcome"] for r in table] == ["not sent"] * 3
    assert table[0]["Email"] == "app0@example.com"
    assert main(["run", "export", str(run_id), "-"]) == 0
    assert "app2@example.com" in capsys.readouterr().out
    assert main(["run", "show", "99"]) == 2
    assert "no bulk run 99" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "frobnicate", "1"])


def test_run_pause_reaches_a_run_another_process_sends(home: Path, tmp_path: Path) -> None:
    leads = write_leads(tmp_path / "leads.csv", 300)
    env = cli_env(home)
    with SandboxServer(Account.demo(), faults=Faults(latency_ms=25), log=None) as server:
        sender = subprocess.Popen(
            send_argv(leads, server, concurrency=2),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_stored(server, sender, 10, "the sender made no progress", every=0.02)
            paused = run_cli(cli_argv("run", "pause", "1"), cwd=tmp_path, env=env, timeout=90)
            out, err = sender.communicate(timeout=60)
        finally:
            sender.kill()
            sender.wait()
        stored = len(server.leads())
    assert paused.returncode == 0, paused.stderr
    assert "Asked process" in paused.stderr
    assert "Run 1 paused" in paused.stdout
    assert sender.returncode == 1  # the sender stopped: the run did not finish
    assert "Paused from another window or program." in err
    assert f"Run 1 paused: 300 rows: {stored} delivered" in out
    assert stored < 300


def test_a_resumed_dry_run_prints_the_rows_left(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = app_run(home, 3)
    assert main(["send", "--resume", str(run_id), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all("?key=****&" in line and "app" in line for line in lines)
    with Journal(home / "journal.sqlite3") as journal:
        assert journal.run(run_id).counts["pending"] == 3
