"""Two livelihood officers in a real browser (Debian's chromium through Playwright): one
proposes a 1,000,000 riel grant, the other approves it, the first disburses it (a double click
records once) and fetches the receipt, whose text holds the case code and no name; the
proposer of a grant above the threshold has no approve button and the API refuses them too;
a training's day of attendance and a certificate.

The grant is in riel (what the household receives) on the dollar award CCPCR-2026, whose
threshold is 200.00 USD: the 1,000,000 riel commit 243.19 USD (tests/web/officer_grants_world.py).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer, make_client
from tests.api.grants_world import BAVET, PERSON, household, ok
from tests.api.training_world import build_cohort
from tests.web.browser import chromium, live_server
from tests.web.officer_grants_world import (
    AWARD,
    CASE,
    CHECKER,
    LINE,
    PROPOSER,
    OfficerWorld,
    build_officer_world,
)

PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def world(db: Database) -> OfficerWorld:
    with make_client(db) as api:
        api.headers.update(bearer(db, "sopheap.finance", "finance"))
        built = build_officer_world(api, db)
        ok(
            api.put(
                f"/api/contacts/{CASE}",
                json={"province": "Svay Rieng", "name": PERSON, "phone": "+855 12 345 678"},
                headers=built.api.officer,
            ),
            200,
        )
        return built


@pytest.fixture
def server(db: Database, world: OfficerWorld) -> Iterator[str]:
    with live_server(db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def officer_page(browser: Browser, server: str, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=PHONE, base_url=server, locale="en-US")
    page = context.new_page()
    page.goto("/?next=/grants")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    expect(page).to_have_url(re.compile(r"/grants$"))
    return context, page


def api_grants(db: Database, server: str, who: str) -> list[dict[str, object]]:
    headers = bearer(db, who, "auditor")
    response = httpx.get(f"{server}/api/grants", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def propose(page: Page) -> str:
    """Propose 1,000,000 riel for DV-009's pigs; the grant page's path."""
    page.goto(f"/grants/new?case_code={CASE}")
    expect(page.locator("input[name=case_code]")).to_have_value(CASE)
    page.select_option("select[name=line]", f"{AWARD}/{LINE}")
    page.select_option("select[name=business_type]", "pig_raising")
    expect(page.locator("select[name=currency]")).to_have_value("KHR")
    page.fill("input[name=approved_amount]", "1000000")
    page.fill("textarea[name=purpose]", "Two piglets, a pen and feed")
    page.click("#propose")
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("#approved-amount")).to_have_text("1,000,000 ៛")
    return re.sub(r"^https?://[^/]+|\?.*$", "", page.url)


def test_propose_approve_disburse_and_print_the_receipt(
    browser: Browser, server: str, db: Database
) -> None:
    dara_context, dara = officer_page(browser, server, PROPOSER)
    grant_path = propose(dara)
    expect(dara.locator("#approve")).to_have_count(0)
    expect(dara.locator("#needs-second-person")).to_be_visible()
    sokha_context, sokha = officer_page(browser, server, CHECKER)
    sokha.click(f"#approval-queue a[href='{grant_path}']")
    sokha.click("#approve")
    expect(sokha.locator("#status")).to_have_text("Approved")
    expect(sokha.locator("#approved-by")).to_contain_text(CHECKER)
    sokha_context.close()

    dara.goto(grant_path)
    dara.click("#disburse")
    dara.fill("input[name=date]", "2018-11-20")
    dara.select_option("select[name=method]", "cash")
    dara.select_option("select[name=paid_from]", BAVET)
    dara.fill("input[name=amount]", "1000000")
    dara.dblclick("#record-disbursement")  # a double click: one disbursement
    expect(dara.locator("#status")).to_have_text("Paid in full")
    expect(dara.locator("a.receipt")).to_have_count(1)
    grants = api_grants(db, server, "sokha.auditor")
    assert [(g["status"], g["disbursed"]) for g in grants] == [("fully_disbursed", "1000000")]

    receipt = dara.locator("a.receipt").get_attribute("href")
    assert receipt is not None
    pdf = dara.request.get(receipt)  # with the page's session cookie
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.body(), capture_output=True, check=True
    ).stdout.decode()
    assert CASE in text
    assert PERSON not in text
    dara_context.close()


def test_the_proposer_cannot_approve_above_the_threshold(
    browser: Browser, server: str, db: Database, world: OfficerWorld
) -> None:
    context, dara = officer_page(browser, server, PROPOSER)
    grant_path = propose(dara)
    expect(dara.locator("#approve")).to_have_count(0)
    dara.goto("/grants")
    expect(dara.locator(f"#approval-queue a[href='{grant_path}']")).to_have_count(0)
    refused = httpx.post(f"{server}/api{grant_path}/approve", headers=world.api.officer)
    assert refused.status_code == 403
    assert refused.json()["code"] == "approval_needs_second_person"
    assert [g["status"] for g in api_grants(db, server, "vanna.auditor")] == ["proposed"]
    context.close()


def test_a_double_submitted_disbursement_records_once(
    browser: Browser, server: str, db: Database, world: OfficerWorld
) -> None:
    with make_client(db) as api:
        grant = ok(
            api.post(
                "/api/grants",
                json={
                    "case_code": CASE,
                    "award": AWARD,
                    "budget_line": LINE,
                    "business_type": "chicken_raising",
                    "currency": "KHR",
                    "approved_amount": "800000",
                },
                headers=world.api.officer,
            )
        )
        ok(api.post(f"/api/grants/{grant['id']}/approve", headers=world.api.other_officer), 200)
    context, dara = officer_page(browser, server, PROPOSER)
    dara.goto(f"/grants/{grant['id']}/disburse")
    dara.fill("input[name=date]", "2018-11-21")
    dara.select_option("select[name=method]", "in_kind")
    dara.select_option("select[name=paid_from]", BAVET)
    dara.select_option("select[name='items[0].commodity']", "CHICKEN")
    dara.fill("input[name='items[0].quantity']", "20")
    dara.fill("input[name='items[0].unit_cost']", "20000")
    posts: list[str] = []
    dara.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # The same form sent twice at once (a double tap on a slow line: Chromium itself sends a
    # double click once), then once more by its button (a resend after a timeout).
    statuses = dara.evaluate(
        """async () => {
          const form = document.getElementById('disburse-form');
          const send = () => fetch(form.action, {method: 'POST',
                                                 body: new URLSearchParams(new FormData(form))});
          return (await Promise.all([send(), send()])).map(r => r.status);
        }"""
    )
    assert statuses == [200, 200]
    dara.click("#record-disbursement")
    expect(dara.locator("#saved")).to_be_visible()
    expect(dara.locator("a.receipt")).to_have_count(1)
    assert len(posts) == 3
    grants = api_grants(db, server, "dara.auditor")
    assert [g["disbursed"] for g in grants] == ["400000"]
    context.close()


@pytest.fixture
def cohort_server(db: Database) -> Iterator[tuple[str, int]]:
    """The training cohort (tests/api/training_world.py) and household LA-102, served."""
    with make_client(db) as api:
        api.headers.update(bearer(db, "sopheap.finance", "finance"))
        cohort = build_cohort(api, db)
        ok(api.post("/api/households", json=household("LA-102"), headers=cohort.world.officer))
    with live_server(db) as base_url:
        yield base_url, cohort.training_id


def test_a_training_day_and_a_certificate(browser: Browser, cohort_server: tuple[str, int]) -> None:
    server, training_id = cohort_server
    context = browser.new_context(viewport=PHONE, base_url=server, locale="en-US")
    page = context.new_page()
    page.goto(f"/?next=/trainings/{training_id}")
    page.fill("input[name=username]", PROPOSER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    expect(page.locator("#completed")).to_have_text("1")
    page.fill("#participant-form input[name=case_code]", "LA-102")
    page.click("#add-participant")
    expect(page.locator("#participant-LA-102")).to_be_visible()
    page.select_option("#attendance-form select[name=date]", "2018-11-07")
    for box in page.locator("#attendance-form input[type=checkbox]").all():
        if box.get_attribute("value") != "LA-102":
            box.uncheck()
    page.click("#record-attendance")
    expect(page.locator("#saved")).to_be_visible()
    expect(page.locator("#participant-LA-102 td.num", has_text="✓")).to_have_count(1)
    certificate = page.locator("#participant-DV-009 a.certificate").get_attribute("href")
    assert certificate is not None
    pdf = page.request.get(certificate)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    context.close()
