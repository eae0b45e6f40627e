"""The treasurer in a real browser (Debian's chromium through Playwright), on a phone-sized
screen: sign in, switch to Khmer, record a meeting of 20 members, see the balances change
and find the meeting through the API; a wrong count; another group; signed out."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer
from tests.web.browser import chromium, live_server
from tests.web.conftest import GROUP_A, GROUP_B, MEMBERS, TREASURER

PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def server(db: Database, groups: tuple[str, str]) -> Iterator[str]:
    with live_server(db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def phone(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, base_url=server, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page) -> None:
    page.goto("/")
    page.fill("input[name=username]", TREASURER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    expect(page).to_have_url(re.compile(rf"/groups/{GROUP_A}$"))


def fill_meeting(page: Page, cash: str) -> None:
    page.click("text=" + "ចាប់ផ្តើមការប្រជុំ")
    page.fill("input[name=date]", "2026-01-12")
    for index in range(MEMBERS):
        page.fill(f"input[name='entries[{index}].shares']", "2")
    page.fill("input[name=cash_counted]", cash)


_auditors = itertools.count(1)


def api_meetings(db: Database, server: str) -> list[dict[str, object]]:
    headers = bearer(db, f"sokha.auditor{next(_auditors)}", "auditor")
    response = httpx.get(f"{server}/api/groups/{GROUP_A}/meetings", headers=headers)
    assert response.status_code == 200, response.text
    meetings: list[dict[str, object]] = response.json()["items"]
    return meetings


def test_a_treasurer_records_a_meeting_in_khmer(phone: Page, db: Database, server: str) -> None:
    sign_in(phone)
    expect(phone.locator("#cash-box")).to_have_text("0 ៛")
    phone.click("button[name=lang][value=km]")
    expect(phone.locator("h1")).to_be_visible()
    expect(phone.locator("dt").first).to_have_text("ប្រអប់ប្រាក់")
    fill_meeting(phone, "210000")
    phone.click("button[name=step][value=review]")
    expect(phone.locator("#cash-expected")).to_have_text("210,000 ៛")
    phone.click("#save")
    expect(phone.locator("#cash-box")).to_have_text("210,000 ៛")
    expect(phone.locator("#social-fund")).to_have_text("10,000 ៛")
    expect(phone.locator("#saved")).to_have_text("ការប្រជុំត្រូវបានរក្សាទុកហើយ។")
    meetings = api_meetings(db, server)
    assert len(meetings) == 1
    assert meetings[0]["date"] == "2026-01-12"
    assert meetings[0]["cash_counted"] == "210000"


def test_a_wrong_count_is_shown_in_khmer_beside_the_count(
    phone: Page, db: Database, server: str
) -> None:
    sign_in(phone)
    phone.click("button[name=lang][value=km]")
    fill_meeting(phone, "200000")
    phone.click("button[name=step][value=review]")
    phone.click("#save")
    beside = phone.locator("[data-field=cash_counted]")
    expect(beside).to_contain_text("ប្រអប់ប្រាក់")
    assert phone.locator("input[name=cash_counted]").get_attribute("aria-invalid") == "true"
    assert api_meetings(db, server) == []


def test_another_groups_pages_are_not_found(phone: Page) -> None:
    sign_in(phone)
    for path in ("", "/meetings/new", "/members/M01"):
        response = phone.goto(f"/groups/{GROUP_B}{path}")
        assert response is not None
        assert response.status == 404, path


def test_a_signed_out_browser_is_sent_to_sign_in(phone: Page) -> None:
    phone.goto(f"/groups/{GROUP_A}/meetings/new")
    expect(phone.locator("input[name=username]")).to_be_visible()
    assert phone.url.endswith(f"/?next=/groups/{GROUP_A}/meetings/new")
    phone.fill("input[name=username]", TREASURER)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form[action='/sign-in'] button")
    expect(phone.locator("input[name=cash_counted]")).to_be_visible()
