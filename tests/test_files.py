import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples
from openpyxl import Workbook

from leadstream.prepare.files import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    FileReadError,
    Table,
    neutralize_formula,
    read_table,
    to_csv_bytes,
)

WESTERN = (
    "firstname,lastname,city,note\nJosé,O’Brien,Montréal,Costs 5 €\nZoë,Müller,Köln,“quoted”\n"
)
LATIN1 = "firstname,city\nJosé,Montréal\nFrançoise,Genève\n"


def cells(table: Table) -> list[list[str]]:
    return table.frame.to_numpy().tolist()


def assert_all_text(table: Table) -> None:
    assert all(isinstance(v, str) for row in cells(table) for v in row)


# --- Encodings -------------------------------------------------------------------------------

ENCODINGS = [
    # (bytes, detected encoding, a note mentions)
    (WESTERN.encode("utf-8"), "utf-8", None),
    (WESTERN.encode("utf-8-sig"), "utf-8-sig", None),
    (WESTERN.encode("cp1252"), "cp1252", "Windows-1252"),
    (WESTERN.replace(",", "\t").encode("utf-16"), "utf-16", "UTF-16"),
]


@pytest.mark.parametrize(("data", "encoding", "noted"), ENCODINGS, ids=[e for _, e, _ in ENCODINGS])
def test_encodings_are_detected(data: bytes, encoding: str, noted: str | None) -> None:
    table = read_table(data, "leads.csv")
    assert table.encoding == encoding
    assert table.columns == ["firstname", "lastname", "city", "note"]
    assert cells(table) == [
        ["José", "O’Brien", "Montréal", "Costs 5 €"],
        ["Zoë", "Müller", "Köln", "“quoted”"],
    ]
    notes = " ".join(table.notes)
    if noted:
        assert noted in notes
    else:
        assert "Read as" not in notes


def test_latin1_text_reads_right() -> None:
    table = read_table(LATIN1.encode("latin-1"), "leads.csv")
    # Latin-1 letters have the same bytes in Windows-1252, which is preferred for Western text.
    assert table.encoding == "cp1252"
    assert cells(table) == [["José", "Montréal"], ["Françoise", "Genève"]]


def test_utf8_with_a_few_damaged_bytes_stays_utf8() -> None:
    data = WESTERN.encode("utf-8") + "Renée,Dubé,Québec,caf\xe9\n".encode("latin-1")
    table = read_table(data, "mixed.csv")
    assert table.encoding == "utf-8"
    assert cells(table)[0] == ["José", "O’Brien", "Montréal", "Costs 5 €"]
    assert cells(table)[2] == ["Ren�e", "Dub�", "Qu�bec", "caf�"]
    assert any("4 characters could not be read" in note for note in table.notes)


def test_explicit_encoding_wins() -> None:
    data = "name\nПётр\n".encode("cp1251")
    assert cells(read_table(data, "x.csv", encoding="cp1251")) == [["Пётр"]]


@pytest.mark.parametrize(
    ("encoding", "message"),
    [("utf-8", "not valid utf-8"), ("no-such-codec", "not a known text encoding")],
)
def test_wrong_explicit_encoding_is_explained(encoding: str, message: str) -> None:
    with pytest.raises(FileReadError, match=message):
        read_table(WESTERN.encode("cp1252"), "x.csv", encoding=encoding)


# --- Delimiters ------------------------------------------------------------------------------

DELIMITED = [
    ("a,b,c\n1,2,3\n", "x.csv", ","),
    ("a;b;c\n1;2;3\n", "x.csv", ";"),
    ("a\tb\tc\n1\t2\t3\n", "x.txt", "\t"),
    ("a|b|c\n1|2|3\n", "x.txt", "|"),
    # A delimiter inside quotes does not count.
    ('a;b;c\n"Smith, Jr.";2;"x, y"\n', "x.csv", ";"),
    ('a,b,c\n"1;2",2,3\n"4;5",5,6\n', "x.csv", ","),
    # The extension decides for TSV even when commas are around.
    ("a,1\tb\tc\nx,y\t2\t3\n", "x.tsv", "\t"),
]


@pytest.mark.parametrize(("text", "filename", "delimiter"), DELIMITED)
def test_delimiters_are_detected(text: str, filename: str, delimiter: str) -> None:
    table = read_table(text.encode(), filename)
    assert table.delimiter == delimiter
    assert len(table.columns) == 3
    assert len(table.frame) == len(text.strip().splitlines()) - 1


def test_explicit_delimiter_wins() -> None:
    table = read_table(b"a;b,c\n1;2,3\n", "x.csv", delimiter=";")
    assert table.columns == ["a", "b,c"]


def test_single_column_file() -> None:
    table = read_table(b"email\na@example.com\nb@example.com\n", "x.csv")
    assert table.columns == ["email"]
    assert cells(table) == [["a@example.com"], ["b@example.com"]]


# --- Cells stay text ----------------------------------------------------------------------------


def test_cells_are_kept_exactly_as_text() -> None:
    data = (
        b"zip,phone,amount,missing,flag\n"
        b"01234,+1 716 293 2368,007.50,NA,null\n"
        b"00501,7165551234,1e5,,TRUE\n"
    )
    table = read_table(data, "x.csv")
    assert_all_text(table)
    assert cells(table) == [
        ["01234", "+1 716 293 2368", "007.50", "NA", "null"],
        ["00501", "7165551234", "1e5", "", "TRUE"],
    ]


def test_old_mac_line_endings() -> None:
    table = read_table(b"a,b\r1,2\r3,4\r", "mac.csv")
    assert cells(table) == [["1", "2"], ["3", "4"]]
    assert table.row_numbers == (2, 3)


def test_quoted_cells_keep_newlines_and_quotes() -> None:
    data = b'name,address\n"Jeff ""JJ"" Sample","114 Hickory St\nApt 23"\nAnn,1 Main St\n'
    table = read_table(data, "x.csv")
    assert cells(table) == [['Jeff "JJ" Sample', "114 Hickory St\nApt 23"], ["Ann", "1 Main St"]]
    # Rows are counted as a spreadsheet shows them, not as physical lines.
    assert table.row_numbers == (2, 3)


# --- Rows and headers --------------------------------------------------------------------------


def test_blank_rows_are_ignored_and_row_numbers_kept() -> None:
    data = b"\n\nname,city\nAnn,Buffalo\n\n , \nBob,Albany\n\n"
    table = read_table(data, "x.csv")
    assert cells(table) == [["Ann", "Buffalo"], ["Bob", "Albany"]]
    # Header on row 3; Bob sits on row 7 of the file as a spreadsheet shows it.
    assert table.row_numbers == (4, 7)
    assert any("3 blank rows ignored" in note for note in table.notes)


def test_long_rows_keep_their_extra_cells_and_say_where() -> None:
    data = b"name,city\nAnn,Buffalo\nBob,Albany,NY,extra\nCy\n"
    table = read_table(data, "x.csv")
    assert table.columns == ["name", "city", "Column 3", "Column 4"]
    assert cells(table) == [
        ["Ann", "Buffalo", "", ""],
        ["Bob", "Albany", "NY", "extra"],
        ["Cy", "", "", ""],
    ]
    notes = " ".join(table.notes)
    assert "1 row had more cells than the header (see row 3)" in notes
    assert "1 row had fewer cells" in notes


HEADERS = [
    ("  First   Name ,Email\n", ["First Name", "Email"]),
    ("Email,email,EMAIL\n", ["Email", "email (2)", "EMAIL (3)"]),
    ("name,,city\n", ["name", "Column 2", "city"]),
    ("\ufeffname,city\n", ["name", "city"]),
]


@pytest.mark.parametrize(("header", "expected"), HEADERS)
def test_headers_are_tidied_and_unique(header: str, expected: list[str]) -> None:
    width = len(expected)
    table = read_table((header + ",".join(["x"] * width) + "\n").encode(), "x.csv")
    assert table.columns == expected


def test_renamed_headers_are_told() -> None:
    table = read_table(b"Email,Email,\nx,y,z\n", "x.csv")
    notes = " ".join(table.notes)
    assert "“Email (2)”" in notes
    assert "column 3 has no name and is called “Column 3”" in notes


def test_empty_columns_without_a_header_are_dropped() -> None:
    table = read_table(b"name,city,,\nAnn,Buffalo,,\n", "x.csv")
    assert table.columns == ["name", "city"]
    assert any("2 empty columns" in note for note in table.notes)


# --- Files that cannot be read ------------------------------------------------------------------


def _zip_with(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


UNREADABLE = [
    (b"", "leads.csv", "leads.csv is empty"),
    (b"  \r\n\r\n", "leads.csv", "is empty"),
    (b"\xef\xbb\xbf", "leads.csv", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "leads.csv", "binary"),
    (bytes(range(128, 256)) * 40 + b"\x01\x02\x03" * 200, "leads.csv", "binary"),
    (b"firstname,lastname,email\n", "leads.csv", "header row but no data rows"),
    (b"firstname,lastname\n\n,\n", "leads.csv", "header row but no data rows"),
    (_zip_with("inner/leads.csv", b"a,b\n1,2\n"), "leads.zip", "unzip it"),
    (_zip_with("word/document.xml", b"<w/>"), "letter.docx", "not an Excel workbook"),
    (b"PK\x03\x04" + b"\x00" * 100, "broken.xlsx", "damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "old.xls", "Excel 97"),
    (b"<html><table><tr><td>a</td></tr></table></html>", "export.xls", ".xls"),
    (b"<!DOCTYPE html>\n<html><body>Sign in</body></html>", "leads.csv", "is a web page"),
    (b"  <HTML>\n<table><tr><td>a</td></tr></table>", "leads.txt", "is a web page"),
    (b"name\n" + b"x" * (MAX_CELL_CHARS + 1) + b"\n", "big.csv", "row 2, column 'name'"),
    (b'name,note\nAnn,"never closed\n' + b"y" * 200_000, "q.csv", "never closed"),
]


@pytest.mark.parametrize(
    ("data", "filename", "message"), UNREADABLE, ids=[f"{f}: {m}" for _, f, m in UNREADABLE]
)
def test_unreadable_files_say_why(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(
        FileReadError, match=message.replace("(", r"\(").replace(".", r"\.")
    ) as info:
        read_table(data, filename)
    assert filename in str(info.value)


def test_too_many_rows_is_refused() -> None:
    data = b"n\n" + b"1\n" * (MAX_ROWS + 1)
    with pytest.raises(FileReadError, match="100,001 rows; at most 100,000"):
        read_table(data, "big.csv")


def test_exactly_the_limit_is_fine() -> None:
    assert len(read_table(b"n\n" + b"1\n" * MAX_ROWS, "ok.csv")) == MAX_ROWS


def test_text_named_xlsx_is_read_as_csv() -> None:
    table = read_table(b"a,b\n1,2\n", "mislabelled.xlsx")
    assert cells(table) == [["1", "2"]]
    assert any("read as CSV" in note for note in table.notes)


# --- Excel ---------------------------------------------------------------------------------------


def _workbook_bytes(tmp_path: Path, book: Workbook) -> bytes:
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path.read_bytes()


def test_xlsx_cells_come_back_as_the_text_shown(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    sheet.append(["First Name", "Zip", "Zip formatted", "Phone", "Amount", "Follow Up", "Called"])
    sheet.append(
        [
            "Ann",
            "01234",
            1234,
            7165551234,
            14204.0,
            dt.datetime(2024, 1, 5),
            dt.datetime(2024, 1, 5, 13, 45),
        ]
    )
    sheet.append(["Bob", "00501", 501, None, 0.1 + 0.2, dt.date(2023, 12, 24), True])
    sheet["C2"].number_format = "00000"
    sheet["C3"].number_format = "00000"
    table = read_table(_workbook_bytes(tmp_path, book), "book.xlsx")
    assert table.sheet == "Leads"
    assert table.sheet_names == ("Leads",)
    assert table.encoding is None
    assert_all_text(table)
    assert cells(table) == [
        ["Ann", "01234", "01234", "7165551234", "14204", "2024-01-05", "2024-01-05 13:45"],
        ["Bob", "00501", "00501", "", "0.3", "2023-12-24", "TRUE"],
    ]
    assert table.row_numbers == (2, 3)


def test_xlsx_first_sheet_with_data_is_read_and_others_can_be_chosen(tmp_path: Path) -> None:
    book = Workbook()
    empty = book.active
    assert empty is not None
    empty.title = "Notes"
    leads = book.create_sheet("Leads")
    leads.append([])
    leads.append(["email"])
    leads.append(["a@example.com"])
    other = book.create_sheet("Old")
    other.append(["email", "phone"])
    other.append(["b@example.com", "716"])
    data = _workbook_bytes(tmp_path, book)

    table = read_table(data, "book.xlsx")
    assert table.sheet == "Leads"
    assert table.sheet_names == ("Notes", "Leads", "Old")
    assert cells(table) == [["a@example.com"]]
    assert table.row_numbers == (3,)
    assert any("3 sheets" in note for note in table.notes)

    assert cells(read_table(data, "book.xlsx", sheet="Old")) == [["b@example.com", "716"]]
    with pytest.raises(FileReadError, match=r"no sheet called 'Nope'.*'Notes', 'Leads', 'Old'"):
        read_table(data, "book.xlsx", sheet="Nope")


def test_xlsx_with_only_a_header(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "phone"])
    with pytest.raises(FileReadError, match="header row but no data rows"):
        read_table(_workbook_bytes(tmp_path, book), "book.xlsx")


def test_empty_xlsx(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match="no data in any sheet"):
        read_table(_workbook_bytes(tmp_path, Workbook()), "book.xlsx")


# --- Exports -----------------------------------------------------------------------------------

FORMULAS = [
    ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
    ("+1 716 293 2368", "'+1 716 293 2368"),
    ("-5", "'-5"),
    ("@cmd", "'@cmd"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Ann", "Ann"),
    ("a=b", "a=b"),
    ("", ""),
]


@pytest.mark.parametrize(("cell", "expected"), FORMULAS)
def test_neutralize_formula(cell: str, expected: str) -> None:
    assert neutralize_formula(cell) == expected


def test_csv_export_has_bom_and_neutralised_cells() -> None:
    frame = pd.DataFrame({"name": ["José", "=HYPERLINK(1)"], "row": [2, None]})
    data = to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["name,row", "José,2", "'=HYPERLINK(1),"]


def test_csv_export_reads_back_unchanged() -> None:
    frame = read_table(WESTERN.encode(), "x.csv").frame
    again = read_table(to_csv_bytes(frame, neutralize=False), "again.csv")
    assert again.encoding == "utf-8-sig"
    pd.testing.assert_frame_equal(again.frame, frame)


# --- Property: whatever a CSV writer writes comes back cell for cell ---------------------------

_CELL = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@settings(max_examples=examples(60), deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=8))
def test_csv_round_trip_property(rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    kept = [row for row in rows if any(cell.strip() for cell in row)]
    data = out.getvalue().encode("utf-8")
    if not kept:
        with pytest.raises(FileReadError):
            read_table(data, "x.csv")
        return
    table = read_table(data, "x.csv")
    assert table.columns == ["a", "b", "c"]
    assert cells(table) == kept
