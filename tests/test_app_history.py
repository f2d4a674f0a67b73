"""AppTest: the History page: the table, filters, CSV export and "Open in form"."""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from test_app_support import button

from leadstream.deliver.client import Client
from leadstream.deliver.journal import JOURNAL_FILENAME, HistoryFilter
from leadstream.deliver.target import DEMO_KEY, Target
from leadstream.prepare.form import EXAMPLE_LEAD
from leadstream.protocol.lead import Lead
from ui.state import get_journal, get_sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from fill_journal import fill_history, outcome_of, post_time

pytest_plugins = ("test_app_support",)

LEADS = [
    EXAMPLE_LEAD,
    Lead(firstname="Ada", lastname="Byron", email="not-an-address", user_id="377310706",
         cm_id="576846"),
    Lead(firstname="Grace", lastname="Hopper", email="grace@example.com", user_id="377310000",
         cm_id="576846"),
]  # fmt: skip


@pytest.fixture
def history(app: AppTest) -> AppTest:
    """Three leads really sent to the sandbox and journalled: delivered, INVALID EMAIL and
    CANCELLED USER; then the History page."""
    sandbox = get_sandbox()
    with Client(url=sandbox.url, key=DEMO_KEY) as client:
        for lead in LEADS:
            get_journal().record_post(
                source="form",
                target=Target.sandbox(sandbox.url),
                lead=lead,
                delivery=client.post(lead),
            )
    return app.switch_page("pages/history.py").run()


def _shown(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Name"])


def test_every_lead_is_listed_newest_first(history: AppTest) -> None:
    table = history.dataframe[0].value
    assert list(table["Name"]) == ["Grace Hopper", "Ada Byron", "Jeff Sample"]
    assert list(table["Code"]) == ["CANCELLED USER", "INVALID EMAIL", "SUCCESS"]
    assert list(table["Outcome"]) == ["✖ rejected", "✖ rejected", "✔ delivered"]
    assert table["Lead link"].iloc[2].startswith("https://www.phoneburner.com/ms/lead_redirect")
    assert "3 leads: 2 rejected, 1 delivered" in [c.value for c in history.caption]


@pytest.mark.parametrize(
    ("search", "outcomes", "expected"),
    [
        ("hopper", [], ["Grace Hopper"]),
        ("INVALID", [], ["Ada Byron"]),
        ("", ["delivered"], ["Jeff Sample"]),
        ("", ["rejected"], ["Grace Hopper", "Ada Byron"]),
    ],
)
def test_filters(history: AppTest, search: str, outcomes: list[str], expected: list[str]) -> None:
    history.text_input(key="keep.history.search").input(search).run()
    history.multiselect(key="keep.history.outcomes").set_value(outcomes).run()
    assert _shown(history) == expected


def test_no_match_says_how_to_see_everything(history: AppTest) -> None:
    history.text_input(key="keep.history.search").input("nobody-like-this").run()
    assert not history.dataframe
    assert any("clear them" in i.value for i in history.info)


def test_csv_export_holds_the_filtered_leads(
    history: AppTest, downloads: Callable[[Any], bytes]
) -> None:
    history.multiselect(key="keep.history.outcomes").set_value(["rejected"]).run()
    data = downloads(history.get("download_button")[0])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Grace Hopper", "Ada Byron"]
    assert DEMO_KEY not in data.decode("utf-8-sig")


def test_a_failed_lead_opens_in_the_form_to_fix_and_resend(history: AppTest) -> None:
    picked = history.selectbox(key="keep.history.pick")
    assert "Grace Hopper" in picked.format_func(picked.value)  # newest not delivered first
    history.selectbox(key="keep.history.pick").set_value(2).run()  # Ada, INVALID EMAIL
    button(history, "Open in form").click().run()

    assert not history.exception
    assert history.text_input(key="keep.form.firstname").value == "Ada"
    assert history.text_input(key="keep.form.email").value == "not-an-address"
    assert any("Opened from History" in i.value for i in history.info)
    # AppTest would rerun the page last named by `switch_page` (History): name the form.
    history.switch_page("pages/post_lead.py")
    history.text_input(key="keep.form.email").input("ada@example.com").run()
    button(history, "Send").click().run()
    assert any("SUCCESS" in s.value for s in history.success)
    assert get_journal().history()[0].name == "Ada Byron"


def test_nothing_sent_yet_says_where_leads_come_from(app: AppTest) -> None:
    app.switch_page("pages/history.py").run()
    assert any("Nothing sent yet" in i.value for i in app.info)


BIG = 21_000


@pytest.fixture
def big_history(app: AppTest, home: Path) -> AppTest:
    """21,000 posts in the journal (past the 5,000 History once stopped at), then History."""
    fill_history(home / JOURNAL_FILENAME, BIG)
    return app.switch_page("pages/history.py").run()


def test_a_big_history_counts_and_pages_everything(big_history: AppTest) -> None:
    at = big_history
    assert not at.exception
    counts = Counter(outcome_of(i) for i in range(BIG))
    captions = [c.value for c in at.caption]
    assert (
        f"{BIG:,} leads: {counts['delivered']:,} delivered, {counts['rejected']:,} rejected, "
        f"{counts['invalid']:,} invalid, {counts['duplicate']:,} duplicate, "
        f"{counts['failed']:,} failed, {counts['uncertain']:,} uncertain"
    ) in captions
    assert f"Leads 1–100 of {BIG:,}." in captions
    assert len(at.dataframe[0].value) == 100
    assert at.dataframe[0].value["Email"].iloc[0] == f"lead{BIG - 1}@example.com"
    assert at.multiselect(key="keep.history.sources").options == [
        "bulk", "cli", "form", "legend test",
    ]  # fmt: skip
    assert "sandbox" in at.multiselect(key="keep.history.targets").options
    at.session_state[f"history.page.{hash(HistoryFilter())}"] = BIG // 100  # the last page
    at.run()
    assert f"Leads {BIG - 99:,}–{BIG:,} of {BIG:,}." in [c.value for c in at.caption]
    assert at.dataframe[0].value["Email"].iloc[-1] == "lead0@example.com"


def test_a_big_history_downloads_every_match(
    downloads: Callable[[Any], bytes], big_history: AppTest
) -> None:
    at = big_history  # after `downloads`, so that its first run keeps the download
    data = downloads(at.get("download_button")[0])
    assert len(list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))) == BIG
    at.multiselect(key="keep.history.sources").set_value(["cli"]).run()
    at.multiselect(key="keep.history.outcomes").set_value(["delivered"]).run()
    expected = sum(1 for i in range(BIG) if i % 5 == 2 and outcome_of(i) == "delivered")
    assert any(c.value.startswith(f"{expected:,} leads:") for c in at.caption)
    data = downloads(at.get("download_button")[0])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == expected
    assert {(r["source"], r["outcome"]) for r in rows} == {("cli", "delivered")}


def test_sent_since_keeps_the_newer_leads(big_history: AppTest) -> None:
    at = big_history
    at.date_input(key="keep.history.since").set_value(date(2026, 11, 2)).run()
    assert not at.exception
    start = datetime(2026, 11, 2).astimezone(UTC)  # the day begins in this computer's zone
    expected = sum(1 for i in range(BIG) if post_time(i) >= start)
    assert 0 < expected < BIG
    assert any(c.value.startswith(f"{expected:,} leads:") for c in at.caption)


def test_history_filters_by_who_sent(app: AppTest) -> None:
    """Posts record their sender (the signed-in person, else user@host); History filters by
    person and shows who sent each lead."""
    from leadstream.deliver.client import Delivery
    from leadstream.deliver.journal import acting_as
    from leadstream.deliver.outcomes import DeliveryOutcome
    from leadstream.protocol.response import parse_response

    answer = parse_response("ERROR|INVALID EMAIL")
    for person, lead in zip(
        ("ann@example.com", "bob@example.com", "ann@example.com"), LEADS, strict=True
    ):
        with acting_as(person):
            get_journal().record_post(
                source="form",
                target=Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact"),
                lead=lead,
                delivery=Delivery(DeliveryOutcome.REJECTED, answer, ()),
            )
    at = app.switch_page("pages/history.py").run()
    assert list(at.dataframe[0].value["Sent by"]) == [
        "ann@example.com",
        "bob@example.com",
        "ann@example.com",
    ]
    at.multiselect(key="keep.history.people").set_value(["bob@example.com"]).run()
    assert _shown(at) == ["Ada Byron"]
    assert not at.exception
