"""Responses that are files: a PDF shown in the browser, a CSV saved for a spreadsheet.

Every CSV is UTF-8 with a byte-order mark, served as `text/csv; charset=utf-8`: without the
mark, Excel on Windows reads the bytes as the local code page and Khmer turns into mojibake.
Cells pass through `safe_cell` (a leading `=`, `+`, `-`, `@` would be run as a formula).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

from litestar import Response
from litestar.response import Stream

from ledger.core.csv_text import safe_cell, to_csv

PDF = "application/pdf"
# Declared without its charset: Litestar appends `; charset=utf-8` (the response's encoding)
# to every `text/` type, and a declared one came out twice.
CSV = "text/csv"
BOM = "\ufeff"


# What may stand in the plain `filename="..."` of a Content-Disposition header.
_UNSAFE_IN_QUOTED_NAME_RE = re.compile(r'[^\x20-\x7e]|["\\]')


def content_disposition(disposition: str, filename: str) -> str:
    """`inline` or `attachment` with `filename`, whatever its characters (a Khmer file name,
    say): an ASCII fallback in `filename=` and the exact name in `filename*=` (RFC 6266)."""
    fallback = _UNSAFE_IN_QUOTED_NAME_RE.sub("_", filename)
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=PDF,
        headers={"Content-Disposition": content_disposition("inline", filename)},
    )


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": content_disposition("attachment", filename)}


def csv_response(text: str, filename: str) -> Response[bytes]:
    """`text` (from `to_csv`) as a download, with the byte-order mark Excel needs."""
    return Response((BOM + text).encode("utf-8"), media_type=CSV, headers=_attachment(filename))


def csv_chunks(header: Sequence[str], pages: Iterable[Iterable[Sequence[str]]]) -> Iterator[str]:
    """The CSV a page of rows at a time, the byte-order mark and header first: for a stream."""
    yield BOM + to_csv(header, ())
    for rows in pages:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows([safe_cell(cell) for cell in row] for row in rows)
        yield out.getvalue()


def csv_stream(chunks: Iterator[str], filename: str) -> Stream:
    """A CSV download sent while it is read, never whole in memory (Litestar advances a plain
    iterator on a worker thread, so the database reads inside it stay off the event loop)."""
    return Stream(
        (chunk.encode("utf-8") for chunk in chunks),
        media_type=CSV,
        encoding="utf-8",
        headers=_attachment(filename),
    )
