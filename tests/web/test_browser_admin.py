"""The administrator in a real browser (Debian's chromium): lands on the users, creates an
officer through the form (a mistake is shown beside its field, in Khmer, with what was typed
kept), sets the officer's scopes, and revokes a phone's token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD
from tests.web.browser import chromium, live_server

ADMIN = "srey.admin"


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    db.write(lambda conn: users.create_user(conn, ADMIN, PASSWORD, "admin", ()))
    with live_server(db) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def admin(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=server, locale="km-KH"
    )
    page = context.new_page()
    page.goto("/")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    expect(page).to_have_url(re.compile(r"/admin$"))
    yield page
    context.close()


def test_an_admin_creates_an_officer_and_sets_the_scopes(admin: Page, db: Database) -> None:
    admin.fill("#create-user input[name=username]", "Dara Officer")
    admin.fill("#create-user input[name=password]", "a long enough password")
    admin.select_option("#create-user select[name=role]", "officer")
    admin.fill("#create-user textarea[name=scopes]", "province:Svay Rieng")
    admin.click("#create-user button")
    error = admin.locator("[data-field=username]")
    expect(error).to_contain_text("អក្សរតូច")  # the username's rule, in Khmer
    expect(admin.locator("#create-user input[name=username]")).to_have_value("Dara Officer")
    expect(admin.locator("#create-user textarea[name=scopes]")).to_have_value("province:Svay Rieng")
    admin.fill("#create-user input[name=username]", "dara.officer")
    admin.fill("#create-user input[name=password]", "a long enough password")
    admin.click("#create-user button")
    expect(admin).to_have_url(re.compile(r"/admin/users/\d+\?saved=1$"))
    expect(admin.locator("h1")).to_have_text("dara.officer")
    admin.fill("#scopes-form textarea[name=scopes]", "province:Svay Rieng\nprovince:Prey Veng")
    admin.click("#scopes-form button")
    expect(admin.locator("#saved")).to_be_visible()
    with db.read() as conn:
        officer = next(u for u in users.list_users(conn) if u.username == "dara.officer")
    assert set(officer.scopes) == {"province:Svay Rieng", "province:Prey Veng"}


def test_an_admin_revokes_a_phone(admin: Page, db: Database, browser: Browser, server: str) -> None:
    db.write(lambda conn: users.create_user(conn, "sreymom.treasurer", PASSWORD, "treasurer", ()))
    phone = browser.new_context(viewport={"width": 360, "height": 740}, base_url=server)
    treasurer = phone.new_page()
    treasurer.goto("/")
    treasurer.fill("input[name=username]", "sreymom.treasurer")
    treasurer.fill("input[name=password]", PASSWORD)
    treasurer.check("input[name=keep]")
    treasurer.click("form[action='/sign-in'] button")
    treasurer.wait_for_load_state()
    admin.goto("/admin/tokens")
    row = admin.locator("#tokens tr", has_text="sreymom.treasurer")
    row.locator("button").click()
    expect(admin.locator("#saved")).to_be_visible()
    treasurer.goto("/home")
    expect(treasurer).to_have_url(re.compile(r"/\?next=/home$"))  # signed out
    phone.close()
