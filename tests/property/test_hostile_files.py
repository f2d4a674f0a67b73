"""Hostile files: whatever bytes are uploaded, `read_table` gives a table of text or a
`FileReadError` that names the file and says what to do; never a traceback, never a hang.

Covered: random bytes, binary files renamed .csv, text in the wrong or an unusual encoding,
ragged rows and odd quoting, formulas (read as text, neutralised on export), huge cells,
10,000 columns, empty and header-only files, truncated and corrupted workbooks.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from functools import cache
from pathlib import PurePath

import pandas as pd
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from openpyxl import Workbook

from leadstream.prepare.files import (
    DELIMITERS,
    MAX_CELL_CHARS,
    FileReadError,
    Table,
    neutralize_formula,
    read_table,
    to_csv_bytes,
)

from .hostile_strategies import (
    BINARY_HEADERS,
    FORMULAS,
    LATIN_TEXT,
    csv_rows,
    deadline,
    expect_clear,
    formula_text,
    fuzz,
    hostile_text,
    text_frames,
    to_csv_text,
)

FILENAMES = [
    "leads.csv",
    "leads.TXT",
    "leads.tsv",
    "leads.xlsx",
    "leads.xls",
    "leads",
    "leads.ods",
    ".csv",
    "données clients.csv",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def shown_name(filename: str) -> str:
    return PurePath(filename).name or "The file"


def read(data: bytes, filename: str = "leads.csv", **options: str) -> Table | None:
    """The table, or None after checking that the error is a clear one naming the file."""
    return expect_clear(
        FileReadError, lambda: read_table(data, filename, **options), shown_name(filename)
    )


def check_table(table: Table) -> None:
    """What every caller relies on: unique text headers, text cells, a row number per row."""
    frame = table.frame
    assert len(frame.columns) >= 1
    assert table.columns == [str(c) for c in frame.columns]
    assert len(set(table.columns)) == len(table.columns)
    assert all(isinstance(cell, str) for row in frame.itertuples(index=False) for cell in row)
    assert len(table.row_numbers) == len(frame) >= 1
    assert list(table.row_numbers) == sorted(set(table.row_numbers))
    assert table.row_numbers[0] >= 2
    assert all(isinstance(note, str) and note for note in table.notes)
    to_csv_bytes(frame).decode("utf-8-sig")  # whatever was read can be exported


def exported_cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- Any bytes at all -----------------------------------------------------------------------


@fuzz(100)
@given(data=st.binary(max_size=300), filename=st.sampled_from(FILENAMES))
@example(data=b"\xff\xfe\x00", filename="leads.csv")  # a UTF-16 mark on an odd byte count
@example(data=b"\xef\xbb\xbf\xff\xfe,", filename="leads.csv")
@example(data=b"a\x00b\x00", filename="leads.csv")  # UTF-16 without its mark, one letter
@example(data=b"PK\x03\x04", filename="leads.csv")
@example(data=b"\x81\x8d\x8f\x90\x9d", filename="leads.csv")  # not even Windows-1252
def test_any_bytes_give_a_table_or_a_clear_error(data: bytes, filename: str) -> None:
    table = read(data, filename)
    if table is not None:
        check_table(table)


@fuzz(40)
@given(
    data=st.one_of(st.binary(max_size=120), st.text(max_size=60).map(str.encode)),
    encoding=st.sampled_from(
        ["utf-8", "utf-16", "utf-32", "cp1252", "latin-1", "ascii", "shift_jis", "utf-7"]
    ),
)
def test_any_bytes_in_any_chosen_encoding(data: bytes, encoding: str) -> None:
    table = read(data, encoding=encoding)
    if table is not None:
        check_table(table)


NOT_TEXT_ENCODINGS = ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "no-such-thing"]


@pytest.mark.parametrize("encoding", NOT_TEXT_ENCODINGS)
def test_encodings_that_do_not_make_text_are_refused_clearly(encoding: str) -> None:
    with pytest.raises(FileReadError, match="not a known text encoding"):
        read_table(b"email\na@example.com\n", "leads.csv", encoding=encoding)


@pytest.mark.parametrize("encoding", ["idna", "punycode"])
def test_encodings_that_fail_without_a_position_are_refused_clearly(encoding: str) -> None:
    data = b"email,name\na@example.com,\xff\xfe\n"
    assert read(data, encoding=encoding) is None


@pytest.mark.parametrize("delimiter", [";;", "ab", ", "])
def test_a_delimiter_longer_than_one_character_is_refused(delimiter: str) -> None:
    with pytest.raises(FileReadError, match="one character"):
        read_table(b"a;b\n1;2\n", "x.csv", delimiter=delimiter)


# --- Binary files renamed .csv -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BINARY_HEADERS))
@fuzz(8)
@given(tail=st.binary(max_size=200))
def test_binary_files_renamed_csv_are_refused(kind: str, tail: bytes) -> None:
    with pytest.raises(FileReadError) as info:
        read_table(BINARY_HEADERS[kind] + tail, "leads.csv")
    message = str(info.value)
    assert "leads.csv" in message
    assert any(word in message for word in ("binary", "damaged", "Excel 97", "ZIP")), message


def test_a_real_pdf_is_named_as_one() -> None:
    # A small PDF is ASCII from end to end apart from its marker line: it used to be "read".
    pdf = (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n"
        b"%%EOF\n"
    )
    with pytest.raises(FileReadError, match=r"leads\.csv is a PDF document"):
        read_table(pdf, "leads.csv")


def test_a_zip_holding_a_csv_says_to_unzip_it() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/leads.csv", "email\na@example.com\n")
    with pytest.raises(FileReadError, match="unzip it"):
        read_table(buffer.getvalue(), "leads.csv")


# --- Encodings -----------------------------------------------------------------------------

_LATIN_WORD = st.text(LATIN_TEXT.replace(" ", ""), min_size=1, max_size=6)


@st.composite
def latin_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header of distinct names and rows of accented text with no blank row."""
    width = draw(st.integers(1, 4))
    header = [f"{draw(_LATIN_WORD)} {i}" for i in range(width)]
    cell = st.text(LATIN_TEXT, max_size=8)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=5))
    rows = [[(draw(_LATIN_WORD) if i == 0 else c) for i, c in enumerate(row)] for row in rows]
    return header, rows


LEGACY = ["cp1252", "latin-1"]
ENCODINGS = ["utf-8", "utf-8-sig", *LEGACY, "utf-16", "utf-16-le", "utf-16-be"]


@fuzz(40)
@given(table=latin_tables(), encoding=st.sampled_from(ENCODINGS))
@example(table=(["Prénom 0", "Ville 1"], [["Zoë", "Köln"]]), encoding="utf-16-le")
@example(table=(["Prénom 0", "Ville 1"], [["Zoë", "Köln"]]), encoding="utf-16-be")
def test_text_in_a_common_encoding_reads_back_exactly(
    table: tuple[list[str], list[list[str]]], encoding: str
) -> None:
    header, rows = table
    data = to_csv_text([header, *rows]).encode(encoding)
    read_back = read_table(data, "leads.csv")
    assert read_back.columns == header
    assert read_back.frame.to_numpy().tolist() == rows
    assert read_back.row_numbers == tuple(range(2, len(rows) + 2))
    if encoding in LEGACY and not data.isascii():
        # The two read the same here; the one picked is said, so a person can change it.
        assert read_back.encoding == "cp1252"
        assert any("Windows-1252" in note for note in read_back.notes)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("name,note\nJosé,“quoted” – 5 €\n", "cp1252"),
        ("name,note\nJosé,“quoted” – 5 €\n", "utf-16"),
        ("name,note\n北京,東京\n", "utf-16"),
        ("name,note\nJosé,Zoë\n", "utf-16-le"),
        ("name,note\nJosé,Zoë\n", "utf-16-be"),
        ("name,note\nJosé,Zoë\n", "utf-8-sig"),
    ],
)
def test_mislabeled_text_is_refused_or_read_never_crashes(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    for wrong in ("utf-8", "ascii", "utf-16", "cp1252", "latin-1", "utf-32"):
        table = read(data, encoding=wrong)
        if table is not None:
            check_table(table)
    table = read_table(data, "leads.csv")  # detected: read right
    assert table.frame.to_numpy().tolist() == [text.splitlines()[1].split(",")]


# --- Ragged rows, odd quoting, sniffing ----------------------------------------------------

# Text a CSV file can carry: no NUL (a binary file's sign), no byte-order mark, and no `<` at
# the start (a web page's sign); everything else, delimiters, quotes and line breaks included.
_CSV_CELL = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00\ufeff<"), max_size=8
)


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


@fuzz(60)
@given(
    rows=csv_rows(_CSV_CELL, max_rows=7, max_width=5),
    delimiter=st.sampled_from(DELIMITERS),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
@example(rows=[["a", "b"], ["1"], ["1", "2", "3", "4"], [], ["", " "]], delimiter=",", quoting=0)
def test_ragged_rows_keep_every_cell_in_order(
    rows: list[list[str]], delimiter: str, quoting: int
) -> None:
    data = to_csv_text(rows, delimiter, quoting=quoting).encode()
    table = read(data, delimiter=delimiter)
    filled = [i for i, row in enumerate(rows) if not _blank(row)]
    if len(filled) < 2:
        assert table is None  # nothing, or a header alone: both said clearly
        return
    assert table is not None
    check_table(table)
    header_at = filled[0]
    header, body = rows[header_at], [rows[i] for i in filled[1:]]
    assert table.row_numbers == tuple(i + 1 for i in filled[1:])
    for row, read_row in zip(body, table.frame.itertuples(index=False), strict=True):
        # Columns that are empty throughout and unnamed are dropped; every other cell stays.
        assert [c for c in read_row if c.strip()] == [c for c in row if c.strip()]
    notes = " ".join(table.notes)
    assert ("more cells than the header" in notes) == any(len(r) > len(header) for r in body)
    assert ("fewer cells than the header" in notes) == any(len(r) < len(header) for r in body)


WEIRD_QUOTING = [
    'a,b\n"1,2\n',  # a quote never closed
    'a,b\n1"2,3\n',  # a quote inside a cell
    'a,b\n"1"x,2\n',  # text after a closing quote
    'a,b\n"""",""\n',
    'a,b\n"1\n2",3\n"4',
    '"a\n',
    "a,b\r1,2\r3,4\r",  # old Mac line ends
    'a;b,c|d\te\n1;2,3|4\t5\n"1;2",3\n',
    "\n\n\na,b\n\n\n1,2\n",
    "a\\,b\n1\\,2\n",
]


@pytest.mark.parametrize("text", WEIRD_QUOTING)
def test_weird_quoting_is_read_or_refused_clearly(text: str) -> None:
    for delimiter in (None, *DELIMITERS):
        options = {"delimiter": delimiter} if delimiter else {}
        table = read(text.encode(), **options)
        if table is not None:
            check_table(table)


@fuzz(40)
@given(rows=csv_rows(_CSV_CELL, max_rows=6, max_width=5), delimiter=st.sampled_from(DELIMITERS))
def test_sniffing_any_layout_never_crashes(rows: list[list[str]], delimiter: str) -> None:
    table = read(to_csv_text(rows, delimiter).encode(), "leads.txt")
    if table is not None:
        check_table(table)
        assert table.delimiter in DELIMITERS


# --- Formulas ------------------------------------------------------------------------------


def test_formula_cells_are_read_as_text_and_neutralised_on_export() -> None:
    rows = [["name", "note"], *([f"r{i}", formula] for i, formula in enumerate(FORMULAS))]
    table = read_table(to_csv_text(rows).encode(), "leads.csv")
    assert table.frame["note"].tolist() == FORMULAS
    exported = exported_cells(to_csv_bytes(table.frame))
    assert [row[1] for row in exported[1:]] == ["'" + formula for formula in FORMULAS]


def test_formula_text_in_a_workbook_is_read_as_text_and_neutralised_on_export() -> None:
    formulas = [f for f in FORMULAS if "\r" not in f]  # XML itself turns a CR into a LF
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "note"])
    for i, formula in enumerate(formulas):
        sheet.append([f"r{i}", "placeholder"])
        cell = sheet.cell(row=i + 2, column=2)
        cell.value = formula
        cell.data_type = "s"  # typed as text (Excel: a leading apostrophe), not a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "leads.xlsx")
    assert table.frame["note"].tolist() == formulas
    exported = exported_cells(to_csv_bytes(table.frame))
    assert [row[1] for row in exported[1:]] == ["'" + formula for formula in formulas]


@fuzz(40)
@given(frame=text_frames(st.one_of(hostile_text(max_size=12), formula_text())))
def test_no_exported_cell_can_run_as_a_formula(frame: pd.DataFrame) -> None:
    exported = exported_cells(to_csv_bytes(frame))
    assert exported[0] == [neutralize_formula(str(c)) for c in frame.columns]
    assert exported[1:] == [[neutralize_formula(c) for c in row] for row in frame.to_numpy()]
    for cell in (cell for row in exported for cell in row):
        assert not cell.startswith(FORMULA_START)
        if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
            assert neutralize_formula(cell[1:]) == cell  # nothing lost but the apostrophe
    raw = exported_cells(to_csv_bytes(frame, neutralize=False))
    assert raw[1:] == frame.to_numpy().tolist()


@fuzz(30)
@given(
    frame=text_frames(_CSV_CELL, names=st.lists(_CSV_CELL, min_size=1, max_size=5)),
    data=st.data(),
)
def test_an_export_reads_back_unchanged(frame: pd.DataFrame, data: st.DataObject) -> None:
    # Headers as the reader leaves them (tidy, distinct), rows with something in them.
    names = [f"{' '.join(str(c).split())} {i}".strip() for i, c in enumerate(frame.columns)]
    frame.columns = names
    frame = frame[[not _blank(list(row)) for row in frame.to_numpy()]] if len(frame) else frame
    if not len(frame):
        return
    delimiter = data.draw(st.sampled_from([",", None]), label="delimiter")
    options = {"delimiter": delimiter} if delimiter else {}
    table = read_table(to_csv_bytes(frame, neutralize=False), "results.csv", **options)
    if delimiter is None and table.delimiter != ",":
        event("export sniffed with another delimiter")
        return  # a sniffed guess; the person can choose the delimiter by hand
    assert table.columns == names
    assert table.frame.to_numpy().tolist() == frame.to_numpy().tolist()


# --- Size: huge cells, 10,000 columns ------------------------------------------------------

MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("quoted 1 MB cell", b'email,note\na@example.com,"' + b"x" * MEGABYTE + b'"\n'),
        ("unquoted 1 MB cell", b"email,note\na@example.com," + b"x" * MEGABYTE + b"\n"),
        ("1 MB header cell", b"x" * MEGABYTE + b",email\n1,a@example.com\n"),
        ("quote left open", b'email,note\n"a@example.com,' + b"text,more\n" * 100_000),
        ("just over the cell limit", b'email,note\na,"' + b"y" * (MAX_CELL_CHARS + 1) + b'"\n'),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_huge_cells_are_refused_quickly_naming_where(case: str, data: bytes) -> None:
    with deadline(5), pytest.raises(FileReadError, match="longer than") as info:
        read_table(data, "leads.csv")
    assert "leads.csv" in str(info.value)
    assert ("line" in str(info.value)) or ("row" in str(info.value))


def test_a_cell_at_the_limit_is_kept() -> None:
    cell = "y" * MAX_CELL_CHARS
    table = read_table(f"email,note\na,{cell}\n".encode(), "leads.csv")
    assert table.frame["note"].tolist() == [cell]


def _wide(header: list[str], rows: int = 3) -> bytes:
    body = "\n".join(",".join(str(r) for _ in header) for r in range(rows))
    return (",".join(header) + "\n" + body + "\n").encode()


WIDE = 10_000


@pytest.mark.parametrize(
    ("case", "data", "columns"),
    [
        ("distinct headers", _wide([f"h{i}" for i in range(WIDE)]), WIDE),
        # Numbering 10,000 repeats of one name took 26 s before repeats were counted.
        ("one header repeated", _wide(["email"] * WIDE), WIDE),
        ("no headers", _wide([""] * WIDE), WIDE),
        ("a one-column header over wide rows", b"email\n" + b"x," * WIDE + b"x\n", WIDE + 1),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_ten_thousand_columns_are_read_in_time(case: str, data: bytes, columns: int) -> None:
    with deadline(5):
        table = read_table(data, "wide.csv")
    assert len(table.columns) == columns
    assert len(set(table.columns)) == columns
    if case == "one header repeated":
        assert table.columns[:3] == ["email", "email (2)", "email (3)"]
        assert table.columns[-1] == f"email ({WIDE})"


def test_ten_thousand_columns_in_a_workbook() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([f"h{i}" for i in range(WIDE)])
    sheet.append(list(range(WIDE)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    with deadline(8):
        table = read_table(buffer.getvalue(), "wide.xlsx")
    assert len(table.columns) == WIDE
    assert table.frame.iloc[0].tolist()[-1] == str(WIDE - 1)


# --- Empty, blank, header only -------------------------------------------------------------

EMPTY = [
    (b"", "is empty"),
    (b"   ", "is empty"),
    (b"\r\n\n \t\n", "is empty"),
    (b"\xef\xbb\xbf", "is empty"),
    (b"\xef\xbb\xbf\r\n", "is empty"),
    (b"\xff\xfe", "is empty"),
    (b"\x00\x00\x00", "is empty"),
    (" \n\t\n".encode("utf-16"), "is empty"),
    ("\u3000\u00a0\n".encode(), "no text in it"),
    (b",,,\n , ,\n", "no text in it"),
    (b'"",""\n', "no text in it"),
    (b"email,name\n", "no data rows"),
    (b"email,name", "no data rows"),
    (b"email,name\n,\n , \n\n", "no data rows"),
    (b"\n\n\nemail\n", "no data rows"),
    ("email,name\n".encode("utf-16"), "no data rows"),
]


@pytest.mark.parametrize(("data", "message"), EMPTY)
def test_empty_whitespace_and_header_only_files(data: bytes, message: str) -> None:
    for filename in ("leads.csv", "leads.txt"):
        with pytest.raises(FileReadError, match=message) as info:
            read_table(data, filename)
        assert filename in str(info.value)


def _workbook(*rows: list[object]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("rows", "message"),
    [((), "no data"), ((["email", "name"],), "no data rows"), (([None, " "], ["", None]), "no")],
)
def test_empty_and_header_only_workbooks(rows: tuple[list[object], ...], message: str) -> None:
    with pytest.raises(FileReadError, match=message):
        read_table(_workbook(*rows), "leads.xlsx")


# --- Truncated and corrupted workbooks -----------------------------------------------------


@cache
def real_workbook() -> bytes:
    return _workbook(
        ["First Name", "Email", "Phone", "Zip", "Follow Up Date"],
        ["Jeff", "jeff@example.com", "7165551234", "01234", "2017-12-24"],
        ['=HYPERLINK("http://x")', "ann@example.com", 7165559876, 2134, 43093],
    )


@fuzz(30)
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_a_workbook_cut_anywhere_is_read_or_refused(cut: int) -> None:
    data = real_workbook()
    table = read(data[: cut % len(data)], "leads.xlsx")
    if table is not None:
        check_table(table)


def test_a_workbook_cut_in_half_is_called_damaged() -> None:
    data = real_workbook()
    with pytest.raises(FileReadError, match="damaged"):
        read_table(data[: len(data) // 2], "leads.xlsx")


@fuzz(30)
@given(seed=st.integers(0, 2**32 - 1), flips=st.integers(1, 20))
def test_a_workbook_with_damaged_bytes_is_read_or_refused(seed: int, flips: int) -> None:
    data = bytearray(real_workbook())
    chance = random.Random(seed)
    for _ in range(flips):
        data[chance.randrange(len(data))] = chance.randrange(256)
    table = read(bytes(data), "leads.xlsx")
    if table is not None:
        check_table(table)


@fuzz(25)
@given(
    members=st.dictionaries(
        st.sampled_from(
            [
                "xl/workbook.xml",
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/_rels/workbook.xml.rels",
                "xl/worksheets/sheet1.xml",
                "xl/sharedStrings.xml",
                "xl/styles.xml",
            ]
        ),
        st.one_of(
            st.binary(max_size=100), st.sampled_from([b"", b"<x/>", b"<?xml version='1.0'?>"])
        ),
        min_size=1,
    )
)
def test_a_zip_of_junk_named_like_a_workbook_is_refused(members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in members.items():
            archive.writestr(path, content)
    assert read(buffer.getvalue(), "leads.xlsx") is None


@fuzz(20)
@given(
    member=st.sampled_from(["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"]),
    junk=st.binary(max_size=200),
)
def test_a_real_workbook_with_one_part_replaced_is_read_or_refused(
    member: str, junk: bytes
) -> None:
    source = zipfile.ZipFile(io.BytesIO(real_workbook()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, junk if info.filename == member else source.read(info))
    table = read(buffer.getvalue(), "leads.xlsx")
    if table is not None:
        check_table(table)


def test_a_zip_claiming_a_newer_zip_version_is_refused() -> None:
    # zipfile raises NotImplementedError for it, which used to escape (found by flipping bytes).
    data = bytearray(real_workbook())
    directory = data.index(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = (202).to_bytes(2, "little")  # "needs version 20.2"
    with pytest.raises(FileReadError, match="damaged"):
        read_table(bytes(data), "leads.xlsx")


def test_a_workbook_whose_first_sheet_is_a_chart_reads_the_data_sheet() -> None:
    from openpyxl.chart import BarChart, Reference

    workbook = Workbook()
    data = workbook.active
    data.title = "Leads"
    data.append(["Email", "Name"])
    data.append(["a@example.com", "Ann"])
    chart = BarChart()
    chart.add_data(Reference(data, min_col=2, min_row=1, max_row=2))
    workbook.create_chartsheet("Chart", 0).add_chart(chart)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # This used to be "a sheet is damaged": the chart sheet has no cells to read.
    table = read_table(buffer.getvalue(), "leads.xlsx")
    assert (table.sheet, table.frame.to_numpy().tolist()) == ("Leads", [["a@example.com", "Ann"]])
    with pytest.raises(FileReadError, match="is a chart"):
        read_table(buffer.getvalue(), "leads.xlsx", sheet="Chart")
