"""Responses that are files: a PDF shown in the browser, a CSV saved for a spreadsheet."""

from __future__ import annotations

from litestar import Response

PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"


def pdf_response(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def csv_response(text: str, filename: str) -> Response[str]:
    return Response(
        text,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
