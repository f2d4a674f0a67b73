"""leadstream.prepare.form: form values ↔ Lead, the example lead, the legend test and its
comparison."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from leadstream.prepare.form import (
    EXAMPLE_LEAD,
    FieldCheck,
    FormError,
    FormValues,
    Match,
    PhoneRow,
    compare_fields,
    dedupe_tags,
    default_legend_name,
    field_value,
    form_from_lead,
    is_blank,
    lead_from_form,
    phone_problems_by_row,
    pick_legend,
    received_rows,
    resolve_typed_date,
    sample_lead,
)
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.validate import Problem
from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.query import lead_to_pairs, split_pairs

DEMO = Legend(
    (
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
    ),
    name="Demo LeadStream",
    cm_id="576846",
)

# The vendor document's example request, its hidden email filled in as EXAMPLE_LEAD has it.
DOCUMENT_QUERY = (
    "key=XXXYYYZZZ&firstname=Jeff&lastname=Sample&email=jeff.sample@example.com"
    "&phone=(716) 293-2368&address1=114 Hickory St&address2=Apt 23&city=Buffalo&state=NY"
    "&zip=14204&custom_field[297989]=75048327&custom_field[195481]=12/24/2017&user_id=377310706"
    "&cm_id=576846&additional_phones[]=(702) 530-6954&additional_phone_types[]=2"
    "&additional_phone_labels[]=Work&additional_phones[]=(646) 362-7327"
    "&additional_phone_types[]=1&additional_phone_labels[]=Home&tags[]=Hot Lead&tags[]=Lead Type"
)


def test_the_example_lead_is_the_documents_example() -> None:
    assert lead_to_pairs(EXAMPLE_LEAD, key="XXXYYYZZZ") == split_pairs(DOCUMENT_QUERY)


def test_a_lead_survives_the_form_both_ways() -> None:
    values = form_from_lead(EXAMPLE_LEAD, legend=DEMO)
    assert values.custom == {"297989": "75048327", "195481": date(2017, 12, 24)}
    built = lead_from_form(values, legend=DEMO)
    assert built.lead == EXAMPLE_LEAD
    assert built.problems == []
    assert built.phone_rows == [0, 1]


ROUTING = [
    # (typed user_id, typed cm_id, defaults) -> sent
    ("", "", ("1", "2"), ("1", "2")),
    (" 9 ", "", ("1", "2"), ("9", "2")),
    ("", "", ("", ""), ("", "")),
]


@pytest.mark.parametrize(("user_id", "cm_id", "defaults", "sent"), ROUTING)
def test_blank_routing_takes_the_connections_defaults(
    user_id: str, cm_id: str, defaults: tuple[str, str], sent: tuple[str, str]
) -> None:
    values = FormValues(fields={"user_id": user_id, "cm_id": cm_id})
    lead = lead_from_form(values, default_user_id=defaults[0], default_cm_id=defaults[1]).lead
    assert (lead.user_id, lead.cm_id) == sent


def test_standard_fields_are_trimmed() -> None:
    values = FormValues(fields={"firstname": "  Jeff ", "email": " jeff@example.com\t"})
    lead = lead_from_form(values).lead
    assert (lead.firstname, lead.email) == ("Jeff", "jeff@example.com")


CUSTOM = [
    # typed value -> what is sent for each type (None: left out)
    (FieldType.DATE, date(2017, 12, 24), "12/24/2017"),
    (FieldType.DATE, None, None),
    (FieldType.CHECKBOX, True, "1"),
    (FieldType.CHECKBOX, False, None),  # unticked leaves the field alone
    (FieldType.TEXT, "75048327", "75048327"),
    (FieldType.TEXT, "   ", None),
    (FieldType.TEXT, " a & b ", " a & b "),  # text goes as typed
]


@pytest.mark.parametrize(("field_type", "typed", "sent"), CUSTOM)
def test_custom_values_are_written_by_type(
    field_type: FieldType, typed: Any, sent: str | None
) -> None:
    legend = Legend((LegendField("1", "Field", field_type),))
    built = lead_from_form(FormValues(custom={"1": typed}), legend=legend)
    assert built.lead.custom_fields == ({} if sent is None else {"1": sent})
    assert built.problems == []


def test_a_custom_value_that_cannot_be_written_is_reported_and_left_out() -> None:
    legend = Legend((LegendField("7", "Do Not Call", FieldType.CHECKBOX),))
    built = lead_from_form(FormValues(custom={"7": "perhaps"}), legend=legend)
    assert built.lead.custom_fields == {}
    ((field, message),) = built.problems
    assert field == "custom_field[7]"
    assert "Do Not Call" in message


def test_phone_rows_skip_empty_ones_and_report_labels_without_numbers() -> None:
    rows = (
        PhoneRow("(702) 530-6954 ", PhoneType.WORK, " Work"),
        PhoneRow("", PhoneType.MOBILE, ""),
        PhoneRow("", PhoneType.HOME, "Cell"),
        PhoneRow("(646) 362-7327", PhoneType.FAX, ""),
    )
    built = lead_from_form(FormValues(phones=rows))
    assert built.lead.additional_phones == [
        Phone("(702) 530-6954", PhoneType.WORK, "Work"),
        Phone("(646) 362-7327", PhoneType.FAX, ""),
    ]
    assert built.phone_rows == [0, 3]
    assert [p.field for p in built.problems] == ["phone_row[2]"]
    assert "Additional phone 3 has a label but no number" in built.problems[0].message


def test_tags_are_tidied_and_deduplicated_ignoring_case() -> None:
    values = FormValues(tags=("Hot Lead", " hot  lead", "", "Lead Type"))
    assert lead_from_form(values).lead.tags == ["Hot Lead", "Lead Type"]


def test_unknown_form_fields_are_a_programming_error() -> None:
    with pytest.raises(FormError, match="nickname"):
        FormValues(fields={"nickname": "J"})


@pytest.mark.parametrize(
    ("field_type", "wire", "typed"),
    [
        (FieldType.DATE, "12/24/2017", date(2017, 12, 24)),
        (FieldType.DATE, "2017-12-24", date(2017, 12, 24)),
        (FieldType.DATE, "someday", None),
        (FieldType.CHECKBOX, "1", True),
        (FieldType.CHECKBOX, "yes", True),
        (FieldType.CHECKBOX, "0", False),
        (FieldType.CHECKBOX, "??", False),
        (FieldType.TEXT, "12/24/2017", "12/24/2017"),
    ],
)
def test_wire_values_come_back_as_the_widgets_values(
    field_type: FieldType, wire: str, typed: Any
) -> None:
    legend = Legend((LegendField("5", "F", field_type),))
    values = form_from_lead(Lead(custom_fields={"5": wire}), legend=legend)
    assert values.custom == {"5": typed}


def test_fields_outside_the_legend_stay_text_and_routing_can_be_left_to_defaults() -> None:
    lead = Lead(user_id="1", cm_id="2", custom_fields={"999": "x"})
    values = form_from_lead(lead, legend=DEMO, keep_routing=False)
    assert values.custom == {"999": "x"}
    assert (values.fields["user_id"], values.fields["cm_id"]) == ("", "")


def test_received_rows_show_what_the_server_reads_with_the_key_masked() -> None:
    lead = Lead(
        firstname="A&B",
        custom_fields={"195481": "12/24/2017", "1": "x"},
        additional_phones=[Phone("+1 702 530 6954", PhoneType.WORK, "")],
        tags=["Hot"],
    )
    rows = received_rows([*lead_to_pairs(lead, key="XXXYYYZZZ"), ("extra", "1")], legend=DEMO)
    table = [(r.parameter, r.value, r.meaning) for r in rows]
    assert table == [
        ("key", "****", "Vendor key (hidden)"),
        ("firstname", "A&B", "First name"),
        ("custom_field[195481]", "12/24/2017", "Follow Up Date (date)"),
        ("custom_field[1]", "x", "Custom field not in the chosen legend"),
        ("additional_phones[]", "+1 702 530 6954", "Additional phone 1: number"),
        ("additional_phone_types[]", "2", "Additional phone 1: type (Work)"),
        ("additional_phone_labels[]", "", "Additional phone 1: label"),
        ("tags[]", "Hot", "Tag 1"),
        ("extra", "1", "Not a put_contact field"),
    ]


def test_the_sample_lead_fills_every_field_by_its_type() -> None:
    lead, sent = sample_lead(DEMO, user_id="u", cm_id="c", today=date(2024, 2, 29), token="A-1")
    assert sent == {"297989": "Test Reference #", "195481": "02/29/2024", "300100": "1"}
    assert lead.custom_fields == sent
    assert (lead.user_id, lead.cm_id, lead.email) == ("u", "c", "legend-test-a1@example.com")


def test_sample_emails_differ_by_token_so_tests_can_be_repeated() -> None:
    emails = {
        sample_lead(DEMO, user_id="", cm_id="", today=date(2024, 1, 1), token=t)[0].email
        for t in ("1", "2", "x-3")
    }
    assert len(emails) == 3


def test_compare_fields_tells_each_case_apart() -> None:
    legend = Legend(tuple(LegendField(str(i), f"F{i}") for i in range(1, 5)))
    sent = {"1": "a", "2": "b", "3": "c", "4": "d"}
    received = {"1": "a", "2": "B", "4": "d"}
    checks = compare_fields(legend, sent, received, ignored=("4",))
    assert [(c.id, c.received, c.match) for c in checks] == [
        ("1", "a", Match.SAME),
        ("2", "B", Match.CHANGED),
        ("3", None, Match.MISSING),
        ("4", "d", Match.IGNORED),
    ]
    assert [c.match.ok for c in checks] == [True, False, False, False]


def test_compare_fields_without_what_arrived_marks_every_field_unseen() -> None:
    (check,) = compare_fields(Legend((LegendField("1", "F"),)), {"1": "a"}, None)
    assert check == FieldCheck("1", "F", FieldType.TEXT, "a", None, Match.UNSEEN)
    assert check.match.ok


BLANKS = [
    (FormValues(), True),
    (FormValues(fields={"firstname": "  ", "user_id": "377310706", "cm_id": "576846"}), True),
    (FormValues(custom={"297989": "75048327"}, tags=("Hot Lead",)), True),
    (FormValues(fields={"email": "jeff@example.com"}), False),
    (FormValues(fields={"phone": "(716) 293-2368"}), False),
]


@pytest.mark.parametrize(("values", "blank"), BLANKS)
def test_is_blank_looks_only_at_standard_fields(values: FormValues, blank: bool) -> None:
    assert is_blank(values) is blank


OTHER = Legend((LegendField("297989", "Ref", FieldType.TEXT),), name="Other", cm_id="111")
EMPTY = Legend((), name="Empty", cm_id="576846")
PICKS = [
    (EXAMPLE_LEAD, [OTHER, EMPTY, DEMO], "", "Demo LeadStream"),  # same cm_id, lists the fields
    (Lead(custom_fields={"297989": "1"}), [EMPTY, OTHER, DEMO], "576846", "Demo LeadStream"),
    (Lead(custom_fields={"297989": "1"}), [EMPTY, OTHER], "576846", "Other"),  # lists them
    (Lead(custom_fields={"999": "1"}), [OTHER, EMPTY], "576846", "Empty"),  # same cm_id only
    (Lead(custom_fields={"999": "1"}), [OTHER, DEMO], "222", None),
    (Lead(cm_id="111"), [EMPTY, OTHER], "576846", "Other"),  # the lead's cm_id wins
    (Lead(), [], "576846", None),
]


@pytest.mark.parametrize(("lead", "legends", "default_cm_id", "name"), PICKS)
def test_pick_legend(
    lead: Lead, legends: list[Legend], default_cm_id: str, name: str | None
) -> None:
    assert pick_legend(lead, legends, default_cm_id=default_cm_id) == name


# --- Typed dates, phone rows, tags, answers (issue 10) ------------------------------------------


RESOLVED = [
    ("", None, (None, "")),
    ("2025-01-05", None, (date(2025, 1, 5), "")),
    ("1/5/2025", "as_read", (date(2025, 1, 5), "")),
    ("1/5/2025", "other", (date(2025, 5, 1), "")),
    ("next tuesday", None, ("next tuesday", "")),  # kept as typed: lead_from_form reports it
]


@pytest.mark.parametrize(("text", "answer", "expected"), RESOLVED)
def test_resolve_typed_date(text: str, answer: Any, expected: tuple[object, str]) -> None:
    assert resolve_typed_date(text, answer) == expected


def test_an_unanswered_ambiguous_date_is_not_sent_and_says_why() -> None:
    value, problem = resolve_typed_date(" 1/5/2025 ", None)
    assert value is None
    assert problem == ("“1/5/2025” can be January 5, 2025 or May 1, 2025: say which one it is.")


def test_phone_problems_are_named_by_their_form_row() -> None:
    problems = [
        Problem("additional_phones[0]", "Additional phone 1: '12' is not a valid phone number."),
        Problem("email", "No email.", "warning"),
    ]
    renamed = phone_problems_by_row(problems, [5])
    assert renamed[0] == Problem(
        "phone_row[5]", "Additional phone 6: '12' is not a valid phone number."
    )
    assert renamed[1] == problems[1]


def test_dedupe_tags_keeps_the_first_spelling() -> None:
    assert dedupe_tags(["Hot Lead", "hot  lead", " VIP ", "", "vip"]) == (
        ["Hot Lead", "VIP"],
        ["hot lead", "vip"],
    )


def test_field_value() -> None:
    lead = EXAMPLE_LEAD
    assert field_value(lead, "email") == "jeff.sample@example.com"
    assert field_value(lead, "custom_field[195481]") == "12/24/2017"
    assert field_value(lead, "custom_field[1]") == ""
    assert field_value(lead, "tags") == "Hot Lead,Lead Type"


LEGENDS = [
    Legend((), name="Amp & Co leads", cm_id="576846"),
    Legend((), name="Demo LeadStream", cm_id="576846"),
    Legend((), name="Other", cm_id="999"),
]


@pytest.mark.parametrize(
    ("cm_id", "preferred", "expected"),
    [
        ("576846", "Demo LeadStream", "Demo LeadStream"),
        ("576846", "", "Amp & Co leads"),
        ("999", "Demo LeadStream", "Other"),
        ("123", "Demo LeadStream", None),
        ("", "Demo LeadStream", None),
    ],
)
def test_default_legend_name(cm_id: str, preferred: str, expected: str | None) -> None:
    assert default_legend_name(LEGENDS, cm_id, preferred=preferred) == expected
