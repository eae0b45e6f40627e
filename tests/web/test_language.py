"""Khmer and English: every page string has a Khmer translation, the reader's choice is saved,
and the API's problem+json keeps its code while its title and detail follow Accept-Language."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from api.i18n import LOCALE_DIR, choose_language, error_text, format_money
from ledger.store.database import Database
from tests.api.conftest import make_client
from tests.web.conftest import GROUP_A, csrf_of

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_string_has_a_khmer_translation() -> None:
    method_map = [("templates/web/**.html", "jinja2")]
    found = extract_from_dir(ROOT, method_map)
    strings = {message for _file, _line, message, *_ in found if isinstance(message, str)}
    assert len(strings) > 50
    with (LOCALE_DIR / "km" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id for m in catalog if m.id and m.string}
    untranslated = sorted(strings - translated)
    assert untranslated == []


def test_the_saved_choice_wins_over_the_browser() -> None:
    assert choose_language(None, "km-KH,km;q=0.9,en;q=0.8") == "km"
    assert choose_language("en", "km") == "en"
    assert choose_language(None, "fr;q=0.9, th") == "en"
    assert choose_language("xx", "x" * 10_000) == "en"


def test_amounts_in_the_readers_locale() -> None:
    assert format_money(1_234_500, 0, "KHR", "km") == "1,234,500 ៛"
    assert format_money(12_345, 2, "USD", "en") == "123.45 USD"


def test_switching_to_khmer_is_remembered(browser: TestClient[Any]) -> None:
    home = browser.get(f"/groups/{GROUP_A}")
    assert "Cash box" in home.text
    switched = browser.post(
        "/language",
        data={"lang": "km", "next": f"/groups/{GROUP_A}", "_csrf_token": csrf_of(home.text)},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/groups/{GROUP_A}"
    again = browser.get(f"/groups/{GROUP_A}")
    assert "ប្រអប់ប្រាក់" in again.text
    assert "Cash box" not in again.text
    assert again.headers["content-language"] == "km"


def test_an_api_problem_speaks_khmer_when_asked(db: Database) -> None:
    with make_client(db) as client:
        refused = client.post(
            "/api/auth/login",
            json={"username": "nobody.here", "password": "wrong password"},
            headers={"Accept-Language": "km"},
        )
        assert refused.status_code == 401
        problem = refused.json()
        assert problem["code"] == "invalid_credentials"
        assert problem["title"] == "មិនទាន់ចូល"
        assert problem["detail"] == "ឈ្មោះអ្នកប្រើ ឬពាក្យសម្ងាត់មិនត្រឹមត្រូវ។"
        english = client.post(
            "/api/auth/login", json={"username": "nobody.here", "password": "wrong password"}
        ).json()
        assert english["code"] == "invalid_credentials"
        assert english["detail"] == "Wrong username or password."


ERROR_FACTORIES = frozenset(
    {"invalid", "conflict", "not_found", "forbidden", "unauthenticated", "rate_limited"}
)
# The codes api/errors.py gives framework errors (HTTP statuses).
HTTP_CODES = ("bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed")


def error_codes_in_source() -> set[str]:
    """Every error code written in the code: `invalid("code", ...)`, `LedgerError("code", ...)`."""
    codes: set[str] = set()
    for package in ("ledger", "api"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                first = node.args[0]
                if (name in ERROR_FACTORIES or name == "LedgerError") and (
                    isinstance(first, ast.Constant) and isinstance(first.value, str)
                ):
                    codes.add(first.value)
    return codes


def test_every_error_code_has_a_khmer_message() -> None:
    codes = error_codes_in_source() | set(HTTP_CODES)
    assert len(codes) > 200
    untranslated = sorted(code for code in codes if error_text("km", code, "\0") == "\0")
    assert untranslated == []


def test_a_khmer_reader_may_choose_khmer_digits(browser: TestClient[Any]) -> None:
    from tests.web.test_pages import meeting_form

    form = meeting_form(browser, "210000", step="save")
    assert browser.post(f"/groups/{GROUP_A}/meetings/", data=form).status_code == 200
    home = browser.get(f"/groups/{GROUP_A}")
    browser.post(
        "/language",
        data={"lang": "km", "digits": "khmer", "_csrf_token": csrf_of(home.text)},
    )
    khmer = browser.get(f"/groups/{GROUP_A}")
    assert 'id="cash-box">២១០,០០០ ៛' in khmer.text
    blank = browser.get(f"/groups/{GROUP_A}/meetings/new").text
    assert 'name="entries[0].social_fund_paid" value="500"' in blank  # fields keep ASCII
    browser.post("/language", data={"digits": "latin", "_csrf_token": csrf_of(khmer.text)})
    assert 'id="cash-box">210,000 ៛' in browser.get(f"/groups/{GROUP_A}").text
