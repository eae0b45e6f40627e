"""Rendering: Jinja2 templates from the repository's `templates/`, printed by WeasyPrint.

One `Environment`, built at import: HTML autoescaped (a narration is data, never markup) and
`StrictUndefined` (a misspelt field fails the render instead of printing an empty box).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML, Document

from ledger.reports.formats import format_amount, format_date_en, format_date_km
from ledger.reports.pdf_log import quiet_weasyprint_logs
from ledger.reports.words import amount_in_words_en, amount_in_words_km, khmer_digits

# ledger/reports/pdf.py -> the repository root; templates ship beside the packages.
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def _build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        amount=format_amount,
        date_en=format_date_en,
        date_km=format_date_km,
        khmer_digits=khmer_digits,
        words_en=amount_in_words_en,
        words_km=amount_in_words_km,
    )
    return environment


ENVIRONMENT = _build_environment()
# Where PDFs are rendered, WeasyPrint's log keeps what happened, never the document's text.
quiet_weasyprint_logs()


def render_html(template_name: str, context: Mapping[str, object]) -> str:
    """The template rendered with `context`; raises on any undefined name."""
    return ENVIRONMENT.get_template(template_name).render(context)


def lay_out(template_name: str, context: Mapping[str, object]) -> Document:
    """The template rendered and laid out in pages, not yet printed: a caller can count the
    pages (`len(document.pages)`) and lay out again more compactly before `write_pdf()`."""
    html = render_html(template_name, context)
    return HTML(string=html, base_url=str(TEMPLATES_DIR)).render()


def render_pdf(template_name: str, context: Mapping[str, object]) -> bytes:
    """The template rendered and printed to PDF bytes (fonts and CSS resolved from templates/)."""
    pdf: bytes = lay_out(template_name, context).write_pdf()
    return pdf
