"""The treasurer's pages through HTTP: sign-in, the group's home, a meeting of 20 members
posted as one form, and hostile input (no CSRF token, another group, bad numbers)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import bearer
from tests.web.conftest import GROUP_A, GROUP_B, MEMBERS, TREASURER, csrf_of, sign_in


def meeting_form(client: TestClient[Any], cash: str, **extra: str) -> dict[str, str]:
    """The blank meeting form as the page offers it, each member buying 2 shares."""
    page = client.get(f"/groups/{GROUP_A}/meetings/new")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    form = {
        "_csrf_token": csrf_of(page.text),
        "idempotency_key": key.group(1),
        "date": "2026-01-12",
        "cash_counted": cash,
    }
    for index in range(MEMBERS):
        form[f"entries[{index}].attendance"] = "present"
        form[f"entries[{index}].shares"] = "2"
        form[f"entries[{index}].social_fund_paid"] = "500"
    return {**form, **extra}


_auditors = itertools.count(1)


def api_meetings(db: Database, client: TestClient[Any]) -> list[dict[str, Any]]:
    """The group's meetings as the API shows them to an auditor."""
    headers = bearer(db, f"sokha.auditor{next(_auditors)}", "auditor")
    response = client.get(f"/api/groups/{GROUP_A}/meetings", headers=headers)
    assert response.status_code == 200, response.text
    meetings: list[dict[str, Any]] = response.json()["items"]
    return meetings


def test_landing_page_has_a_sign_in_form_and_links_the_schema(db: Database) -> None:
    from tests.api.conftest import make_client

    with make_client(db) as client:
        landing = client.get("/")
        assert landing.status_code == 200
        assert 'action="/sign-in"' in landing.text
        assert 'href="/schema"' in landing.text
        assert "httponly" in landing.headers["set-cookie"].lower()


def test_a_treasurer_lands_on_their_group_home(db: Database, groups: tuple[str, str]) -> None:
    from tests.api.conftest import make_client

    with make_client(db) as client:
        signed_in = sign_in(client, TREASURER)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == f"/groups/{GROUP_A}"
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        home = client.get(signed_in.headers["location"])
        assert home.status_code == 200
        assert "Prasat Balang" in home.text
        assert "M20" in home.text


def test_a_wrong_password_stays_on_the_form(db: Database, groups: tuple[str, str]) -> None:
    from tests.api.conftest import make_client

    with make_client(db) as client:
        refused = sign_in(client, TREASURER, "not the password at all")
        assert refused.status_code == 401
        assert "Wrong username or password." in refused.text
        assert client.get(f"/groups/{GROUP_A}", follow_redirects=False).status_code == 303


def test_a_signed_out_browser_is_sent_to_sign_in(db: Database, groups: tuple[str, str]) -> None:
    from tests.api.conftest import make_client

    with make_client(db) as client:
        response = client.get(f"/groups/{GROUP_A}/meetings/new", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/?next=/groups/{GROUP_A}/meetings/new"


def test_signing_out_revokes_the_session(browser: TestClient[Any]) -> None:
    home = browser.get(f"/groups/{GROUP_A}")
    cookie = browser.cookies.get("ledger_session") or ""
    out = browser.post(
        "/sign-out", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    browser.cookies.set("ledger_session", cookie)  # a copied cookie no longer signs in
    assert browser.get(f"/groups/{GROUP_A}", follow_redirects=False).status_code == 303


def test_another_groups_pages_are_not_found(browser: TestClient[Any]) -> None:
    for path in ("", "/meetings/new", "/members/M01", "/share-out", "/members/M01/passbook.pdf"):
        response = browser.get(f"/groups/{GROUP_B}{path}")
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
    assert browser.get("/groups/sg-nowhere-999").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(browser: TestClient[Any], db: Database) -> None:
    form = meeting_form(browser, "210000", step="save")
    del form["_csrf_token"]
    assert browser.post(f"/groups/{GROUP_A}/meetings/", data=form).status_code == 403
    assert browser.post("/sign-out", data={}).status_code == 403
    assert api_meetings(db, browser) == []


def test_a_meeting_of_twenty_members_is_recorded_once(
    browser: TestClient[Any], db: Database
) -> None:
    # 20 members x (2 shares x 5,000 + 500 social fund) = 210,000 riel in the box.
    form = meeting_form(browser, "210000")
    review = browser.post(f"/groups/{GROUP_A}/meetings/", data={**form, "step": "review"})
    assert review.status_code == 200, review.text
    assert 'id="cash-expected"><strong>210,000 ៛' in review.text
    assert api_meetings(db, browser) == []  # the review records nothing
    saved = browser.post(
        f"/groups/{GROUP_A}/meetings/", data={**form, "step": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    again = browser.post(
        f"/groups/{GROUP_A}/meetings/", data={**form, "step": "save"}, follow_redirects=False
    )
    assert again.status_code == 303  # the same key: the first answer, no second meeting
    meetings = api_meetings(db, browser)
    assert len(meetings) == 1
    assert len(meetings[0]["entries"]) == MEMBERS
    home = browser.get(saved.headers["location"])
    assert 'id="cash-box">210,000 ៛' in home.text
    assert 'id="social-fund">10,000 ៛' in home.text


def test_a_wrong_cash_count_is_shown_beside_the_count_in_khmer(
    browser: TestClient[Any], db: Database
) -> None:
    browser.cookies.set("ledger_lang", "km")
    form = meeting_form(browser, "200000", step="save")
    refused = browser.post(f"/groups/{GROUP_A}/meetings/", data=form)
    assert refused.status_code == 409
    beside = re.search(r'data-field="cash_counted">([^<]+)<', refused.text)
    assert beside is not None
    assert "ប្រអប់ប្រាក់" in beside.group(1)
    assert api_meetings(db, browser) == []


def test_bad_numbers_are_shown_beside_their_field(browser: TestClient[Any], db: Database) -> None:
    form = meeting_form(
        browser,
        "21O000",
        **{"entries[3].shares": "two", "entries[4].loan_repaid": "-5", "date": "2026-13-45"},
        step="save",
    )
    refused = browser.post(f"/groups/{GROUP_A}/meetings/", data=form)
    assert refused.status_code == 422
    for field in ("cash_counted", "entries[3].shares", "entries[4].loan_repaid", "date"):
        assert f'data-field="{field}"' in refused.text, field
    assert api_meetings(db, browser) == []


def test_a_repayment_above_the_debt_is_shown_beside_the_member(
    browser: TestClient[Any], db: Database
) -> None:
    form = meeting_form(browser, "215000", step="save", **{"entries[5].loan_repaid": "5000"})
    refused = browser.post(f"/groups/{GROUP_A}/meetings/", data=form)
    assert refused.status_code in (409, 422), refused.text
    assert 'data-field="entries[5].loan_repaid"' in refused.text
    assert api_meetings(db, browser) == []
