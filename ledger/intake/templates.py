"""The downloadable templates of each import: a Khmer header row, then an English one, then
nothing (the import reads either header row and skips the other)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from ledger.core.csv_text import to_csv
from ledger.intake.service import template_columns


def template_csv(kind_name: str) -> str:
    columns = template_columns(kind_name)
    return to_csv([c.header_km for c in columns], [[c.header_en for c in columns]])


def template_xlsx(kind_name: str) -> bytes:
    columns = template_columns(kind_name)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind_name[:31]
    sheet.append([c.header_km for c in columns])
    sheet.append([c.header_en for c in columns])
    for cell in (*sheet[1], *sheet[2]):
        cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(14, len(column.header_en) + 4)
        if column.type == "date":
            # Dates typed into the column are dates, not numbers.
            for row in range(3, 203):
                sheet.cell(row=row, column=index).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
