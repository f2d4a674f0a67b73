"""The run engine over a real sandbox on loopback: runs from settings, faults, canary, pauses,
resume, cross-process pause and cancel, retry runs."""

from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from leadstream.deliver.client import Client
from leadstream.deliver.engine import Engine, EngineError
from leadstream.deliver.journal import Journal, JournalError, NewRow
from leadstream.deliver.outcomes import RetryPolicy
from leadstream.deliver.reports import results_csv, results_frame
from leadstream.deliver.run_settings import RunSettings
from leadstream.deliver.runner import RunnerError, run_progress, start_run
from leadstream.deliver.target import DEMO_CM_ID, DEMO_KEY, DEMO_USER_ID, Target
from leadstream.prepare.mapping import PreparedRow
from leadstream.prepare.validate import Problem
from leadstream.protocol.lead import Lead
from leadstream.sandbox import Account, Faults, SandboxServer

FAST = RetryPolicy(max_attempts=6, base_delay_s=0.005, max_delay_s=0.05, jitter=0.5)
ONE_TRY = RetryPolicy(max_attempts=1)
# Email optional, so that rows without one can end up uncertain instead of rejected.
LENIENT = dataclasses.replace(Account.demo(), require_email=False)


def lead(n: int, *, email: bool = True, user_id: str = DEMO_USER_ID) -> Lead:
    return Lead(
        firstname=f"Person{n}",
        email=f"person{n}@example.com" if email else "",
        phone=f"716555{n:04d}",
        user_id=user_id,
        cm_id=DEMO_CM_ID,
    )


def prepared(n: int, lead_: Lead, *problems: Problem) -> PreparedRow:
    return PreparedRow(
        index=n,
        line=n + 2,
        lead=lead_,
        problems=tuple(problems),
        source={"First": lead_.firstname, "Email": lead_.email},
    )


@pytest.fixture
def journal(journal_place: str) -> Iterator[Journal]:
    """The journal on SQLite, then on PostgreSQL: every engine test runs on both."""
    with Journal(journal_place) as opened:
        yield opened


def new_run(journal: Journal, server: SandboxServer, leads: list[Lead]) -> int:
    return journal.create_run(
        target=Target.sandbox(server.url),
        source_name="leads.csv",
        rows=[(i, i + 2, x, {"First": x.firstname, "Email": x.email}) for i, x in enumerate(leads)],
        settings={},
    )


def stored_emails(server: SandboxServer) -> Counter[str]:
    return Counter(s.lead.email.lower() for s in server.leads() if s.lead.email)


def states(journal: Journal, run_id: int) -> Counter[str]:
    return Counter(row.state for row in journal.run_rows(run_id))


# --- runs from settings -----------------------------------------------------------------------


def test_create_run_plans_against_the_journal(
    journal: Journal, fresh_sandbox: SandboxServer
) -> None:
    engine = Engine(journal)
    settings = RunSettings(target=Target.sandbox(fresh_sandbox.url), concurrency=2)
    first, _ = engine.create_run(
        settings, source_name="a.csv", prepared_rows=[prepared(0, lead(0))], origin="bulk"
    )
    # Whatever key is configured, the sandbox gets its demo key.
    engine.start(first, key="a-real-key-never-for-the-sandbox")
    assert engine.wait(first, 30)
    # The same lead, its email spelt otherwise, is already delivered there.
    again = dataclasses.replace(lead(0), email="PERSON0@EXAMPLE.COM")
    second, plans = engine.create_run(
        settings,
        source_name="a.csv",
        prepared_rows=[prepared(0, again), prepared(1, lead(1))],
        origin="cli",
    )
    assert [p.state for p in plans] == ["duplicate", "pending"]
    assert states(journal, second) == {"duplicate": 1, "pending": 1}
    info = journal.run(second)
    assert info.run_settings == settings
    assert info.origin == "cli"
    assert not engine.sending_here(second)


# --- sending ----------------------------------------------------------------------------------


def test_clean_run_delivers_every_row(journal: Journal, fresh_sandbox: SandboxServer) -> None:
    run_id = new_run(journal, fresh_sandbox, [lead(n) for n in range(60)])
    seen: list[int] = []
    with Client(url=fresh_sandbox.url, key=DEMO_KEY, concurrency=8) as client:
        controller = start_run(
            journal, client, run_id, concurrency=8, on_progress=lambda p: seen.append(p.done)
        )
        assert controller.wait(60)
    assert controller.state == "finished"
    assert states(journal, run_id) == {"delivered": 60}
    assert stored_emails(fresh_sandbox) == {f"person{n}@example.com": 1 for n in range(60)}
    urls = {row.lead_url for row in journal.run_rows(run_id)}
    assert urls == {s.lead_url for s in fresh_sandbox.leads()}
    assert len(journal.history(sources=["bulk"])) == 60
    progress = run_progress(journal, run_id)
    assert (progress.total, progress.done, progress.state) == (60, 60, "finished")
    assert progress.by_outcome["delivered"] == 60
    assert progress.rate_per_s > 0
    assert seen[-1] == 60


def test_faults_give_every_row_one_outcome_and_no_doubles(journal: Journal) -> None:
    faults = Faults(fail_rate=0.15, lost_reply_rate=0.15, garbage_rate=0.1, seed=7)
    leads = [lead(n, email=n % 5 != 0) for n in range(120)]
    with (
        SandboxServer(LENIENT, faults=faults, log=None) as server,
        Client(url=server.url, key=DEMO_KEY, policy=FAST, concurrency=8) as client,
    ):
        run_id = new_run(journal, server, leads)
        controller = start_run(
            journal, client, run_id, concurrency=8, canary=False, pause_after_failures=0
        )
        assert controller.wait(60)
        faults_seen = server.stats()["faults"]
        stored = server.leads()
    assert controller.state == "finished"
    rows = journal.run_rows(run_id)
    final = Counter(row.state for row in rows)
    assert set(final) <= {"delivered", "uncertain", "failed"}, final
    assert sum(final.values()) == 120
    assert faults_seen["fail"]
    assert faults_seen["lost_reply"]
    assert faults_seen["garbage"]
    # Nothing is stored twice; every delivered row is stored; whatever is stored belongs to a
    # row that is delivered or, when tries ran out after an unanswered one, uncertain.
    keys = Counter(s.lead.email or s.lead.phone for s in stored)
    assert max(keys.values()) == 1
    by_state = {
        state: {r.lead.email or r.lead.phone for r in rows if r.state == state}
        for state in ("delivered", "uncertain", "failed")
    }
    assert by_state["delivered"] <= set(keys)
    assert set(keys) <= by_state["delivered"] | by_state["uncertain"]
    assert not by_state["failed"] & set(keys), "a failed row must not have arrived"
    # Most email rows that lost a reply were confirmed by their retry's DUPLICATE EMAIL.
    confirmed = [r for r in rows if r.state == "delivered" and "earlier send" in r.help]
    assert confirmed
    assert len(journal.history(sources=["bulk"])) == 120


def test_rate_limited_server_still_gets_every_row(journal: Journal) -> None:
    with (
        SandboxServer(Account.demo(), faults=Faults(rate_limit=40), log=None) as server,
        Client(url=server.url, key=DEMO_KEY, policy=FAST, concurrency=8) as client,
    ):
        run_id = new_run(journal, server, [lead(n) for n in range(80)])
        controller = start_run(journal, client, run_id, concurrency=8, pause_after_failures=0)
        assert controller.wait(60)
        assert server.stats()["faults"]["rate_limited"] > 0
        assert len(server.leads()) == 80
    assert states(journal, run_id) == {"delivered": 80}


CANARY_STOPS = [
    pytest.param(lead(0, user_id="377310000"), "CANCELLED USER", id="cancelled-user"),
    pytest.param(dataclasses.replace(lead(0), cm_id="1"), "CM_ID IS INVALID", id="bad-cm-id"),
    pytest.param(dataclasses.replace(lead(0), user_id=""), "IDNUMBER IS REQUIRED", id="no-user"),
]


@pytest.mark.parametrize(("first", "code"), CANARY_STOPS)
def test_canary_pauses_before_the_rest(
    journal: Journal, fresh_sandbox: SandboxServer, first: Lead, code: str
) -> None:
    run_id = new_run(journal, fresh_sandbox, [first] + [lead(n) for n in range(1, 20)])
    with Client(url=fresh_sandbox.url, key=DEMO_KEY) as client:
        controller = start_run(journal, client, run_id, concurrency=4)
        assert controller.wait(30)
        assert controller.state == "paused"
        assert fresh_sandbox.stats()["requests"] == 1
        info = journal.run(run_id)
        assert info.status == "paused"
        assert code in info.message
        assert "first row" in info.message
        assert states(journal, run_id) == {"rejected": 1, "pending": 19}
        controller.resume()  # the person insists: no second canary
        assert controller.wait(30)
    assert states(journal, run_id) == {"rejected": 1, "delivered": 19}


def test_canary_goes_on_after_a_row_level_rejection(
    journal: Journal, fresh_sandbox: SandboxServer
) -> None:
    first = dataclasses.replace(lead(0), email="not-an-email")
    run_id = new_run(journal, fresh_sandbox, [first] + [lead(n) for n in range(1, 10)])
    with Client(url=fresh_sandbox.url, key=DEMO_KEY) as client:
        assert start_run(journal, client, run_id).wait(30)
    assert states(journal, run_id) == {"rejected": 1, "delivered": 9}


def test_canary_pauses_when_the_server_is_down(journal: Journal) -> None:
    with SandboxServer(Account.demo(), log=None) as server:
        url = server.url
    run_id = journal.create_run(
        target=Target.custom(url), source_name="f", rows=[(0, 2, lead(0), {}), (1, 3, lead(1), {})]
    )
    with Client(url=url, key=DEMO_KEY, policy=ONE_TRY) as client:
        controller = start_run(journal, client, run_id)
        assert controller.wait(30)
    assert states(journal, run_id) == {"failed": 1, "pending": 1}
    assert "NO CONNECTION" in journal.run(run_id).message


@pytest.mark.parametrize("concurrency", [1, 4])
def test_auto_pause_after_consecutive_failures(journal: Journal, concurrency: int) -> None:
    with (
        SandboxServer(Account.demo(), faults=Faults(fail_rate=1.0), log=None) as server,
        Client(url=server.url, key=DEMO_KEY, policy=ONE_TRY, concurrency=concurrency) as client,
    ):
        run_id = new_run(journal, server, [lead(n) for n in range(40)])
        controller = start_run(
            journal, client, run_id, concurrency=concurrency, canary=False, pause_after_failures=3
        )
        assert controller.wait(30)
    counts = states(journal, run_id)
    assert 3 <= counts["failed"] <= 3 + concurrency - 1
    assert counts["pending"] == 40 - counts["failed"]
    info = journal.run(run_id)
    assert info.status == "paused"
    assert "3 rows in a row" in info.message
    assert "HTTP 503" in info.message


def test_pause_resume_and_progress_from_another_connection(
    journal: Journal, journal_place: str
) -> None:
    with (
        SandboxServer(Account.demo(), faults=Faults(latency_ms=20), log=None) as server,
        Client(url=server.url, key=DEMO_KEY, concurrency=2) as client,
        Journal(journal_place) as watcher,
    ):
        run_id = new_run(journal, server, [lead(n) for n in range(40)])
        controller = start_run(journal, client, run_id, concurrency=2)
        while run_progress(watcher, run_id).done < 5:
            time.sleep(0.01)
        controller.pause()
        assert controller.wait(30)
        paused = run_progress(watcher, run_id)
        assert (paused.state, paused.in_flight) == ("paused", 0)
        assert 5 <= paused.done < 40
        assert len(server.leads()) == paused.done
        time.sleep(0.1)
        assert len(server.leads()) == paused.done  # nothing goes out while paused
        controller.resume()
        assert controller.wait(30)
        assert run_progress(watcher, run_id).state == "finished"
        assert len(server.leads()) == 40
    assert states(journal, run_id) == {"delivered": 40}


def test_cancel_leaves_unsent_rows_unsent(journal: Journal) -> None:
    with (
        SandboxServer(Account.demo(), faults=Faults(latency_ms=20), log=None) as server,
        Client(url=server.url, key=DEMO_KEY, concurrency=2) as client,
    ):
        run_id = new_run(journal, server, [lead(n) for n in range(40)])
        controller = start_run(journal, client, run_id, concurrency=2)
        while run_progress(journal, run_id).done < 3:
            time.sleep(0.01)
        controller.cancel()
        assert controller.wait(30)
        sent = len(server.leads())
    counts = states(journal, run_id)
    assert controller.state == "cancelled"
    assert journal.run(run_id).status == "cancelled"
    assert counts["delivered"] == sent
    assert counts["pending"] == 40 - sent > 0
    assert set(results_frame(journal, run_id)["outcome"]) == {"delivered", "not sent"}
    assert journal.unfinished_runs() == []


def test_resume_after_a_crash_sends_no_row_twice(journal: Journal) -> None:
    """Rows left in flight by a dead sender: with an email they are sent again and a DUPLICATE
    EMAIL answer counts as delivered; without one they are left uncertain."""
    leads = [lead(n) for n in range(6)] + [lead(6, email=False), lead(7, email=False)]
    with (
        SandboxServer(LENIENT, log=None) as server,
        Client(url=server.url, key=DEMO_KEY) as client,
    ):
        run_id = new_run(journal, server, leads)
        journal.begin_run(run_id)
        in_flight = journal.claim_next_rows(run_id, 8)
        # The dead sender's requests: rows 0, 1 and 6 arrived, the others never left.
        for row in (in_flight[0], in_flight[1], in_flight[6]):
            assert client.post(row.lead).outcome == "delivered"
        assert journal.run(run_id).status == "running"  # the owner is this live process
        controller = start_run(journal, client, run_id)
        assert controller.wait(30)
        stored = server.leads()
    rows = {row.row: row for row in journal.run_rows(run_id)}
    assert [rows[n].state for n in range(8)] == ["delivered"] * 6 + ["uncertain"] * 2
    assert "earlier send" in rows[0].help
    assert rows[2].lead_url  # really delivered now, with its own link
    assert len(stored) == 7  # 6 emails once each, row 6 once, row 7 never sent
    assert Counter(s.lead.phone for s in stored)[lead(6).phone] == 1


def test_two_controllers_cannot_send_one_run(journal: Journal) -> None:
    with (
        SandboxServer(Account.demo(), faults=Faults(latency_ms=50), log=None) as server,
        Client(url=server.url, key=DEMO_KEY) as client,
    ):
        run_id = new_run(journal, server, [lead(n) for n in range(10)])
        first = start_run(journal, client, run_id, concurrency=1)
        with pytest.raises(RunnerError, match="already being sent"):
            start_run(journal, client, run_id)
        first.cancel()
        assert first.wait(30)


def test_retry_run_resends_failed_rows_only(journal: Journal, fresh_sandbox: SandboxServer) -> None:
    with SandboxServer(Account.demo(), log=None) as gone:
        dead_url = gone.url
    leads = [lead(n) for n in range(4)]
    run_id = journal.create_run(
        target=Target.sandbox(dead_url),
        source_name="f.csv",
        rows=[(i, i + 2, x, {"Email": x.email}) for i, x in enumerate(leads)],
    )
    with Client(url=dead_url, key=DEMO_KEY, policy=ONE_TRY) as client:
        assert start_run(journal, client, run_id, canary=False, pause_after_failures=0).wait(30)
    assert states(journal, run_id) == {"failed": 4}
    engine = Engine(journal)
    with pytest.raises(EngineError, match="never are"):
        engine.retry(run_id, states=("delivered",))
    retry = engine.retry(run_id)
    assert journal.run(retry).run_settings.retry_of == run_id
    with Client(url=fresh_sandbox.url, key=DEMO_KEY) as client:
        assert start_run(journal, client, retry).wait(30)
    assert states(journal, retry) == {"delivered": 4}
    with pytest.raises(EngineError, match="no failed rows"):
        engine.retry(retry)


def test_start_run_refuses_a_run_another_process_sends(
    journal: Journal, fresh_sandbox: SandboxServer
) -> None:
    run_id = new_run(journal, fresh_sandbox, [lead(0)])
    with journal._tx() as db:  # pretend a live process (pid 1) on this host owns it
        db.execute(
            "UPDATE runs SET status = 'running', owner_pid = 1, owner_host = ?", (journal._host,)
        )
    with (
        Client(url=fresh_sandbox.url, key=DEMO_KEY) as client,
        pytest.raises(JournalError, match="being sent by process 1"),
    ):
        start_run(journal, client, run_id)


# --- results ----------------------------------------------------------------------------------


def test_results_table_and_csv(journal: Journal, fresh_sandbox: SandboxServer) -> None:
    formula = dataclasses.replace(lead(1), firstname="=cmd|' /C calc'!A0")
    bad = dataclasses.replace(lead(2), email="x")
    new_rows = [
        NewRow(0, 2, lead(0), {"First": "Ann", "outcome": "mine", "Email": "a"}),
        NewRow(1, 3, formula, {"First": formula.firstname, "Email": formula.email}),
        NewRow(2, 4, bad, {"First": bad.firstname, "Email": "x"}, "invalid", "bad"),
    ]
    run_id = journal.create_run(
        target=Target.sandbox(fresh_sandbox.url), source_name="f.csv", rows=new_rows
    )
    with Client(url=fresh_sandbox.url, key=DEMO_KEY) as client:
        assert start_run(journal, client, run_id).wait(30)
    frame = results_frame(journal, run_id)
    assert list(frame.columns) == [
        "First",
        "outcome (file)",
        "Email",
        "row",
        "outcome",
        "code",
        "detail",
        "lead_url",
        "attempts",
    ]
    assert list(frame["outcome"]) == ["delivered", "delivered", "invalid"]
    assert list(frame["row"]) == [2, 3, 4]  # the spreadsheet lines
    assert frame["detail"].iloc[2] == "bad"
    assert frame["lead_url"].iloc[0].startswith("https://www.phoneburner.com/ms/lead_redirect")
    data = results_csv(journal, run_id)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[1]["First"] == "'=cmd|' /C calc'!A0"
    assert table[0]["outcome (file)"] == "mine"
    assert DEMO_KEY.encode() not in data


# --- the engine across processes, and the 4xx rule ----------------------------------------------

SENDER = """
import sys
from leadstream.deliver.engine import engine_for
from leadstream.deliver.journal import Journal

journal = Journal(sys.argv[1])
engine = engine_for(journal)
engine.start(int(sys.argv[2]), key="XXXYYYZZZ")
print("sending", flush=True)
engine.wait(int(sys.argv[2]), 60)
print(engine.run(int(sys.argv[2])).status, flush=True)
"""


@pytest.mark.parametrize("request_", ["pause", "cancel"])
def test_a_run_sent_by_another_process_is_paused_or_cancelled_from_here(
    journal: Journal, journal_place: str, request_: str
) -> None:
    with SandboxServer(Account.demo(), faults=Faults(latency_ms=30), log=None) as server:
        settings = RunSettings(target=Target.custom(server.url), concurrency=2, canary=False)
        engine = Engine(journal)
        run_id, _ = engine.create_run(
            settings,
            source_name="f.csv",
            prepared_rows=[prepared(n, lead(n)) for n in range(200)],
            origin="cli",
        )
        sender = subprocess.Popen(
            [sys.executable, "-c", SENDER, journal_place, str(run_id)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sender.stdout is not None
            assert sender.stdout.readline().strip() == "sending"
            while engine.progress(run_id).done < 3:
                time.sleep(0.02)
            assert not engine.sending_here(run_id)
            asked = engine.pause(run_id) if request_ == "pause" else engine.cancel(run_id)
            assert asked == "asked"
            assert engine.wait(run_id, 30)
            assert sender.stdout.readline().strip() == (
                "paused" if request_ == "pause" else "cancelled"
            )
        finally:
            sender.kill()
            sender.wait()
        stored = len(server.leads())
    info = journal.run(run_id)
    assert info.status == ("paused" if request_ == "pause" else "cancelled")
    assert "another window or program" in info.message
    assert info.counts["delivered"] == stored < 200
    assert info.counts["pending"] == 200 - stored
    assert info.request == ""


def test_a_run_nobody_sends_is_cancelled_at_once(journal: Journal) -> None:
    engine = Engine(journal)
    run_id, _ = engine.create_run(
        RunSettings(target=Target.sandbox("http://127.0.0.1:9/api/vendor/put_contact")),
        source_name="f.csv",
        prepared_rows=[prepared(0, lead(0))],
        origin="bulk",
    )
    assert engine.pause(run_id) == "nothing"
    assert engine.cancel(run_id) == "done"
    assert journal.run(run_id).status == "cancelled"
    assert engine.wait(run_id, 1)
    with pytest.raises(EngineError, match="no bulk run 99"):
        engine.cancel(99)


def test_a_mistyped_url_pauses_the_run_after_one_row(journal: Journal) -> None:
    with SandboxServer(Account.demo(), log=None) as server:
        wrong = Target.custom(server.url.replace("/put_contact", "/put_contacts"))
        engine = Engine(journal)
        run_id, _ = engine.create_run(
            RunSettings(target=wrong, concurrency=1, canary=False, pause_after_failures=0),
            source_name="f.csv",
            prepared_rows=[prepared(n, lead(n)) for n in range(10)],
            origin="bulk",
        )
        engine.start(run_id, key=DEMO_KEY)
        assert engine.wait(run_id, 30)
        assert server.leads() == []
    assert states(journal, run_id) == {"failed": 1, "pending": 9}
    info = journal.run(run_id)
    assert info.status == "paused"
    assert "refused row 2 itself (HTTP 404)" in info.message
    row = journal.run_rows(run_id, states=["failed"])[0]
    assert (row.code, row.attempts) == ("HTTP 404", 1)


@pytest.mark.parametrize("stop", ["pause", "cancel"])
def test_starting_again_while_stopping_sends_every_row_once(journal: Journal, stop: str) -> None:
    with SandboxServer(Account.demo(), faults=Faults(latency_ms=20), log=None) as server:
        engine = Engine(journal)
        run_id, _ = engine.create_run(
            RunSettings(target=Target.custom(server.url), concurrency=2),
            source_name="f.csv",
            prepared_rows=[prepared(n, lead(n)) for n in range(30)],
            origin="bulk",
        )
        engine.start(run_id, key=DEMO_KEY)
        while engine.progress(run_id).done < 3:
            time.sleep(0.01)
        assert (engine.pause(run_id) if stop == "pause" else engine.cancel(run_id)) == "here"
        engine.start(run_id, key=DEMO_KEY)  # a second click, before the stop has settled
        assert engine.wait(run_id, 30)
        if engine.run(run_id).status != "finished":  # the stop settled first: start again
            engine.start(run_id, key=DEMO_KEY)
            assert engine.wait(run_id, 30)
        assert stored_emails(server) == {f"person{n}@example.com": 1 for n in range(30)}
    assert states(journal, run_id) == {"delivered": 30}
    assert not engine.sending_here(run_id)


def test_retry_copies_rows_by_the_resend_rule(journal: Journal) -> None:
    leads = [lead(0), lead(1), lead(2, email=False), lead(3), lead(4), lead(5, email=False)]
    run_id = journal.create_run(
        target=Target.custom("http://127.0.0.1:9/api/vendor/put_contact"),
        source_name="f.csv",
        rows=[(i, i + 2, x, {"Email": x.email}) for i, x in enumerate(leads)],
        settings=RunSettings(target=Target.custom("http://127.0.0.1:9/api/vendor/put_contact")),
    )
    ended = ["failed", "uncertain", "uncertain", "rejected", "delivered", "failed"]
    with journal._tx() as db:
        for row, state in enumerate(ended):
            db.execute(
                "UPDATE run_rows SET state = ?, help = ? WHERE run_id = ? AND row = ?",
                (state, f"why {row}", run_id, row),
            )
    retry = Engine(journal).retry(run_id, ("failed", "uncertain", "rejected"))
    rows = {r.row: (r.state, r.maybe_sent, r.help) for r in journal.run_rows(retry)}
    assert rows == {
        0: ("pending", False, ""),
        1: ("pending", True, ""),  # may have arrived, has an email: DUPLICATE EMAIL will tell
        2: ("uncertain", False, "why 2"),  # may have arrived, no email: never sent again
        3: ("pending", False, ""),
        5: ("pending", False, ""),
    }
    assert [r.lead for r in journal.run_rows(retry)] == [leads[n] for n in (0, 1, 2, 3, 5)]
    info = journal.run(retry)
    assert (info.source_name, info.origin, info.status) == ("f.csv", "bulk", "paused")
    assert info.run_settings.retry_of == run_id
