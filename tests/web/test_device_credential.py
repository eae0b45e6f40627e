"""A treasurer's phone stays signed in for the savings cycle, and an administrator revokes
that credential from the API: the phone's next page is the sign-in form."""

from __future__ import annotations

from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer, make_client
from tests.web.conftest import GROUP_A, TREASURER, csrf_of

CYCLE_SECONDS = 366 * 24 * 3600


def test_an_admin_revokes_a_phone_kept_signed_in(db: Database, groups: tuple[str, str]) -> None:
    admin = bearer(db, "admin", "admin")
    treasurer_id = next(u.id for u in db.write(users.list_users) if u.username == TREASURER)
    with make_client(db) as phone:
        landing = phone.get("/")
        signed_in = phone.post(
            "/sign-in",
            data={
                "username": TREASURER,
                "password": PASSWORD,
                "keep": "on",
                "_csrf_token": csrf_of(landing.text),
            },
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        assert f"Max-Age={CYCLE_SECONDS}" in signed_in.headers["set-cookie"]
        assert phone.get(f"/groups/{GROUP_A}").status_code == 200

        tokens = phone.get(f"/api/users/{treasurer_id}/tokens", headers=admin)
        assert tokens.status_code == 200
        (token,) = tokens.json()["items"]
        assert token["name"] == "phone, kept signed in"
        assert token["revoked_at"] is None
        assert "secret" not in token

        revoked = phone.delete(f"/api/users/{treasurer_id}/tokens/{token['id']}", headers=admin)
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        gone = phone.get(f"/groups/{GROUP_A}", follow_redirects=False)
        assert gone.status_code == 303
        assert gone.headers["location"] == f"/?next=/groups/{GROUP_A}"


def test_only_an_admin_sees_or_revokes_other_users_tokens(
    db: Database, groups: tuple[str, str]
) -> None:
    finance = bearer(db, "sopheap.finance2", "finance")
    with make_client(db) as client:
        assert client.get("/api/users/1/tokens", headers=finance).status_code == 403
        assert client.delete("/api/users/1/tokens/1", headers=finance).status_code == 403
        admin = bearer(db, "admin", "admin")
        assert client.get("/api/users/999999/tokens", headers=admin).status_code == 404
        assert client.delete("/api/users/1/tokens/999999", headers=admin).status_code == 404
