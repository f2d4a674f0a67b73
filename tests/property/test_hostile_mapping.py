"""Hostile mappings and rows: mapping files of any shape give a mapping or a `MappingError` naming
the column or target; any frame of text goes through `prepare_rows` without raising, every
problem naming its row; and every row that may be sent comes back unchanged from its URL.
"""

from __future__ import annotations

import json
import string

import pandas as pd
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from leadstream.prepare.legend import FieldType, Legend, LegendField
from leadstream.prepare.mapping import (
    PHONE_PREFIX,
    TAGS,
    ColumnMapping,
    MappingError,
    auto_match,
    find_duplicates,
    normalize_target,
    prepare_rows,
    target_choices,
    target_label,
)
from leadstream.protocol.query import build_url, decode_query, lead_from_query

from .hostile_strategies import (
    any_json,
    deadline,
    expect_clear,
    fuzz,
    headers,
    hostile_text,
    json_junk_text,
    text_frames,
)
from .strategies import field_text

LEGEND = Legend(
    (
        LegendField("297989", "Reference #", FieldType.TEXT),
        LegendField("195481", "Follow Up Date", FieldType.DATE),
        LegendField("300100", "Do Not Call", FieldType.CHECKBOX),
    ),
    name="Demo LeadStream",
    cm_id="576846",
)
BASE = "https://www.phoneburner.com/api/vendor/put_contact"
TARGETS = [t for t in target_choices(LEGEND) if t is not None]
NOT_REPEATABLE = {t for t in TARGETS if t != TAGS and not t.startswith(PHONE_PREFIX)}

# Targets as a person might write them in a mapping file, right or wrong.
target_text = st.one_of(
    st.sampled_from(
        [
            *TARGETS,
            "Email",
            " CM_ID ",
            "phone:Cell",
            "phone:2",
            "phone:",
            "phone:9",
            "phone:" + "1" * 5000,
            "custom_field[ 12 ]",
            "Custom Fields[abc]",
            "custom_field[]",
            "custom_field[1",
            "tag",
            "ignore",
            "-",
            "key",
            "KEY",
            "additional_phones[]",
        ]
    ),
    hostile_text(max_size=12),
)


def check_mapping(mapping: ColumnMapping) -> None:
    for target in mapping.columns.values():
        assert target is None or normalize_target(target) == target
    for target, value in mapping.constants.items():
        assert normalize_target(target) == target
        assert isinstance(value, str)
        assert value == value.strip()
        assert value
    assert ColumnMapping.from_json(mapping.to_json()) == mapping


# --- Mapping files --------------------------------------------------------------------------


@fuzz(80)
@given(text=st.one_of(json_junk_text(), hostile_text(max_size=30)))
@example(text='{"columns": ' + "[" * 100_000)
@example(text='{"constants": {"cm_id": ' + "7" * 5000 + "}}")
@example(text='{"version": [1], "columns": {}}')
@example(text='{"columns": {"A": ["email"]}, "constants": {"cm_id": {"x": 1}}}')
@example(text='{"columns": {"A": "email"}, "constants": {"phone:" : "1"}}')
def test_mapping_files_of_any_text(text: str) -> None:
    mapping = expect_clear(MappingError, lambda: ColumnMapping.from_json(text))
    if mapping is not None:
        check_mapping(mapping)


@fuzz(50)
@given(
    columns=st.dictionaries(
        hostile_text(max_size=10), st.one_of(target_text, any_json(max_leaves=3)), max_size=5
    ),
    constants=st.one_of(
        st.dictionaries(
            target_text, st.one_of(hostile_text(max_size=8), any_json(max_leaves=2)), max_size=4
        ),
        any_json(max_leaves=3),
    ),
    version=st.one_of(st.just(1), any_json(max_leaves=2)),
)
def test_mapping_files_of_wrong_shapes_and_targets(
    columns: dict[str, object], constants: object, version: object
) -> None:
    text = json.dumps({"version": version, "columns": columns, "constants": constants})
    try:
        mapping = ColumnMapping.from_json(text)
    except MappingError as error:
        message = str(error)
        # A bad target is named with its column or as a constant, and the way out is said.
        bad_column = next((h for h, t in columns.items() if not _is_target(t)), None)
        if version == 1 and bad_column is not None and "Column" in message:
            assert repr(bad_column)[1:40] in message
        assert any(
            word in message.lower() for word in ("target", "must", "mapping", "version", "use")
        )
        assert "Traceback" not in message
        return
    check_mapping(mapping)
    assert set(mapping.columns) == set(columns)


def _is_target(value: object) -> bool:
    try:
        normalize_target(value)  # type: ignore[arg-type]
    except MappingError:
        return False
    return True


@fuzz(100)
@given(target=st.one_of(target_text, field_text()))
def test_any_target_text_is_canonical_or_explained(target: str) -> None:
    try:
        canonical = normalize_target(target)
    except MappingError as error:
        message = str(error)
    else:
        message = ""
    if message:
        assert repr(target)[:20] in message or "key" in message
        return
    assert canonical is None or canonical in TARGETS or canonical.startswith("custom_field[")
    assert normalize_target(canonical) == canonical
    assert target_label(canonical, LEGEND)


# --- Matching headers -----------------------------------------------------------------------


@fuzz(60)
@given(columns=headers(max_size=10), with_legend=st.booleans())
@example(columns=["Phone", "Phone", "Mobile", "Cell", "Tags", "Tags"], with_legend=False)
@example(columns=["custom_field[195481]", "Follow Up Date", "follow-up date"], with_legend=True)
def test_auto_match_any_headers(columns: list[str], with_legend: bool) -> None:
    legend = LEGEND if with_legend else None
    mapping = auto_match(columns, legend)
    assert list(mapping.columns) == list(dict.fromkeys(columns))
    targets = [t for t in mapping.columns.values() if t is not None]
    assert all(normalize_target(t) == t for t in targets)
    single = [t for t in targets if t in NOT_REPEATABLE or t.startswith("custom_field[")]
    assert len(single) == len(set(single))
    for problem in mapping.problems(columns, legend):
        assert problem.message
        assert problem.level in ("error", "warning")


@fuzz(40)
@given(
    columns=st.dictionaries(
        hostile_text(max_size=8), st.one_of(st.none(), target_text), max_size=5
    ),
    constants=st.dictionaries(
        st.one_of(target_text, st.integers()), hostile_text(max_size=8), max_size=3
    ),
    present=headers(max_size=5),
)
@example(columns={"A": "email"}, constants={5: "x"}, present=["A"])
@example(columns={"A": "email"}, constants={"CM_ID": "1", "User_ID": "2"}, present=["A"])
def test_problems_of_a_hand_built_mapping_never_raise(
    columns: dict[str, str | None], constants: dict[object, str], present: list[str]
) -> None:
    mapping = ColumnMapping(columns, constants)  # type: ignore[arg-type]
    for legend in (None, LEGEND):
        for problem in mapping.problems([*present, *list(columns)[:1]], legend):
            assert problem.message.strip()
    if "CM_ID" in constants and "User_ID" in constants:
        warned = {p.field for p in mapping.problems(list(columns))}
        assert not warned & {"cm_id", "user_id"}  # the constants do give them


# --- Rows to leads --------------------------------------------------------------------------

# Cells as spreadsheets hold them: anything, plus values that pass the checks, so that a fair
# share of rows is valid and goes on to the URL.
_GOOD = st.sampled_from(
    [
        "jeff@example.com",
        "Ann.O'Brien+tag@Example.CO.uk",
        "(716) 293-2368",
        "+44 20 7946 0958",
        "7162932368",
        "new york",
        "N.Y.",
        "02134",
        "14204-1234",
        "2017-12-24",
        "12/24/2017",
        "yes",
        "x",
        "0",
        "576846",
        "377310706",
        "vip, hot; cold",
        "José Ñúñez",
        "北京",
        "",
    ]
)
_CELL = st.one_of(st.just(""), _GOOD, hostile_text(max_size=14))


@st.composite
def mapped_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, ColumnMapping]:
    frame = draw(text_frames(_CELL, min_rows=1, max_rows=4))
    columns = list(frame.columns)
    how = draw(st.sampled_from(["auto", "random"]))
    if how == "auto":
        mapping = auto_match(columns, LEGEND)
    else:
        choice = st.one_of(st.none(), st.sampled_from(TARGETS))
        mapping = ColumnMapping({c: draw(choice, label=f"target of {c!r}") for c in columns})
    constants = draw(
        st.dictionaries(
            st.sampled_from(["cm_id", "user_id", "tags", "phone:work", "custom_field[195481]"]),
            st.one_of(_GOOD, hostile_text(max_size=8)).filter(str.strip),
            max_size=3,
        )
    )
    # Without user_id and cm_id no row may be sent; give them most of the time.
    if draw(st.sampled_from([True, True, True, False]), label="routing"):
        constants |= {"user_id": "377310706", "cm_id": "576846"}
    for target, value in constants.items():
        mapping = mapping.with_constant(target, value)
    return frame, mapping


def _row_numbers(draw_numbers: list[int], rows: int) -> list[int]:
    return sorted(set(draw_numbers))[:rows]


@fuzz(60)
@given(
    case=mapped_frames(),
    with_legend=st.booleans(),
    region=st.sampled_from(["US", "GB", "CA", "ZZ", ""]),
    key=field_text(max_size=12),
    start=st.integers(2, 10**6),
)
def test_any_frame_of_text_becomes_rows_and_sendable_rows_survive_the_url(
    case: tuple[pd.DataFrame, ColumnMapping],
    with_legend: bool,
    region: str,
    key: str,
    start: int,
) -> None:
    frame, mapping = case
    legend = LEGEND if with_legend else None
    numbers = list(range(start, start + 2 * len(frame), 2))
    rows = prepare_rows(frame, mapping, legend=legend, region=region, row_numbers=numbers)
    assert [row.index for row in rows] == list(range(len(frame)))
    assert [row.line for row in rows] == numbers
    for row, cells in zip(rows, frame.to_numpy().tolist(), strict=True):
        assert row.source == dict(zip(frame.columns, cells, strict=True))
        for problem in row.problems:
            # Each problem names the spreadsheet row, stays readable, says its field and level.
            assert problem.message.startswith(f"Row {row.line}")
            assert len(problem.message) < 1000, problem.message[:200]
            assert problem.level in ("error", "warning")
        assert (row.status == "invalid") == bool(row.errors)
        if row.status == "invalid":
            continue
        # What may be sent arrives as it was prepared: nothing in a cell can add, drop or
        # change a parameter.
        event("a row went through the URL")
        url = build_url(row.lead, key=key, base_url=BASE)
        decoded = decode_query(url.split("?", 1)[1])
        assert lead_from_query(decoded) == row.lead
        assert decoded.get("key", "") == key
    duplicates = find_duplicates(rows)
    assert all(later > first for later, first in duplicates.items())


HUGE_CELLS = {
    "letters": "a" * 32_767,
    "dotted email": "a." * 16_000 + "@x.com",
    "spaces and commas": " ," * 16_000 + ":",  # quadratic in the date reader: 37 s a cell
    "semicolons": ";" * 32_767,
    "digits": "+" + "1" * 32_000,
    "accents": "\u0301" * 32_000,
}
HUGE_COLUMNS = {
    "Email": "email",
    "Phone": "phone",
    "State": "state",
    "Zip": "zip",
    "Follow Up Date": "custom_field[195481]",
    "Do Not Call": "custom_field[300100]",
    "Tags": "tags",
    "Work": "phone:work",
    "Name": "firstname",
}


def test_cells_at_the_size_limit_are_checked_quickly_with_short_messages() -> None:
    # Every column holds, row after row, each kind of cell as long as a spreadsheet allows.
    frame = pd.DataFrame(
        [[cell] * len(HUGE_COLUMNS) for cell in HUGE_CELLS.values()],
        columns=list(HUGE_COLUMNS),
        dtype=object,
    )
    mapping = ColumnMapping(dict(HUGE_COLUMNS), {"cm_id": "576846", "user_id": "377310706"})
    with deadline(5):
        rows = prepare_rows(frame, mapping, legend=LEGEND)
    for row in rows:
        assert row.status == "invalid"
        # The value is quoted shortened: a whole cell in every message of every row of a
        # 100,000-row file would be gigabytes.
        assert all(len(problem.message) < 1000 for problem in row.problems)


def test_ten_thousand_columns_are_prepared_in_time() -> None:
    columns = [f"Column {i}" for i in range(10_000)]
    frame = pd.DataFrame([[f"v{i}" for i in range(10_000)]] * 3, columns=columns, dtype=object)
    with deadline(5):
        mapping = auto_match(columns, LEGEND)
        rows = prepare_rows(frame, mapping, legend=LEGEND)
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("１４２０４", "14204"),
        ("٠٢١٣٤", "02134"),
        ("１４２０４-１２３４", "14204-1234"),
        ("x٣", "x٣"),
    ],
)
def test_zip_codes_in_other_digits_are_sent_in_ascii(cell: str, expected: str) -> None:
    # `\d` took full-width and Arabic-Indic digits as a valid ZIP and sent them as they were.
    frame = pd.DataFrame({"Zip": [cell]}, dtype=object)
    (row,) = prepare_rows(frame, ColumnMapping({"Zip": "zip"}))
    assert row.lead.zip == expected
    assert any(p.field == "zip" for p in row.problems) == (expected == cell)


def test_headers_made_only_of_punctuation_and_digits() -> None:
    columns = [*string.punctuation, "0", "00", "  ", "\u200b"]
    mapping = auto_match(columns)
    assert all(target is None for target in mapping.columns.values())
