import json
from pathlib import Path

import pandas as pd
import pytest

from leadstream.prepare.files import read_table
from leadstream.prepare.identity import fingerprint
from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.mapping import (
    ColumnMapping,
    MappingError,
    PreparedRow,
    auto_match,
    date_columns,
    date_notes,
    find_duplicates,
    normalize_target,
    prepare_rows,
    split_tags,
    target_choices,
    target_label,
)
from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.query import build_url, decode_query

LEGEND = Legend(
    fields=[
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
    ],
    name="Demo LeadStream",
    cm_id="576846",
)
ROUTING = {"cm_id": "576846", "user_id": "377310706"}


# --- Matching headers-----------------------------------------------------------------------------

# A header on its own (with the legend) → its target.
MATCHES = [
    ("First Name", "firstname"),
    ("FIRST_NAME", "firstname"),
    ("firstName", "firstname"),
    ("first-name", "firstname"),
    ("Given name", "firstname"),
    ("Surname", "lastname"),
    ("E-mail", "email"),
    ("EMAIL ADDRESS", "email"),
    ("Zip Code", "zip"),
    ("ZIP", "zip"),
    ("Postal code", "zip"),
    ("Phone", "phone"),
    ("Phone Number", "phone"),
    ("Address 1", "address1"),
    ("Address Line 2", "address2"),
    ("State", "state"),
    ("Promo Code", "promocode"),
    ("cm_id", "cm_id"),
    ("User ID", "user_id"),
    ("Follow Up Date", "custom_field[195481]"),
    ("follow-up date", "custom_field[195481]"),
    ("Reference #", "custom_field[297989]"),
    ("custom_field[300100]", "custom_field[300100]"),
    ("Custom Field [424242]", "custom_field[424242]"),
    ("Tags", "tags"),
    ("Tag", "tags"),
    ("Labels", "tags"),
    ("Notes", None),
    ("Phone Type", None),
    ("Cancelled", None),
    ("Hotel", None),
    ("#", None),
    ("", None),
]


@pytest.mark.parametrize(("header", "target"), MATCHES)
def test_auto_match_single_header(header: str, target: str | None) -> None:
    assert auto_match([header], LEGEND).columns == {header: target}


def test_legend_names_need_the_legend() -> None:
    assert auto_match(["Follow Up Date"]).columns == {"Follow Up Date": None}


# Next to a plain "Phone" column, a typed phone column → an extra phone of that type.
EXTRA_PHONES = [
    ("Mobile", "phone:mobile"),
    ("Cell", "phone:mobile"),
    ("Cell Phone", "phone:mobile"),
    ("CellPhone", "phone:mobile"),
    ("mobile_phone", "phone:mobile"),
    ("Work Phone", "phone:work"),
    ("Office Phone", "phone:work"),
    ("Home Phone", "phone:home"),
    ("homephone", "phone:home"),
    ("Fax", "phone:fax"),
    ("Fax Number", "phone:fax"),
    ("Phone 2", "phone:other"),
    ("Alt Phone", "phone:other"),
    ("Other Phone", "phone:other"),
    ("Telephone", "phone:other"),
]


@pytest.mark.parametrize(("header", "target"), EXTRA_PHONES)
def test_typed_phone_columns_become_extra_phones(header: str, target: str) -> None:
    assert auto_match(["Phone", header]).columns == {"Phone": "phone", header: target}


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        # Without a plain phone column, the first phone-like column is the main phone.
        (["Mobile", "Work Phone"], ["phone", "phone:work"]),
        (["Work Phone", "Phone"], ["phone:work", "phone"]),
        # Each standard field is taken once, by the first column that matches it.
        (["Email", "E-mail"], ["email", None]),
        (["Zip", "Postal Code"], ["zip", None]),
        (["Follow Up Date", "custom_field[195481]"], ["custom_field[195481]", None]),
        # Tags and extra phones may come from several columns.
        (["Tag 1", "Tag 2"], ["tags", "tags"]),
        (["Phone", "Mobile", "Cell"], ["phone", "phone:mobile", "phone:mobile"]),
    ],
)
def test_auto_match_whole_files(columns: list[str], expected: list[str | None]) -> None:
    assert list(auto_match(columns, LEGEND).columns.values()) == expected


def test_auto_match_has_no_constants_and_no_problems_beyond_routing() -> None:
    columns = ["First Name", "Email", "Phone", "Mobile", "Follow Up Date", "Tags"]
    mapping = auto_match(columns, LEGEND)
    assert mapping.constants == {}
    assert {p.field for p in mapping.problems(columns, LEGEND)} == {"cm_id", "user_id"}


# --- Targets and mapping files--------------------------------------------------------------------

TARGETS = [
    ("email", "email"),
    (" EMAIL ", "email"),
    ("cm_id", "cm_id"),
    ("phone:Cell", "phone:mobile"),
    ("phone:3", "phone:mobile"),
    ("phone:work", "phone:work"),
    ("Custom_Field[12]", "custom_field[12]"),
    ("tags", "tags"),
    ("tag", "tags"),
    ("ignore", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("target", "canonical"), TARGETS)
def test_normalize_target(target: str | None, canonical: str | None) -> None:
    assert normalize_target(target) == canonical


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nickname", "is not a target"),
        ("phone:pager", "not a phone type"),
        ("key", "vendor key is never part of a mapping"),
        ("custom_field[]", "is not a target"),
    ],
)
def test_bad_targets_are_explained(target: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        normalize_target(target)


def test_mapping_json_round_trip() -> None:
    mapping = ColumnMapping(
        {
            "First Name": "firstname",
            "Courriel": "email",
            "Mobile": "phone:mobile",
            "Follow Up Date": "custom_field[195481]",
            "Notes": None,
        },
        {"cm_id": "576846", "tags": "Imported, Spring"},
        {"Follow Up Date": True},
    )
    text = mapping.to_json()
    assert json.loads(text)["version"] == 1
    assert json.loads(text)["date_order"] == {"Follow Up Date": "day first"}
    assert ColumnMapping.from_json(text) == mapping


def test_a_date_order_is_chosen_changed_and_forgotten_per_column() -> None:
    mapping = ColumnMapping({"Due": "custom_field[195481]"}).with_date_order("Due", True)
    assert mapping.day_first == {"Due": True}
    assert mapping.with_column("Email", "email").day_first == {"Due": True}
    assert mapping.with_constant("cm_id", "576846").day_first == {"Due": True}
    assert mapping.with_date_order("Due", False).day_first == {"Due": False}
    assert mapping.with_date_order("Due", None).day_first == {}
    assert "date_order" not in json.loads(ColumnMapping({"Due": "email"}).to_json())


def test_mapping_json_is_normalised_when_read() -> None:
    text = json.dumps(
        {"columns": {"Cell": "phone:cell", "X": "IGNORE"}, "constants": {"CM_ID": 576846}}
    )
    mapping = ColumnMapping.from_json(text)
    assert mapping.columns == {"Cell": "phone:mobile", "X": None}
    assert mapping.constants == {"cm_id": "576846"}


BAD_MAPPING_FILES = [
    ("not json", "not valid JSON"),
    ("[]", "A mapping file holds"),
    ('{"columns": []}', "A mapping file holds"),
    ('{"columns": {"A": "nickname"}}', "Column 'A': 'nickname' is not a target"),
    ('{"constants": {"key": "XXXYYYZZZ"}}', "vendor key is never part"),
    ('{"constants": {"cm_id": ["1"]}}', "must be text"),
    ('{"constants": []}', "must map targets to values"),
    ('{"version": 2, "columns": {}}', "version 2"),
    ('{"columns": {}, "extra": 1}', "unknown entries: extra"),
    ('{"date_order": ["Due"]}', '"date_order" must map column names'),
    ('{"date_order": {"Due": "year first"}}', "column 'Due' are written 'year first'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_MAPPING_FILES)
def test_bad_mapping_files_are_explained(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        ColumnMapping.from_json(text)


def test_the_key_never_lands_in_a_mapping_error() -> None:
    with pytest.raises(MappingError) as info:
        ColumnMapping.from_json('{"constants": {"key": "SECRET-VALUE-123"}}')
    assert "SECRET-VALUE-123" not in str(info.value)


MAPPING_PROBLEMS = [
    # (columns, constants, file columns, expected (field, level) pairs)
    ({"Gone": "email"}, ROUTING, ["Email"], {("Gone", "error"), ("", "error")}),
    (
        {"Email": "email", "E-mail": "email"},
        ROUTING,
        ["Email", "E-mail"],
        {("email", "error")},
    ),
    ({"Mobile": "phone:mobile", "Cell": "phone:mobile"}, ROUTING, ["Mobile", "Cell"], set()),
    (
        {"Email": "email", "X": "custom_field[999]"},
        ROUTING,
        ["Email", "X"],
        {("custom_field[999]", "warning")},
    ),
    ({"Notes": None}, {}, ["Notes"], {("", "error")}),
    (
        {"Name": "firstname"},
        ROUTING,
        ["Name"],
        {("email", "warning")},
    ),
    (
        {"Email": "email"},
        {"cm_id": "576846"},
        ["Email"],
        {("user_id", "warning")},
    ),
    ({"Email": "email", "cm": "cm_id", "u": "user_id"}, {}, ["Email", "cm", "u"], set()),
]


@pytest.mark.parametrize(("columns", "constants", "present", "expected"), MAPPING_PROBLEMS)
def test_mapping_problems(
    columns: dict[str, str | None],
    constants: dict[str, str],
    present: list[str],
    expected: set[tuple[str, str]],
) -> None:
    problems = ColumnMapping(columns, constants).problems(present, LEGEND)
    assert {(p.field, p.level) for p in problems} == expected


def test_problem_messages_name_the_column() -> None:
    mapping = ColumnMapping({"Email": "email", "E-mail": "email", "Gone": "zip"}, ROUTING)
    messages = " ".join(p.message for p in mapping.problems(["Email", "E-mail"], LEGEND))
    assert "“Email”, “E-mail”" in messages
    assert "column “Gone”, which this file does not have" in messages


def test_target_labels_and_choices() -> None:
    assert target_label("firstname") == "First name"
    assert target_label("custom_field[195481]", LEGEND) == "Follow Up Date (custom field 195481)"
    assert target_label("custom_field[7]") == "Custom field 7"
    assert target_label("phone:mobile") == "Extra phone (Mobile)"
    assert target_label(None) == "(ignore)"
    choices = target_choices(LEGEND)
    assert choices[0] is None
    assert "custom_field[300100]" in choices
    assert "phone:fax" in choices
    assert all(normalize_target(choice) == choice for choice in choices)


def test_with_column_and_constant() -> None:
    mapping = (
        ColumnMapping({"A": None}).with_column("A", "phone:cell").with_constant("CM_ID", " 5 ")
    )
    assert mapping.columns == {"A": "phone:mobile"}
    assert mapping.constants == {"cm_id": "5"}
    assert mapping.with_constant("cm_id", "").constants == {}


# --- Rows → leads---------------------------------------------------------------------------------

SPLITS = [
    ("Hot Lead, Lead Type", ["Hot Lead", "Lead Type"]),
    ("a;b ; ;c,", ["a", "b", "c"]),
    ("  ", []),
    ("one", ["one"]),
]


@pytest.mark.parametrize(("text", "tags"), SPLITS)
def test_split_tags(text: str, tags: list[str]) -> None:
    assert split_tags(text) == tags


def frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, dtype=object).fillna("")


SAMPLE = frame(
    [
        {
            "First Name": " Jeff ",
            "Last Name": "Sample",
            "E-mail": "jsample@example.com",
            "Phone": "(716) 293-2368",
            "Work Phone": "(702) 530-6954",
            "Home Phone": "(646) 362-7327",
            "Address": "114 Hickory St",
            "City": "Buffalo",
            "State": "NY",
            "Zip Code": "14204",
            "Reference #": "75048327",
            "Follow Up Date": "2017-12-24",
            "Do Not Call": "yes",
            "Tags": "Hot Lead; Lead Type",
            "Tag 2": "hot lead, Extra",
            "Notes": "not sent",
        }
    ]
)


def test_prepare_rows_builds_the_vendor_example() -> None:
    mapping = auto_match(list(SAMPLE.columns), LEGEND)
    mapping = mapping.with_constant("cm_id", "576846").with_constant("user_id", "377310706")
    mapping = mapping.with_constant("tags", "Imported")
    [row] = prepare_rows(SAMPLE, mapping, legend=LEGEND)
    assert (row.index, row.line) == (0, 2)
    lead = row.lead
    assert (lead.firstname, lead.lastname, lead.city, lead.zip) == (
        "Jeff",
        "Sample",
        "Buffalo",
        "14204",
    )
    assert (lead.cm_id, lead.user_id) == ("576846", "377310706")
    assert lead.custom_fields == {"297989": "75048327", "195481": "12/24/2017", "300100": "1"}
    assert lead.additional_phones == [
        Phone("(702) 530-6954", PhoneType.WORK, "Work"),
        Phone("(646) 362-7327", PhoneType.HOME, "Home"),
    ]
    assert lead.tags == ["Hot Lead", "Lead Type", "Extra", "Imported"]
    assert row.source["Notes"] == "not sent"
    assert row.source["First Name"] == " Jeff "
    assert row.status == "ok", row.problems
    sent = decode_query(build_url(lead, key="XXXYYYZZZ").split("?", 1)[1])
    assert sent["additional_phone_labels"] == ["Work", "Home"]
    assert sent["custom_field"] == {"297989": "75048327", "195481": "12/24/2017", "300100": "1"}


def test_bad_custom_values_name_the_row_field_and_column() -> None:
    data = frame(
        [
            {"Email": "a@example.com", "Follow Up Date": "2024-03-05", "DNC": "no"},
            {"Email": "b@example.com", "Follow Up Date": "someday", "DNC": "maybe"},
        ]
    )
    mapping = ColumnMapping(
        {"Email": "email", "Follow Up Date": "custom_field[195481]", "DNC": "custom_field[300100]"},
        ROUTING,
    )
    first, second = prepare_rows(data, mapping, legend=LEGEND)
    assert first.status == "ok"
    assert first.lead.custom_fields == {"195481": "03/05/2024", "300100": "0"}
    assert second.status == "invalid"
    by_field = {p.field: p for p in second.errors}
    assert set(by_field) == {"custom_field[195481]", "custom_field[300100]"}
    date_problem = by_field["custom_field[195481]"].message
    assert date_problem.startswith("Row 3, column “Follow Up Date”: Follow Up Date:")
    assert "someday" in date_problem
    assert by_field["custom_field[300100]"].message.startswith("Row 3, column “DNC”: Do Not Call:")


def test_row_numbers_from_the_file_are_used() -> None:
    data = frame([{"Email": "not an email"}, {"Email": "ok@example.com"}])
    rows = prepare_rows(data, ColumnMapping({"Email": "email"}, ROUTING), row_numbers=[5, 9])
    assert [(r.index, r.line) for r in rows] == [(0, 5), (1, 9)]
    assert rows[0].status == "invalid"
    [problem] = rows[0].errors
    assert problem.field == "email"
    assert problem.message.startswith("Row 5, column “Email”:")


def test_phone_problems_name_their_column() -> None:
    data = frame([{"Email": "a@example.com", "Mobile": "", "Work": "555", "Phone": "12"}])
    mapping = ColumnMapping(
        {"Email": "email", "Mobile": "phone:mobile", "Work": "phone:work", "Phone": "phone"},
        ROUTING,
    )
    [row] = prepare_rows(data, mapping)
    # The empty Mobile cell adds no phone, so the Work column's phone is additional phone 1.
    assert [p.number for p in row.lead.additional_phones] == ["555"]
    messages = {p.field: p.message for p in row.errors}
    assert messages["additional_phones[0]"].startswith("Row 2, column “Work”:")
    assert messages["phone"].startswith("Row 2, column “Phone”:")


def test_constants_fill_empty_cells_only() -> None:
    data = frame([{"Email": "a@example.com", "cm": "111"}, {"Email": "b@example.com", "cm": ""}])
    mapping = ColumnMapping({"Email": "email", "cm": "cm_id"}, {"cm_id": "576846"})
    assert [r.lead.cm_id for r in prepare_rows(data, mapping)] == ["111", "576846"]


def test_missing_email_is_a_warning_not_an_error() -> None:
    data = frame([{"Phone": "(716) 293-2368"}])
    [row] = prepare_rows(data, ColumnMapping({"Phone": "phone"}, ROUTING))
    assert row.status == "warning"
    assert all(p.message.startswith("Row 2") for p in row.problems)


def test_columns_missing_from_the_frame_are_skipped() -> None:
    data = frame([{"Email": "a@example.com"}])
    mapping = ColumnMapping({"Email": "email", "Gone": "firstname"}, ROUTING)
    [row] = prepare_rows(data, mapping)
    assert row.lead.firstname == ""
    assert row.lead.email == "a@example.com"


def test_non_text_frames_are_read_as_text() -> None:
    data = pd.DataFrame({"Email": ["a@example.com", None], "Zip": [14204.0, float("nan")]})
    rows = prepare_rows(data, ColumnMapping({"Email": "email", "Zip": "zip"}, ROUTING))
    assert rows[0].source == {"Email": "a@example.com", "Zip": "14204.0"}
    assert rows[1].source == {"Email": "", "Zip": ""}


# --- Duplicates-----------------------------------------------------------------------------------


def prepared(index: int, lead: Lead, *, invalid: bool = False) -> PreparedRow:
    from leadstream.prepare.validate import Problem

    problems = (Problem(field="email", message="bad", level="error"),) if invalid else ()
    return PreparedRow(index=index, line=index + 2, lead=lead, problems=problems, source={})


DUPLICATES = [
    # Same email, any case → the first row.
    (
        [Lead(email="a@example.com"), Lead(email="b@example.com"), Lead(email=" A@Example.COM")],
        set(),
        {2: 0},
    ),
    # Same email to another LeadStream is not a duplicate.
    ([Lead(email="a@example.com", cm_id="1"), Lead(email="a@example.com", cm_id="2")], set(), {}),
    # Without email: identical parameters only.
    (
        [Lead(phone="716"), Lead(phone="716"), Lead(phone="716", tags=["x"]), Lead(phone="716")],
        set(),
        {1: 0, 3: 0},
    ),
    # An invalid row is never sent: a later copy is the one to send.
    ([Lead(email="a@example.com"), Lead(email="a@example.com")], {0}, {}),
    ([Lead(email="a@example.com")] * 3, {1}, {2: 0}),
]


@pytest.mark.parametrize(("leads", "invalid", "expected"), DUPLICATES)
def test_find_duplicates(leads: list[Lead], invalid: set[int], expected: dict[int, int]) -> None:
    rows = [prepared(i, lead, invalid=i in invalid) for i, lead in enumerate(leads)]
    assert find_duplicates(rows) == expected
    # The fingerprints a plan has worked out already give the same repeats.
    marks = {row.index: fingerprint(row.lead) for row in rows if not row.errors}
    assert find_duplicates(rows, fingerprints=marks) == expected


def test_the_example_file_end_to_end() -> None:
    path = Path(__file__).parent / "fixtures" / "example_leads.csv"
    table = read_table(path.read_bytes(), path.name)
    mapping = auto_match(table.columns, LEGEND)
    assert {(p.field, p.level) for p in mapping.problems(table.columns, LEGEND)} == {
        ("cm_id", "warning"),
        ("user_id", "warning"),
    }
    for target, value in ROUTING.items():
        mapping = mapping.with_constant(target, value)
    assert mapping.problems(table.columns, LEGEND) == []
    rows = prepare_rows(table.frame, mapping, legend=LEGEND, row_numbers=table.row_numbers)
    assert [(r.line, r.status) for r in rows] == [
        (2, "ok"),
        (3, "ok"),
        (4, "warning"),  # no email
        (5, "invalid"),  # a bad email and a date that is not one
        (6, "ok"),
    ]
    assert {p.field for p in rows[3].errors} == {"email", "custom_field[195481]"}
    assert rows[1].lead.zip == "02108"
    assert find_duplicates(rows) == {4: 0}


# dates in the column, the person's choice (None: none made) → the dates sent, or the error
DATE_ORDERS = [
    pytest.param(["1/5/2026", "3/4/2026"], None, ["01/05/2026", "03/04/2026"], id="us-default"),
    pytest.param(["1/5/2026", "3/4/2026"], True, ["05/01/2026", "04/03/2026"], id="day-first"),
    pytest.param(["24/12/2026", "1/5/2026"], None, ["12/24/2026", "05/01/2026"], id="detected"),
    pytest.param(["24/12/2026", "1/5/2026"], False, [None, "01/05/2026"], id="month-first-wins"),
]


@pytest.mark.parametrize(("dates", "day_first", "sent"), DATE_ORDERS)
def test_a_date_column_is_read_in_the_order_chosen_else_the_one_it_shows(
    dates: list[str], day_first: bool | None, sent: list[str | None]
) -> None:
    frame = pd.DataFrame({"Email": ["a@example.com", "b@example.com"], "Due": dates})
    mapping = ColumnMapping({"Email": "email", "Due": "custom_field[195481]"}, {}).with_date_order(
        "Due", day_first
    )
    rows = prepare_rows(frame, mapping, legend=LEGEND)
    for row, expected in zip(rows, sent, strict=True):
        if expected is None:  # 24/12/2026 cannot be month first: refused, naming row and column
            assert row.status == "invalid"
            assert row.errors[0].message.startswith("Row 2, column “Due”: Follow Up Date:")
        else:
            assert row.lead.custom_fields == {"195481": expected}


def test_the_date_notes_say_how_each_column_is_read() -> None:
    frame = pd.DataFrame({"Due": ["1/5/2026", "3/4/2026"]})
    mapping = ColumnMapping({"Due": "custom_field[195481]"})
    [column] = date_columns(frame, mapping, LEGEND)
    assert (column.two_ways, column.day_first, column.example) == (True, False, "1/5/2026")
    [note] = date_notes(date_columns(frame, mapping, LEGEND))
    assert "read month first (1/5/2026 is January 5, 2026); if they are written day first" in note
    [note] = date_notes(date_columns(frame, mapping.with_date_order("Due", True), LEGEND))
    assert note == (
        "Column “Due”: its dates are read day first, as you chose (1/5/2026 is May 1, 2026)."
    )
