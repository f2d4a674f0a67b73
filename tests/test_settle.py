"""Settling uncertain rows: the pure judgement, and whole runs against the real sandbox."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from leadstream.deliver.journal import Journal, NewRow
from leadstream.deliver.rest import RestClient, RestClientError
from leadstream.deliver.settle import (
    FOUND_CODE,
    NOT_FOUND_CODE,
    SettleError,
    judge,
    settle_run,
)
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead
from leadstream.protocol.query import lead_to_pairs
from leadstream.protocol.rest import Contact
from leadstream.sandbox import DEMO_TOKEN, Account, SandboxServer

USER, CM = "377310706", "576846"


def contact(cid: str, first: str = "", last: str = "", phone: str = "", email: str = "") -> Contact:
    return Contact(cid, USER, first, last, "2026-01-01 00:00:00", phone, email)


ANN = Lead(firstname="Ann", lastname="Lee", email="ann@example.com", phone="(716) 293-0001")
BO = Lead(firstname="Bo", lastname="Ng", phone="716-293-0002")


@pytest.mark.parametrize(
    ("lead", "candidates", "by", "outcome"),
    [
        (ANN, [contact("1", email="ANN@example.com")], "email", "delivered"),
        (ANN, [contact("1", email="other@example.com")], "email", "failed"),
        (ANN, [], "email", "failed"),
        (BO, [contact("2", "bo", " NG ", "7162930002")], "phone", "delivered"),
        (BO, [contact("2", "Bob", "Ng", "7162930002")], "phone", "uncertain"),
        (BO, [contact("2", "Bo", "Ng", "7162930009")], "phone", "failed"),
        (BO, [], "phone", "failed"),
        (
            Lead(phone="7162930002"),
            [contact("3", "Anyone", "", "7162930002")],
            "phone",
            "delivered",
        ),
    ],
)
def test_judge(lead: Lead, candidates: list[Contact], by: str, outcome: str) -> None:
    finding = judge(lead, candidates, by=by)
    assert finding.outcome == outcome
    assert finding.detail


@pytest.fixture
def sandbox_without_email_rule() -> Iterator[SandboxServer]:
    account = dataclasses.replace(Account.demo(), require_email=False)
    with SandboxServer(account, log=None) as server:
        yield server


def deliver(server: SandboxServer, lead: Lead) -> None:
    answer = requests.get(server.url, params=lead_to_pairs(lead, key="XXXYYYZZZ"), timeout=5)
    assert answer.text.startswith("SUCCESS|"), answer.text


def routed(lead: Lead, user: str = USER) -> Lead:
    return dataclasses.replace(lead, user_id=user, cm_id=CM)


@pytest.mark.parametrize("email_lookups", [100, 0], ids=["email-by-email", "one-listing"])
def test_a_run_is_settled_row_by_row(
    sandbox_without_email_rule: SandboxServer, tmp_path: Path, email_lookups: int
) -> None:
    server = sandbox_without_email_rule
    leads = [
        routed(ANN),  # arrived: found by email
        routed(dataclasses.replace(ANN, email="lost@example.com")),  # never arrived
        routed(BO),  # arrived without email: found by phone and name
        routed(Lead(firstname="Cy", phone="7162930003")),  # never arrived
        routed(Lead(firstname="Di", phone="7162930004")),  # its phone is there under another name
        routed(Lead(firstname="Ed")),  # nothing to look it up by
        routed(Lead(firstname="Fa", email="fa@example.com"), user="999"),  # another user's lead
    ]
    for lead in (leads[0], leads[2], routed(Lead(firstname="Zed", phone="7162930004"))):
        deliver(server, lead)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.custom(server.url),
            source_name="leads.csv",
            rows=[
                NewRow(i, i + 2, lead, {}, "uncertain", "no answer") for i, lead in enumerate(leads)
            ],
        )
        with RestClient.for_put_contact(server.url, DEMO_TOKEN, page_size=2) as rest:
            seen: list[str] = []
            report = settle_run(
                journal,
                rest,
                run_id,
                on_row=lambda row, f: seen.append(f.outcome),
                email_lookups=email_lookups,
            )
        states = [(row.state, row.code) for row in journal.run_rows(run_id)]
        history = {entry.row: entry.outcome for entry in journal.history(limit=100)}
    assert states == [
        ("delivered", FOUND_CODE),
        ("failed", NOT_FOUND_CODE),
        ("delivered", FOUND_CODE),
        ("failed", NOT_FOUND_CODE),
        ("uncertain", ""),
        ("uncertain", ""),
        ("uncertain", ""),
    ]
    assert (report.checked, report.delivered, report.failed, report.uncertain) == (7, 2, 2, 3)
    assert seen.count("uncertain") == 3
    assert history == {2: "delivered", 3: "failed", 4: "delivered", 5: "failed"}  # by line
    assert "2 found (delivered), 2 not there" in report.summary()


def test_settling_again_changes_nothing(
    sandbox_without_email_rule: SandboxServer, tmp_path: Path
) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.custom(sandbox_without_email_rule.url),
            source_name="x",
            rows=[NewRow(0, 2, routed(ANN), {}, "uncertain")],
        )
        with RestClient.for_put_contact(sandbox_without_email_rule.url, DEMO_TOKEN) as rest:
            assert settle_run(journal, rest, run_id).failed == 1
            again = settle_run(journal, rest, run_id)
    assert again.checked == 0


def test_a_bad_token_stops_before_anything_is_marked(
    sandbox_without_email_rule: SandboxServer, tmp_path: Path
) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.custom(sandbox_without_email_rule.url),
            source_name="x",
            rows=[NewRow(0, 2, routed(ANN), {}, "uncertain")],
        )
        with (
            RestClient.for_put_contact(sandbox_without_email_rule.url, "wrong") as rest,
            pytest.raises(RestClientError, match="access token"),
        ):
            settle_run(journal, rest, run_id)
        assert journal.run_rows(run_id)[0].state == "uncertain"


def test_a_run_being_sent_is_not_checked(
    sandbox_without_email_rule: SandboxServer, tmp_path: Path
) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        run_id = journal.create_run(
            target=Target.custom(sandbox_without_email_rule.url), source_name="x", rows=[]
        )
        journal.begin_run(run_id)
        with (
            RestClient.for_put_contact(sandbox_without_email_rule.url, DEMO_TOKEN) as rest,
            pytest.raises(SettleError, match="being sent"),
        ):
            settle_run(journal, rest, run_id)
