"""The livelihood officer in a real browser (Debian's chromium through Playwright) on a phone:
register a household and find it; another province's household is not found; a visit kept
offline is sent exactly once when the network returns and shows on the household page; a
wrong visit is refused in Khmer and writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer
from tests.web.browser import chromium, live_server
from tests.web.officer_world import FAR_HOUSEHOLD, HOUSEHOLD, OFFICER, officers
from tests.web.test_browser import PHONE
from tests.web.test_offline import CONTROLLED

__all__ = ["officers"]  # the fixture


@pytest.fixture
def server(db: Database, officers: dict[str, Any]) -> Iterator[str]:
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


_readers = iter(range(1, 1000))


def visits(db: Database, server: str) -> list[dict[str, Any]]:
    headers = bearer(db, f"browser.auditor{next(_readers)}", "auditor")
    response = httpx.get(f"{server}/api/households/{HOUSEHOLD}/visits", headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def sign_in(page: Page) -> None:
    page.goto("/")
    page.fill("input[name=username]", OFFICER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    expect(page).to_have_url(re.compile(r"/households$"))


def test_an_officer_registers_a_household_and_finds_it(phone: Page) -> None:
    sign_in(phone)
    phone.click("#register")
    phone.fill("input[name=case_code]", "LA-201")
    phone.fill("input[name=consent_date]", "2019-01-15")
    phone.fill("input[name=district]", "Svay Teab")
    phone.fill("input[name=commune]", "Kokir")
    phone.fill("input[name=village]", "Thlok")
    phone.select_option("select[name=head_sex]", "male")
    phone.select_option("select[name=head_age_band]", "25-34")
    phone.fill("input[name=members]", "4")
    phone.fill("input[name=children]", "2")
    phone.select_option("select[name=category]", "repatriated_migrant")
    phone.click("#save")
    expect(phone).to_have_url(re.compile(r"/households/LA-201\?registered=1$"))
    expect(phone.locator("h1")).to_have_text("LA-201")
    phone.click("nav a[href='/households']")
    expect(phone.locator("#households")).to_contain_text("LA-201")
    phone.fill("input[name=q]", "la-2")
    phone.click("form[role=search] button")
    expect(phone.locator("#households")).to_contain_text("LA-201")
    expect(phone.locator("#households")).not_to_contain_text(HOUSEHOLD)


def test_another_provinces_household_is_not_found(phone: Page) -> None:
    sign_in(phone)
    expect(phone.locator("#households")).not_to_contain_text(FAR_HOUSEHOLD)
    for path in ("", "/contacts"):
        response = phone.goto(f"/households/{FAR_HOUSEHOLD}{path}")
        assert response is not None
        assert response.status == 404, path


def fill_visit(page: Page) -> None:
    page.select_option("select[name='species[0].species']", "PIG")
    page.fill("input[name='species[0].births']", "3")
    page.fill("input[name='species[0].counted']", "3")
    page.fill("input[name='income.crops']", "350000")


def test_a_visit_kept_offline_is_sent_once_when_the_network_returns(
    phone: Page, db: Database, server: str
) -> None:
    sign_in(phone)
    phone.evaluate(CONTROLLED)
    phone.goto(f"/households/{HOUSEHOLD}")
    phone.click("#record-visit")
    expect(phone.locator("#visit-form")).to_be_visible()
    phone.context.set_offline(True)
    fill_visit(phone)
    phone.click("#keep")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "waiting")
    assert visits(db, server) == []

    phone.reload()  # no network: the form comes from the phone
    expect(phone.locator("#visit-form")).to_be_visible()
    expect(phone.locator("#outbox .outbox-text")).to_have_text(re.compile("waiting to send"))

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "sent")
    phone.evaluate("window.dispatchEvent(new Event('online'))")  # nothing left to send
    phone.goto(f"/households/{HOUSEHOLD}")
    expect(phone.locator("#visits")).to_contain_text("counted 3")
    expect(phone.locator("#herd tr[data-species=PIG]")).to_contain_text("3")
    found = visits(db, server)
    assert len(found) == 1
    assert found[0]["species"][0]["births"] == 3


def test_a_wrong_visit_is_refused_in_khmer_and_writes_nothing(
    phone: Page, db: Database, server: str
) -> None:
    sign_in(phone)
    phone.goto(f"/households/{HOUSEHOLD}/visits/new")
    phone.fill("input[name=date]", "2026-11-20")
    fill_visit(phone)
    phone.click("#save")
    expect(phone.locator("#saved")).to_be_visible()
    phone.click("button[name=lang][value=km]")
    phone.click("#record-visit")
    expect(phone.locator("#species-0 legend")).to_contain_text("ជ្រូក")
    phone.fill("input[name='species[0].deaths[0].head']", "5")
    phone.fill("input[name='species[0].counted']", "0")
    phone.click("#save")
    beside = phone.locator("[data-field='species[0].counted']")
    expect(beside).to_contain_text(re.compile("[\u1780-\u17ff]"))
    assert phone.locator("input[name='species[0].counted']").get_attribute("aria-invalid") == "true"
    assert phone.locator("input[name='species[0].deaths[0].head']").input_value() == "5"
    assert len(visits(db, server)) == 1


def test_a_visit_refused_after_the_network_returns_needs_attention(
    phone: Page, db: Database, server: str
) -> None:
    sign_in(phone)
    phone.evaluate(CONTROLLED)
    phone.goto(f"/households/{HOUSEHOLD}/visits/new")
    phone.context.set_offline(True)
    phone.select_option("select[name='species[0].species']", "PIG")
    phone.fill("input[name='species[0].deaths[0].head']", "2")  # the household holds none
    phone.fill("input[name='species[0].counted']", "0")
    phone.click("#keep")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "waiting")
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "attention")
    phone.click("#outbox .outbox-open")
    expect(phone.locator("[data-field='species[0].counted']")).to_be_visible()
    assert visits(db, server) == []
