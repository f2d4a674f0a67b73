"""`legend fetch` and `check` (`leadstream.cli_rest`) against real sandboxes: the legend in both
formats and saved; tokens missing or wrong; the run's own target; and a lossy run settled and
re-sent until every lead is stored exactly once. The commands are parsed as `cli.py` registers
them (`add_commands`); one test goes through `leadstream.cli.main` itself."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
from collections import Counter
from pathlib import Path

import pytest

import leadstream.cli_rest
import leadstream.deliver.client
from leadstream.cli_rest import add_commands, run
from leadstream.deliver.engine import engine_for
from leadstream.deliver.journal import Journal, NewRow, RunInfo
from leadstream.deliver.outcomes import RetryPolicy
from leadstream.deliver.target import Target
from leadstream.prepare.legend import parse_legend
from leadstream.protocol.lead import Lead
from leadstream.sandbox import DEMO_TOKEN, Account, Faults, SandboxServer

USER, CM = "377310706", "576846"
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.02)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEADSTREAM_TOKEN", raising=False)
    monkeypatch.delenv("LEADSTREAM_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        leadstream.cli_rest,
        "REST_OPTIONS",
        {"max_attempts": 40, "base_delay_s": 0.01, "max_delay_s": 0.05},
    )
    monkeypatch.setattr(leadstream.deliver.client, "RetryPolicy", lambda: FAST)
    return tmp_path / "home"


def main(argv: list[str]) -> int:
    """The commands as `python -m leadstream` parses and runs them."""
    parser = argparse.ArgumentParser(prog="python -m leadstream")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


def send_run(home: Path, url: str, leads: list[Lead], *, run_id: int | None = None) -> int:
    """Create (or resume) a run of `leads` to `url` through the engine and wait until it has
    finished; a streak of silence pauses a run, so it is resumed."""
    with Journal(home / "journal.sqlite3") as journal:
        engine = engine_for(journal)
        if run_id is None:
            run_id = journal.create_run(
                target=Target.custom(url),
                source_name="leads.csv",
                rows=[
                    NewRow(i, i + 2, lead, {"Email": lead.email, "Phone": lead.phone})
                    for i, lead in enumerate(leads)
                ],
                origin="cli",
            )
        for _ in range(20):
            engine.start(run_id, key="XXXYYYZZZ")
            engine.wait(run_id)
            if journal.run(run_id).status == "finished":
                return run_id
        pytest.fail(f"run {run_id} never finished")


def newest(home: Path) -> RunInfo:
    with Journal(home / "journal.sqlite3") as journal:
        return journal.runs(limit=1)[0]


def test_the_commands_are_registered_in_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from leadstream.cli import main as cli_main

    assert cli_main(["legend", "fetch", "--sandbox", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["fields"]


@pytest.mark.parametrize("fmt", ["paste", "json"])
def test_legend_fetch_from_the_sandbox(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["legend", "fetch", "--sandbox", "--format", fmt]) == 0
    out, err = capsys.readouterr()
    legend = parse_legend(out)
    expected = [
        ("297989", "Reference #", "text"),
        ("195481", "Follow Up Date", "date"),
        ("300100", "Do Not Call", "checkbox"),
    ]
    assert "3 custom fields" in err
    if fmt == "json":
        assert [(f.id, f.name, f.type.value) for f in legend.fields] == expected
        assert json.loads(out)["fields"][0]["id"] == "297989"
    else:
        # PhoneBurner's pasted form has no types: the note says how to keep them.
        assert [(f.id, f.name) for f in legend.fields] == [e[:2] for e in expected]
        assert "--format json" in err


def test_legend_fetch_saves_it(
    home: Path, fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", DEMO_TOKEN)
    assert main(["legend", "fetch", "--url", fresh_sandbox.url, "--save", "From PB"]) == 0
    with Journal(home / "journal.sqlite3") as journal:
        saved = journal.legend("From PB")
    assert saved is not None
    assert len(saved.fields) == 3


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (None, "No PhoneBurner access token is configured"),
        ("nope", "did not accept the access token"),
    ],
)
def test_legend_fetch_without_a_good_token(
    token: str | None,
    words: str,
    fresh_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if token:
        monkeypatch.setenv("LEADSTREAM_TOKEN", token)
    assert main(["legend", "fetch", "--url", fresh_sandbox.url]) == 2
    out, err = capsys.readouterr()
    assert words in err
    assert out == ""


def test_the_token_from_a_token_file(
    tmp_path: Path, fresh_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "token.txt").write_text(DEMO_TOKEN + "\n", encoding="utf-8")
    assert main(["legend", "fetch", "--url", fresh_sandbox.url, "--token-file", "token.txt"]) == 0
    assert "token: ****" in capsys.readouterr().err


def test_check_names_the_runs_own_target(
    home: Path,
    fresh_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", DEMO_TOKEN)
    lead = Lead(email="a@example.com", user_id=USER, cm_id=CM)
    run_id = send_run(home, fresh_sandbox.url, [lead])
    assert main(["check", str(run_id), "--url", "http://127.0.0.1:9/api/vendor/put_contact"]) == 2
    assert "check it against the same target" in capsys.readouterr().err
    assert main(["check", str(run_id), "--sandbox"]) == 2
    assert main(["check", str(run_id), "--url", fresh_sandbox.url]) == 0
    assert "checked 0 uncertain rows" in capsys.readouterr().out


def _leads(n: int) -> list[Lead]:
    """n leads, every third without an email."""
    return [
        Lead(
            firstname=f"L{i}",
            lastname="Lossy",
            email="" if i % 3 == 2 else f"lead{i}@example.com",
            phone=f"716{i:07d}",
            user_id=USER,
            cm_id=CM,
        )
        for i in range(n)
    ]


@pytest.mark.slow
def test_a_lossy_run_is_settled_and_resent_until_every_lead_is_stored_exactly_once(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEADSTREAM_KEY", "XXXYYYZZZ")
    monkeypatch.setenv("LEADSTREAM_TOKEN", DEMO_TOKEN)
    leads = _leads(90)
    account = dataclasses.replace(Account.demo(), require_email=False)
    faults = Faults(lost_reply_rate=0.2, timeout_rate=0.15, timeout_hold_s=0.2, seed=4)
    with SandboxServer(account, faults=faults, log=io.StringIO()) as server:
        run_id = send_run(home, server.url, leads)
        first = newest(home).counts
        assert first["uncertain"] > 0, "the faults should leave some rows uncertain"
        unsure_at_first = first["uncertain"]
        checks = 0
        for _ in range(12):
            checks += 1
            code = main(
                ["check", str(run_id), "--url", server.url, "--resend", "--results", "out.csv"]
            )
            made = newest(home)
            if made.id == run_id:  # nothing was failed, so nothing was sent again
                assert code == 0, "rows were left uncertain"
                break
            if made.status != "finished":
                send_run(home, server.url, [], run_id=made.id)
            run_id = made.id  # the resend may have unsure rows of its own: check them in turn
        else:
            pytest.fail("the check never settled")
        stored = Counter(s.lead.email or s.lead.phone for s in server.leads())
        rest_faults = server.rest_stats()
    assert stored == Counter(lead.email or lead.phone for lead in leads), (
        "every lead stored once: none twice, none missing"
    )
    results = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert "outcome" in results[0]
    assert len(results) == 1 + len(newest(home).counts and list(results[1:]))
    print(
        f"lossy run: {unsure_at_first} of {len(leads)} rows uncertain at first, settled in "
        f"{checks} checks; REST faults survived: {rest_faults}"
    )


def test_check_sandbox_uses_the_runs_own_sandbox_and_its_demo_token(
    home: Path, fresh_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    lead = Lead(email="s@example.com", user_id=USER, cm_id=CM)
    with Journal(home / "journal.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.sandbox(fresh_sandbox.url),
            source_name="x.csv",
            rows=[NewRow(0, 2, lead, {}, "uncertain")],
        )
    assert main(["check", str(run_id), "--sandbox", "--resend"]) == 0
    out, err = capsys.readouterr()
    assert "1 not there" in out
    assert "token" not in err  # no configured token is asked for
    assert [s.lead.email for s in fresh_sandbox.leads()] == ["s@example.com"]


def test_check_sandbox_when_that_sandbox_is_gone(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SandboxServer(log=None) as gone:
        url = gone.url
    with Journal(home / "journal.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.sandbox(url),
            source_name="x.csv",
            rows=[NewRow(0, 2, Lead(email="g@example.com"), {}, "uncertain")],
        )
    assert main(["check", str(run_id), "--sandbox"]) == 1
    assert "is not running any more" in capsys.readouterr().err
    with Journal(home / "journal.sqlite3") as journal:
        assert journal.run_rows(run_id)[0].state == "uncertain"


def test_check_results_without_a_resend_are_the_runs_own(
    home: Path, tmp_path: Path, fresh_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_TOKEN", DEMO_TOKEN)
    lead = Lead(email="r@example.com", user_id=USER, cm_id=CM)
    with Journal(home / "journal.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.custom(fresh_sandbox.url),
            source_name="x.csv",
            rows=[NewRow(0, 2, lead, {"Email": "r@example.com"}, "uncertain")],
        )
    assert main(["check", str(run_id), "--url", fresh_sandbox.url, "--results", "r.csv"]) == 0
    lines = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Email,row,outcome")
    assert ",failed,NOT IN PHONEBURNER," in lines[1]
