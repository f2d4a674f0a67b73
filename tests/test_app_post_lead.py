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
    assert "Field concerned: Email" in shown  # nothing to fix: the contact is already there
    assert "Nothing to do" not in shown
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


# --- Typed dates, stale refusals, phone rows, tags (issue 10) -----------------------------------

DATE_KEY = "keep.form.cf.195481.datetext"


def _ready(app: AppTest, email: str) -> None:
    app.text_input(key=FIELD.format("email")).input(email).run()


def captions(app: AppTest) -> list[str]:
    return [c.value for c in app.caption]


@pytest.mark.parametrize("typed", ["2025-01-05", "Jan 5 2025", "01/05/2025", "20250105"])
def test_a_typed_date_shows_what_will_be_sent_and_is_sent(app: AppTest, typed: str) -> None:
    _ready(app, "date@example.com")
    app.text_input(key=DATE_KEY).input(typed).run()
    assert "Will be sent as **01/05/2025** (January 5, 2025)." in captions(app)
    button(app, "Send").click().run()

    (stored,) = get_sandbox().leads()
    assert stored.params["custom_field"] == {"195481": "01/05/2025"}


def test_an_ambiguous_date_asks_and_sends_the_answer(app: AppTest) -> None:
    _ready(app, "ask@example.com")
    app.text_input(key=DATE_KEY).input("1/5/2025").run()
    (question,) = [r for r in app.radio if r.label == "Which date is “1/5/2025”?"]
    assert question.value is None
    assert question.options == ["January 5, 2025 (month first)", "May 1, 2025 (day first)"]

    button(app, "Send").click().run()
    assert get_sandbox().leads() == []
    assert any("can be January 5, 2025 or May 1, 2025" in e for e in errors(app))

    question = next(r for r in app.radio if r.label == "Which date is “1/5/2025”?")
    question.set_value("other").run()
    assert "Will be sent as **05/01/2025** (May 1, 2025)." in captions(app)
    button(app, "Send").click().run()
    (stored,) = get_sandbox().leads()
    assert stored.params["custom_field"] == {"195481": "05/01/2025"}


def test_an_unreadable_date_is_said_and_never_replaced_by_the_old_one(app: AppTest) -> None:
    _fill_example(app)  # Follow Up Date 12/24/2017
    assert app.text_input(key=DATE_KEY).value == "12/24/2017"
    app.text_input(key=DATE_KEY).input("next tuesday").run()
    button(app, "Send").click().run()

    assert app.text_input(key=DATE_KEY).value == "next tuesday"
    assert any("'next tuesday' is not a date" in e for e in errors(app))
    assert get_sandbox().leads() == []
    assert not any("12/24/2017" in c for c in captions(app))


def test_a_refusal_is_not_shown_as_current_once_the_field_is_changed(app: AppTest) -> None:
    _fill_example(app)
    button(app, "Send").click().run()
    button(app, "Send").click().run()  # DUPLICATE EMAIL
    assert any("because of this field" in e for e in errors(app))

    app.text_input(key=FIELD.format("email")).input("jeff.new@example.com").run()
    assert not any("because of this field" in e for e in errors(app))
    assert any("Changed since PhoneBurner refused it (DUPLICATE EMAIL)" in c for c in captions(app))
    assert any("the form has changed since" in c for c in captions(app))


def test_phone_problems_name_the_row_they_are_on(app: AppTest) -> None:
    _ready(app, "rows@example.com")
    for _ in range(6):
        button(app, "Add a phone").click().run()
    rows = app.session_state["form.phone_rows"]
    for row_id, number in zip(rows[:4], ["7025306954"] * 4, strict=True):
        app.text_input(key=f"keep.form.ph.{row_id}.number").input(number).run()
    app.text_input(key=f"keep.form.ph.{rows[4]}.label").input("Cell").run()  # row 5: no number
    app.text_input(key=f"keep.form.ph.{rows[5]}.number").input("555-12").run()  # row 6
    button(app, "Send").click().run()

    shown = "\n".join(errors(app))
    assert "Additional phone 5 has a label but no number" in shown
    assert "Additional phone 6" in shown
    assert shown.count("Additional phone 5") == 1


def test_tags_differing_only_in_capitals_are_one_tag(app: AppTest) -> None:
    _ready(app, "tags@example.com")
    box = app.multiselect(key=FIELD.format("tags"))
    box.set_value(["Hot Lead", "hot lead", "VIP"]).run()
    assert app.multiselect(key=FIELD.format("tags")).value == ["Hot Lead", "VIP"]
    assert any("not added twice: “hot lead”" in c for c in captions(app))
    button(app, "Send").click().run()
    (stored,) = get_sandbox().leads()
    assert stored.params["tags"] == ["Hot Lead", "VIP"]


def test_five_tags_all_stay_in_sight(app: AppTest) -> None:
    _ready(app, "five-tags@example.com")
    tags = ["Hot Lead", "Lead Type", "Spring Fair 2026", "Callback Tuesday", "VIP"]
    app.multiselect(key=FIELD.format("tags")).set_value(tags).run()
    box = app.multiselect(key=FIELD.format("tags"))
    assert box.value == tags
    # Wrapped onto more rows as the box fills, not one row scrolling sideways past the first.
    assert box.proto.wrap is True
    button(app, "Send").click().run()
    (stored,) = get_sandbox().leads()
    assert stored.params["tags"] == tags
