"""The journal: history, saved legends and bulk runs in a real SQLite file; the key never stored."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadstream.deliver.client import Attempt, Client, Delivery, MockTransport, RawResponse
from leadstream.deliver.journal import (
    JOURNAL_FILENAME,
    SCHEMA_VERSION,
    HistoryFilter,
    Journal,
    JournalError,
    NewRow,
    acting_as,
    default_sender,
    history_csv,
)
from leadstream.deliver.outcomes import AttemptKind, DeliveryOutcome, RetryPolicy
from leadstream.deliver.target import Target
from leadstream.prepare.identity import fingerprint
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.response import parse_response
from leadstream.sandbox import Account, SandboxServer

SECRET = "SECRET-KEY-7f3a9c51e2"
SANDBOX = Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact")
OTHER = Target.custom("http://127.0.0.1:2/api/vendor/put_contact")

RICH = Lead(
    firstname="Zoë",
    lastname="O'Brien & Sons",
    email="Zoe@Example.com",
    phone="+1 (716) 293-2368",
    city="Buffalo",
    state="NY",
    user_id="377310706",
    cm_id="576846",
    custom_fields={"297989": "=1+2", "195481": "12/24/2017"},
    additional_phones=[Phone("716-555-0101", PhoneType.WORK, ""), Phone("555", PhoneType.FAX, "x")],
    tags=["vip", "a,b"],
)


def attempt(code: str = "SUCCESS", *, status: int | None = 200, body: str = "") -> Attempt:
    return Attempt(
        number=1,
        started_at=time.time(),
        duration_s=0.012,
        status=status,
        masked_url="http://127.0.0.1:1/api/vendor/put_contact?key=****&email=x",
        body=body,
        error="" if status else "no answer",
        kind=AttemptKind.ANSWERED if status == 200 else AttemptKind.MAYBE_TAKEN,
        code=code,
    )


def delivered(upc: str = "AB12CD34") -> Delivery:
    body = f"SUCCESS|https://www.phoneburner.com/ms/lead_redirect?upc={upc}"
    return Delivery(DeliveryOutcome.DELIVERED, parse_response(body), (attempt(body=body),))


def rejected(reason: str = "INVALID EMAIL") -> Delivery:
    body = f"ERROR|{reason}"
    return Delivery(DeliveryOutcome.REJECTED, parse_response(body), (attempt(reason, body=body),))


def unanswered() -> Delivery:
    return Delivery(DeliveryOutcome.UNCERTAIN, None, (attempt("NO ANSWER", status=None),))


@pytest.fixture
def journal_code(tmp_path: Path, database_url: str) -> str:
    """How another process opens the journal under test: the SQLite file, or the PostgreSQL
    schema (every `journal` test runs on both)."""
    if database_url:
        return f"Journal(url={database_url!r})"
    return f"Journal({str(tmp_path / 'j.sqlite3')!r})"


@pytest.fixture
def journal(tmp_path: Path, database_url: str) -> Iterator[Journal]:
    opened = Journal(url=database_url) if database_url else Journal(tmp_path / "j.sqlite3")
    with opened:
        yield opened


# --- basics -----------------------------------------------------------------------------------


def test_default_path_follows_leadstream_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "deep" / "home"
    monkeypatch.setenv("LEADSTREAM_HOME", str(home))
    with Journal() as opened:
        assert opened.path == home / JOURNAL_FILENAME
    assert (home / JOURNAL_FILENAME).is_file()
    # Leads are personal data: the journal is readable by its owner only.
    assert (home / JOURNAL_FILENAME).stat().st_mode & 0o777 == 0o600


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer"):
        Journal(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal(path)


# --- history ----------------------------------------------------------------------------------


def test_record_post_round_trip(journal: Journal) -> None:
    post_id = journal.record_post(source="form", target=SANDBOX, lead=RICH, delivery=delivered())
    [entry] = journal.history()
    assert entry.id == post_id
    assert entry.lead == RICH
    assert (entry.source, entry.target, entry.outcome, entry.code) == (
        "form",
        "sandbox",
        "delivered",
        "SUCCESS",
    )
    assert (entry.name, entry.email, entry.cm_id, entry.user_id) == (
        "Zoë O'Brien & Sons",
        "Zoe@Example.com",
        "576846",
        "377310706",
    )
    assert entry.lead_url.endswith("upc=AB12CD34")
    assert entry.attempts == 1
    assert entry.attempt_log[0]["status"] == 200
    assert entry.attempt_log[0]["url"].startswith("http://127.0.0.1:1/")
    assert datetime.fromisoformat(entry.time).utcoffset() == timedelta(0)
    assert (entry.run_id, entry.row) == (None, None)


def test_history_filters(journal: Journal) -> None:
    ann = Lead(firstname="Ann", email="ann@example.com", cm_id="1")
    bob = Lead(firstname="Bob", email="bob@example.com", cm_id="2")
    journal.record_post(source="form", target=SANDBOX, lead=ann, delivery=delivered())
    journal.record_post(source="bulk", target=SANDBOX, lead=bob, delivery=rejected(), run_id=7)
    journal.record_post(source="cli", target=OTHER, lead=bob, delivery=unanswered())

    def names(**filters: object) -> list[str]:
        return [f"{e.name}/{e.source}" for e in journal.history(**filters)]  # type: ignore[arg-type]

    assert names() == ["Bob/cli", "Bob/bulk", "Ann/form"]
    assert names(search="ANN@") == ["Ann/form"]
    assert names(search="invalid email") == ["Bob/bulk"]
    assert names(search="100%_") == []
    assert names(outcomes=["rejected", "uncertain"]) == ["Bob/cli", "Bob/bulk"]
    assert names(sources=["form", "cli"]) == ["Bob/cli", "Ann/form"]
    assert names(limit=1) == ["Bob/cli"]
    assert names(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(names(since=datetime.now() - timedelta(minutes=1))) == 3  # naive = local time


def test_history_csv_has_bom_and_neutralised_formulas(journal: Journal) -> None:
    lead = Lead(firstname='=HYPERLINK("x")', lastname="", email="@evil.example", cm_id="-5")
    journal.record_post(source="form", target=SANDBOX, lead=lead, delivery=rejected())
    data = history_csv(journal.history())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["name"] == '\'=HYPERLINK("x")'
    assert rows[0]["email"] == "'@evil.example"
    assert rows[0]["cm_id"] == "'-5"
    assert rows[0]["outcome"] == "rejected"
    assert rows[0]["code"] == "INVALID EMAIL"


# --- fingerprints -----------------------------------------------------------------------------


def test_delivered_fingerprints_scoped_by_target_and_cm_id(journal: Journal) -> None:
    ann = Lead(email="Ann@example.com", cm_id="576846")
    phone_only = Lead(phone="716", cm_id="576846")
    journal.record_post(source="form", target=SANDBOX, lead=ann, delivery=delivered())
    journal.record_post(source="form", target=SANDBOX, lead=phone_only, delivery=delivered())
    journal.record_post(
        source="form",
        target=SANDBOX,
        lead=Lead(email="r@x.com", cm_id="576846"),
        delivery=rejected(),
    )
    moved = Target.sandbox("http://127.0.0.1:9999/api/vendor/put_contact")  # new port, same name
    assert journal.delivered_fingerprints(moved.name, "576846") == {
        "email:ann@example.com",
        fingerprint(phone_only),
    }
    assert journal.delivered_fingerprints(OTHER.name, "576846") == set()
    assert journal.delivered_fingerprints("sandbox", "1") == set()


def test_uncertain_fingerprints_forget_delivered_ones(journal: Journal) -> None:
    a, b = Lead(phone="1", cm_id="9"), Lead(phone="2", cm_id="9")
    for lead in (a, b):
        journal.record_post(source="bulk", target=SANDBOX, lead=lead, delivery=unanswered())
    journal.record_post(source="bulk", target=SANDBOX, lead=b, delivery=delivered())
    assert journal.uncertain_fingerprints("sandbox", "9") == {fingerprint(a)}
    # A row left in flight by a run (a sender that died mid-request) may have arrived too.
    c = Lead(phone="3", cm_id="9")
    run_id = journal.create_run(target=SANDBOX, source_name="f", rows=[(0, 2, c, {})], origin="cli")
    journal.claim_next_rows(run_id, 1)
    assert journal.uncertain_fingerprints("sandbox", "9") == {fingerprint(a), fingerprint(c)}
    assert journal.uncertain_fingerprints(OTHER.name, "9") == set()
    journal.finish_row(run_id, 0, delivered())
    assert journal.uncertain_fingerprints("sandbox", "9") == {fingerprint(a)}
    assert journal.history(sources=["cli"])[0].lead == c


# --- saved legends ----------------------------------------------------------------------------

LEGEND = Legend(
    fields=[
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
    ],
    name="Demo",
    cm_id="576846",
)


def test_legends_persist_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as first:
        first.save_legend(LEGEND)
        first.save_legend(dataclasses.replace(LEGEND, name="Another", cm_id=""))
    with Journal(path) as second:
        assert [legend.name for legend in second.legends()] == ["Another", "Demo"]
        assert second.legend("Demo") == LEGEND
        assert second.legend("missing") is None


def test_save_legend_upserts_by_name(journal: Journal) -> None:
    journal.save_legend(LEGEND)
    changed = Legend(fields=LEGEND.fields[:1], name="Demo", cm_id="111")
    journal.save_legend(changed)
    assert journal.legends() == [changed]


def test_rename_and_delete_legend(journal: Journal) -> None:
    journal.save_legend(LEGEND)
    journal.save_legend(dataclasses.replace(LEGEND, name="Taken"))
    journal.rename_legend("Demo", "Renamed")
    assert journal.legend("Renamed") == dataclasses.replace(LEGEND, name="Renamed")
    assert journal.legend("Demo") is None
    journal.delete_legend("Renamed")
    assert [legend.name for legend in journal.legends()] == ["Taken"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda j: j.rename_legend("Demo", "Taken"), "already saved"),
        (lambda j: j.rename_legend("Nope", "New"), "no saved legend called 'Nope'"),
        (lambda j: j.rename_legend("Demo", "  "), "not empty"),
        (lambda j: j.delete_legend("Nope"), "no saved legend called 'Nope'"),
        (lambda j: j.save_legend(Legend(fields=[], name=" ")), "name"),
    ],
)
def test_legend_errors(journal: Journal, action: Callable[[Journal], None], message: str) -> None:
    journal.save_legend(LEGEND)
    journal.save_legend(dataclasses.replace(LEGEND, name="Taken"))
    with pytest.raises(JournalError, match=message):
        action(journal)


# --- bulk runs --------------------------------------------------------------------------------


def make_run(journal: Journal, count: int = 5, **extra: NewRow) -> int:
    rows: list[tuple[object, ...]] = [
        (i, i + 2, Lead(email=f"p{i}@example.com", cm_id="576846"), {"Email": f"p{i}@example.com"})
        for i in range(count)
    ]
    rows += list(extra.values())
    return journal.create_run(
        target=SANDBOX, source_name="leads.csv", rows=rows, settings={"concurrency": 4}
    )


def test_create_run_stores_rows_and_settings(journal: Journal) -> None:
    invalid = NewRow(10, 12, Lead(email="bad"), {"Email": "bad"}, "invalid", "Row 12: bad email")
    run_id = make_run(journal, 3, invalid=invalid)
    info = journal.run(run_id)
    assert (info.target_name, info.source_name, info.status) == ("sandbox", "leads.csv", "paused")
    assert info.run_settings.concurrency == 4
    assert info.run_settings.target == SANDBOX
    assert info.counts["pending"] == 3
    assert info.counts["invalid"] == 1
    assert (info.total, info.done) == (4, 1)
    rows = journal.run_rows(run_id)
    assert [r.row for r in rows] == [0, 1, 2, 10]
    assert rows[0].lead == Lead(email="p0@example.com", cm_id="576846")
    assert rows[0].source == {"Email": "p0@example.com"}
    assert rows[3].help == "Row 12: bad email"
    assert [r.row for r in journal.run_rows(run_id, states=["invalid"])] == [10]
    assert [r.row for r in journal.run_rows(run_id, offset=1, limit=2)] == [1, 2]


@pytest.mark.parametrize(
    ("rows", "settings", "message"),
    [
        ([(0, 2, Lead(), {}, "delivered")], {}, "cannot start a run"),
        ([(0, 2, Lead(), {}), (0, 3, Lead(), {})], {}, "listed twice"),
        ([], {"key": "x"}, "vendor key"),
    ],
)
def test_create_run_refuses(
    journal: Journal, rows: list[tuple[object, ...]], settings: dict[str, str], message: str
) -> None:
    with pytest.raises(JournalError, match=message):
        journal.create_run(target=SANDBOX, source_name="f", rows=rows, settings=settings)


def test_claim_is_atomic_across_threads(journal: Journal) -> None:
    run_id = make_run(journal, 200)
    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while rows := journal.claim_next_rows(run_id, 3):
            with lock:
                claimed.extend(r.row for r in rows)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == list(range(200))
    assert journal.run(run_id).counts["in_flight"] == 200


def test_claim_is_atomic_across_processes(journal: Journal, journal_code: str) -> None:
    run_id = make_run(journal, 300)
    script = (
        "import sys\nfrom leadstream.deliver.journal import Journal\n"
        f"j = {journal_code}\n"
        f"while rows := j.claim_next_rows({run_id}, 2):\n"
        "    print(*[r.row for r in rows], flush=True)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    claimed = [int(n) for proc in procs for n in proc.communicate(timeout=60)[0].split()]
    assert sorted(claimed) == list(range(300))


def test_finish_row_records_history_in_the_same_step(journal: Journal) -> None:
    run_id = make_run(journal, 2)
    [row] = journal.claim_next_rows(run_id, 1)
    journal.finish_row(run_id, row.row, delivered("ZZZZ0000"))
    done = journal.run_rows(run_id, states=["delivered"])[0]
    assert (done.row, done.code, done.attempts) == (0, "SUCCESS", 1)
    assert done.lead_url.endswith("ZZZZ0000")
    [entry] = journal.history()
    # History names the row as the spreadsheet line the results show (row 0 is line 2).
    assert (entry.source, entry.run_id, entry.row) == ("bulk", run_id, 2)
    assert entry.outcome == "delivered"
    assert journal.delivered_fingerprints("sandbox", "576846") == {"email:p0@example.com"}
    journal.finish_row(run_id, 1, rejected(), outcome="rejected", help="custom", record=False)
    assert journal.run_rows(run_id, states=["rejected"])[0].help == "custom"
    assert len(journal.history()) == 1
    with pytest.raises(JournalError, match="no row 99"):
        journal.finish_row(run_id, 99, delivered())


def test_requeue_unsure(journal: Journal) -> None:
    no_email = NewRow(50, 52, Lead(phone="716", cm_id="576846"), {"Phone": "716"})
    run_id = make_run(journal, 3, no_email=no_email)
    rows = journal.claim_next_rows(run_id, 4)
    assert [r.row for r in rows] == [0, 1, 2, 50]
    journal.finish_row(run_id, 0, delivered())
    journal.finish_row(run_id, 1, unanswered())
    # Rows 2 and 50 were in flight when the sender died.
    assert journal.requeue_unsure(run_id) == (2, 1)
    states = {r.row: (r.state, r.maybe_sent) for r in journal.run_rows(run_id)}
    assert states == {
        0: ("delivered", False),
        1: ("pending", True),
        2: ("pending", True),
        50: ("uncertain", False),
    }
    stuck = journal.run_rows(run_id, states=["uncertain"])[0]
    assert "no email" in stuck.help
    assert journal.history(outcomes=["uncertain"])[0].row == 52
    # A second requeue leaves the email-less row where it is.
    assert journal.requeue_unsure(run_id) == (0, 1)


def test_run_status_and_interrupted_owner(journal: Journal, journal_code: str) -> None:
    run_id = make_run(journal, 1)
    journal.begin_run(run_id)
    assert journal.run(run_id).status == "running"
    assert [r.id for r in journal.unfinished_runs()] == [run_id]
    # Another process takes the run over and dies without a word.
    code = f"from leadstream.deliver.journal import Journal\n{journal_code}.begin_run({run_id})\n"
    journal.set_run_status(run_id, "paused")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    info = journal.run(run_id)
    assert info.status == "interrupted"
    assert info.unfinished
    assert str(os.getpid()) not in info.owner
    assert journal.run_status(run_id) == "interrupted"
    journal.begin_run(run_id)  # a dead owner does not block a resume
    assert journal.run_status(run_id) == "running"
    journal.set_run_status(run_id, "finished")
    info = journal.run(run_id)
    assert (info.status, bool(info.finished_at)) == ("finished", True)
    assert journal.unfinished_runs() == []
    with pytest.raises(JournalError, match="not a run status"):
        journal.set_run_status(run_id, "interrupted")


def test_live_owner_blocks_another_process(journal: Journal, journal_code: str) -> None:
    run_id = make_run(journal, 1)
    code = (
        "import sys, time\nfrom leadstream.deliver.journal import Journal\n"
        f"j = {journal_code}\nj.begin_run({run_id})\n"
        "print('ready', flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(JournalError, match="being sent by process"):
            journal.begin_run(run_id)
    finally:
        proc.kill()
        proc.wait()


def test_a_live_sender_is_asked_and_a_stopped_run_cancelled_at_once(journal: Journal) -> None:
    run_id = make_run(journal, 2)
    # Paused: nobody is sending, so a cancel is done here and a pause has nothing to do.
    assert journal.ask_run(run_id, "pause") == "nothing"
    assert journal.ask_run(run_id, "cancel") == "done"
    assert journal.run(run_id).status == "cancelled"
    assert journal.ask_run(run_id, "cancel") == "nothing"
    # Running in a live process (this one): the request is written down for it.
    journal.begin_run(run_id)
    assert journal.ask_run(run_id, "pause") == "asked"
    assert journal.run_request(run_id) == "pause" == journal.run(run_id).request
    assert journal.ask_run(run_id, "cancel") == "asked"
    assert journal.run_request(run_id) == "cancel"
    # Settling the run, or starting it again, answers the request.
    journal.set_run_status(run_id, "cancelled", "Cancelled.")
    assert journal.run_request(run_id) == ""
    journal.begin_run(run_id)
    assert journal.run_request(run_id) == ""
    with pytest.raises(JournalError, match="ask pause or cancel"):
        journal.ask_run(run_id, "stop")
    with pytest.raises(JournalError, match="no bulk run 99"):
        journal.ask_run(99, "pause")


def test_runs_are_paged_and_counted(journal: Journal) -> None:
    ids = [make_run(journal, 1) for _ in range(5)]
    assert journal.run_count() == 5
    assert [r.id for r in journal.runs(limit=2)] == ids[::-1][:2]
    assert [r.id for r in journal.runs(offset=2, limit=2)] == ids[::-1][2:4]
    assert [r.id for r in journal.runs(offset=4, limit=10)] == ids[:1]


def _version_1_journal(path: Path) -> None:
    """A journal as schema 1 wrote it: emails lower-cased in fingerprints, no run requests."""
    from leadstream.deliver.database import SCHEMA_1

    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    pairs = json.dumps([["email", "STRASSE@x.de"], ["cm_id", "1"]])
    db.execute(
        "INSERT INTO posts (time, source, target_kind, target_name, target_url, email, cm_id,"
        " outcome, params, fingerprint) VALUES ('t', 'form', 'sandbox', 'sandbox', 'u',"
        " 'STRASSE@x.de', '1', 'delivered', ?, 'email:strasse@x.de')",
        (pairs,),
    )
    pairs = json.dumps([["email", "Straße@x.de"], ["cm_id", "1"]])
    db.execute(
        "INSERT INTO runs (created, target_kind, target_name, target_url, status, settings)"
        " VALUES ('t', 'sandbox', 'sandbox', 'u', 'paused', ?)",
        (json.dumps({"mapping": {"columns": {"E": "email"}, "constants": {}}, "rate": 0.0}),),
    )
    db.execute(
        "INSERT INTO run_rows (run_id, row, line, params, cm_id, fingerprint, state)"
        " VALUES (1, 0, 2, ?, '1', 'email:straße@x.de', 'uncertain')",
        (pairs,),
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_schema_1_is_migrated_to_the_one_identity_rule(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _version_1_journal(path)
    with Journal(path) as journal:
        # Both spellings are now one lead, in the posts and in the runs alike.
        assert journal.delivered_fingerprints("sandbox", "1") == {"email:strasse@x.de"}
        assert journal.uncertain_fingerprints("sandbox", "1") == set()
        assert journal.run_rows(1)[0].lead.email == "Straße@x.de"
        info = journal.run(1)
        assert info.request == ""
        assert info.run_settings.mapping.columns == {"E": "email"}
        assert info.run_settings.rate_per_s is None
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT fingerprint FROM run_rows").fetchone()[0] == "email:strasse@x.de"
    db.close()


def test_unknown_run(journal: Journal) -> None:
    with pytest.raises(JournalError, match="no bulk run 42"):
        journal.run(42)


# --- the key is never stored ------------------------------------------------------------------


def test_the_key_never_reaches_the_file(tmp_path: Path) -> None:
    account = dataclasses.replace(Account.demo(), key=SECRET)
    path = tmp_path / "j.sqlite3"
    lead = dataclasses.replace(RICH, email="secret-test@example.com")
    with (
        SandboxServer(account, port=0, log=None) as server,
        Client(url=server.url, key=SECRET) as client,
        Journal(path) as journal,
    ):
        target = Target.custom(server.url)
        delivery = client.post(lead)
        assert delivery.outcome is DeliveryOutcome.DELIVERED
        journal.record_post(source="form", target=target, lead=lead, delivery=delivery)
        # An answer that echoes the request (a proxy's error page) must not leak it either.
        echo = MockTransport(lambda url: RawResponse(500, f"<html>bad request {url}</html>"))
        with Client(
            url=server.url, key=SECRET, transport=echo, policy=RetryPolicy(max_attempts=1)
        ) as echoing:
            journal.record_post(
                source="form", target=target, lead=lead, delivery=echoing.post(lead)
            )
        run_id = journal.create_run(
            target=target,
            source_name="f.csv",
            rows=[(0, 2, lead, {"Email": lead.email})],
            # Delivered by the form above: sent again only because the person asks to.
            settings={"concurrency": 1, "include_duplicates": True},
        )
        [row] = journal.claim_next_rows(run_id, 1)
        journal.finish_row(run_id, row.row, client.post(row.lead))
        csv_bytes = history_csv(journal.history())
        stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert stored
    for form in (SECRET.encode(), SECRET[3:].encode()):
        assert form not in stored, "the key is in the journal file"
        assert form not in csv_bytes, "the key is in the history export"
    assert b"secret-test@example.com" in stored, "the lead itself should be in the journal"


# --- team mode: claims, senders (both backends) -----------------------------------------------


@pytest.fixture
def other_desk(tmp_path: Path, database_url: str) -> Iterator[Journal]:
    """A second desk on the same journal (its own connection, as another computer would)."""
    opened = Journal(url=database_url) if database_url else Journal(tmp_path / "j.sqlite3")
    with opened:
        yield opened


def _one_lead_run(journal: Journal, lead: Lead, person: str) -> int:
    with acting_as(person):
        run_id = journal.create_run(target=SANDBOX, source_name="f.csv", rows=[(0, 2, lead, {})])
        journal.begin_run(run_id)
    return run_id


@pytest.mark.parametrize("email", ["ann@example.com", ""], ids=["email", "no-email"])
def test_a_lead_another_desk_holds_becomes_a_duplicate_naming_who(
    journal: Journal, other_desk: Journal, email: str
) -> None:
    lead = Lead(firstname="Ann", phone="7162932368", email=email, cm_id="5")
    mine = _one_lead_run(journal, lead, "ann@desk-1")
    theirs = _one_lead_run(other_desk, lead, "bob@desk-2")
    assert len(journal.claim_next_rows(mine, 1)) == 1
    assert other_desk.claim_next_rows(theirs, 1) == []
    [row] = other_desk.run_rows(theirs)
    assert row.state == "duplicate"
    assert row.help.startswith("Being sent by ann@desk-1 since ")
    assert f"(run {mine})" in row.help
    journal.finish_row(mine, 0, delivered())
    later = _one_lead_run(other_desk, lead, "bob@desk-2")
    assert other_desk.claim_next_rows(later, 1) == []
    [row] = other_desk.run_rows(later)
    assert (row.state, row.help[:24]) == ("duplicate", "Already sent by ann@desk")


def test_a_refused_lead_is_released_for_any_desk(journal: Journal, other_desk: Journal) -> None:
    lead = Lead(firstname="Ann", email="ann@example.com", cm_id="5")
    mine = _one_lead_run(journal, lead, "ann@desk-1")
    journal.claim_next_rows(mine, 1)
    journal.finish_row(mine, 0, rejected())
    theirs = _one_lead_run(other_desk, lead, "bob@desk-2")
    assert [r.row for r in other_desk.claim_next_rows(theirs, 1)] == [0]


@pytest.mark.parametrize(
    ("email", "state"), [("ann@example.com", "in_flight"), ("", "uncertain")], ids=["email", "no"]
)
def test_a_lead_left_in_flight_by_a_stopped_run(
    journal: Journal, other_desk: Journal, email: str, state: str
) -> None:
    """Its sender stopped mid-request: with an email the lead is sent again (a second copy is
    refused as DUPLICATE EMAIL, which confirms the first); without one it is never resent."""
    lead = Lead(firstname="Ann", phone="7162932368", email=email, cm_id="5")
    mine = _one_lead_run(journal, lead, "ann@desk-1")
    journal.claim_next_rows(mine, 1)
    journal.set_run_status(mine, "paused")  # the sender stopped with the lead on its way
    theirs = _one_lead_run(other_desk, lead, "bob@desk-2")
    taken = other_desk.claim_next_rows(theirs, 1)
    [row] = other_desk.run_rows(theirs)
    assert row.state == state
    if taken:
        assert row.maybe_sent
    else:
        assert "ann@desk-1 was sending this lead" in row.help


def test_posts_and_runs_record_who_sent_them(journal: Journal) -> None:
    ann = Lead(firstname="Ann", email="ann@example.com", cm_id="1")
    with acting_as("ann@example.com"):
        journal.record_post(source="form", target=SANDBOX, lead=ann, delivery=delivered())
    journal.record_post(source="form", target=SANDBOX, lead=ann, delivery=rejected())
    run_id = _one_lead_run(journal, ann, "bob@example.com")
    journal.claim_next_rows(run_id, 1)
    journal.finish_row(run_id, 0, rejected())  # recorded under the run's sender
    here = default_sender()
    assert journal.history_people() == sorted({"ann@example.com", "bob@example.com", here})
    assert [e.sender for e in journal.history()] == ["bob@example.com", here, "ann@example.com"]
    only_ann = HistoryFilter(people=("ann@example.com",))
    assert [e.sender for e in journal.history_page(only_ann)] == ["ann@example.com"]
    assert journal.history_count(only_ann) == 1
    info = journal.run(run_id)
    assert info.sender == "bob@example.com"
    assert "bob@example.com" in info.owner


def test_a_sender_whose_run_another_desk_resumed_takes_no_more_rows(journal: Journal) -> None:
    """A desk that stalled past its lease (a laptop asleep) wakes to find its run resumed by
    another desk: it must stop, or both would send the rest."""
    run_id = make_run(journal, 4)
    journal.begin_run(run_id)
    assert len(journal.claim_next_rows(run_id, 1)) == 1
    with journal._tx() as tx:  # another live sender (pid 1 never dies) holds it now
        tx.execute("UPDATE runs SET owner_pid = 1 WHERE id = ?", (run_id,))
    assert journal.claim_next_rows(run_id, 2) == []
    assert journal.run(run_id).counts["pending"] == 3


def test_the_default_journal_is_the_team_database_when_configured(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LEADSTREAM_DATABASE_URL", pg_url)
    with Journal() as opened:
        assert (opened.kind, opened.path) == ("postgresql", None)
        assert "***" in opened.where
    assert not (tmp_path / "home" / JOURNAL_FILENAME).exists()
    monkeypatch.delenv("LEADSTREAM_DATABASE_URL")
    monkeypatch.chdir(tmp_path)  # no secrets.toml naming a database here
    with Journal() as opened:
        assert (opened.kind, opened.path) == ("sqlite", tmp_path / "home" / JOURNAL_FILENAME)
