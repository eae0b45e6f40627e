"""A spreadsheet file (XLSX or CSV) read into rows of cells, or refused, before anything else
looks at it.

Hostile files are refused by what they are, before a parser opens them:

- empty, or neither an XLSX (a zip holding `xl/workbook.xml`) nor UTF-8 text: refused;
- an XLSX whose zip entries would unpack to more than `IMPORT_UNPACKED_BYTES_MAX` in all, or
  any entry more than `IMPORT_COMPRESSION_RATIO_MAX` times its packed size (a zip bomb), or
  more than `IMPORT_ZIP_ENTRIES_MAX` entries: refused from the zip's directory, nothing
  unpacked (Python's zip reader never unpacks more than an entry's declared size);
- a worksheet with merged cells, or any XML part declaring a DTD: refused;
- more than `IMPORT_ROWS_MAX` rows: refused as soon as the next row is read.

Formulas are never evaluated: openpyxl reads a formula cell as its text (`=SUM(A1:A3)`),
and that text is what the import sees. The first worksheet is read; others are ignored.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from openpyxl import load_workbook

from ledger.core import limits
from ledger.core.errors import LedgerRejected, invalid

Cell = str | int | float | bool | datetime.datetime | datetime.date | datetime.time | None
ZIP_MAGIC = b"PK\x03\x04"
_MERGE_CELL_RE = re.compile(rb"<(\w+:)?mergeCell\b")


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # as the spreadsheet numbers it: the first row is 1
    cells: tuple[Cell, ...]


def _refuse(code: str, message: str) -> LedgerRejected:
    return LedgerRejected([invalid(code, message, "content")])


NOT_A_SPREADSHEET = (
    "file_not_spreadsheet",
    "The file is neither an XLSX workbook nor a CSV file in UTF-8.",
)


def read_rows(content: bytes) -> list[Row]:
    """Every row of the file's first sheet, trailing empty rows left out."""
    if not content.strip():
        raise _refuse("file_empty", "The file is empty.")
    if len(content) > limits.IMPORT_FILE_BYTES_MAX:
        raise _refuse(
            "file_too_large", f"A file holds at most {limits.IMPORT_FILE_BYTES_MAX} bytes."
        )
    rows = _xlsx_rows(content) if content.startswith(ZIP_MAGIC) else _csv_rows(content)
    while rows and all(_blank(c) for c in rows[-1].cells):
        rows.pop()
    if not rows:
        raise _refuse("file_empty", "The file is empty.")
    return rows


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _bounded(rows: Iterator[tuple[Cell, ...]]) -> list[Row]:
    found = []
    for number, cells in enumerate(rows, start=1):
        if number > limits.IMPORT_ROWS_MAX + 2:  # the two header rows, then the data
            raise _refuse(
                "file_too_many_rows",
                f"A file holds at most {limits.IMPORT_ROWS_MAX} rows below its headers.",
            )
        if len(cells) > limits.IMPORT_COLUMNS_MAX:
            cells = cells[: limits.IMPORT_COLUMNS_MAX]
        found.append(Row(number, tuple(cells)))
    return found


def _csv_rows(content: bytes) -> list[Row]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(*NOT_A_SPREADSHEET) from None
    if "\0" in text:
        raise _refuse(*NOT_A_SPREADSHEET)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return _bounded(tuple(row) for row in reader)
    except csv.Error:
        raise _refuse(*NOT_A_SPREADSHEET) from None


def _check_zip(archive: zipfile.ZipFile) -> None:
    entries = archive.infolist()
    if len(entries) > limits.IMPORT_ZIP_ENTRIES_MAX:
        raise _refuse("file_unpacks_too_large", "The workbook holds too many parts.")
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio_max = limits.IMPORT_COMPRESSION_RATIO_MAX * max(entry.compress_size, 1)
        if total > limits.IMPORT_UNPACKED_BYTES_MAX or entry.file_size > ratio_max:
            raise _refuse(
                "file_unpacks_too_large",
                f"The workbook would unpack to more than {limits.IMPORT_UNPACKED_BYTES_MAX} "
                f"bytes, or {limits.IMPORT_COMPRESSION_RATIO_MAX} times its size.",
            )
    if "xl/workbook.xml" not in archive.namelist():
        raise _refuse(*NOT_A_SPREADSHEET)


def _check_parts(archive: zipfile.ZipFile) -> None:
    """No DTD anywhere (entity expansion), no merged cells in a worksheet."""
    for entry in archive.infolist():
        if not entry.filename.endswith((".xml", ".rels")):
            continue
        data = archive.read(entry)
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise _refuse(*NOT_A_SPREADSHEET)
        if entry.filename.startswith("xl/worksheets/") and _MERGE_CELL_RE.search(data):
            raise _refuse(
                "sheet_merged_cells",
                "The sheet has merged cells: unmerge them so that each row has its own value.",
            )


def _xlsx_rows(content: bytes) -> list[Row]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_zip(archive)
            _check_parts(archive)
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, OSError):
        raise _refuse(*NOT_A_SPREADSHEET) from None
    except LedgerRejected:
        raise
    except Exception:  # openpyxl raises many kinds for a malformed part: all mean the same
        raise _refuse(*NOT_A_SPREADSHEET) from None
    try:
        if not workbook.worksheets:
            raise _refuse("file_empty", "The workbook has no sheet.")
        sheet = workbook.worksheets[0]
        return _bounded(sheet.iter_rows(values_only=True))
    except LedgerRejected:
        raise
    except Exception:
        raise _refuse(*NOT_A_SPREADSHEET) from None
    finally:
        workbook.close()
