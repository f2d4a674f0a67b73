"""AppTest: the Bulk upload page with real exports (issue 10): header matches and how sure they
are, a workbook with a cover sheet, sheet switching that keeps hand-made choices, and the guard
that stops a column matched to the wrong field."""

from __future__ import annotations

import io

import test_app_bulk
from openpyxl import Workbook
from streamlit.testing.v1 import AppTest
from test_app_bulk import texts, upload

from leadstream.prepare.mapping import ColumnMapping

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The fixtures of the main Bulk upload tests: a throw-away home and the page opened on it.
home = test_app_bulk.home
page = test_app_bulk.page


def hubspot_csv(token: str, rows: int = 3) -> bytes:
    lines = [
        "Record ID,First Name,Last Name,Email,Phone Number,State/Region,Country/Region,"
        "Lifecycle Stage"
    ]
    for i in range(rows):
        lines.append(
            f"{i},Ann{i},Lee,ann{i}+{token}@example.com,(716) 293-23{i:02d},NY,United States,lead"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def cover_workbook(token: str) -> bytes:
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Export info"
    cover.append(["Exported by", "Ann Owner"])
    cover.append(["Report", "All contacts"])
    contacts = book.create_sheet("Contacts")
    contacts.append(["Full Name", "Email Address", "Mobile Phone", "Notes"])
    contacts.append(["Jane Smith", f"jane+{token}@example.com", "7025306954", "call back"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def editor(at: AppTest) -> str:
    return f"bulk.map_editor.{at.session_state['bulk.map_version']}"


def test_a_hubspot_export_is_matched_and_the_columns_left_out_are_named(page: AppTest) -> None:
    at = upload(page, "hubspot.csv", hubspot_csv("hub"))
    mapping: ColumnMapping = at.session_state["bulk.mapping"]
    assert mapping.columns["State/Region"] == "state"
    assert mapping.columns["Country/Region"] == "country"
    assert mapping.columns["Phone Number"] == "phone"
    shown = texts(at.warning).replace("\\", "")
    assert "Ignored: “Record ID”, “Lifecycle Stage”." in shown
    assert "Those columns are not sent" in shown


def test_the_workbook_opens_on_its_contacts_and_keeps_choices_across_sheets(
    page: AppTest,
) -> None:
    at = upload(page, "export.xlsx", cover_workbook("wb"), XLSX)
    assert at.selectbox(key="keep.bulk.sheet").value == "Contacts"
    assert "the one that looks most like contacts" in texts(at.info).replace("\\", "")
    mapping: ColumnMapping = at.session_state["bulk.mapping"]
    assert mapping.columns["Full Name"] == "fullname"

    # By hand: Notes goes to the promo code.
    at.session_state[editor(at)] = {
        "edited_rows": {3: {"Sends as": "Promo code"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert at.session_state["bulk.mapping"].columns["Notes"] == "promocode"

    at.selectbox(key="keep.bulk.sheet").set_value("Export info").run()
    assert not at.exception
    at.selectbox(key="keep.bulk.sheet").set_value("Contacts").run()
    assert not at.exception
    assert at.session_state["bulk.mapping"].columns["Notes"] == "promocode"
    assert "Kept your choices for the 4 columns" in texts(at.info)


def test_a_workbook_is_read_and_checked_once_not_again_on_the_next_rerun(page: AppTest) -> None:
    at = upload(page, "export.xlsx", cover_workbook("once"), XLSX)
    table, prepared = at.session_state["bulk.table"], at.session_state["bulk.prepared"]
    assert table[1].sheet == "Contacts"
    at.run()  # any click: the sheet box now says "Contacts", which the reading chose itself
    assert not at.exception
    assert at.session_state["bulk.table"][1] is table[1]
    assert at.session_state["bulk.prepared"][1] is prepared[1]


def test_a_column_of_phone_numbers_as_state_stops_the_send(page: AppTest) -> None:
    rows = "\n".join(f"guard{i}@example.com,(716) 293-24{i:02d}" for i in range(6))
    at = upload(page, "guard.csv", f"Email,State\n{rows}\n".encode())
    shown = texts(at.error).replace("\\", "")
    assert "Column “State” is matched to State, but 6 of its 6 values are not a valid State." in (
        shown
    )
    assert "Not sent yet: “State” looks matched to the wrong field." in shown
    assert at.button(key="bulk.send").disabled

    (anyway,) = [c for c in at.checkbox if c.label.startswith("Send anyway")]
    anyway.check().run()
    assert not at.button(key="bulk.send").disabled
    assert "Not sent yet" not in texts(at.error)


def test_fixing_the_match_lifts_the_guard(page: AppTest) -> None:
    rows = "\n".join(f"fix{i}@example.com,(716) 293-25{i:02d}" for i in range(6))
    at = upload(page, "guard.csv", f"Email,State\n{rows}\n".encode())
    assert at.button(key="bulk.send").disabled
    at.session_state[editor(at)] = {
        "edited_rows": {1: {"Sends as": "Phone"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert at.session_state["bulk.mapping"].columns["State"] == "phone"
    assert "matched to the wrong field" not in texts(at.error)
    assert not at.button(key="bulk.send").disabled


def test_the_rows_with_warnings_count_the_same_in_the_choice_and_the_tile(page: AppTest) -> None:
    text = (
        "Email,Zip\n"
        "count1@example.com,14204\n"
        "count1@example.com,1420\n"  # a warning, and a duplicate of the row above
        "count2@example.com,1420\n"  # a warning
    )
    at = upload(page, "counts.csv", text.encode())
    at.radio(key="keep.bulk.send_warnings").set_value("warnings").run()
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["With warnings"] == "1"
    assert tiles["Duplicates"] == "1"
    choices = at.radio(key="keep.bulk.send_warnings").options
    assert "Ready rows and rows with warnings (1)" in choices


def test_a_day_first_date_column_is_said(page: AppTest) -> None:
    text = "Email,Follow Up Date\neu1@example.com,24/12/2026\neu2@example.com,1/5/2026\n"
    at = upload(page, "eu.csv", text.encode())
    shown = texts(at.info).replace("\\", "")
    assert "Column “Follow Up Date” is written day first (it has 24/12/2026)" in shown
    assert "1/5/2026 is May 1, 2026" in shown


def test_the_full_name_split_is_shown_above_the_preview(page: AppTest) -> None:
    at = upload(page, "export.xlsx", cover_workbook("split"), XLSX)
    shown = texts(at.info).replace("\\", "")
    assert "Column “Full Name” is split into first and last name" in shown
    assert "“Jane Smith” → first “Jane”, last “Smith”" in shown


def test_the_person_says_how_dates_that_read_two_ways_are_written(page: AppTest) -> None:
    text = "Email,Follow Up Date\nuk1@example.com,1/5/2026\nuk2@example.com,3/4/2026\n"
    at = upload(page, "uk.csv", text.encode())
    question = "How are the dates in “Follow Up Date” written?"
    [choice] = [r for r in at.radio if r.label == question]
    assert choice.value is False  # nothing shows the order: month first, as in the US
    assert "Month first: 1/5/2026 is January 5, 2026" in choice.options
    assert "Day first: 1/5/2026 is May 1, 2026" in choice.options
    assert _sent_dates(at) == ["01/05/2026", "03/04/2026"]

    choice.set_value(True).run()
    assert not at.exception, at.exception
    assert _sent_dates(at) == ["05/01/2026", "04/03/2026"]
    shown = texts(at.info).replace("\\", "")
    assert "its dates are read day first, as you chose (1/5/2026 is May 1, 2026)" in shown
    [choice] = [r for r in at.radio if r.label == question]
    assert choice.value is True
    # The choice is part of the mapping: saved with it, and sent with the run's settings.
    assert at.session_state["bulk.mapping"].day_first == {"Follow Up Date": True}


def _sent_dates(at: AppTest) -> list[str]:
    _, prepared = at.session_state["bulk.prepared"]
    return [row.lead.custom_fields["195481"] for row in prepared]
