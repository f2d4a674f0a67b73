"""The Runs page through Streamlit's AppTest: the paged list of every bulk run, opening one by
`?run=<id>`, and a run the CLI created and left paused (`python -m leadstream send … --sandbox`
in a subprocess, on the same LEADSTREAM_HOME) opened, resumed and finished in the app, every
lead stored once in the app's real in-process sandbox.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadstream.deliver.journal import JOURNAL_FILENAME, Journal, NewRow
from leadstream.deliver.run_settings import RunSettings
from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID, Target
from leadstream.protocol.lead import Lead
from leadstream.sandbox import Account, Faults, SandboxServer

ROOT = Path(__file__).resolve().parents[1]
RUNS = "pages/runs.py"
CANCELLED_USER = "377310000"  # the demo account's cancelled user: an account-wide refusal


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path))
    monkeypatch.delenv("LEADSTREAM_KEY", raising=False)
    return tmp_path


def texts(elements: object) -> str:
    return "\n".join(str(e.value) for e in elements)  # type: ignore[attr-defined]


def open_runs(run: int | str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["keep.conn.target"] = "sandbox"
    at.session_state["keep.conn.user_id"] = DEMO_USER_ID
    at.session_state["keep.conn.cm_id"] = DEMO_CM_ID
    if run is not None:
        at.query_params["run"] = str(run)
    at.switch_page(RUNS).run()
    assert not at.exception, at.exception
    return at


def make_runs(home: Path, count: int) -> list[int]:
    """`count` small runs, each with one row in a different state, as the journal stores them."""
    ids = []
    with Journal(home / JOURNAL_FILENAME) as journal:
        for n in range(count):
            lead = Lead(firstname=f"R{n}", email=f"r{n}@example.com")
            ids.append(
                journal.create_run(
                    target=Target.sandbox("http://127.0.0.1:9/api/vendor/put_contact"),
                    source_name=f"file{n}.csv",
                    rows=[
                        NewRow(0, 2, lead, {"Email": lead.email}),
                        NewRow(1, 3, Lead(email="x"), {"Email": "x"}, "invalid", "bad email"),
                    ],
                    origin="cli" if n % 2 else "bulk",
                )
            )
    return ids


def run_list(at: AppTest) -> list[int]:
    frames = [d.value for d in at.dataframe if "Run" in d.value.columns]
    assert len(frames) == 1
    return [int(n) for n in frames[0]["Run"]]


def wait_for(home: Path, run_id: int, timeout: float = 30.0) -> str:
    with Journal(home / JOURNAL_FILENAME) as journal:
        deadline = time.monotonic() + timeout
        while (status := journal.run(run_id).status) == "running":
            assert time.monotonic() < deadline, f"run {run_id} still running"
            time.sleep(0.05)
    return status


def sandbox_emails() -> Counter[str]:
    """How many times the app's in-process sandbox stored each email (`GET /sandbox/leads`)."""
    from ui.state import get_sandbox

    base = get_sandbox().base_url
    assert base.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{base}/sandbox/leads", timeout=5) as answer:
        stored = json.load(answer)
    return Counter(str(lead["params"].get("email", "")).lower() for lead in stored)


# ---------------------------------------------------------------------------- the list


def test_no_runs_says_where_runs_come_from(home: Path) -> None:
    at = open_runs()
    assert "No bulk runs yet" in texts(at.info)
    assert not at.dataframe


def test_list_pages_through_every_run_newest_first(home: Path) -> None:
    ids = make_runs(home, 30)
    at = open_runs()
    assert run_list(at) == ids[::-1][:25]
    assert "Runs 1–25 of 30, newest first" in texts(at.caption)
    frame = next(d.value for d in at.dataframe if "Run" in d.value.columns)
    first = frame.iloc[0]
    assert (first["File"], first["From"], first["Status"]) == ("file29.csv", "CLI", "paused")
    assert (first["Rows"], first["Unsent"], first["Kept back"]) == (2, 1, 1)
    at.pagination(key="runs.page").set_value(2).run()
    assert not at.exception, at.exception
    assert run_list(at) == ids[::-1][25:]
    assert "Runs 26–30 of 30" in texts(at.caption)


OPENED = [
    ("abc", "“abc” in the address is not a run number"),
    ("0", "“0” in the address is not a run number"),
    ("999", "There is no bulk run 999"),
]


@pytest.mark.parametrize(("param", "says"), OPENED)
def test_a_bad_run_in_the_address_is_said(home: Path, param: str, says: str) -> None:
    make_runs(home, 1)
    at = open_runs(param)
    assert says in texts(at.error)


def test_run_in_the_address_opens_its_panel_and_back_to_the_list(home: Path) -> None:
    ids = make_runs(home, 3)
    at = open_runs(ids[1])
    assert f"Run #{ids[1]} · file1.csv" in texts(at.subheader)
    assert "from the command line" in texts(at.caption)
    assert at.button(key=f"run.resume.{ids[1]}")
    results = [d.value for d in at.dataframe if "outcome" in d.value.columns]
    assert list(results[-1]["outcome"]) == ["not sent", "invalid"]
    at.button(key="runs.back").click().run()
    assert not at.exception, at.exception
    assert "run" not in at.query_params
    assert run_list(at) == ids[::-1]


# ---------------------------------------------------------------------------- a CLI run in the app


def cli_send(home: Path, csv_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LEADSTREAM_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("LEADSTREAM_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "leadstream", "send", str(csv_path), "--sandbox", *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


# The settings the CLI stored before they had one versioned form: the mapping as JSON text.
OLD_CLI_SETTINGS = {
    "concurrency": 4,
    "rate": None,
    "legend": "",
    "mapping": json.dumps(
        {
            "version": 1,
            "columns": {
                "First Name": "firstname",
                "Email": "email",
                "user_id": "user_id",
                "cm_id": "cm_id",
            },
            "constants": {},
        },
        indent=2,
    ),
    "include_duplicates": False,
}


@pytest.mark.slow
@pytest.mark.parametrize("settings", ["as the CLI writes them", "older CLI shape"])
def test_cli_run_paused_by_its_first_row_resumes_and_finishes_in_the_app(
    home: Path, tmp_path: Path, settings: str
) -> None:
    token = uuid.uuid4().hex[:10]
    emails = [f"{name}+{token}@example.com" for name in ("al", "bo", "cy", "di")]
    csv_path = tmp_path / "cli leads.csv"
    # The first row goes to a cancelled user: the CLI's first lead alone is refused for the
    # whole account, so the run pauses with the other rows not sent.
    users = [CANCELLED_USER, DEMO_USER_ID, DEMO_USER_ID, DEMO_USER_ID]
    csv_path.write_text(
        "First Name,Email,user_id,cm_id\n"
        + "".join(
            f"P{n},{email},{user},{DEMO_CM_ID}\n"
            for n, (email, user) in enumerate(zip(emails, users, strict=True))
        ),
        encoding="utf-8",
    )
    sent = cli_send(home, csv_path)
    assert sent.returncode == 1, sent.stderr
    assert "CANCELLED USER" in sent.stderr
    with Journal(home / JOURNAL_FILENAME) as journal:
        (info,) = journal.runs()
        assert (info.status, info.origin) == ("paused", "cli")
    if settings == "older CLI shape":
        with sqlite3.connect(home / JOURNAL_FILENAME) as db:
            db.execute("UPDATE runs SET settings = ?", (json.dumps(OLD_CLI_SETTINGS),))
    before = sandbox_emails()

    at = open_runs()
    assert run_list(at) == [info.id]
    at = open_runs(info.id)
    assert "Paused after the first row" in texts(at.warning)
    at.button(key=f"run.resume.{info.id}").click().run()
    assert not at.exception, at.exception
    assert wait_for(home, info.id) == "finished"
    at.run()
    assert not at.exception, at.exception
    assert f"Run #{info.id} finished: 3 delivered, 1 refused by PhoneBurner (4 rows)." in texts(
        at.warning
    )
    results = [d.value for d in at.dataframe if "outcome" in d.value.columns][-1]
    assert list(results["outcome"]) == ["rejected", "delivered", "delivered", "delivered"]
    stored = sandbox_emails() - before
    assert stored == Counter(dict.fromkeys(emails[1:], 1))  # each once, the refused none
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.run(info.id).counts["delivered"] == 3


STOPS = [("pause", "paused", "Pause asked"), ("cancel", "cancelled", "Cancel asked")]


@pytest.mark.slow
@pytest.mark.parametrize(("button", "status", "says"), STOPS)
def test_app_stops_a_run_the_cli_is_sending_then_sends_the_rest(
    home: Path, tmp_path: Path, button: str, status: str, says: str
) -> None:
    token = uuid.uuid4().hex[:10]
    emails = [f"lead{n}+{token}@example.com" for n in range(40)]
    csv_path = tmp_path / "slow.csv"
    csv_path.write_text(
        "First Name,Email\n" + "".join(f"L{n},{e}\n" for n, e in enumerate(emails)),
        encoding="utf-8",
    )
    env = dict(os.environ, LEADSTREAM_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("LEADSTREAM_KEY", None)
    command = [sys.executable, "-m", "leadstream", "send", str(csv_path), "--sandbox"]
    command += ["--user-id", DEMO_USER_ID, "--cm-id", DEMO_CM_ID, "--rate", "5"]
    cli = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the CLI did not start sending"
            if (home / JOURNAL_FILENAME).exists():
                with Journal(home / JOURNAL_FILENAME) as journal:
                    listed = journal.runs()
                    if listed and listed[0].status == "running" and listed[0].done >= 2:
                        run_id = listed[0].id
                        break
            time.sleep(0.1)
        at = open_runs(run_id)
        assert "Being sent by process" in texts(at.caption)
        at.button(key=f"run.{button}.{run_id}").click().run()
        assert not at.exception, at.exception
        with Journal(home / JOURNAL_FILENAME) as journal:
            # Said while the CLI finishes the leads on their way (unless it already stopped).
            stopped = journal.run(run_id).status != "running"
        assert stopped or says in texts(at.caption)
        _, stderr = cli.communicate(timeout=30)
        assert cli.returncode == 1, stderr.decode()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    with Journal(home / JOURNAL_FILENAME) as journal:
        stopped_run = journal.run(run_id)
        by_cli = {row.lead.email for row in journal.run_rows(run_id, states=["delivered"])}
    assert stopped_run.status == status
    assert 2 <= len(by_cli) < len(emails)
    before = sandbox_emails()

    at = open_runs(run_id)
    at.button(key=f"run.resume.{run_id}").click().run()
    assert not at.exception, at.exception
    assert wait_for(home, run_id) == "finished"
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.run(run_id).counts["delivered"] == len(emails)
    stored = sandbox_emails() - before
    assert stored == Counter(dict.fromkeys(set(emails) - by_cli, 1))  # the rest, each once


@pytest.mark.slow
def test_pause_cancel_and_send_the_rest_of_a_run_sent_by_the_app(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow sandbox of the test's own (a custom target) so the run is still going when the
    # buttons are clicked; the key comes from the environment as configured keys do.
    monkeypatch.setenv("LEADSTREAM_KEY", DEMO_KEY)
    with SandboxServer(Account.demo(), faults=Faults(latency_ms=100), log=None) as sandbox:
        target = Target.custom(sandbox.url)
        leads = [
            Lead(
                firstname=f"S{n}", email=f"s{n}@example.com", user_id=DEMO_USER_ID, cm_id=DEMO_CM_ID
            )
            for n in range(60)
        ]
        with Journal(home / JOURNAL_FILENAME) as journal:
            run_id = journal.create_run(
                target=target,
                source_name="slow.csv",
                rows=[
                    NewRow(n, n + 2, lead, {"Email": lead.email}) for n, lead in enumerate(leads)
                ],
                settings=RunSettings(target=target, concurrency=1, canary=False),
            )
        at = open_runs(run_id)
        at.button(key=f"run.resume.{run_id}").click().run()
        assert not at.exception, at.exception
        at.run()
        assert at.button(key=f"run.pause.{run_id}")  # the live panel of a run sent here
        assert "Being sent by" not in texts(at.caption)
        at.button(key=f"run.pause.{run_id}").click().run()
        assert wait_for(home, run_id) == "paused"
        at.run()
        assert not at.exception, at.exception
        with Journal(home / JOURNAL_FILENAME) as journal:
            paused = journal.run(run_id)
        assert 0 < paused.done < len(leads)
        assert at.button(key=f"run.resume.{run_id}")

        at.button(key=f"run.cancel.{run_id}").click().run()
        assert wait_for(home, run_id) == "cancelled"
        at.run()
        rest = len(leads) - paused.done
        label = f"Send the {rest} rows not sent yet"
        assert label in [b.label for b in at.button]
        at.button(key=f"run.resume.{run_id}").click().run()
        assert not at.exception, at.exception
        assert wait_for(home, run_id, timeout=60) == "finished"
        stored = Counter(lead.lead.email for lead in sandbox.leads())
    assert stored == Counter(dict.fromkeys((lead.email for lead in leads), 1))


def test_bulk_page_lists_the_newest_unfinished_runs_and_counts_the_rest(home: Path) -> None:
    ids = make_runs(home, 5)  # every one paused before anything was sent
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert [info.id for info in journal.unfinished_runs(limit=2)] == ids[::-1][:2]
        assert journal.unfinished_count() == 5
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/bulk_upload.py").run()
    assert not at.exception, at.exception
    opened = [b.key for b in at.button if str(b.key).startswith("run.open.")]
    assert opened == [f"run.open.{n}" for n in ids[::-1][:3]]
    assert [link.label for link in at.page_link] == ["2 more unfinished runs on the Runs page"]


def test_resuming_a_live_run_asks_first_whatever_the_sidebar_points_at(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_KEY", "live-secret-4242")
    lead = Lead(firstname="Real", email="real@example.com", user_id="1", cm_id="2")
    with Journal(home / JOURNAL_FILENAME) as journal:
        run_id = journal.create_run(
            target=Target.live(),
            source_name="real.csv",
            rows=[NewRow(0, 2, lead, {"Email": lead.email})],
            settings=RunSettings(target=Target.live(), cm_id="2"),
        )
    at = open_runs(run_id)  # the sidebar is on the sandbox
    at.button(key=f"run.resume.{run_id}").click().run()
    assert not at.exception, at.exception
    assert "This sends real leads to PhoneBurner" in texts(at.warning)
    assert "LeadStream `2`" in texts(at.warning)
    assert at.button(key=f"conn.confirm_live.run-resume-{run_id}")
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.run(run_id).status == "paused"  # nothing sent before a yes
    at.button(key=f"conn.cancel_live.run-resume-{run_id}").click().run()
    assert "This sends real leads to PhoneBurner" not in texts(at.warning)
    at.run()
    assert "This sends real leads to PhoneBurner" not in texts(at.warning)  # not asked again
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.run(run_id).status == "paused"
    shown = (at.markdown, at.caption, at.warning, at.info, at.error, at.subheader)
    assert "live-secret-4242" not in "\n".join(texts(elements) for elements in shown)


def test_closing_a_run_comes_back_to_the_same_page_of_the_list(home: Path) -> None:
    ids = make_runs(home, 30)
    at = open_runs()
    at.pagination(key="runs.page").set_value(2).run()
    at.query_params["run"] = str(ids[0])
    at.run()
    assert f"Run #{ids[0]} · file0.csv" in texts(at.subheader)
    at.button(key="runs.back").click().run()
    assert not at.exception, at.exception
    assert run_list(at) == ids[::-1][25:]


@pytest.mark.slow
@pytest.mark.parametrize("show", ["all", "delivered", "not delivered"])
def test_a_20000_row_run_opens_with_every_filter_and_no_exception(home: Path, show: str) -> None:
    # Once 340,000 cells in one table: Streamlit refused it and hid the download below it.
    sys.path.insert(0, str(ROOT / "tools"))
    from fill_journal import fill_run

    run_id = fill_run(home / JOURNAL_FILENAME, 20_000)
    at = open_runs(run_id)
    at.radio(key=f"run.results.{run_id}.show").set_value(show).run()
    assert not at.exception, at.exception
    (table,) = [d.value for d in at.dataframe if "outcome" in d.value.columns]
    assert len(table) == 100
    assert at.download_button(key=f"run.results.{run_id}.download")
    assert f"Run #{run_id} finished" in texts(at.warning)
