"""AppTest: the Post a lead page against the real in-process sandbox."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app_support import button, errors, successes

from leadstream.prepare.form import EXAMPLE_LEAD
from ui.state import get_journal, get_sandbox

FIELD = "keep.form.{}"

pytest_plugins = ("test_app_support",)


def _fill_example(at: AppTest) -> AppTest:
    return button(at, "Fill with example").click().run()


def test_the_example_lead_is_delivered_recorded_and_kept(app: AppTest) -> None:
    _fill_example(app)
    button(app, "Send").click().run()

    assert not app.exception
    assert any("SUCCESS" in text for text in successes(app))
    stored = get_sandbox().leads()
    assert [s.lead.email for s in stored] == [EXAMPLE_LEAD.email]
    assert stored[0].lead.additional_phones == EXAMPLE_LEAD.additional_phones
    assert stored[0].lead.custom_fields == EXAMPLE_LEAD.custom_fields
    history = get_journal().history()
    assert [(h.source, h.outcome, h.code) for h in history] == [("form", "delivered", "SUCCESS")]
    assert history[0].lead_url.endswith(stored[0].upc)
    # What was typed stays in the form after sending.
    assert app.text_input(key=FIELD.format("firstname")).value == "Jeff"
    assert app.multiselect(key=FIELD.format("tags")).value == ["Hot Lead", "Lead Type"]


def test_a_second_send_is_refused_with_help_and_the_field_to_fix(app: AppTest) -> None:
    _fill_example(app)
    button(app, "Send").click().run()
    button(app, "Send").click().run()

    shown = "\n".join(errors(app))
    assert "DUPLICATE EMAIL" in shown
    assert "already has a lead with this email" in shown
    assert "Field to fix: Email" in shown
    assert "because of this field" in shown  # the note under the Email field
    assert [h.code for h in get_journal().history()] == ["DUPLICATE EMAIL", "SUCCESS"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", "jeff@@example", "is not a valid address"),
        ("cm_id", "", "LeadStream ID (cm_id) is empty"),
    ],
)
def test_validation_errors_block_sending_and_keep_the_form(
    app: AppTest, field: str, value: str, expected: str
) -> None:
    _fill_example(app)
    if field == "cm_id":
        app.sidebar.text_input(key="keep.conn.cm_id").input(value).run()
    else:
        app.text_input(key=FIELD.format(field)).input(value).run()
    button(app, "Send").click().run()

    shown = "\n".join(errors(app))
    assert expected in shown.replace("\\", "")
    assert "Not sent" in shown
    assert get_sandbox().leads() == []
    assert get_journal().history() == []
    assert app.text_input(key=FIELD.format("lastname")).value == "Sample"


def test_a_missing_email_is_a_warning_not_a_block(app: AppTest) -> None:
    app.text_input(key=FIELD.format("firstname")).input("Ada").run()
    button(app, "Send").click().run()

    assert any("No email" in w.value for w in app.warning)
    # The endpoint decides: the demo account requires an email.
    assert any("INVALID EMAIL" in text for text in errors(app))
    assert [h.code for h in get_journal().history()] == ["INVALID EMAIL"]


def test_phone_rows_are_added_removed_and_sent_in_order(app: AppTest) -> None:
    app.text_input(key=FIELD.format("email")).input("rows@example.com").run()
    for _ in range(3):
        button(app, "Add a phone").click().run()
    rows = app.session_state["form.phone_rows"]
    numbers = ["(702) 530-6954", "(212) 736-5000", "(415) 555-0100"]
    for row_id, number in zip(rows, numbers, strict=True):
        app.text_input(key=f"keep.form.ph.{row_id}.number").input(number).run()
    app.selectbox(key=f"keep.form.ph.{rows[2]}.type").set_value(4).run()
    app.button(key=f"form.ph.{rows[1]}.remove").click().run()
    button(app, "Send").click().run()

    assert not app.exception
    (stored,) = get_sandbox().leads()
    assert [(p.number, int(p.type)) for p in stored.lead.additional_phones] == [
        ("(702) 530-6954", 3),
        ("(415) 555-0100", 4),
    ]


def test_a_bad_additional_phone_is_marked_on_its_row(app: AppTest) -> None:
    app.text_input(key=FIELD.format("email")).input("rows@example.com").run()
    button(app, "Add a phone").click().run()
    button(app, "Add a phone").click().run()
    first, second = app.session_state["form.phone_rows"]
    app.text_input(key=f"keep.form.ph.{first}.label").input("Cell").run()  # no number
    app.text_input(key=f"keep.form.ph.{second}.number").input("12").run()
    button(app, "Send").click().run()

    notes = [m.value for m in app.markdown if m.value.startswith(":red[")]
    assert any("Additional phone 1 has a label but no number" in n for n in notes)
    assert any("12" in n and "not a valid phone number" in n for n in notes)
    assert get_sandbox().leads() == []


def test_preview_shows_the_request_with_the_key_masked(app: AppTest) -> None:
    _fill_example(app)
    app.toggle(key=FIELD.format("preview")).set_value(True).run()

    codes = [c.value for c in app.code]
    assert any("key=****&firstname=Jeff" in c for c in codes)
    assert any(c.startswith("curl -sS ") and "key=****" in c for c in codes)
    (table,) = [d.value for d in app.dataframe]
    received = dict(zip(table["parameter"], table["value"], strict=False))
    assert received["key"] == "****"
    assert received["custom_field[195481]"] == "12/24/2017"
    assert "XXXYYYZZZ" not in "".join(codes)


def test_clear_empties_the_form_and_undo_brings_it_back(app: AppTest) -> None:
    _fill_example(app)
    button(app, "Clear form").click().run()
    assert app.text_input(key=FIELD.format("firstname")).value == ""
    assert app.session_state["form.phone_rows"] == []
    button(app, "Undo").click().run()
    assert app.text_input(key=FIELD.format("firstname")).value == "Jeff"
    assert len(app.session_state["form.phone_rows"]) == 2


def test_typed_values_survive_a_visit_to_another_page(app: AppTest) -> None:
    app.text_input(key=FIELD.format("city")).input("Buffalo").run()
    app.switch_page("pages/history.py").run()
    app.switch_page("pages/post_lead.py").run()
    assert app.text_input(key=FIELD.format("city")).value == "Buffalo"
