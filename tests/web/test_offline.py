"""Offline: the treasurer's phone loses the network, records the meeting anyway, reloads the
page with no network, and when the network returns the meeting is sent exactly once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ledger.store.database import Database
from tests.web.browser import chromium
from tests.web.conftest import GROUP_A, MEMBERS
from tests.web.test_browser import PHONE, api_meetings, server, sign_in

__all__ = ["server"]  # the live-server fixture, shared with the browser tests
CONTROLLED = """async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
}"""


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


def visit_while_online(page: Page) -> None:
    """Sign in, let the service worker take the page over, then open the pages to keep."""
    sign_in(page)
    # Not wait_for_function: its predicate is an eval, which the pages' CSP refuses.
    page.evaluate(CONTROLLED)
    page.reload()
    page.goto(f"/groups/{GROUP_A}/meetings/new")
    expect(page.locator("#meeting-form")).to_be_visible()


def test_a_meeting_kept_offline_is_sent_once_when_the_network_returns(
    phone: Page, db: Database, server: str
) -> None:
    visit_while_online(phone)
    phone.context.set_offline(True)
    phone.fill("input[name=date]", "2026-01-12")
    for index in range(MEMBERS):
        phone.fill(f"input[name='entries[{index}].shares']", "2")
    phone.fill("input[name=cash_counted]", "210000")
    phone.click("#keep")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "waiting")
    assert api_meetings(db, server) == []

    phone.reload()  # no network: the page comes from the phone
    expect(phone.locator("#meeting-form")).to_be_visible()
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "waiting")
    expect(phone.locator("#outbox .outbox-text")).to_have_text(re.compile("waiting to send"))

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "sent")
    phone.reload()
    meetings = api_meetings(db, server)
    assert len(meetings) == 1
    assert meetings[0]["cash_counted"] == "210000"


def test_a_meeting_refused_after_the_network_returns_needs_attention(
    phone: Page, db: Database, server: str
) -> None:
    visit_while_online(phone)
    phone.context.set_offline(True)
    phone.fill("input[name=date]", "2026-01-12")
    for index in range(MEMBERS):
        phone.fill(f"input[name='entries[{index}].shares']", "2")
    phone.fill("input[name=cash_counted]", "999")  # the box holds 210,000: a wrong count
    phone.click("#keep")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "waiting")
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("#outbox")).to_have_attribute("data-state", "attention")
    phone.click("#outbox .outbox-open")
    expect(phone.locator("[data-field=cash_counted]")).to_be_visible()
    assert api_meetings(db, server) == []
