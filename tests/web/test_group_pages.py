"""The passbook, the share-out and the sign-in form against hostile input."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import make_client
from tests.web.conftest import GROUP_A, TREASURER, csrf_of, sign_in
from tests.web.test_pages import meeting_form


def test_the_passbook_shows_the_members_shares_and_links_the_pdf(
    browser: TestClient[Any],
) -> None:
    form = meeting_form(browser, "210000", step="save")
    assert browser.post(f"/groups/{GROUP_A}/meetings/", data=form).status_code == 200
    passbook = browser.get(f"/groups/{GROUP_A}/members/M07")
    assert passbook.status_code == 200
    assert "Passbook M07" in passbook.text
    assert "10,000 ៛" in passbook.text  # 2 shares at 5,000 riel
    pdf = browser.get(f"/groups/{GROUP_A}/members/M07/passbook.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert browser.get(f"/groups/{GROUP_A}/members/M99").status_code == 404


def test_the_share_out_needs_a_confirmation_and_the_cycle_end(browser: TestClient[Any]) -> None:
    form = meeting_form(browser, "210000", step="save")
    browser.post(f"/groups/{GROUP_A}/meetings/", data=form)
    preview = browser.get(f"/groups/{GROUP_A}/share-out")
    assert preview.status_code == 200
    assert "M20" in preview.text
    assert "210,000 ៛" in preview.text
    token = csrf_of(preview.text)
    unconfirmed = browser.post(
        f"/groups/{GROUP_A}/share-out", data={"_csrf_token": token, "date": "2026-01-13"}
    )
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm." in unconfirmed.text
    early = browser.post(
        f"/groups/{GROUP_A}/share-out",
        data={"_csrf_token": token, "date": "2026-01-13", "confirm": "yes"},
    )
    assert early.status_code == 409  # the cycle is planned to end on 2026-06-29
    assert "2026-06-29" in early.text
    assert "This share-out is done." not in browser.get(f"/groups/{GROUP_A}/share-out").text
    bad_date = browser.post(
        f"/groups/{GROUP_A}/share-out",
        data={"_csrf_token": token, "date": "not a date", "confirm": "yes"},
    )
    assert bad_date.status_code == 422


def test_sign_in_never_sends_the_browser_to_another_site(
    db: Database, groups: tuple[str, str]
) -> None:
    with make_client(db) as client:
        landing = client.get("/", params={"next": "//evil.example/steal"})
        assert "evil.example" not in landing.text
        for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
            response = client.post(
                "/sign-in",
                data={
                    "username": TREASURER,
                    "password": "correct horse battery staple",
                    "next": target,
                    "_csrf_token": csrf_of(landing.text),
                },
                follow_redirects=False,
            )
            assert response.status_code == 303
            assert response.headers["location"] == f"/groups/{GROUP_A}"


def test_hostile_form_values_never_reach_a_500(browser: TestClient[Any]) -> None:
    form = meeting_form(
        browser,
        "1" * 400,
        **{
            "idempotency_key": "<script>",
            "entries[0].attendance": "\x00",
            "entries[1].shares": "9" * 50,
            "entries[2].loan_taken.amount": "5000",
            "entries[2].loan_taken.term_months": "0",
            "entries[99].shares": "3",
            "cash_difference_reason": "x" * 5000,
        },
        step="save",
    )
    refused = browser.post(f"/groups/{GROUP_A}/meetings/", data=form)
    assert refused.status_code in (409, 422), refused.text[:300]
    assert "<script>" not in refused.text.split('name="idempotency_key"', 1)[1][:80]
    for field in (
        "cash_counted",
        "entries[0].attendance",
        "entries[1].shares",
        "entries[2].loan_taken.term_months",
    ):
        assert f'data-field="{field}"' in refused.text, field


def test_a_stranger_cannot_sign_in_with_a_forged_cookie(db: Database) -> None:
    with make_client(db) as client:
        client.cookies.set("ledger_session", "llt_forged-secret")
        assert client.get("/home", follow_redirects=False).status_code == 303
        refused = sign_in(client, "nobody.at.all", "whatever password")
        assert refused.status_code == 401


def test_a_reader_is_not_offered_the_meeting_or_the_share_out(
    db: Database, groups: tuple[str, str]
) -> None:
    from ledger.access import users
    from tests.api.conftest import PASSWORD

    db.write(lambda conn: users.create_user(conn, "sokha.auditor", PASSWORD, "auditor", ()))
    with make_client(db) as client:
        assert sign_in(client, "sokha.auditor").headers["location"] == "/audit"
        assert f'href="/groups/{GROUP_A}"' in client.get("/home").text
        home = client.get(f"/groups/{GROUP_A}")
        assert home.status_code == 200
        assert "/meetings/new" not in home.text
        assert 'action="/groups/' not in client.get(f"/groups/{GROUP_A}/share-out").text
        refused = client.get(f"/groups/{GROUP_A}/meetings/new")
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
