"""Legends: reading PhoneBurner's pasted legend, CSV and JSON; writing them back; guessing types;
writing custom-field values as put_contact takes them."""

from __future__ import annotations

import pickle
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from leadstream.prepare.legend import (
    FieldType,
    Legend,
    LegendError,
    LegendField,
    ValueFormatError,
    format_custom_fields,
    format_value,
    guess_type,
    legend_from_rows,
    parse_legend,
)

T, D, C = FieldType.TEXT, FieldType.DATE, FieldType.CHECKBOX

DEMO = Legend(
    (
        LegendField("297989", "Reference #", T),
        LegendField("195481", "Follow Up Date", D),
        LegendField("300100", "Do Not Call", C),
    ),
    name="Demo LeadStream",
    cm_id="576846",
)
# What PhoneBurner's legend gives for the demo fields: no types, so "Do Not Call" is TEXT.
PASTED_DEMO = [
    ("297989", "Reference #", T),
    ("195481", "Follow Up Date", D),
    ("300100", "Do Not Call", T),
]

# (text, fields as (id, name, type))
VALID = [
    pytest.param(
        "custom_field[297989]=Reference #&\ncustom_field[195481]=Follow Up Date&\n"
        "custom_field[300100]=Do Not Call&\n",
        PASTED_DEMO,
        id="pasted one a line",
    ),
    pytest.param(
        "custom_field[297989]=Reference #&custom_field[195481]=Follow Up Date&"
        "custom_field[300100]=Do Not Call&",
        PASTED_DEMO,
        id="pasted run together",
    ),
    pytest.param(
        "?custom_field[297989]=Reference #&\n\n   \n  custom_field [ 195481 ] =  Follow Up Date \n"
        "&custom_field[300100]=Do Not Call&&  \n",
        PASTED_DEMO,
        id="pasted with stray spaces, blank lines, leading ? and &, no trailing &",
    ),
    pytest.param(
        "\ufeffcustom_field[297989]=Reference #&\r\ncustom_field[195481]=Follow Up Date&\r\n"
        "custom_field[300100]=Do Not Call&\r\n",
        PASTED_DEMO,
        id="pasted with BOM and CRLF",
    ),
    pytest.param(
        "custom_field[1]=Q&A Notes&\ncustom_field[2]=R&D&",
        [("1", "Q&A Notes", T), ("2", "R&D", T)],
        id="pasted names with &",
    ),
    pytest.param(
        "key=XXXYYYZZZ&firstname=First Name&custom_field[195481]=Follow Up Date&user_id=1&"
        "additional_phones[]=2nd phone&tags[]=Tag&",
        [("195481", "Follow Up Date", D)],
        id="pasted with standard parameters around",
    ),
    pytest.param(
        "https://www.phoneburner.com/api/vendor/put_contact?key=XXXYYYZZZ&firstname=Jeff&"
        "custom_field[297989]=Reference #&custom_field[195481]=Follow Up Date&cm_id=576846",
        [("297989", "Reference #", T), ("195481", "Follow Up Date", D)],
        id="pasted example URL",
    ),
    pytest.param(
        "id,name,type\n297989,Reference #,text\n195481,Follow Up Date,date\n"
        "300100,Do Not Call,checkbox\n",
        [(f.id, f.name, f.type) for f in DEMO.fields],
        id="csv with header",
    ),
    pytest.param(
        "ID, Name\n297989, Reference #\n195481, Follow Up Date\n",
        [("297989", "Reference #", T), ("195481", "Follow Up Date", D)],
        id="csv without type column guesses",
    ),
    pytest.param(
        "name,type,id\nDo Not Call,Check box,300100\nBirthday,,1\n",
        [("300100", "Do Not Call", C), ("1", "Birthday", D)],
        id="csv columns in another order, empty type guessed",
    ),
    pytest.param(
        '195481,"Follow Up, Date",DATE\n300100,Do Not Call,checkbox\n2,"Say ""hi""",\n',
        [("195481", "Follow Up, Date", D), ("300100", "Do Not Call", C), ("2", 'Say "hi"', T)],
        id="csv without header, quoted commas and quotes",
    ),
    pytest.param(
        "id\tname\ttype\n195481\tFollow Up Date\tdate\n300100\tDo Not Call\tcheckbox\n",
        [("195481", "Follow Up Date", D), ("300100", "Do Not Call", C)],
        id="tab separated (pasted from a spreadsheet)",
    ),
    pytest.param(
        "id;name;type\n195481;Follow Up Date;date\n",
        [("195481", "Follow Up Date", D)],
        id="semicolon separated",
    ),
    pytest.param(
        "id,name,type,notes\n195481,Follow Up Date,date,for calls\n",
        [("195481", "Follow Up Date", D)],
        id="csv with an extra named column",
    ),
    pytest.param(
        '[{"id": 195481, "name": "Follow Up Date"}, {"id": "300100", "name": "Do Not Call",'
        ' "type": "checkbox"}]',
        [("195481", "Follow Up Date", D), ("300100", "Do Not Call", C)],
        id="json list, integer id, missing type guessed",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_parse_valid(text: str, expected: list[tuple[str, str, FieldType]]) -> None:
    legend = parse_legend(text)
    assert [(f.id, f.name, f.type) for f in legend.fields] == expected


def test_json_keeps_name_and_cm_id_and_ignores_extra_keys() -> None:
    # The sandbox account file's LeadStream entries have this shape, with a user_id too.
    text = (
        '{"cm_id": "576846", "user_id": "377310706", "name": "Demo LeadStream", "fields": ['
        '{"id": "297989", "name": "Reference #", "type": "text"},'
        '{"id": "195481", "name": "Follow Up Date", "type": "date"},'
        '{"id": "300100", "name": "Do Not Call", "type": "checkbox"}]}'
    )
    assert parse_legend(text) == DEMO


# (text, the problems expected: each a list of substrings that must all be in that problem)
INVALID = [
    pytest.param("", [["no custom fields"]], id="empty"),
    pytest.param("  \n\n ", [["no custom fields"]], id="blank"),
    pytest.param("hello there", [["line 1", "hello there", "id,name,type"]], id="prose"),
    pytest.param(
        "custom_field[195481]=Follow Up Date&\ncustom_field[abc]=Notes&",
        [["line 2", "'abc'", "not a number"]],
        id="pasted non-numeric id",
    ),
    pytest.param("custom_field[]=Notes&", [["line 1", "field ID is empty"]], id="pasted empty id"),
    pytest.param(
        "custom_field[1]=A&\ncustom_field[2]=B&\n\ncustom_field[1]=C&",
        [["line 4", "1", "listed twice", "line 1"]],
        id="pasted repeated id",
    ),
    pytest.param(
        "custom_field[195481]=&", [["line 1", "195481", "no name"]], id="pasted empty name"
    ),
    pytest.param(
        "custom_field[1]=A&\nsome junk\n",
        [["line 2", "some junk", "not a custom field"]],
        id="pasted junk line",
    ),
    pytest.param(
        "custom_field[x]=&\ncustom_field[2]=B&custom_field[2]=C&\nnot a field",
        [
            ["line 1", "'x'", "not a number"],
            ["line 1", "no name"],
            ["line 2", "listed twice"],
            ["line 3", "not a field"],
        ],
        id="pasted: every problem gathered in line order",
    ),
    pytest.param(
        "id,name,type\n1,A,text\n2,B,dropdown\n3,,date\n",
        [["line 3", "'dropdown'", "text, date or checkbox"], ["line 4", "3", "no name"]],
        id="csv unknown type and empty name",
    ),
    pytest.param(
        "id,name,type\n1,A\n1,B\n", [["line 3", "listed twice", "line 2"]], id="csv repeated id"
    ),
    pytest.param("id,name,type\n", [["no custom fields"]], id="csv header only"),
    pytest.param("name,type\nA,text\n", [["line 1", "id,name,type"]], id="csv header without id"),
    pytest.param(
        "195481,Follow Up, Date,date\n",
        [["line 1", "4 columns", "double quotes"]],
        id="csv unquoted comma",
    ),
    pytest.param('{"fields": [}', [["line 1", "not valid JSON"]], id="json broken"),
    pytest.param('{\n"fields":\n  [\n}', [["line 4", "not valid JSON"]], id="json broken line 4"),
    pytest.param('{"name": "x"}', [['"fields"']], id="json without fields"),
    pytest.param('{"fields": []}', [["no custom fields"]], id="json with no fields"),
    pytest.param(
        '{"fields": [{"id": "1", "name": "A"}, "B", {"id": "x1", "name": "C", "type": "blob"}]}',
        [["field 2", "expected"], ["field 3", "'x1'"], ["field 3", "'blob'"]],
        id="json bad entries",
    ),
    pytest.param(
        '[{"id": 1.5, "name": "A"}, {"id": true, "name": "B"}, {"name": "C"}]',
        [["field 1", "not a number"], ["field 2", "not a number"], ["field 3", "empty"]],
        id="json ids that are not whole numbers",
    ),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_parse_invalid(text: str, expected: list[list[str]]) -> None:
    with pytest.raises(LegendError) as caught:
        parse_legend(text)
    problems = caught.value.problems
    assert len(problems) == len(expected), problems
    for problem, parts in zip(problems, expected, strict=True):
        for part in parts:
            assert part in problem, (part, problem)
    # The message shows every problem, so one look at the error says everything to fix.
    for problem in problems:
        assert problem in str(caught.value)


def test_legend_error_is_a_value_error_with_a_single_problem_message() -> None:
    with pytest.raises(ValueError, match=r"^The legend could not be read: line 1: "):
        parse_legend("custom_field[abc]=A&")


GUESS = [
    ("Follow Up Date", D),
    ("follow up date", D),
    ("DATE", D),
    ("Dates", D),
    ("DOB", D),
    ("Client DOB", D),
    ("Birthday", D),
    ("birthdate", D),
    ("date_of_birth", D),
    ("FollowUpDate", D),
    ("Close-Date", D),
    ("Update notes", T),
    ("Candidate", T),
    ("Dated reference", T),
    ("Doberman", T),
    ("Reference #", T),
    ("Do Not Call", T),
    ("", T),
]


@pytest.mark.parametrize(("name", "expected"), GUESS)
def test_guess_type(name: str, expected: FieldType) -> None:
    assert guess_type(name) is expected


# --------------------------------------------------------------------------------------------
# The Legend value


def test_legend_fields_list_or_tuple_compare_equal_and_hash() -> None:
    as_list = Legend([LegendField("1", "A")], name="n", cm_id="2")  # type: ignore[arg-type]
    as_tuple = Legend((LegendField("1", "A"),), name="n", cm_id="2")
    assert as_list == as_tuple
    assert hash(as_list) == hash(as_tuple)
    assert isinstance(as_list.fields, tuple)
    assert [f.id for f in as_list.fields] == ["1"]


def test_legend_pickles_with_its_index() -> None:
    copy = pickle.loads(pickle.dumps(DEMO))
    assert copy == DEMO
    assert copy.by_id("195481") == LegendField("195481", "Follow Up Date", D)


@pytest.mark.parametrize(
    ("field_id", "expected"),
    [
        ("195481", LegendField("195481", "Follow Up Date", D)),
        (195481, LegendField("195481", "Follow Up Date", D)),
        (" 300100 ", LegendField("300100", "Do Not Call", C)),
        ("999", None),
        ("", None),
    ],
)
def test_by_id(field_id: str | int, expected: LegendField | None) -> None:
    assert DEMO.by_id(field_id) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("date", D), ("Checkbox", C), ("check-box", C), ("TEXT", T), (D, D)],
)
def test_legend_field_type_from_text(given: str, expected: FieldType) -> None:
    assert LegendField("1", "A", given).type is expected  # type: ignore[arg-type]


def test_legend_field_unknown_type_raises() -> None:
    with pytest.raises(LegendError, match="'number' is not a field type"):
        LegendField("1", "A", "number")  # type: ignore[arg-type]


def test_field_type_values_are_the_strings() -> None:
    assert [t.value for t in FieldType] == ["text", "date", "checkbox"]
    assert FieldType("date") is D


def test_to_csv_and_to_pasted_exact() -> None:
    legend = Legend((LegendField("1", 'Say "hi", then'), LegendField("2", "Follow Up Date", D)))
    assert legend.to_csv() == 'id,name,type\n1,"Say ""hi"", then",text\n2,Follow Up Date,date\n'
    assert (
        legend.to_pasted() == 'custom_field[1]=Say "hi", then&\ncustom_field[2]=Follow Up Date&\n'
    )


CSV_ROWS = [
    # a field's name → its row in to_csv(); each reads back as the same field
    ("Follow Up Date", "1,Follow Up Date,text"),
    ('Say "hi", then', '1,"Say ""hi"", then",text'),
    ("two\nlines", '1,"two\nlines",text'),
    # The csv writer leaves a lone \r bare (it is not in the "\n" terminator): rows with a \r
    # are quoted whole.
    ("old Mac\rline", '"1","old Mac\rline","text"'),
    ("two\r\nlines", '"1","two\r\nlines","text"'),
    ("a\u2028b", "1,a\u2028b,text"),
]


@pytest.mark.parametrize(("name", "row"), CSV_ROWS)
def test_to_csv_rows_read_back(name: str, row: str) -> None:
    legend = Legend((LegendField("1", name), LegendField("2", "Follow Up Date", D)))
    assert legend.to_csv() == f"id,name,type\n{row}\n2,Follow Up Date,date\n"
    assert parse_legend(legend.to_csv()).fields == legend.fields


def test_to_json_carries_name_cm_id_and_fields() -> None:
    import json

    data = json.loads(DEMO.to_json())
    assert data == {
        "name": "Demo LeadStream",
        "cm_id": "576846",
        "fields": [
            {"id": "297989", "name": "Reference #", "type": "text"},
            {"id": "195481", "name": "Follow Up Date", "type": "date"},
            {"id": "300100", "name": "Do Not Call", "type": "checkbox"},
        ],
    }


def test_round_trips_of_the_demo() -> None:
    assert parse_legend(DEMO.to_json()) == DEMO
    assert parse_legend(DEMO.to_csv()).fields == DEMO.fields
    assert [(f.id, f.name) for f in parse_legend(DEMO.to_pasted()).fields] == [
        (f.id, f.name) for f in DEMO.fields
    ]


def test_legend_from_rows_checks_like_parse() -> None:
    rows = [
        {"id": "195481", "name": "Follow Up Date", "type": "date"},
        {"id": 300100.0, "name": " Do Not Call ", "type": "checkbox"},  # as a data editor gives
        {"id": "1", "name": "Notes", "type": None},
    ]
    legend = legend_from_rows(rows, name="Mine", cm_id="576846")
    assert [(f.id, f.name, f.type) for f in legend.fields] == [
        ("195481", "Follow Up Date", D),
        ("300100", "Do Not Call", C),
        ("1", "Notes", T),
    ]
    assert (legend.name, legend.cm_id) == ("Mine", "576846")
    with pytest.raises(LegendError) as caught:
        legend_from_rows([{"id": "1", "name": "A"}, {"id": "1", "name": ""}])
    assert caught.value.problems == [
        "row 2: field ID 1 is listed twice (also on row 1). Keep only one of them.",
        "row 2: field 1 has no name. Type its name as PhoneBurner shows it.",
    ]


def test_package_exports() -> None:
    import leadstream

    assert leadstream.parse_legend is parse_legend
    assert leadstream.Legend is Legend
    assert leadstream.LegendField is LegendField
    assert leadstream.FieldType is FieldType


# --------------------------------------------------------------------------------------------
# Round trips with any names

_names = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
_names_with_punctuation = st.one_of(
    _names,
    st.sampled_from(
        [
            *('Say "hi"', "a,b", "Q&A", "Ünïcødé ✓", "#1, \"quoted\", 'single'"),
            *("x\ny", "x\ry", "x\r\ny"),  # line breaks of every kind inside a name
        ]
    ),
)


@st.composite
def legends(draw: st.DrawFn, names: st.SearchStrategy[str] = _names_with_punctuation) -> Legend:
    ids = draw(st.lists(st.integers(0, 10**12).map(str), min_size=1, max_size=8, unique=True))
    fields = tuple(
        LegendField(field_id, draw(names), draw(st.sampled_from(FieldType))) for field_id in ids
    )
    return Legend(
        fields,
        name=draw(st.one_of(st.just(""), _names)),
        cm_id=draw(st.one_of(st.just(""), st.integers(0, 10**9).map(str))),
    )


@settings(max_examples=examples(100), deadline=None)
@given(legends())
def test_json_round_trip(legend: Legend) -> None:
    assert parse_legend(legend.to_json()) == legend


@settings(max_examples=examples(100), deadline=None)
@given(legends())
@example(Legend((LegendField("1", "A\rB"),)))
def test_csv_round_trip(legend: Legend) -> None:
    assert parse_legend(legend.to_csv()).fields == legend.fields


_plain_names = st.from_regex(
    r"[A-Za-z0-9#/()'](?:[A-Za-z0-9#/()' -]{0,20}[A-Za-z0-9#/()'])?", fullmatch=True
)


@settings(max_examples=examples(50), deadline=None)
@given(legends(names=_plain_names))
def test_pasted_round_trip_keeps_ids_and_names(legend: Legend) -> None:
    again = parse_legend(legend.to_pasted())
    assert [(f.id, f.name, f.type) for f in again.fields] == [
        (f.id, f.name, guess_type(f.name)) for f in legend.fields
    ]


# --------------------------------------------------------------------------------------------
# Values

DATE_VALID = [
    ("12/24/2017", "12/24/2017"),
    ("2017-12-24", "12/24/2017"),
    ("2017/12/24", "12/24/2017"),
    ("12/24/17", "12/24/2017"),
    ("1/2/2017", "01/02/2017"),
    ("12-24-2017", "12/24/2017"),
    ("24.12.2017", "12/24/2017"),
    ("1.2.2017", "02/01/2017"),
    ("24.12.17", "12/24/2017"),
    ("1/2/69", "01/02/1969"),
    ("1/2/68", "01/02/2068"),
    ("Dec 24 2017", "12/24/2017"),
    ("Dec 24, 2017", "12/24/2017"),
    ("December 24, 2017", "12/24/2017"),
    ("24 December 2017", "12/24/2017"),
    ("24 dec 2017", "12/24/2017"),
    ("24-Dec-17", "12/24/2017"),
    ("24-Dec-2017", "12/24/2017"),
    ("Sept 5 2017", "09/05/2017"),
    ("Sunday, December 24th, 2017", "12/24/2017"),
    ("24th of December 2017", "12/24/2017"),
    ("2017 Dec 24", "12/24/2017"),
    ("20171224", "12/24/2017"),
    ("43093", "12/24/2017"),
    ("43093.75", "12/24/2017"),
    (43093, "12/24/2017"),
    (43093.5, "12/24/2017"),
    (np.int64(43093), "12/24/2017"),
    (20171224, "12/24/2017"),
    ("2017-12-24 00:00:00", "12/24/2017"),
    ("2017-12-24T10:30:00Z", "12/24/2017"),
    ("2017-12-24T10:30:00.000+02:00", "12/24/2017"),
    ("12/24/2017 3:15 PM", "12/24/2017"),
    ("Dec 24, 2017, 3:15 p.m.", "12/24/2017"),
    ("Sun Dec 24 10:30:00 2017", "12/24/2017"),
    ("  12/24/2017  ", "12/24/2017"),
    (date(2017, 12, 24), "12/24/2017"),
    (datetime(2017, 12, 24, 23, 59), "12/24/2017"),
    (pd.Timestamp("2017-12-24 10:00"), "12/24/2017"),
    (pd.Timestamp("2017-12-24 10:00", tz="America/New_York"), "12/24/2017"),
    (np.datetime64("2017-12-24"), "12/24/2017"),
    ("02/29/2016", "02/29/2016"),
    ("", ""),
    ("   ", ""),
    (None, ""),
    (float("nan"), ""),
    (pd.NaT, ""),
    (pd.NA, ""),
]


@pytest.mark.parametrize(("value", "expected"), DATE_VALID)
def test_format_date(value: object, expected: str) -> None:
    assert format_value(D, value) == expected


DATE_INVALID = [
    ("24/12/2017", "month 24"),
    ("13-01-2017", "month 13"),
    ("02/30/2017", "not a real date"),
    ("02/29/2017", "not a real date"),
    ("2017-13-01", "not a real date"),
    ("32.01.2017", "not a real date"),
    ("13322017", "neither YYYYMMDD"),
    ("Dec 2017", "full date"),
    ("December", "full date"),
    ("Dec 24", "full date"),
    ("hello", "not a date"),
    ("next tuesday", "not a date"),
    ("2017", "not a date"),
    ("12/24", "not a date"),
    ("1/2/3", "not a date"),
    ("2017-12-24 junk", "not a date"),
    ("Dec 24 2017 XYZ", "not a date"),
    ("12/24/2017/1", "not a date"),
    (2017, "number but not a date"),
    (123.0, "number but not a date"),
    (True, "not a date"),
]


@pytest.mark.parametrize(("value", "reason"), DATE_INVALID)
def test_format_date_refuses(value: object, reason: str) -> None:
    with pytest.raises(ValueFormatError) as caught:
        format_value(D, value)
    message = str(caught.value)
    assert reason in message
    assert repr(str(value)) in message
    assert "MM/DD/YYYY" in message
    assert caught.value.value == value
    assert caught.value.field_type is D


CHECKBOX_VALID = [
    *((word, "1") for word in ("1", "yes", "YES", "Y", "true", "True", "x", "X", "✓", "✔")),
    *((word, "1") for word in ("on", "checked", " Yes ", "1.0")),
    *((word, "0") for word in ("0", "no", "No", "n", "false", "FALSE", "off", "unchecked", "0.0")),
    (True, "1"),
    (False, "0"),
    (np.bool_(True), "1"),
    (1, "1"),
    (0, "0"),
    (1.0, "1"),
    ("", ""),
    (None, ""),
    (float("nan"), ""),
]


@pytest.mark.parametrize(("value", "expected"), CHECKBOX_VALID)
def test_format_checkbox(value: object, expected: str) -> None:
    assert format_value(C, value) == expected


CHECKBOX_INVALID = ["maybe", "2", "yes please", "-", "✗", 2, 0.5]


@pytest.mark.parametrize("value", CHECKBOX_INVALID)
def test_format_checkbox_refuses(value: object) -> None:
    with pytest.raises(ValueFormatError, match="is not a checkbox value; use yes or no"):
        format_value(C, value)


TEXT_VALID = [
    ("75048327", "75048327"),
    ("  spaced  ", "  spaced  "),
    ("Q&A = 100% + ✓", "Q&A = 100% + ✓"),
    ("", ""),
    (None, ""),
    (float("nan"), ""),
    (75048327, "75048327"),
    (75048327.0, "75048327"),
    (1.5, "1.5"),
]


@pytest.mark.parametrize(("value", "expected"), TEXT_VALID)
def test_format_text(value: object, expected: str) -> None:
    assert format_value(T, value) == expected


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [("date", "2017-12-24", "12/24/2017"), ("Checkbox", "yes", "1"), ("text", "yes", "yes")],
)
def test_format_value_takes_the_type_as_text(field_type: str, value: str, expected: str) -> None:
    assert format_value(field_type, value) == expected  # type: ignore[arg-type]


def test_format_custom_fields() -> None:
    values = {
        "195481": "2017-12-24",
        "300100": "yes",
        "297989": 75048327.0,
        " 999 ": "kept as text",
        "1": "",
    }
    formatted, problems = format_custom_fields(DEMO, values)
    assert formatted == {
        "195481": "12/24/2017",
        "300100": "1",
        "297989": "75048327",
        "999": "kept as text",
    }
    assert problems == []


def test_format_custom_fields_reports_by_field_name_and_leaves_the_value_out() -> None:
    formatted, problems = format_custom_fields(
        DEMO, {"195481": "24/12/2017", "300100": "maybe", "297989": "ok"}
    )
    assert formatted == {"297989": "ok"}
    assert [field_id for field_id, _ in problems] == ["195481", "300100"]
    assert problems[0][1].startswith("Follow Up Date (custom field 195481): '24/12/2017' has month")
    assert problems[1][1].startswith("Do Not Call (custom field 300100): 'maybe' is not a checkbox")


def test_format_custom_fields_without_legend_is_text() -> None:
    assert format_custom_fields(None, {"195481": "2017-12-24", "2": None}) == (
        {"195481": "2017-12-24"},
        [],
    )
