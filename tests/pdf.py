"""Reading a rendered PDF back in tests, with poppler-utils (pdftotext, pdfinfo, pdftoppm).

pdftotext reorders Khmer clusters, so assert Khmer on the HTML before rendering, or look at
a page rendered to PNG.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def _run(args: list[str], pdf: bytes) -> bytes:
    return subprocess.run(args, input=pdf, capture_output=True, check=True, timeout=60).stdout


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, laid out roughly as printed (`pdftotext -layout`)."""
    return _run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], pdf).decode("utf-8")


def pdf_page_count(pdf: bytes) -> int:
    """Number of pages, as `pdfinfo` reads it."""
    info = _run(["pdfinfo", "-"], pdf).decode("utf-8")
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def pdf_page_png(pdf: bytes, tmp_path: Path, page: int = 1, dpi: int = 60) -> Path:
    """One page rendered to a PNG in `tmp_path` (60 dpi: enough to look at the layout)."""
    prefix = tmp_path / f"page-{page}"
    _run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
         "-", str(prefix)],
        pdf,
    )  # fmt: skip
    png = prefix.with_suffix(".png")
    assert png.is_file(), f"pdftoppm wrote no {png.name}"
    return png
