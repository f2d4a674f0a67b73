"""The words the app and the CLI say: one module, every code and outcome covered, and written
for office staff (no programmer's words, no file where there is none)."""

from __future__ import annotations

import pandas as pd
import pytest

from leadstream import words
from leadstream.deliver.outcomes import DeliveryOutcome
from leadstream.prepare.mapping import ColumnMapping, prepare_rows
from leadstream.prepare.validate import check_email, check_zip
from leadstream.protocol.response import Code

# Words that mean something to a programmer and little at a desk.
JARGON = ("retried", "retry", "Nothing to do", "lost reply", "idempotent", "payload")


def test_every_code_and_outcome_has_words() -> None:
    assert set(words.CODE_HELP) == {code.name for code in Code}
    assert set(words.OUTCOME_HELP) == {outcome.value for outcome in DeliveryOutcome}
    assert Code.DUPLICATE_EMAIL.help == words.CODE_HELP["DUPLICATE_EMAIL"]
    assert DeliveryOutcome.UNCERTAIN.description == words.OUTCOME_HELP["uncertain"]


@pytest.mark.parametrize(
    "text",
    [*words.CODE_HELP.values(), *words.OUTCOME_HELP.values(), words.NO_EMAIL],
)
def test_no_programmer_words(text: str) -> None:
    assert not [word for word in JARGON if word.lower() in text.lower()]


def test_a_duplicate_email_is_not_a_field_to_fix() -> None:
    assert words.field_heading("DUPLICATE EMAIL") == "Field concerned"
    assert words.field_heading("DUPLICATE_EMAIL") == "Field concerned"
    assert words.field_heading("INVALID EMAIL") == "Field to fix"


def test_no_email_says_why_in_plain_words() -> None:
    _value, problem = check_email("")
    assert problem is not None
    assert problem.message == words.NO_EMAIL


def test_a_short_zip_on_the_form_speaks_of_no_file() -> None:
    _value, problem = check_zip("1420")
    assert problem is not None
    assert problem.message == (
        "ZIP code '1420' has 4 digits; US ZIP codes have 5. If a leading zero was lost, it is "
        "01420."
    )
    assert "file" not in problem.message


def test_a_short_zip_in_a_file_says_how_to_keep_the_zeros() -> None:
    frame = pd.DataFrame({"Email": ["a@example.com"], "Zip": ["1420"]}, dtype=object)
    (row,) = prepare_rows(frame, ColumnMapping({"Email": "email", "Zip": "zip"}))
    (problem,) = [p for p in row.problems if p.field == "zip"]
    assert problem.message.startswith("Row 2, column “Zip”: ZIP code '1420' has 4 digits")
    assert problem.message.endswith(words.ZIP_IN_A_FILE)
