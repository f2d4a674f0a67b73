"""AppTest: the Custom-field legend page: paste, edit, save, manage, import, export, test."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from test_app_support import button, errors, successes

from leadstream.prepare.legend import FieldType, Legend, LegendField
from ui.state import get_journal

PASTED = "custom_field[297989]=Reference #&\ncustom_field[195481]=Follow Up Date&\n"

pytest_plugins = ("test_app_support",)


@pytest.fixture
def legend_page(app: AppTest) -> AppTest:
    return app.switch_page("pages/legend.py").run()


def _paste(at: AppTest, text: str) -> AppTest:
    return at.text_area(key="keep.legend.paste").input(text).run()


def _editor_key(at: AppTest) -> str:
    return f"legend.editor.{at.session_state['legend.version']}"


def test_the_demo_legend_is_seeded_on_first_run(legend_page: AppTest) -> None:
    (demo,) = get_journal().legends()
    assert demo.name == "Demo LeadStream"
    assert [f.type for f in demo.fields] == [FieldType.TEXT, FieldType.DATE, FieldType.CHECKBOX]


def test_a_pasted_legend_is_read_saved_and_shown_on_the_form(legend_page: AppTest) -> None:
    at = _paste(legend_page, PASTED.replace("297989", "401").replace("195481", "402"))
    assert any("Read 2 fields" in s for s in successes(at))
    assert at.session_state["legend.rows"] == [
        {"id": "401", "name": "Reference #", "type": "text"},
        {"id": "402", "name": "Follow Up Date", "type": "date"},
    ]
    at.text_input(key="keep.legend.name").input("Web leads").run()
    at.text_input(key="keep.legend.cm_id").input("576846").run()
    button(at, "Save legend").click().run()

    assert any("Saved the legend 'Web leads'" in s for s in successes(at))
    saved = get_journal().legend("Web leads")
    assert saved is not None
    assert saved.cm_id == "576846"
    at.switch_page("pages/post_lead.py").run()
    assert at.selectbox(key="keep.form.legend").value == "Web leads"
    assert at.date_input.len == 0  # dates are typed text now
    assert "Follow Up Date" in [t.label for t in at.text_input]
    assert "Reference #" in [t.label for t in at.text_input]


def test_problems_in_a_paste_are_listed_with_their_lines(legend_page: AppTest) -> None:
    at = _paste(legend_page, "custom_field[12a]=Oops&\ncustom_field[7]=&")
    (shown,) = errors(at)
    assert "could not be read" in shown
    assert "line 1" in shown
    assert "line 2" in shown
    assert at.session_state["legend.rows"] == []


def test_edits_in_the_table_are_checked_and_saved(legend_page: AppTest) -> None:
    at = _paste(legend_page, PASTED)
    at.session_state[_editor_key(at)] = {
        "edited_rows": {0: {"type": "checkbox"}},
        "added_rows": [{"id": "x9", "name": "Bad ID", "type": "text"}],
        "deleted_rows": [],
    }
    at.run()
    assert any("row 3" in e and "not a number" in e for e in errors(at))
    button(at, "Save legend").click().run()
    assert any("Not saved" in e for e in errors(at))

    at.session_state[_editor_key(at)] = {
        "edited_rows": {0: {"type": "checkbox"}},
        "added_rows": [{"id": "9", "name": "Notes", "type": "text"}],
        "deleted_rows": [1],
    }
    at.text_input(key="keep.legend.name").input("Edited").run()
    button(at, "Save legend").click().run()
    saved = get_journal().legend("Edited")
    assert saved is not None
    assert [(f.id, f.type) for f in saved.fields] == [
        ("297989", FieldType.CHECKBOX),
        ("9", FieldType.TEXT),
    ]


def test_saved_legends_can_be_renamed_and_deleted(legend_page: AppTest) -> None:
    at = legend_page
    at.selectbox(key="keep.legend.saved").set_value("Demo LeadStream").run()
    at.text_input(key="keep.legend.new_name").input("Sandbox demo").run()
    button(at, "Rename").click().run()
    assert [lg.name for lg in get_journal().legends()] == ["Sandbox demo"]

    button(at, "Delete").click().run()
    assert get_journal().legends()  # asks first
    button(at, "Yes, delete").click().run()
    assert get_journal().legends() == []
    assert not at.exception


def test_import_and_export(legend_page: AppTest, downloads: Callable[[Any], bytes]) -> None:
    exported = Legend(
        (
            LegendField("11", "Birthday", FieldType.DATE),
            LegendField("12", "VIP", FieldType.CHECKBOX),
        ),
        name="From file",
        cm_id="576846",
    ).to_json()
    at = legend_page
    at.file_uploader(key="legend.upload_widget").set_value(
        ("from-file.json", exported.encode(), "application/json")
    ).run()
    assert any("Imported 2 fields from from-file.json" in s for s in successes(at))
    assert at.text_input(key="keep.legend.name").value == "From file"
    button(at, "Save legend").click().run()
    at.selectbox(key="keep.legend.saved").set_value("From file").run()

    json_button, csv_button = at.get("download_button")
    assert json.loads(downloads(json_button)) == json.loads(exported)
    assert downloads(csv_button).decode().splitlines() == [
        "id,name,type",
        "11,Birthday,date",
        "12,VIP,checkbox",
    ]


def test_the_legend_test_shows_sent_against_arrived(legend_page: AppTest) -> None:
    at = _paste(legend_page, PASTED + "custom_field[555]=Not in this LeadStream&\n")
    button(at, "Send a test lead").click().run()

    assert any("SUCCESS" in s for s in successes(at))
    table = at.dataframe[-1].value
    results = dict(zip(table["ID"], table["Result"], strict=True))
    assert results["297989"] == "✔ arrived as sent"
    assert results["195481"] == "✔ arrived as sent"
    assert results["555"].startswith("✖ not in this LeadStream")
    assert any("not in LeadStream 576846" in w.value for w in at.warning)
    assert [h.source for h in get_journal().history()] == ["legend test"]
    assert any("Not in this LeadStream (555)" in w.value.replace("\\", "") for w in at.warning)


# --- Paste, import and test fixes (issue 10) ------------------------------------------------------


def infos(at: AppTest) -> list[str]:
    return [i.value.replace("\\", "") for i in at.info]  # as read: markdown escapes removed


def test_a_heading_and_comments_are_skipped_and_named(legend_page: AppTest) -> None:
    at = _paste(legend_page, "Custom Field Legend\n\n# web form\n" + PASTED)
    assert any("Read 2 fields" in s for s in successes(at))
    (skipped,) = [i for i in infos(at) if i.startswith("Skipped")]
    assert "line 1: “Custom Field Legend”" in skipped
    assert "line 3: “# web form”" in skipped


def test_a_failed_paste_does_not_call_the_old_table_ready(legend_page: AppTest) -> None:
    at = _paste(legend_page, PASTED)
    at = _paste(at, PASTED + "custom_field[x]=Bad&\n")
    assert any("could not be read" in e for e in errors(at))
    captions = [c.value for c in at.caption]
    assert not any("ready to save" in c for c in captions)
    assert any("still shows the legend read before" in c for c in captions)


def test_read_legend_on_an_empty_box_says_so(legend_page: AppTest) -> None:
    at = button(legend_page, "Read legend").click().run()
    assert any("The box is empty" in e for e in errors(at))


def test_importing_a_file_empties_the_paste_box(legend_page: AppTest) -> None:
    at = _paste(legend_page, PASTED)
    at.file_uploader(key="legend.upload_widget").set_value(
        ("legend.csv", b"id,name,type\n11,Birthday,date\n", "text/csv")
    ).run()
    assert any("Imported 1 fields from legend.csv" in s for s in successes(at))
    assert at.text_area(key="keep.legend.paste").value == ""
