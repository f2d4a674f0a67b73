"""Spreadsheets in and out: CSV, TSV, text and Excel files read as tables of text, and CSV exports.

Every cell is read as text, exactly as typed: a ZIP code `01234` keeps its zero, a phone number is
never turned into `7165551234.0`, an empty cell is `""` and never NaN. Whatever was guessed while
reading (the encoding, the delimiter, the sheet, rows skipped or padded) is told to the person in
`Table.notes`; a file that cannot be read raises `FileReadError` whose message names the file and
says what to do, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from leadstream.prepare.batch import collector_paused

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_ROWS",
    "FileReadError",
    "SheetScore",
    "Table",
    "choose_sheet",
    "neutralize_formula",
    "read_table",
    "sheet_score",
    "to_csv_bytes",
]

MAX_ROWS = 100_000
# Excel's own limit for one cell; a longer cell is almost always a quote left open.
MAX_CELL_CHARS = 32_767

DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with byte-order mark)",
    "utf-16": "UTF-16 (Excel's “Unicode text”)",
    "utf-16-le": "UTF-16 little-endian, without byte-order mark",
    "utf-16-be": "UTF-16 big-endian, without byte-order mark",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
_TEXT_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".text", ".dat", ""}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# Other kinds of file that people pick by mistake or rename to .csv, by their first bytes. Most
# hold NUL bytes and would be refused as binary anyway; naming the kind says what went wrong.
_OTHER_KINDS = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_HTML_START = re.compile(r"^\ufeff?\s*<(!doctype\s+html|html|head|body|table)\b", re.IGNORECASE)
_SAVE_AS = (
    "Open it in Excel (or Google Sheets) and save it as .xlsx or CSV (UTF-8), then upload that."
)


class FileReadError(ValueError):
    """A file that cannot be read as a table; the message names the file and what to do."""


@dataclass(frozen=True, slots=True, eq=False)  # comparing DataFrames with == is ambiguous
class Table:
    """A file read as text cells.

    `row_numbers[i]` is the spreadsheet row (1-based, header included) of the frame's row `i`,
    so that problems point at the row a person sees in Excel even after blank rows were skipped.
    """

    frame: pd.DataFrame
    filename: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheet_names: tuple[str, ...]
    row_numbers: tuple[int, ...]
    notes: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [str(column) for column in self.frame.columns]

    def __len__(self) -> int:
        return len(self.frame)


def read_table(
    data: bytes,
    filename: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Read an uploaded file's bytes as a table of text cells.

    `encoding`, `delimiter` and `sheet` override what would be guessed. The file type is decided
    by its content first (an Excel workbook starts like a ZIP archive), its name second.
    """
    name = PurePath(filename).name or "The file"
    suffix = PurePath(filename).suffix.lower()
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise FileReadError(f"{name} is empty. Choose the file again, or check that it was saved.")
    if data.startswith(_ZIP_MAGIC):
        return _read_zip(data, name, sheet=sheet)
    if data.startswith(_OLE2_MAGIC):
        raise FileReadError(
            f"{name} is an old-style Excel 97–2003 workbook (.xls) or a password-protected "
            "workbook, which cannot be read here. Remove any password, then save it as .xlsx "
            "or as CSV (UTF-8) and upload that."
        )
    for magic, kind in _OTHER_KINDS:
        if data.startswith(magic):
            raise FileReadError(
                f"{name} is {kind}, not a spreadsheet: a binary file, perhaps a different kind "
                "of file renamed to .csv. Upload the leads as a .xlsx workbook or a CSV file."
            )
    if suffix == ".xls":
        raise FileReadError(f"{name} is an old-style Excel file (.xls). {_SAVE_AS}")
    if suffix in {".ods", ".numbers"}:
        raise FileReadError(f"{name} is not an Excel or CSV file. {_SAVE_AS}")
    notes: list[str] = []
    if suffix in _EXCEL_SUFFIXES:
        notes.append(f"{name} is named like an Excel workbook but holds text; it was read as CSV.")
    text, used_encoding = _decode(data, name, encoding, notes)
    if _HTML_START.match(text[:1000]):
        raise FileReadError(
            f"{name} is a web page, not a spreadsheet (a download link may have returned a "
            "sign-in or error page). Download the file again, or export it as CSV or .xlsx."
        )
    return _read_text(text, name, suffix, used_encoding, delimiter, notes)


# --- Text files ----------------------------------------------------------------------------


def _decode(data: bytes, name: str, encoding: str | None, notes: list[str]) -> tuple[str, str]:
    if encoding:
        try:
            codecs.lookup(encoding)
            text = data.decode(encoding)
        except LookupError:
            # Also `rot13`, `base64` and the like: codecs that exist but do not make text.
            raise FileReadError(f"{encoding!r} is not a known text encoding.") from None
        except UnicodeDecodeError as error:
            raise FileReadError(
                f"{name} is not valid {encoding} text (byte {error.start:,} cannot be read). "
                "Choose another encoding, or let it be detected."
            ) from None
        except (UnicodeError, ValueError):  # `idna`, `punycode`: no byte position to name
            raise FileReadError(
                f"{name} is not valid {encoding} text. Choose another encoding, or let it be "
                "detected."
            ) from None
        return text, encoding
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileReadError(
                f"{name} starts like UTF-16 text but is damaged. Save it again as CSV (UTF-8)."
            ) from None
        notes.append(f"Read as {_ENCODING_NAMES['utf-16']}.")
        return text, "utf-16"
    if b"\x00" in data[:65536]:
        found = _bomless_utf16(data)
        if found is None:
            raise _binary(name)
        notes.append(f"Read as {_ENCODING_NAMES[found[1]]}.")
        return found
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass  # a BOM followed by legacy bytes: fall through to detection
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        text, bad = mostly
        notes.append(
            f"Read as UTF-8, but {_count(bad, 'character')} could not be read and show as �. "
            "Correct them in the file, or save it again as CSV (UTF-8)."
        )
        return text, "utf-8"
    guessed = _guess_legacy_encoding(data)
    if guessed is None:
        raise _binary(name)
    text = data.decode(guessed)
    if _looks_binary(text):
        raise _binary(name)
    notes.append(
        f"Read as {_ENCODING_NAMES.get(guessed, guessed)} because the file is not UTF-8. "
        "If accented letters look wrong, choose the encoding by hand."
    )
    return text, guessed


def _bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """The text and its encoding when `data` is UTF-16 saved without a byte-order mark: text in
    Latin letters then has a NUL in every high byte and almost none in the low ones."""
    if len(data) % 2:
        return None
    sample = data[:65536]
    half = len(sample) // 2
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= 0.6 * half and even <= 0.05 * half:
        encoding = "utf-16-le"
    elif even >= 0.6 * half and odd <= 0.05 * half:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if "\x00" in text or _looks_binary(text):
        return None
    return text, encoding


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """The text and its count of unreadable characters, when the file is UTF-8 with a few
    damaged bytes (two files pasted together, say) rather than a legacy encoding: legacy
    accented text almost never forms valid UTF-8 sequences, so many valid ones settle it."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    readable = sum(1 for ch in text if ch > "\x7f") - bad
    return (text, bad) if readable > 2 * bad else None


def _guess_legacy_encoding(data: bytes) -> str | None:
    # Western spreadsheets saved "as CSV" by Excel on Windows are cp1252; it differs from
    # Latin-1 only where Latin-1 has invisible control codes (0x80–0x9F: € ’ “ ” …), so cp1252
    # is right whenever it can decode the bytes at all.
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        return "cp1252"
    from charset_normalizer import from_bytes  # imported late: only legacy files need it

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        try:
            data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            found = codecs.lookup(best.encoding).name
            return "latin-1" if found == "iso8859-1" else found
    return "latin-1"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    return bool(sample) and len(_CONTROL.findall(sample)) > max(8, len(sample) // 100)


def _binary(name: str) -> FileReadError:
    return FileReadError(
        f"{name} does not contain text: it looks like a binary file (perhaps a different kind "
        f"of file renamed to .csv). {_SAVE_AS}"
    )


def _read_text(
    text: str,
    name: str,
    suffix: str,
    encoding: str,
    delimiter: str | None,
    notes: list[str],
) -> Table:
    text = text.removeprefix("\ufeff")
    if not delimiter:
        delimiter = "\t" if suffix in {".tsv", ".tab"} else _sniff_delimiter(text)
    elif len(delimiter) != 1:
        raise FileReadError(f"The delimiter must be one character, not {delimiter!r}.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    with collector_paused():  # a list per row, all kept: see `batch`
        try:
            rows = _limited(reader, name)
        except csv.Error as error:
            if "field larger" in str(error):
                raise _huge_cell(name, reader.line_num, None) from None
            raise FileReadError(
                f"{name} could not be read as CSV near line {reader.line_num:,} ({error}). "
                "Open it in a spreadsheet and save it again as CSV."
            ) from None
        return _build_table(rows, name, encoding, delimiter, None, (), notes, first_row=1)


def _limited(rows: Iterable[list[str]], name: str) -> list[list[str]]:
    # Stop early instead of loading millions of rows only to refuse them; blank rows are
    # skipped later, so leave some slack.
    most = MAX_ROWS + 1_001
    taken = list(itertools.islice(rows, most + 1))
    if len(taken) > most:
        raise _too_many(name, None)
    return taken


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of cells."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # a cut line would look ragged
    best, best_score = ",", (0.0, 1)
    for candidate in DELIMITERS:
        if candidate not in sample:
            continue
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=candidate)
        try:
            filled = (row for row in reader if any(cell.strip() for cell in row))
            counts = [len(row) for row in itertools.islice(filled, 50)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistency = sum(count == counts[0] for count in counts) / len(counts)
        score = (round(consistency, 2), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


# --- Excel workbooks ---------------------------------------------------------------------------


def _read_zip(data: bytes, name: str, *, sheet: str | None) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.namelist()
    except Exception:  # BadZipFile, and NotImplementedError for a damaged version field, EOFError…
        raise FileReadError(
            f"{name} looks like an Excel workbook but is damaged (perhaps not fully downloaded). "
            f"{_SAVE_AS}"
        ) from None
    if "xl/workbook.xml" not in members:
        inner = [m for m in members if PurePath(m).suffix.lower() in {".csv", ".xlsx", ".txt"}]
        hint = (
            f" It contains {inner[0]!r}: unzip it and upload that file." if len(inner) == 1 else ""
        )
        raise FileReadError(
            f"{name} is a ZIP archive (or a Word/OpenDocument file), not an Excel workbook.{hint} "
            "Upload a .xlsx workbook or a CSV file."
        )
    return _read_xlsx(data, name, sheet)


class SheetScore(NamedTuple):
    """How much a sheet looks like a list of contacts, from its first rows.

    `contact_headers`: headers that name an email, a phone or a name; `known_headers`: headers
    that name any lead field; `data_rows`: non-empty rows under the header (in the sample);
    `filled`: whether the sheet has anything in it at all.
    """

    contact_headers: int
    known_headers: int
    data_rows: int
    filled: bool = True

    @property
    def level(self) -> int:
        """4 contacts, 3 some lead fields, 2 a table of something else, 1 a header alone, 0
        an empty sheet."""
        if not self.filled:
            return 0
        if not self.data_rows:
            return 1
        if self.contact_headers:
            return 4
        return 3 if self.known_headers else 2

    def describe(self) -> str:
        if not self.data_rows:
            return "no data"
        if not self.known_headers:
            return "no column a lead has"
        return _count(self.known_headers, "column") + " a lead has"


_SCORE_ROWS = 50
_CONTACT_TARGETS = {"email", "phone", "firstname", "lastname", "fullname"}


def sheet_score(rows: Sequence[Sequence[str]]) -> SheetScore:
    """Score the first rows of a sheet (text cells): the header is its first non-empty row."""
    from leadstream.prepare.headers import match_headers  # imported late: files stays light

    filled = [row for row in rows if any(str(cell).strip() for cell in row)]
    if not filled:
        return SheetScore(0, 0, 0, filled=False)
    header = [str(cell) for cell in filled[0] if str(cell).strip()]
    targets = [m.target for m in match_headers(header) if m.target is not None]
    contact = sum(1 for t in targets if t in _CONTACT_TARGETS or t.startswith("phone:"))
    return SheetScore(contact, len(targets), len(filled) - 1)


def choose_sheet(scores: Sequence[tuple[str, SheetScore]]) -> str | None:
    """The sheet that looks most like contacts; among equals, the first. None when no sheet has
    data. A cover sheet (“Export info”: a few lines about the export) loses to any table of
    contacts after it."""
    best: tuple[str, int] | None = None
    for sheet, score in scores:
        if score.level and (best is None or score.level > best[1]):
            best = (sheet, score.level)
    return best[0] if best is not None else None


def _choice_note(names: Sequence[str], chosen: str, scores: dict[str, SheetScore]) -> str:
    others = [f"“{n}” has {scores[n].describe()}" for n in names if n != chosen and n in scores]
    why = ""
    if others and scores[chosen].level > min(scores[n].level for n in scores if n != chosen):
        why = (
            f", the one that looks most like contacts ({scores[chosen].describe()}; "
            + "; ".join(others[:5])
            + ")"
        )
    return (
        f"The workbook has {len(names)} sheets; read “{chosen}”{why}. Choose another sheet if "
        "the leads are elsewhere."
    )


# Number formats that only pad with zeros (a ZIP column shown as 01234): python-calamine gives
# no cell formats, so such a workbook is read with openpyxl to keep the zeros people see.
_ZERO_PADDED_FORMAT = re.compile(rb'formatCode="(?:\[[^\]"]*\])?0{2,}"')


def _needs_formats(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            styles = archive.read("xl/styles.xml") if "xl/styles.xml" in archive.namelist() else b""
    except Exception:  # a damaged archive: openpyxl's reading says so in words
        return True
    return bool(_ZERO_PADDED_FORMAT.search(styles))


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> Table:
    """A workbook by python-calamine (fast), or by openpyxl when calamine cannot open it or
    the workbook pads numbers with zeros through a cell format."""
    with collector_paused():  # a list per row, all kept: see `batch`
        if not _needs_formats(data):
            try:
                return _read_xlsx_calamine(data, name, sheet)
            except _CalamineFailed:
                pass
        return _read_xlsx_openpyxl(data, name, sheet)


class _CalamineFailed(Exception):
    """python-calamine could not read the workbook; openpyxl tries (and names the problem)."""


def _read_xlsx_calamine(data: bytes, name: str, sheet: str | None) -> Table:
    import python_calamine  # imported late: CSV users never pay for it

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        metadata = workbook.sheets_metadata
    except Exception as error:  # ZipError, XmlError, PasswordError, CalamineError…
        raise _CalamineFailed from error
    try:
        names = tuple(m.name for m in metadata)
        tables = {m.name for m in metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet}
        # calamine parses a whole sheet when it is opened: the sheet sampled to choose the
        # contacts is kept, so reading it afterwards does not parse it a second time.
        opened: dict[str, Any] = {}

        def rows_of(sheet_name: str, limit: int | None) -> list[list[str]] | None:
            if sheet_name not in tables:
                return None  # a chart sheet: it has no cells
            try:
                if sheet_name not in opened:
                    opened[sheet_name] = workbook.get_sheet_by_name(sheet_name)
                worksheet = opened[sheet_name]
                if limit is None:  # the whole sheet: already parsed, so check its size first
                    every: list[list[Any]] = worksheet.to_python(skip_empty_area=False)
                    if len(every) > MAX_ROWS + 1_001:
                        raise _too_many(name, None)
                    return _texts_in_place(every)
                found = itertools.islice(worksheet.iter_rows(), limit)
                return [[_excel_text(value, "") for value in row] for row in found]
            except FileReadError:
                raise
            except Exception as error:
                raise _CalamineFailed from error

        return _workbook_table(name, names, sheet, rows_of)
    finally:
        workbook.close()


def _read_xlsx_openpyxl(data: bytes, name: str, sheet: str | None) -> Table:
    from openpyxl import load_workbook  # imported late: CSV users never pay for it

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not affect values.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, XML errors…) for a broken file
        raise FileReadError(
            f"{name} could not be opened as an Excel workbook; it may be damaged or protected. "
            f"{_SAVE_AS}"
        ) from None
    try:

        def rows_of(sheet_name: str, limit: int | None) -> list[list[str]] | None:
            worksheet = workbook[sheet_name]
            if not hasattr(worksheet, "iter_rows"):
                return None  # a chart sheet: it has no cells
            return _sheet_rows(worksheet, name, limit)

        return _workbook_table(name, tuple(workbook.sheetnames), sheet, rows_of)
    finally:
        workbook.close()


def _workbook_table(
    name: str,
    names: tuple[str, ...],
    sheet: str | None,
    rows_of: Callable[[str, int | None], list[list[str]] | None],
) -> Table:
    """The table of the sheet asked for, or of the one that looks most like contacts.

    `rows_of(sheet, limit)` gives a sheet's rows as text from row 1 (at most `limit`), None for
    a chart sheet."""
    if not names:  # a damaged workbook.xml can list no sheet at all
        raise FileReadError(
            f"{name} is an Excel workbook without any sheet; it may be damaged. {_SAVE_AS}"
        )
    notes: list[str] = []
    if sheet is not None:
        if sheet not in names:
            raise FileReadError(
                f"{name} has no sheet called {sheet!r}. Its sheets are: "
                + ", ".join(repr(n) for n in names)
                + "."
            )
        chosen = sheet
    else:
        scores: dict[str, SheetScore] = {}
        for candidate in names:
            sample = rows_of(candidate, _SCORE_ROWS + 1_000)  # leading blank rows come first
            if sample is not None:
                scores[candidate] = sheet_score(_from_first_filled(sample)[: _SCORE_ROWS + 1])
        found = choose_sheet(list(scores.items()))
        if found is None:
            raise FileReadError(f"{name} has no data in any sheet. Check that it was saved.")
        chosen = found
        if len(names) > 1:
            notes.append(_choice_note(names, chosen, scores))
    every = rows_of(chosen, None)
    if every is None:
        raise FileReadError(
            f"The sheet {chosen!r} of {name} is a chart, not a table of cells. Choose another "
            "sheet."
        )
    rows = _from_first_filled(every)
    if not rows:
        raise FileReadError(f"{name} has no data in any sheet. Check that it was saved.")
    first_row = len(every) - len(rows) + 1
    return _build_table(rows, name, None, None, chosen, names, notes, first_row=first_row)


def _from_first_filled(rows: list[list[str]]) -> list[list[str]]:
    """`rows` from the first one with something in it: the header."""
    start = next((i for i, row in enumerate(rows) if any(row)), len(rows))
    return rows[start:]


def _sheet_rows(worksheet: object, name: str, limit: int | None) -> list[list[str]]:
    """A sheet's rows as text from row 1, at most `limit` of them."""
    rows: list[list[str]] = []
    try:
        found = worksheet.iter_rows()  # type: ignore[attr-defined]
        for row in itertools.islice(found, limit):
            rows.append(
                [_excel_text(cell.value, getattr(cell, "number_format", "")) for cell in row]
            )
            if len(rows) > MAX_ROWS + 1_001:
                raise _too_many(name, None)
    except FileReadError:
        raise
    except Exception:
        raise FileReadError(f"{name} could not be read: a sheet is damaged. {_SAVE_AS}") from None
    return rows


def _texts_in_place(rows: list[list[Any]]) -> list[list[str]]:
    """`rows` of cell values (python-calamine's) with every cell made text by `_excel_text`,
    changed in place. Most cells are text already and a column mostly holds one kind of value,
    so the cells are looked at column by column: a column of text only is left as it is."""
    width = len(rows[0]) if rows else 0
    if len(set(map(len, rows))) > 1:  # not rectangular: cell by cell
        rows[:] = [[v if type(v) is str else _excel_text(v, "") for v in row] for row in rows]
        return rows
    cells = list(itertools.chain.from_iterable(rows))
    for position in range(width):
        column = cells[position::width]
        kinds = set(map(type, column))
        kinds.discard(str)
        if not kinds:
            continue
        if kinds <= {int, float} or kinds in ({bool}, {dt.date}, {dt.timedelta}):
            # Equal values show the same (1 and 1.0 as "1"; text never equals these), so each
            # distinct value is made text once: a column of dates repeats the same few days.
            shown = {value: _excel_text(value, "") for value in set(column)}
            texts = list(map(shown.__getitem__, column))
        else:  # True == 1 but shows "TRUE"; an aware datetime equals one of another zone
            texts = [v if type(v) is str else _excel_text(v, "") for v in column]
        for row, text in zip(rows, texts, strict=True):
            row[position] = text
    return rows


_ZERO_PADDED = re.compile(r"^0+$")


def _excel_text(value: object, number_format: str) -> str:
    """A cell's value as the text a person sees for it, for the types openpyxl returns."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return f"{value:.15g}"  # Excel shows 15 significant digits: 0.1 + 0.2 is 0.3
        number = int(value)
        # A ZIP column formatted "00000" stores 1234 and shows 01234; keep what is shown.
        if number_format and _ZERO_PADDED.match(number_format) and number >= 0:
            return str(number).zfill(len(number_format))
        return str(number)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


# --- Common shaping --------------------------------------------------------------------------


def _build_table(
    rows: list[list[str]],
    name: str,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    sheet_names: tuple[str, ...],
    notes: list[str],
    *,
    first_row: int,
) -> Table:
    header_at = _header_position(rows, name)
    raw_header = rows[header_at]
    body, numbers, blank, longest = _data_rows(rows, header_at, first_row + header_at)
    if not body:
        raise FileReadError(
            f"{name} has a header row but no data rows. Add the leads below the header, "
            "or check that the right file or sheet was chosen."
        )
    if len(body) > MAX_ROWS:
        raise _too_many(name, len(body))

    lengths = list(map(len, body))
    header, columns = _to_columns(raw_header, body, lengths)
    if longest > MAX_CELL_CHARS:  # else no cell can be: a row's cells together are not
        _check_cell_sizes(name, header, columns, numbers)
    names = _unique_headers(header)
    keep = [
        i for i in range(len(header)) if header[i].strip() or any(c.strip() for c in columns[i])
    ]
    if blank:
        notes.append(f"{_count(blank, 'blank row')} ignored.")
    notes += _shape_notes(raw_header, header, names, keep, lengths, numbers)
    if delimiter is not None and delimiter != ",":
        notes.append(
            f"Columns are separated by {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}s."
        )

    frame = _object_frame([names[i] for i in keep], [columns[i] for i in keep], len(body))
    return Table(
        frame=frame,
        filename=name,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        sheet_names=sheet_names,
        row_numbers=tuple(numbers),
        notes=tuple(notes),
    )


def _header_position(rows: list[list[str]], name: str) -> int:
    """The first row with any text: the header."""
    header_at = next((i for i, row in enumerate(rows) if _has_text(row)), None)
    if header_at is None:
        raise FileReadError(f"{name} has no text in it. Check that the right file was chosen.")
    return header_at


def _data_rows(
    rows: list[list[str]], header_at: int, header_number: int
) -> tuple[list[list[str]], list[int], int, int]:
    """The rows below the header that have any text, their spreadsheet row numbers, how many
    blank rows were left out, and the length of the longest row's cells joined (no cell of
    any row is longer). Each step is one C call over all the rows, as in `_has_text`."""
    below = rows[header_at + 1 :]
    joined = list(map("".join, below))
    longest = max(map(len, joined), default=0)
    filled = list(map(str.strip, joined))
    del joined
    numbers = range(header_number + 1, header_number + 1 + len(below))
    if all(filled):
        return below, list(numbers), 0, longest
    body = list(itertools.compress(below, filled))
    return body, list(itertools.compress(numbers, filled)), len(below) - len(body), longest


def _has_text(row: list[str]) -> bool:
    """Any cell of `row` has more than whitespace (joined first: one C call, not one a cell)."""
    return bool("".join(row).strip())


def _to_columns(
    raw_header: list[str], body: list[list[str]], lengths: list[int]
) -> tuple[list[str], list[list[str]]]:
    """The header and the cells column by column, as wide as the widest row: a short row is
    padded with empty cells, a long one's extra cells go under headers left empty.

    `lengths` are the rows' lengths. The cells are laid end to end in one list, and a column
    is every `widest`-th of them (a slice: no Python step a cell)."""
    width = len(raw_header)
    widest = max(width, *lengths)
    header = [raw_header[i] if i < width else "" for i in range(widest)]
    if min(lengths) == widest:
        padded: Iterable[list[str]] = body
    else:
        padded = (row if len(row) == widest else row + [""] * (widest - len(row)) for row in body)
    cells = list(itertools.chain.from_iterable(padded))
    columns = [cells[i::widest] for i in range(widest)]
    return header, columns


def _object_frame(names: list[str], columns: list[list[str]], length: int) -> pd.DataFrame:
    """The frame of `columns` (each `length` long) named `names`, of dtype object: what
    `pd.DataFrame(dict(zip(names, columns)), dtype=object)` makes (one block of objects), but
    filled in one array column by column instead of converted by pandas one list at a time."""
    if not columns:
        return pd.DataFrame({}, dtype=object)
    values = np.empty((len(columns), length), dtype=object)
    for position, column in enumerate(columns):
        values[position] = column
    return pd.DataFrame(values.T, columns=names, dtype=object, copy=False)


def _shape_notes(
    raw_header: list[str],
    header: list[str],
    names: list[str],
    keep: list[int],
    lengths: list[int],
    numbers: list[int],
) -> list[str]:
    """Notes on what reading changed: empty columns left out, names made unique or filled
    in, rows with more or fewer cells than the header."""
    width = len(raw_header)
    notes: list[str] = []
    dropped = len(header) - len(keep)
    renamed = [
        f"column {i + 1} “{' '.join(header[i].split())}” is called “{names[i]}”"
        if header[i].strip()
        else f"column {i + 1} has no name and is called “{names[i]}”"
        for i in keep
        if i < width and names[i] != " ".join(header[i].split())
    ]
    longer = (
        [(numbers[i], n) for i, n in enumerate(lengths) if n > width]
        if max(lengths) > width
        else []
    )
    shorter = sum(1 for n in lengths if n < width) if min(lengths) < width else 0
    if dropped:
        notes.append(f"{_count(dropped, 'empty column')} without a header ignored.")
    if renamed:
        notes.append("Column names made unique or filled in: " + "; ".join(renamed) + ".")
    if longer:
        listed = ", ".join(str(number) for number, _ in longer[:10])
        more = f" and {len(longer) - 10:,} more" if len(longer) > 10 else ""
        notes.append(
            f"{_count(len(longer), 'row')} had more cells than the header (see row "
            f"{listed}{more}); the extra cells are kept in columns named “Column N”. Check "
            "those rows for a stray delimiter."
        )
    if shorter:
        notes.append(
            f"{_count(shorter, 'row')} had fewer cells than the header; the rest are empty."
        )
    return notes


def _unique_headers(header: Sequence[str]) -> list[str]:
    """Header names with whitespace tidied, blanks named “Column N”, repeats numbered “(2)”."""
    names: list[str] = []
    seen: set[str] = set()
    # The next number to try for each repeated name: a header row of 10,000 copies of the same
    # name would otherwise try 2, 3, 4… afresh for every copy (50 million tries).
    next_suffix: dict[str, int] = {}
    for position, raw in enumerate(header, start=1):
        candidate = " ".join(raw.replace("\ufeff", "").split()) or f"Column {position}"
        if (folded := candidate.casefold()) in seen:
            suffix = next_suffix.get(folded, 2)
            while f"{candidate} ({suffix})".casefold() in seen:
                suffix += 1
            next_suffix[folded] = suffix + 1
            candidate = f"{candidate} ({suffix})"
        seen.add(candidate.casefold())
        names.append(candidate)
    return names


def _check_cell_sizes(
    name: str, header: Sequence[str], columns: Sequence[list[str]], numbers: Sequence[int]
) -> None:
    for position, column in enumerate(columns):
        longest = max(column, key=len, default="")
        if len(longest) > MAX_CELL_CHARS:
            row = numbers[column.index(longest)]
            raise _huge_cell(name, row, header[position].strip() or f"Column {position + 1}")


def _huge_cell(name: str, row: int, column: str | None) -> FileReadError:
    where = f"row {row:,}, column {column!r}" if column else f"line {row:,}"
    return FileReadError(
        f"{name} has a cell longer than {MAX_CELL_CHARS:,} characters ({where}). This usually "
        'means a quote (") was opened and never closed; fix that row and upload again.'
    )


def _too_many(name: str, count: int | None) -> FileReadError:
    counted = f"{count:,} rows" if count else f"more than {MAX_ROWS:,} rows"
    return FileReadError(
        f"{name} has {counted}; at most {MAX_ROWS:,} can be sent at once. "
        "Split it into smaller files and upload them one after another."
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


# --- Exports -----------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(cell: str) -> str:
    """`cell` made safe to open in a spreadsheet: text that a spreadsheet would run as a formula
    gets a leading apostrophe. A phone such as `+1 716…` is changed too; that is the price."""
    if cell and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def to_csv_bytes(frame: pd.DataFrame, *, neutralize: bool = True) -> bytes:
    """`frame` as CSV in UTF-8 with a byte-order mark, so that Excel opens accents correctly;
    with formulas neutralised unless `neutralize` is false."""
    clean = neutralize_formula if neutralize else str
    out = frame.map(lambda value: clean(_export_text(value)))
    out.columns = [clean(str(column)) for column in frame.columns]
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _export_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell in a column of numbers
            return ""
        if value.is_integer():
            return str(int(value))  # a row number in a column pandas made float by a gap
    return str(value)
