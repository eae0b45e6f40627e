"""Khmer and English: gettext catalogues (Babel `.po` files in the repository), the reader's
language, and amounts and dates in the reader's locale.

Two catalogues per language under `templates/web/locale/<lang>/LC_MESSAGES/`:
`messages.po` holds the pages' strings (extracted from the templates and `api/pages`, see
README "Using the web app"); `errors.po` holds the API's problem titles and the error
messages, keyed by the stable error `code` (msgctxt "error") so an English rewording never
loses its translation. The `.po` files are compiled in memory when first used: no `.mo`
files to build or to keep in step.
"""

from __future__ import annotations

import datetime
import functools
import gettext
import io
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).resolve().parent.parent / "templates" / "web" / "locale"
LANGUAGES: tuple[str, ...] = ("km", "en")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "ledger_lang"
# A Khmer reader may choose Khmer digits (០-៩) for amounts, counts and dates on the pages.
DIGITS_COOKIE = "ledger_digits"
KHMER_DIGITS = "khmer"
ACCEPT_LANGUAGE_LENGTH_MAX = 500
ACCEPT_LANGUAGE_ITEMS_MAX = 20
ERROR_CONTEXT = "error"
TITLE_CONTEXT = "title"
# Khmer readers of a group's book know the riel sign; other currencies keep their code.
CURRENCY_SIGNS = {"KHR": "៛"}


@functools.cache
def translations(language: str, domain: str) -> gettext.NullTranslations:
    """The compiled catalogue for `language` and `domain` (English: the msgids themselves)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def page_gettext(language: str, message: str) -> str:
    """A page string in `language`."""
    return translations(language, "messages").gettext(message)


def parse_accept_language(header: str) -> tuple[str, ...]:
    """The languages an `Accept-Language` header asks for, most wanted first (quality order);
    a malformed item is skipped, an overlong header ignored."""
    if len(header) > ACCEPT_LANGUAGE_LENGTH_MAX:
        return ()
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:ACCEPT_LANGUAGE_ITEMS_MAX]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary.isalpha() and 0 < quality <= 1:
            weighted.append((-quality, position, primary))
    return tuple(language for _, _, language in sorted(weighted))


def choose_language(saved: str | None, accept_language: str) -> str:
    """The reader's saved choice, else the first of `Accept-Language` we speak, else English."""
    if saved in LANGUAGES:
        return saved
    for language in parse_accept_language(accept_language):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


def error_text(language: str, code: str, message: str) -> str:
    """An error's message in `language`, translated by its stable code (English as written)."""
    if language == DEFAULT_LANGUAGE:
        return message
    translated = translations(language, "errors").pgettext(ERROR_CONTEXT, code)
    return message if translated == code else translated


def title_text(language: str, title: str) -> str:
    """A problem's title (one per HTTP status) in `language`."""
    if language == DEFAULT_LANGUAGE:
        return title
    return translations(language, "errors").pgettext(TITLE_CONTEXT, title)


def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def format_money(units: int, precision: int, currency: str, language: str) -> str:
    """`units` of the smallest unit as the reader writes money: 1234500 riel -> "1,234,500 ៛"."""
    return format_amount(Decimal(units).scaleb(-precision), precision, currency, language)


def format_amount(amount: Decimal, precision: int, currency: str, language: str) -> str:
    """An amount in the currency (not its smallest unit) with `precision` decimals."""
    pattern = f"#,##0{'.' + '0' * precision if precision else ''}"
    number = format_decimal(amount, format=pattern, locale=_babel_locale(language))
    return f"{number} {CURRENCY_SIGNS.get(currency, currency)}"


def format_day(day: datetime.date, language: str) -> str:
    """A date in the reader's locale (medium form: "2 Mar 2026", "២ មីនា ២០២៦" in Khmer)."""
    return babel_format_date(day, format="medium", locale=_babel_locale(language))


def format_count(value: int, language: str) -> str:
    return format_decimal(value, locale=_babel_locale(language))
