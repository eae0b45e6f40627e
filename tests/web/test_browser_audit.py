"""An auditor in a real browser (Debian's chromium): signs in, lands on the books to audit,
opens Fava inside the app on the organisation's book and sees the income statement; another
role's book outside its scope is 404; Fava's editor and upload are not reachable, and the
file Fava reads is unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from api.fava import FAVA_DIR_ENV
from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer, make_client
from tests.api.grants_world import programme
from tests.web.browser import chromium, live_server

AUDITOR = "chan.auditor"
OFFICER = "kosal.far.officer"


@pytest.fixture(autouse=True)
def fava_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FAVA_DIR_ENV, str(tmp_path / "fava"))


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    """The grants programme in the organisation's book; an auditor, and an officer of a
    province whose scope does not reach the organisation's book."""
    with make_client(db) as api:
        api.headers.update(bearer(db, "sopheap.finance", "finance"))
        programme(api, db)

    def people(conn: Any) -> None:
        users.create_user(conn, AUDITOR, PASSWORD, "auditor", ())
        users.create_user(conn, OFFICER, PASSWORD, "officer", ("province:Mondulkiri",))

    db.write(people)
    with live_server(db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def signed_in(browser: Browser, server: str, username: str) -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=server, locale="en-US"
    )
    page = context.new_page()
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    return page


def test_an_auditor_reads_the_income_statement_in_fava(browser: Browser, server: str) -> None:
    page = signed_in(browser, server, AUDITOR)
    expect(page).to_have_url(re.compile(r"/audit$"))
    page.click("a[href='/fava/org/']")
    expect(page).to_have_url(re.compile(r"/fava/org/[a-z0-9-]+/income_statement/"))
    expect(page.get_by_text("Net Profit").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Expenses").first).to_be_visible()
    page.context.close()


def test_a_book_outside_the_scope_is_404(browser: Browser, server: str) -> None:
    officer = signed_in(browser, server, OFFICER)
    answer = officer.goto("/fava/org/")
    assert answer is not None
    assert answer.status == 404
    officer.context.close()
    auditor = signed_in(browser, server, AUDITOR)
    answer = auditor.goto("/fava/no-such-book/")
    assert answer is not None
    assert answer.status == 404
    auditor.context.close()


def test_the_editor_and_upload_are_not_reachable(
    browser: Browser, server: str, db: Database
) -> None:
    page = signed_in(browser, server, AUDITOR)
    page.goto("/fava/org/")
    expect(page.get_by_text("Net Profit").first).to_be_visible(timeout=20_000)
    slug = page.url.split("/")[5]
    with make_client(db) as probe:
        path = probe.app.state.fava.file_of("org")
    before = path.read_bytes()
    for blocked in ("editor/", "import/", "api/source", "document/?filename=org.beancount"):
        answer = page.goto(f"/fava/org/{slug}/{blocked}")
        assert answer is not None
        assert answer.status == 404, blocked
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    for method, name in (("PUT", "source"), ("PUT", "add_document"),
                         ("PUT", "upload_import_file"), ("DELETE", "document")):  # fmt: skip
        refused = httpx.request(
            method, f"{server}/fava/org/{slug}/api/{name}", cookies=cookies, content=b"{}"
        )
        assert refused.status_code in (403, 404, 405), (method, name, refused.status_code)
    assert path.read_bytes() == before
    page.context.close()
