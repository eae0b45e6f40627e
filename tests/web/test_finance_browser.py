"""The finance team in a real browser (Debian's chromium through Playwright): upload the
sample ABA statement, accept the 1:n proposal and the others, close the reconciliation,
count the cash, close the period; then a posting dated inside the closed period is refused
in Khmer beside its date. And the transaction form: the balance per currency while one
types, an unbalanced entry refused beside its rows with what was typed kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer, make_client
from tests.api.grants_world import BANK, BAVET, ok
from tests.web.browser import chromium, live_server
from tests.web.finance_world import ABA, CHARGES, FINANCE, INTEREST, build_finance_world

DATA = Path(__file__).resolve().parents[1] / "data"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PERIOD_LOCKED_KM = "កាលបរិច្ឆេទនេះស្ថិតក្នុងរយៈពេលដែលបានបិទបញ្ជីហើយ។"


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    accounts = build_finance_world(db)
    # The operating account moved no money after the transfer to ABA: its statement is
    # closed at 2,500.00 USD through the API, so the close waits only on ABA and the cash.
    with make_client(db) as api:
        api.headers.update(bearer(db, "dara.finance", "finance"))
        close = {"date": "2018-12-31", "closing_balance": "2500.00"}
        ok(api.post(f"/api/books/org/accounts/{accounts[BANK]}/reconciliations", json=close))
    with live_server(db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def desk(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=server, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page) -> None:
    page.goto("/")
    page.fill("input[name=username]", FINANCE)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    expect(page).to_have_url(re.compile(r"/finance$"))


def upload_and_match(page: Page) -> None:
    page.click("nav.subnav >> text=Reconcile")
    page.select_option("select[name=account_id]", label=f"{ABA} (USD)")
    page.select_option("select[name=format]", "aba")
    page.set_input_files("input[name=file]", str(DATA / "statement-aba-usd.csv"))
    page.click("#upload")
    expect(page).to_have_url(re.compile(r"/reconcile/\d+$"))
    expect(page.locator("article.proposal")).to_have_count(3)
    page.click("article[data-kind=one_line_to_many] button[value=accept]")
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("article[data-kind=one_line_to_many]")).to_have_count(0)
    for kind in ("one_to_one", "many_lines_to_one"):
        page.click(f"article[data-kind={kind}] button[value=accept]")
        expect(page.locator(f"article[data-kind={kind}]")).to_have_count(0)
    expect(page.locator("#no-proposals")).to_be_visible()
    page.fill("#close-form input[name=date]", "2018-12-31")
    page.select_option("#close-form select[name=adjustment_account]", INTEREST)
    page.click("#close")
    expect(page.locator("#saved")).to_contain_text("closed")


def close_the_period(page: Page) -> None:
    page.goto("/close/?date=2018-12-31")
    expect(page.locator(f"tr[data-account='{BAVET}']")).to_have_class("todo")
    page.click("#close-period")
    expect(page.locator(f"tr[data-account='{BAVET}'] .error")).to_be_visible()
    expect(page.locator("#lock-date")).to_contain_text("not closed yet")
    page.click("nav.subnav >> text=Cash counts")
    page.select_option("select[name=account_id]", label=f"{BAVET} (KHR)")
    page.fill("input[name=date]", "2018-12-31")
    page.fill("input[name=amount]", "4112000")
    page.click("#count")
    expect(page.locator("#saved")).to_be_visible()
    page.goto("/close/?date=2018-12-31")
    expect(page.locator("tr.todo")).to_have_count(0)
    page.click("#close-period")
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("#lock-date")).to_contain_text("2018")


def fill_posting(page: Page, date: str, amounts: tuple[str, str]) -> None:
    page.fill("input[name=date]", date)
    page.fill("input[name=narration]", "Bank fee found late")
    page.fill("input[name='postings[0].account']", CHARGES)
    page.fill("input[name='postings[0].amount']", amounts[0])
    page.fill("input[name='postings[1].account']", ABA)
    page.fill("input[name='postings[1].amount']", amounts[1])


def test_finance_reconciles_closes_the_period_and_a_late_posting_is_refused_in_khmer(
    desk: Page,
) -> None:
    sign_in(desk)
    upload_and_match(desk)
    close_the_period(desk)
    desk.click("button[name=lang][value=km]")
    desk.goto("/journal/new")
    fill_posting(desk, "2018-12-15", ("1.00", "-1.00"))
    desk.click("#save")
    expect(desk.locator("[id='err-date']")).to_have_text(PERIOD_LOCKED_KM)
    expect(desk.locator("input[name=narration]")).to_have_value("Bank fee found late")
    desk.goto("/journal/?text=found+late")
    expect(desk.locator("#no-transactions")).to_be_visible()


def test_the_transaction_form_shows_the_balance_and_refuses_an_unbalanced_entry(
    desk: Page,
) -> None:
    sign_in(desk)
    desk.goto("/journal/new")
    fill_posting(desk, "2019-01-15", ("2.00", "-1.50"))
    expect(desk.locator("#balance-list li[data-currency=USD]")).to_contain_text("0.50")
    expect(desk.locator("#balance-list li[data-currency=USD]")).to_have_class("error")
    desk.click("#save")
    expect(desk.locator("[id='err-postings']")).to_be_visible()
    expect(desk.locator("input[name='postings[1].amount']")).to_have_value("-1.50")
    expect(desk.locator("input[name='postings[0].account']")).to_have_value(CHARGES)
    desk.fill("input[name='postings[1].amount']", "-2.00")
    expect(desk.locator("#balance-list li[data-currency=USD]")).to_have_class("ok")
    desk.click("#save")
    expect(desk.locator("#saved")).to_be_visible()
    expect(desk.locator("#txn-narration")).to_have_text("Bank fee found late")
