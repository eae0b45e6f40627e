"""An administrator resets a user's password (their tokens stop working) and replaces their
scopes, through the API the admin pages share."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import bearer


def test_reset_a_password_and_replace_the_scopes(client: TestClient[Any], db: Database) -> None:
    admin = bearer(db, "srey.admin", "admin")
    officer = bearer(db, "dara.officer", "officer", ("province:Svay Rieng",))
    assert client.get("/api/auth/me", headers=officer).status_code == 200
    found = client.get("/api/users", headers=admin).json()["items"]
    officer_id = next(u["id"] for u in found if u["username"] == "dara.officer")

    short = client.post(
        f"/api/users/{officer_id}/password", json={"password": "short"}, headers=admin
    )
    assert short.status_code == 422
    assert short.json()["code"] == "password_invalid"
    reset = client.post(
        f"/api/users/{officer_id}/password", json={"password": "a new password 2026"}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert client.get("/api/auth/me", headers=officer).status_code == 401  # signed out
    login = client.post(
        "/api/auth/login", json={"username": "dara.officer", "password": "a new password 2026"}
    )
    assert login.status_code == 200

    scopes = client.put(
        f"/api/users/{officer_id}/scopes",
        json={"scopes": ["province:Prey Veng", "book:sg-kt-001"]},
        headers=admin,
    )
    assert scopes.status_code == 200
    assert sorted(scopes.json()["scopes"]) == ["book:sg-kt-001", "province:Prey Veng"]
    bad = client.put(f"/api/users/{officer_id}/scopes", json={"scopes": ["kampot"]}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["field"] == "scopes[0]"
    missing = client.put("/api/users/999999/scopes", json={"scopes": []}, headers=admin)
    assert missing.status_code == 404
    assert client.put(
        f"/api/users/{officer_id}/scopes", json={"scopes": []}, headers=officer
    ).status_code in (401, 403)
