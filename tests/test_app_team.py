"""AppTest: the app on a team's PostgreSQL journal (LEADSTREAM_DATABASE_URL), and the clear
message it gives when that database cannot be used."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app_support import APP

from leadstream.deliver.client import Delivery
from leadstream.deliver.journal import Journal, acting_as
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.deliver.target import Target
from leadstream.protocol.lead import Lead
from leadstream.protocol.response import parse_response

pytest_plugins = ("test_app_support",)


def test_history_shows_what_every_desk_sent(
    pg_url: str, home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_DATABASE_URL", pg_url)
    answer = parse_response("SUCCESS|https://www.phoneburner.com/ms/lead_redirect?upc=AB12")
    with Journal(url=pg_url) as other_desk, acting_as("bob@desk-2"):
        other_desk.record_post(
            source="form",
            target=Target.sandbox("http://127.0.0.1:1/api/vendor/put_contact"),
            lead=Lead(firstname="Grace", lastname="Hopper", email="grace@example.com"),
            delivery=Delivery(DeliveryOutcome.DELIVERED, answer, ()),
        )
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at = at.switch_page("pages/history.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Name"]) == ["Grace Hopper"]
    assert list(table["Sent by"]) == ["bob@desk-2"]


def test_a_team_database_that_cannot_be_reached_is_named_without_a_traceback(
    home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSTREAM_DATABASE_URL", "postgresql://desk:hunter2@127.0.0.1:1/team")
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at = at.switch_page("pages/history.py").run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert "cannot be reached" in error
    assert "hunter2" not in error
