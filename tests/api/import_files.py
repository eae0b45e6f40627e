"""Spreadsheet files for the import tests: well-formed ones, and hostile ones built byte by
byte (a zip bomb, merged cells, formulas, 100,000 rows)."""

from __future__ import annotations

import base64
import datetime
import io
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

HOUSEHOLD_HEADER = (
    "case_code",
    "province",
    "district",
    "commune",
    "village",
    "head_sex",
    "head_age_band",
    "members",
    "children",
    "category",
    "referral_source",
    "consent_date",
)


def household_row(case_code: str, **changes: Any) -> list[Any]:
    row: dict[str, Any] = {
        "case_code": case_code,
        "province": "Svay Rieng",
        "district": "Chantrea",
        "commune": "Chantrea",
        "village": "Thmei",
        "head_sex": "female",
        "head_age_band": "25-34",
        "members": 5,
        "children": 3,
        "category": "repatriated_migrant",
        "referral_source": "",
        "consent_date": "2018-11-04",
        **changes,
    }
    return [row[key] for key in HOUSEHOLD_HEADER]


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def xlsx_bytes(
    header: Sequence[str], rows: Sequence[Sequence[Any]], merge: str | None = None
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def many_rows_xlsx(count: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(HOUSEHOLD_HEADER))
    for index in range(count):
        sheet.append([f"DV-{index % 999999}", "Svay Rieng"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bomb_xlsx(unpacked_bytes: int) -> bytes:
    """A zip named like a workbook whose sheet unpacks to `unpacked_bytes` of spaces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(unpacked_bytes // len(chunk)):
                sheet.write(chunk)
    return out.getvalue()


def body(content: bytes, file_name: str = "file.xlsx") -> dict[str, str]:
    return {"file_name": file_name, "content_base64": base64.b64encode(content).decode()}


DATE = datetime.datetime(2018, 11, 4)
