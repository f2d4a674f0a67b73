"""The bulk upload page through Streamlit's AppTest: upload, mapping, checked preview, sending
to the real in-process sandbox (a real socket on 127.0.0.1), results, and resuming runs left
unfinished in a real SQLite journal.

AppTest's `switch_page` runs the page alone (app.py and its sidebar do not run), so the tests
put the sidebar's values (`keep.conn.*`) in session state before the first run, as the sidebar
would.
"""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from deliveries import refused
from streamlit.testing.v1 import AppTest

from leadstream.deliver.journal import JOURNAL_FILENAME, Journal, NewRow
from leadstream.deliver.target import DEMO_CM_ID, DEMO_USER_ID, Target
from leadstream.protocol.lead import Lead

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/bulk_upload.py"
RUNS_PAGE = "pages/runs.py"
CANCELLED_USER = "377310000"  # the demo account's cancelled user: an account-wide refusal


def leads_csv(token: str) -> bytes:
    """Five rows: two ready, one warning (no email), one invalid email, one duplicate.

    Emails carry `token` because the in-process sandbox lives for the whole test session and
    refuses an email it already holds.
    """
    return (
        "First Name,Last Name,Email,Phone,State,Zip,Follow Up Date,Tags\n"
        f"Jeff,Sample,jeff+{token}@example.com,(716) 293-2368,NY,14204,2017-12-24,Hot Lead\n"
        f"Ann,Lee,ann+{token}@example.com,(716) 293-2369,NY,14204,,\n"
        "Bob,Stone,,(716) 293-2370,NY,14204,,\n"
        "Cat,Wu,not-an-email,(716) 293-2371,NY,14204,,\n"
        f"Jeff,Again,JEFF+{token}@example.com,,,,,\n"
    ).encode()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path))
    monkeypatch.delenv("LEADSTREAM_KEY", raising=False)
    return tmp_path


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex[:10]


def open_page(
    user_id: str = DEMO_USER_ID, cm_id: str = DEMO_CM_ID, target: str = "sandbox"
) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["keep.conn.target"] = target
    at.session_state["keep.conn.user_id"] = user_id
    at.session_state["keep.conn.cm_id"] = cm_id
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


@pytest.fixture
def page(home: Path) -> Iterator[AppTest]:
    at = open_page()
    yield at
    settle_all(home)


def settle_all(home: Path, timeout: float = 30.0) -> None:
    """Wait until no run of this journal is being sent (threads of the page outlive AppTest)."""
    path = home / JOURNAL_FILENAME
    if not path.exists():
        return
    with Journal(path) as journal:
        deadline = time.monotonic() + timeout
        while any(r.status == "running" for r in journal.runs()):
            assert time.monotonic() < deadline, "a bulk run did not settle"
            time.sleep(0.05)


def upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader(key="bulk.upload.0").set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(elements: object) -> str:
    return "\n".join(str(e.value) for e in elements)  # type: ignore[attr-defined]


def send_and_wait(at: AppTest, home: Path) -> int:
    at.button(key="bulk.send").click().run()
    assert "Yes, send" in " ".join(b.label for b in at.button)
    at.button(key="bulk.confirm_send").click().run()
    assert not at.exception, at.exception
    run_id = int(at.session_state["bulk.run_id"])
    wait_for(home, run_id)
    at.run()
    assert not at.exception, at.exception
    return run_id


def wait_for(home: Path, run_id: int, timeout: float = 30.0) -> str:
    with Journal(home / JOURNAL_FILENAME) as journal:
        deadline = time.monotonic() + timeout
        while (status := journal.run(run_id).status) == "running":
            assert time.monotonic() < deadline, f"run {run_id} still running"
            time.sleep(0.05)
    return status


def sandbox_emails() -> set[str]:
    """The emails the app's in-process sandbox stored, asked over HTTP (`GET /sandbox/leads`).
    `get_sandbox` is cached for the process, so this is the instance the page sent to."""
    from ui.state import get_sandbox

    base = get_sandbox().base_url
    assert base.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{base}/sandbox/leads", timeout=5) as answer:
        stored = json.load(answer)
    return {str(lead["params"].get("email", "")).lower() for lead in stored}


def preview_rows(at: AppTest) -> list[int]:
    frames = [d.value for d in at.dataframe if "What will happen" in d.value.columns]
    assert frames, "no preview table"
    return [int(n) for n in frames[-1]["Row"]]


# ---------------------------------------------------------------------------- happy path


@pytest.mark.slow
def test_upload_auto_maps_checks_sends_and_shows_results(
    page: AppTest, home: Path, token: str
) -> None:
    upload(page, "leads.csv", leads_csv(token))
    mapping = page.session_state["bulk.mapping"]
    assert mapping.columns == {
        "First Name": "firstname",
        "Last Name": "lastname",
        "Email": "email",
        "Phone": "phone",
        "State": "state",
        "Zip": "zip",
        "Follow Up Date": "custom_field[195481]",  # through the sandbox's legend
        "Tags": "tags",
    }
    editor = page.data_editor(key=f"bulk.map_editor.{page.session_state['bulk.map_version']}")
    assert list(editor.value["Sends as"])[:3] == ["First name", "Last name", "Email"]
    assert "5 rows and 8 columns" in texts(page.success)

    assert metrics(page) == {
        "Will be sent": "3",
        "Ready": "2",
        "With warnings": "1",
        "Invalid": "1",
        "Duplicates": "1",
        "Held back": "0",
    }
    table = [d.value for d in page.dataframe if "What will happen" in d.value.columns][-1]
    first = table.iloc[0]
    assert first["Email"] == f"jeff+{token}@example.com"
    request = first["Request (key hidden)"]
    assert "/api/vendor/put_contact?key=****&firstname=Jeff&" in request
    assert "&custom_field[195481]=12%2F24%2F2017&" in request  # the date as the legend says
    assert "XXXYYYZZZ" not in table.to_csv()

    send_and_wait(page, home)
    assert "1 delivered" not in texts(page.markdown)  # two were delivered, not one
    assert "2 delivered" in texts(page.markdown)
    results = [d.value for d in page.dataframe if "outcome" in d.value.columns][-1]
    outcomes = dict(zip(results["row"], results["outcome"], strict=True))
    assert outcomes == {2: "delivered", 3: "delivered", 4: "rejected", 5: "invalid", 6: "duplicate"}
    assert results.loc[results["row"] == 4, "code"].item() == "INVALID EMAIL"
    delivered = results[results["outcome"] == "delivered"]
    assert all(url.startswith("https://") for url in delivered["lead_url"])
    assert list(results.columns[6:]) == [
        "First Name",
        "Last Name",
        "Email",
        "Phone",
        "State",
        "Zip",
        "Follow Up Date",
        "Tags",
    ]
    assert {f"jeff+{token}@example.com", f"ann+{token}@example.com"} <= sandbox_emails()
    assert any(b.label.startswith("Download the results") for b in page.download_button)

    # Back to the same file: what was delivered from here is now a duplicate.
    page.button(key="bulk.back").click().run()
    assert metrics(page)["Duplicates"] == "3"  # two delivered from here, one within the file
    assert metrics(page)["Will be sent"] == "1"


@pytest.mark.slow
def test_ready_rows_only_holds_back_warnings(page: AppTest, home: Path, token: str) -> None:
    upload(page, "leads.csv", leads_csv(token))
    page.radio(key="keep.bulk.send_warnings").set_value("ready").run()
    assert metrics(page)["Will be sent"] == "2"
    assert metrics(page)["Held back"] == "1"
    run_id = send_and_wait(page, home)
    with Journal(home / JOURNAL_FILENAME) as journal:
        info = journal.run(run_id)
    assert info.total == 4  # the held-back row is not part of the run
    assert info.counts["delivered"] == 2
    assert "1 row with warnings was not part of this run" in texts(page.caption)


# ---------------------------------------------------------------------------- broken files

BROKEN = [
    ("empty.csv", b"", "is empty"),
    ("header.csv", b"Name,Email\n", "no data rows"),
    ("book.xlsx", b"PK\x03\x04" + b"\x00" * 64, "damaged"),
    ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Excel 97"),
]


def test_broken_files_show_an_error_and_nothing_else(page: AppTest, token: str) -> None:
    # One page, one file after another: each replaces the last, as a person would do it.
    for name, data, says in BROKEN:
        upload(page, name, data)
        errors = texts(page.error)
        assert says in errors, name
        assert name in errors
        assert not page.data_editor
        assert not page.metric
    upload(page, "leads.csv", leads_csv(token))
    assert not page.error
    assert metrics(page)["Will be sent"] == "3"


def test_encoding_choice_rereads_the_file(page: AppTest) -> None:
    upload(page, "latin.csv", "First Name,Email\nJosé,jose@example.com\n".encode("cp1252"))
    assert not page.error
    page.selectbox(key="keep.bulk.encoding").set_value("utf-8").run()
    assert "not valid utf-8" in texts(page.error)
    page.selectbox(key="keep.bulk.encoding").set_value("cp1252").run()
    assert not page.error
    assert page.session_state["bulk.table"][1].frame.iloc[0, 0] == "José"


def test_workbook_sheet_picker(page: AppTest) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    leads = book.create_sheet("Leads")
    leads.append(["First Name", "Email"])
    leads.append(["Jeff", "jeff@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload(page, "book.xlsx", buffer.getvalue(), "application/vnd.ms-excel")
    sheet = page.selectbox(key="keep.bulk.sheet")
    assert sheet.options == ["Notes", "Leads"]
    assert sheet.value == "Leads"
    assert "from sheet “Leads”" in texts(page.success)
    sheet.set_value("Notes").run()
    assert not page.exception
    assert page.error  # an empty sheet is said, not crashed on
    page.selectbox(key="keep.bulk.sheet").set_value("Leads").run()
    assert not page.error


# ---------------------------------------------------------------------------- mapping


def test_mapping_edit_and_load_saved_mapping(page: AppTest, token: str) -> None:
    upload(page, "leads.csv", leads_csv(token))
    version = page.session_state["bulk.map_version"]
    page.session_state[f"bulk.map_editor.{version}"] = {
        "edited_rows": {7: {"Sends as": "Promo code"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    page.run()
    assert page.session_state["bulk.mapping"].columns["Tags"] == "promocode"
    assert page.session_state["bulk.map_version"] > version

    saved = {
        "version": 1,
        "columns": {"Email": "email", "First Name": "firstname", "Gone": "lastname"},
        "constants": {"cm_id": "576846", "user_id": "377310706", "tags": "Imported"},
    }
    page.file_uploader(key="bulk.mapping_upload.0").set_value(
        ("saved.mapping.json", json.dumps(saved).encode(), "application/json")
    ).run()
    assert not page.exception
    assert "Mapping loaded from saved.mapping.json" in texts(page.success)
    assert "“Gone”" in texts(page.warning)
    assert page.session_state["bulk.mapping"].columns["Phone"] is None
    assert page.text_input(key="keep.bulk.tags").value == "Imported"

    before = page.session_state["bulk.mapping"]
    page.file_uploader(key="bulk.mapping_upload.1").set_value(
        ("bad.json", b'{"columns": {"Email": "shoe size"}}', "application/json")
    ).run()
    assert not page.exception
    assert "shoe size" in texts(page.error)
    assert page.session_state["bulk.mapping"] == before

    # The fixed file comes back: shared columns keep their choices (Tags stays ignored,
    # although its name would match), new ones are matched.
    page.file_uploader(key="bulk.upload.0").set_value(
        ("fixed.csv", b"First Name,Email,Tags,Phone number\nJo,jo@example.com,x,\n", "text/csv")
    ).run()
    assert page.session_state["bulk.mapping"].columns == {
        "First Name": "firstname",
        "Email": "email",
        "Tags": None,
        "Phone number": "phone",
    }
    assert "Kept your choices for the 3 columns this sheet or file shares" in texts(page.info)


# ---------------------------------------------------------------------------- preview


FILTERED = [
    ("attention", [4, 5, 6]),
    ("invalid", [5]),
    ("duplicate", [6]),
    ("send", [2, 3, 4]),
    ("all", [2, 3, 4, 5, 6]),
]


def test_problem_filter(page: AppTest, token: str) -> None:
    upload(page, "leads.csv", leads_csv(token))
    for choice, rows in FILTERED:
        page.radio(key="keep.bulk.filter").set_value(choice).run()
        assert preview_rows(page) == rows, choice
    labels = [button.label for button in page.download_button]
    assert "Download the 3 rows with problems (CSV)" in labels


def test_preview_is_checked_once_per_mapping(page: AppTest, token: str) -> None:
    upload(page, "leads.csv", leads_csv(token))
    prepared = page.session_state["bulk.prepared"]
    page.radio(key="keep.bulk.filter").set_value("invalid").run()
    assert page.session_state["bulk.prepared"][1] is prepared[1]  # not checked again
    page.text_input(key="keep.bulk.tags").set_value("Spring").run()
    assert page.session_state["bulk.prepared"][1] is not prepared[1]
    assert all("Spring" in row.lead.tags for row in page.session_state["bulk.prepared"][1])


def test_live_target_asks_before_anything_is_sent(
    home: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_KEY", "live-secret-4242")
    at = open_page(target="live")
    upload(at, "leads.csv", leads_csv(token))
    table = [d.value for d in at.dataframe if "What will happen" in d.value.columns][-1]
    assert table.iloc[0]["Request (key hidden)"].startswith(
        "https://www.phoneburner.com/api/vendor/put_contact?key=****42&firstname=Jeff&"
    )
    assert "live-secret-4242" not in table.to_csv()
    at.button(key="bulk.send").click().run()
    assert "This sends real leads to PhoneBurner" in texts(at.warning)
    labels = [b.label for b in at.button]
    assert "Yes, send to PhoneBurner live" in labels
    assert "Yes, send 3 leads" not in labels  # not before the live confirmation
    at.button(key="conn.confirm_live.bulk").click().run()
    assert "Yes, send 3 leads" in [b.label for b in at.button]
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.runs() == []  # nothing was sent, nothing was even planned


# ---------------------------------------------------------------------------- pauses and resumes


@pytest.mark.slow
def test_canary_pauses_after_an_account_wide_refusal(home: Path, token: str) -> None:
    at = open_page(user_id=CANCELLED_USER)
    upload(at, "leads.csv", leads_csv(token))
    run_id = send_and_wait(at, home)
    with Journal(home / JOURNAL_FILENAME) as journal:
        info = journal.run(run_id)
    assert info.status == "paused"
    assert info.counts["rejected"] == 1
    assert info.counts["pending"] == 2
    assert "Paused after the first row" in texts(at.warning)
    assert "CANCELLED USER" in texts(at.warning)
    assert at.button(key=f"run.resume.{run_id}")
    at.button(key=f"run.cancel.{run_id}").click().run()
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.run(run_id).status == "cancelled"
    assert "Send the 2 rows not sent yet" in " ".join(b.label for b in at.button)


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


@pytest.mark.slow
def test_resume_offer_after_a_restart(home: Path, token: str) -> None:
    leads = [
        Lead(
            firstname=f"P{i}",
            email=f"p{i}+{token}@example.com",
            user_id=DEMO_USER_ID,
            cm_id=DEMO_CM_ID,
        )
        for i in range(3)
    ]
    with Journal(home / JOURNAL_FILENAME) as journal:
        run_id = journal.create_run(
            target=Target.sandbox("http://127.0.0.1:9/api/vendor/put_contact"),  # old port
            source_name="yesterday.csv",
            rows=[
                NewRow(0, 2, Lead(firstname="Bad", email="x"), {"Email": "x"}, "invalid", "bad"),
                *(
                    NewRow(i + 1, i + 3, lead, {"Email": lead.email})
                    for i, lead in enumerate(leads)
                ),
            ],
            settings={"concurrency": 2},
        )
    # As the journal finds it after the app was killed while sending: running, owner gone.
    with sqlite3.connect(home / JOURNAL_FILENAME) as db:
        db.execute(
            "UPDATE runs SET status = 'running', owner_host = ?, owner_pid = ? WHERE id = ?",
            (socket.gethostname(), _dead_pid(), run_id),
        )

    at = open_page()
    assert f"Run \\#{run_id} · yesterday" in texts(at.markdown)  # markdown-escaped
    assert "interrupted with 1 of 4 done" in texts(at.markdown)
    at.button(key=f"run.open.{run_id}").click().run()  # to the Runs page, ?run=<id>
    assert not at.exception, at.exception
    assert at.query_params["run"] == str(run_id)
    assert "Resume" in [b.label for b in at.button]
    # AppTest's next run() would go back to the page it was switched to last: stay on Runs.
    at.switch_page(RUNS_PAGE).run()
    at.button(key=f"run.resume.{run_id}").click().run()
    assert not at.exception, at.exception
    assert wait_for(home, run_id) == "finished"
    at.run()
    results = [d.value for d in at.dataframe if "outcome" in d.value.columns][-1]
    assert list(results["outcome"]) == ["invalid", "delivered", "delivered", "delivered"]
    assert {lead.email for lead in leads} <= sandbox_emails()
    at.switch_page(PAGE).run()
    assert all(b.key != f"run.open.{run_id}" for b in at.button)  # nothing left unfinished


@pytest.mark.slow
def test_resend_failed_rows_starts_a_run_with_just_those(home: Path, token: str) -> None:
    leads = [
        Lead(
            firstname=f"F{i}",
            email=f"f{i}+{token}@example.com",
            user_id=DEMO_USER_ID,
            cm_id=DEMO_CM_ID,
        )
        for i in range(2)
    ]
    with Journal(home / JOURNAL_FILENAME) as journal:
        run_id = journal.create_run(
            target=Target.sandbox("http://127.0.0.1:9/api/vendor/put_contact"),
            source_name="monday.csv",
            rows=[
                NewRow(0, 2, Lead(firstname="Bad", email="x"), {"Email": "x"}, "invalid", "bad"),
                *(
                    NewRow(i + 1, i + 3, lead, {"Email": lead.email})
                    for i, lead in enumerate(leads)
                ),
            ],
        )
        journal.begin_run(run_id)
        for row in journal.claim_next_rows(run_id, 2):
            journal.finish_row(run_id, row.row, refused())
        journal.set_run_status(run_id, "finished")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["bulk.run_id"] = run_id  # the page was showing that run's results
    at.switch_page(PAGE).run()
    assert (
        "0 delivered, 2 failed (certainly not taken, safe to send again), 1 not sent as they "
        "failed the checks (3 rows)"
    ) in texts(at.warning)
    at.button(key=f"run.retry.{run_id}").click().run()  # opens the new run on the Runs page
    assert not at.exception, at.exception
    retry_id = int(at.query_params["run"])
    assert retry_id != run_id
    assert wait_for(home, retry_id) == "finished"
    at.switch_page(RUNS_PAGE).run()
    results = [d.value for d in at.dataframe if "outcome" in d.value.columns][-1]
    assert list(results["row"]) == [3, 4]  # just the failed rows, by their spreadsheet row
    assert list(results["outcome"]) == ["delivered", "delivered"]
    with Journal(home / JOURNAL_FILENAME) as journal:
        assert journal.run(run_id).counts["failed"] == 2  # the first run is left as it was
        assert journal.run(retry_id).run_settings.retry_of == run_id
    assert {lead.email for lead in leads} <= sandbox_emails()
