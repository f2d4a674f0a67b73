"""Guard rails: a column whose values mostly fail its field's check is named before sending."""

from __future__ import annotations

import pandas as pd
import pytest

from leadstream.prepare.mapping import (
    ColumnMapping,
    full_name_note,
    mismatched_columns,
    prepare_rows,
    remember_choices,
)

ROUTING = {"user_id": "377310706", "cm_id": "576846"}


def frame(rows: int, **columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: (values * rows)[:rows] for name, values in columns.items()}, dtype=object
    )


# columns (cycled to the row count), mapping, rows, flagged (column, target, failing, filled)
CASES = [
    pytest.param(
        {"Email": ["a@example.com"], "Phone Number": ["(716) 555-0100", "716-555-0101"]},
        {"Email": "email", "Phone Number": "state"},
        277,
        [("Phone Number", "state", 277, 277)],
        id="phones-as-state",
    ),
    pytest.param(
        {"Email": ["a@example.com"], "State": ["NY"] * 9 + ["Nowhere"]},
        {"Email": "email", "State": "state"},
        100,
        [],
        id="a-few-typos",
    ),
    pytest.param(
        {"Email": ["a@example.com"], "City": ["Austin", "Buffalo"]},
        {"Email": "email", "City": "phone:mobile"},
        20,
        [("City", "phone:mobile", 20, 20)],
        id="cities-as-extra-phone",
    ),
    pytest.param(
        {"Email": ["a@example.com"], "Zip": ["Austin"] * 3},
        {"Email": "email", "Zip": "zip"},
        3,
        [("Zip", "zip", 3, 3)],
        id="small-file-every-value",
    ),
    pytest.param(
        {"Email": ["a@example.com"], "Zip": ["Austin", "14204", "14204"]},
        {"Email": "email", "Zip": "zip"},
        3,
        [],
        id="small-file-some-values",
    ),
    pytest.param(
        {"Email": ["a@example.com"], "State": ["", "", "", "", "TX"]},
        {"Email": "email", "State": "state"},
        50,
        [],
        id="empty-cells-do-not-count",
    ),
]


@pytest.mark.parametrize(("columns", "targets", "rows", "flagged"), CASES)
def test_mismatched_columns(
    columns: dict[str, list[str]],
    targets: dict[str, str],
    rows: int,
    flagged: list[tuple[str, str, int, int]],
) -> None:
    mapping = ColumnMapping(dict(targets), dict(ROUTING))
    prepared = prepare_rows(frame(rows, **columns), mapping)
    found = mismatched_columns(prepared, mapping)
    assert [(m.column, m.target, m.failing, m.filled) for m in found] == flagged


def test_the_message_names_column_field_counts_and_the_better_field() -> None:
    mapping = ColumnMapping({"Phone Number": "state"}, dict(ROUTING))
    prepared = prepare_rows(frame(277, **{"Phone Number": ["(716) 555-0100"]}), mapping)
    (mismatch,) = mismatched_columns(prepared, mapping)
    assert mismatch.suggestion == "phone"
    assert mismatch.message() == (
        "Column “Phone Number” is matched to State, but 277 of its 277 values are not a valid "
        "State. Its name suggests Phone. Choose the right field for it above (or ignore it), or "
        "tick “Send anyway”."
    )


def test_remember_choices_keeps_every_sheets_choices() -> None:
    contacts = ColumnMapping({"Full Name": "fullname", "Notes": "promocode"})
    cover = ColumnMapping({"Exported by": None, "Notes": None})
    remembered = remember_choices(None, contacts)
    remembered = remember_choices(remembered, cover)
    assert remembered == {"Full Name": "fullname", "Notes": None, "Exported by": None}
    assert remember_choices(remembered, None) == remembered


def test_full_name_note_shows_the_rule_and_examples() -> None:
    names = frame(4, Name=["Dr. Jane Smith", "Smith, Bob", "Cher", "Dr. Jane Smith"])
    note = full_name_note(names, ColumnMapping({"Name": "fullname"}))
    assert note is not None
    assert note.startswith("Column “Name” is split into first and last name")
    assert note.endswith(
        "For example: “Dr. Jane Smith” → first “Jane”, last “Smith”; “Smith, Bob” → first "
        "“Bob”, last “Smith”; “Cher” → first “Cher”, last “”."
    )
    assert full_name_note(names, ColumnMapping({"Name": "firstname"})) is None
