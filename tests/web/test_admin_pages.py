"""The administrator's pages through Litestar's test client: users (create, disable, reset a
password, scopes), books and tokens; refusals beside their field in the reader's language,
typed values kept, a resubmitted form recorded once, CSRF on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.ratelimit import SlidingWindowLimiter
from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD, make_client
from tests.web.conftest import csrf_of, sign_in

ADMIN = "srey.admin"
KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def admin(db: Database) -> Iterator[TestClient[Any]]:
    db.write(lambda conn: users.create_user(conn, ADMIN, PASSWORD, "admin", ()))
    with make_client(db) as client:
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        signed_in = sign_in(client, ADMIN)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/admin"
        yield client


def form_of(page: str, **fields: str) -> dict[str, str]:
    key = KEY_RE.search(page)
    assert key is not None
    return {"_csrf_token": csrf_of(page), "idempotency_key": key.group(1), **fields}


def user_id(db: Database, username: str) -> int:
    with db.read() as conn:
        return next(u.id for u in users.list_users(conn) if u.username == username)


def test_an_admin_creates_a_user_once(admin: TestClient[Any], db: Database) -> None:
    page = admin.get("/admin")
    assert page.status_code == 200
    assert ADMIN in page.text
    form = form_of(
        page.text,
        username="dara.officer",
        password="a long enough password",
        role="officer",
        scopes="province:Svay Rieng\n\nprovince:Prey Veng",
    )
    made = admin.post("/admin/users", data=form, follow_redirects=False)
    assert made.status_code == 303
    again = admin.post("/admin/users", data=form, follow_redirects=False)  # a double click
    assert again.status_code == 303
    with db.read() as conn:
        found = [u for u in users.list_users(conn) if u.username == "dara.officer"]
    assert len(found) == 1
    assert set(found[0].scopes) == {"province:Svay Rieng", "province:Prey Veng"}
    shown = admin.get(made.headers["location"])
    assert "dara.officer" in shown.text
    assert "province:Prey Veng" in shown.text


def test_refusals_are_beside_their_field_in_khmer(admin: TestClient[Any], db: Database) -> None:
    page = admin.get("/admin", headers={"Accept-Language": "km"})
    form = form_of(
        page.text, username="Bad Name!", password="short", role="officer", scopes="town:Bavet"
    )
    refused = admin.post("/admin/users", data=form, headers={"Accept-Language": "km"})
    assert refused.status_code == 422
    html = refused.text
    assert 'data-field="username"' in html
    assert 'data-field="password"' in html
    assert 'data-field="scopes"' in html
    assert "ពាក្យសម្ងាត់" in html  # the password's rule, in Khmer
    assert 'value="Bad Name!"' in html  # what was typed is kept ...
    assert 'value="short"' not in html  # ... but never a password
    assert "town:Bavet" in html
    with db.read() as conn:
        assert [u.username for u in users.list_users(conn)] == [ADMIN]


def test_disable_reset_password_and_scopes(admin: TestClient[Any], db: Database) -> None:
    db.write(lambda conn: users.create_user(conn, "kosal.officer", PASSWORD, "officer", ()))
    target = user_id(db, "kosal.officer")
    page = admin.get(f"/admin/users/{target}").text
    scopes = admin.post(
        f"/admin/users/{target}/scopes",
        data=form_of(page, scopes="province:Kampot"),
        follow_redirects=False,
    )
    assert scopes.status_code == 303
    page = admin.get(f"/admin/users/{target}").text  # after a save, a new form and key
    bad = admin.post(f"/admin/users/{target}/scopes", data=form_of(page, scopes="kampot"))
    assert bad.status_code == 422
    assert 'data-field="scopes"' in bad.text
    page = admin.get(f"/admin/users/{target}").text
    password = admin.post(
        f"/admin/users/{target}/password",
        data=form_of(page, password="the new password 2026"),
        follow_redirects=False,
    )
    assert password.status_code == 303
    with make_client(db) as other:
        assert sign_in(other, "kosal.officer", "the new password 2026").status_code == 303
    page = admin.get(f"/admin/users/{target}").text
    disable = admin.post(
        f"/admin/users/{target}/disable", data=form_of(page), follow_redirects=False
    )
    assert disable.status_code == 303
    with db.read() as conn:
        user = users.get_user(conn, target)
    assert user.disabled
    assert user.scopes == ("province:Kampot",)
    with make_client(db) as other:
        assert sign_in(other, "kosal.officer", "the new password 2026").status_code == 401


def test_tokens_are_listed_and_revoked(admin: TestClient[Any], db: Database) -> None:
    db.write(lambda conn: users.create_user(conn, "sreymom.treasurer", PASSWORD, "treasurer", ()))
    with make_client(db) as phone:
        assert sign_in(phone, "sreymom.treasurer").status_code == 303
    page = admin.get("/admin/tokens")
    assert "sreymom.treasurer" in page.text
    action = re.search(r'action="(/admin/users/\d+/tokens/\d+/revoke)"', page.text)
    assert action is not None
    token_id = int(action.group(1).split("/")[-2])
    revoked = admin.post(
        action.group(1), data=form_of(page.text, next="tokens"), follow_redirects=False
    )
    assert revoked.status_code == 303
    with db.read() as conn:
        token = next(t for t in users.list_all_api_tokens(conn) if t.id == token_id)
    assert token.revoked_at is not None


def test_books_are_listed_and_created(admin: TestClient[Any], db: Database) -> None:
    page = admin.get("/admin/books").text
    made = admin.post(
        "/admin/books",
        data=form_of(
            page,
            code="sg-kp-001",
            name="Kampot group",
            kind="savings_group",
            operating_currency="KHR",
            province="Kampot",
        ),
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = admin.get("/admin/books").text
    refused = admin.post(
        "/admin/books",
        data=form_of(
            page, code="NO SPACES", name="x", kind="savings_group", operating_currency="KHR"
        ),
    )
    assert refused.status_code == 422
    assert 'data-field="code"' in refused.text
    assert "sg-kp-001" in admin.get("/admin/books").text


def test_only_an_admin_and_only_with_csrf(admin: TestClient[Any], db: Database) -> None:
    no_csrf = admin.post("/admin/users", data={"username": "x.y.z", "password": "p" * 12})
    assert no_csrf.status_code == 403
    db.write(lambda conn: users.create_user(conn, "chan.auditor", PASSWORD, "auditor", ()))
    with make_client(db) as auditor:
        assert sign_in(auditor, "chan.auditor").headers["location"] == "/audit"
        assert auditor.get("/admin").status_code == 403
        assert auditor.get("/admin/tokens").status_code == 403
