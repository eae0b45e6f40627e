"""CSV text that a spreadsheet opens safely. Pure.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a
formula by a spreadsheet (CSV injection); such a cell is written with a leading `'`. Amounts
are written as plain numbers, so a negative amount is the one text allowed to start with `-`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

_NUMBER_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _NUMBER_RE.fullmatch(value):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
