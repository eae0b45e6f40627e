"""How a page handler answers: a Jinja2 template from `templates/web/`, in the reader's language.

Every template gets `_` (the page catalogue in the reader's language), `money`, `day` and
`count` (Babel's locale formats), `lang`, `principal` (None on public pages), `may(action)`
(may the reader's role do it) and Litestar's
`csrf_input` for its forms.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

from api.i18n import (
    DIGITS_COOKIE,
    KHMER_DIGITS,
    LANGUAGE_COOKIE,
    LANGUAGES,
    choose_language,
    error_text,
    format_amount,
    format_count,
    format_day,
    format_money,
    page_gettext,
)
from ledger.access.policy import Action, Principal, decide
from ledger.core.errors import LedgerError
from ledger.reports.words import khmer_digits

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "web"
STATIC_DIR = WEB_DIR / "static"
LANGUAGE_NAMES = {"km": "ខ្មែរ", "en": "English"}


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The pages' templates: autoescaped, and an undefined name fails loudly."""
    environment = Environment(
        loader=FileSystemLoader(WEB_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


def language_of(request: Request[Any, Any, Any]) -> str:
    """The reader's saved choice (cookie), else their browser's `Accept-Language`."""
    return choose_language(
        request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language", "")
    )


def principal_of(request: Request[Any, Any, Any]) -> Principal | None:
    """The signed-in user the guard found (None on a public page)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


def page(
    request: Request[Any, Any, Any],
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Template:
    """Render `templates/web/<name>` for this request's reader."""
    language = language_of(request)
    khmer = language == "km" and request.cookies.get(DIGITS_COOKIE) == KHMER_DIGITS
    # Only what a page shows changes: form fields keep the ASCII digits the server reads.
    digits = khmer_digits if khmer else str

    def translate(message: str) -> str:
        return page_gettext(language, message)

    def money(units: int, precision: int, currency: str) -> str:
        return digits(format_money(units, precision, currency, language))

    def amount(value: Decimal, precision: int, currency: str) -> str:
        return digits(format_amount(value, precision, currency, language))

    def day(value: datetime.date | None) -> str:
        return "" if value is None else digits(format_day(value, language))

    def count(value: int) -> str:
        return digits(format_count(value, language))

    def error(problem: LedgerError) -> str:
        return error_text(language, problem.code, problem.message)

    def may(action: str) -> bool:
        """Whether the reader's role may ever do `action` (to offer a form or a button)."""
        principal = principal_of(request)
        return principal is not None and decide(principal, Action(action)) == "allow"

    return Template(
        template_name=name,
        context={
            "_": translate,
            "lang": language,
            "khmer_digits": khmer,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "money": money,
            "amount": amount,
            "day": day,
            "count": count,
            "error": error,
            "may": may,
            "principal": principal_of(request),
            "path": request.url.path,
            **(context or {}),
        },
        status_code=status_code,
        headers={"Cache-Control": "private, no-cache", "Content-Language": language},
    )
