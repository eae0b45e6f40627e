"""Signing in, tokens and the hardening around them.

Every bad credential is a 401 with a bearer challenge; repeated wrong passwords lock the
account (429) until the window passes; a client that hammers the sign-in route is slowed
down; API tokens for field devices are shown once, listed without secrets, and revocable.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection, delete, func, select, update

from api.app import create_app
from api.auth import AuthSettings, CallerCache
from ledger.access import users
from ledger.access.tokens import issue_access_token
from ledger.store.database import Database
from ledger.store.tables import api_tokens, audit_events, user_scopes
from ledger.store.tables import users as users_table
from tests.api.conftest import PASSWORD, TEST_SECRET_KEY, make_client

NEW_PASSWORD = "a different passphrase, long enough"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _user(db: Database, username: str, role: str = "finance", *scopes: str) -> users.User:
    return db.write(lambda conn: users.create_user(conn, username, PASSWORD, role, scopes))


def _login(client: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_unauthorized(response: Any, code: str = "unauthorized") -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"] == 'Bearer realm="livelihood-ledger"'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def anonymous(db: Database) -> Any:
    with make_client(db) as client:
        yield client


# -- signing in --------------------------------------------------------------------------------


def test_sign_in_returns_a_bearer_token_that_works(
    db: Database, anonymous: TestClient[Any]
) -> None:
    _user(db, "sopheap.finance")
    signed_in = _login(anonymous, "sopheap.finance")
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert signed_in.headers["cache-control"] == "no-store"

    me = anonymous.get("/api/auth/me", headers=_auth(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {
        "username": "sopheap.finance",
        "role": "finance",
        "books": [],
        "provinces": [],
    }
    assert anonymous.get("/api/books", headers=_auth(body["access_token"])).status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(
    db: Database, anonymous: TestClient[Any]
) -> None:
    _user(db, "sopheap.finance")
    wrong = _login(anonymous, "sopheap.finance", "not the password")
    unknown = _login(anonymous, "nobody.here", "not the password")
    for response in (wrong, unknown):
        _assert_unauthorized(response, "invalid_credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_no_token_is_401_with_a_challenge(anonymous: TestClient[Any]) -> None:
    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer " + "a" * 5_000},
    ):
        _assert_unauthorized(anonymous.get("/api/books", headers=headers))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 probe
def test_every_kind_of_bad_access_token_is_401(db: Database, anonymous: TestClient[Any]) -> None:
    user = _user(db, "sopheap.finance")
    boss = _user(db, "boss.admin", "admin")
    now = _now()
    good, claims = issue_access_token(user.id, TEST_SECRET_KEY, now)
    assert anonymous.get("/api/auth/me", headers=_auth(good)).status_code == 200

    header, payload, signature = good.split(".")
    middle = len(signature) // 2
    flipped = (
        signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    )
    as_boss = json.loads(_unb64(payload))
    as_boss["sub"] = str(boss.id)
    longer = {**json.loads(_unb64(payload)), "exp": int(now.timestamp()) + 365 * 86_400}
    base_claims = json.loads(_unb64(payload))
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    capital_none_header = _b64(json.dumps({"alg": "None"}).encode())

    bad = {
        "expired": issue_access_token(user.id, TEST_SECRET_KEY, now - datetime.timedelta(hours=1))[
            0
        ],
        "signature flipped": f"{header}.{payload}.{flipped}",
        "signature removed": f"{header}.{payload}.",
        "payload changed to another user": f"{header}.{_b64(json.dumps(as_boss).encode())}."
        + signature,
        "expiry extended": f"{header}.{_b64(json.dumps(longer).encode())}.{signature}",
        "another key": issue_access_token(user.id, "another-secret-key-" + "x" * 40, now)[0],
        "alg none (PyJWT)": jwt.encode(base_claims, "", algorithm="none"),
        "alg none (by hand)": f"{none_header}.{payload}.",
        "alg None, signature kept": f"{capital_none_header}.{payload}.{signature}",
        "HS512 with our key": jwt.encode(base_claims, TEST_SECRET_KEY, algorithm="HS512"),
        "not an access token": jwt.encode(
            {**base_claims, "typ": "refresh"}, TEST_SECRET_KEY, algorithm="HS256"
        ),
        "no jti": jwt.encode(
            {k: v for k, v in base_claims.items() if k != "jti"}, TEST_SECRET_KEY, algorithm="HS256"
        ),
        "garbage": "not.a.jwt",
        "fake API token": "llt_" + "x" * 43,
    }
    assert claims.jti in json.dumps(base_claims)
    for name, token in bad.items():
        response = anonymous.get("/api/auth/me", headers=_auth(token))
        assert response.status_code == 401, (name, response.text)
        assert response.json()["code"] == "unauthorized", name
    # The genuine token still works: nothing above disturbed it.
    assert anonymous.get("/api/auth/me", headers=_auth(good)).json()["username"] == user.username


def test_sql_looking_usernames_are_just_wrong(db: Database, anonymous: TestClient[Any]) -> None:
    _user(db, "admin", "admin")
    for username, password in (
        ("admin' OR '1'='1", "x"),
        ("admin' OR '1'='1", "' OR '1'='1"),
        ("admin'--", "anything"),
        ("admin'; DROP TABLE users; --", "x"),
        ('admin" OR ""="', "x"),
    ):
        _assert_unauthorized(_login(anonymous, username, password), "invalid_credentials")
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(users_table)).scalar_one() == 1
        logged = conn.execute(
            select(audit_events.c.username, audit_events.c.outcome).where(
                audit_events.c.action == "auth.login"
            )
        ).all()
    # Typed-in names that are not usernames never reach the audit trail.
    assert [tuple(r) for r in logged] == [(None, "invalid_credentials")] * 5
    assert _login(anonymous, "admin").status_code == 200


def test_over_long_username_is_422(anonymous: TestClient[Any]) -> None:
    response = anonymous.post("/api/auth/login", json={"username": "a" * 201, "password": "x"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "request_invalid"
    assert "a" * 201 not in response.text
    long_password = anonymous.post(
        "/api/auth/login", json={"username": "admin", "password": "p" * 1_001}
    )
    assert long_password.status_code == 422
    assert long_password.json()["code"] == "request_invalid"
    bodies: list[Any] = [{"username": "admin"}, {"username": 1, "password": "x"}, [], "admin"]
    for body in bodies:
        malformed = anonymous.post("/api/auth/login", json=body)
        assert malformed.status_code == 422, (body, malformed.text)


# -- lock-out and rate limit -------------------------------------------------------------------


def test_wrong_passwords_slow_the_address_down_and_lock_no_account(db: Database) -> None:
    """Six wrong passwords are answered; then this address waits 1 s, 2 s, 4 s ... (on the
    throttle's clock, controlled here), the right password included; nothing is locked in
    the database. (Other addresses: tests/api/test_login_throttle.py.)"""
    _user(db, "sopheap.finance")
    clock = [1_000.0]
    with make_client(db, clock=lambda: clock[0]) as client:
        statuses = []
        for attempt in range(1, 9):
            response = _login(client, "sopheap.finance", f"wrong password {attempt}")
            statuses.append((response.status_code, response.json()["code"]))
        assert statuses[:6] == [(401, "invalid_credentials")] * 6
        assert statuses[6:] == [(429, "login_throttled")] * 2

        refused = _login(client, "sopheap.finance")
        assert refused.status_code == 429
        assert refused.json()["code"] == "login_throttled"
        assert "access_token" not in refused.text

        clock[0] += 1.0
        _assert_unauthorized(_login(client, "sopheap.finance", "wrong 7"), "invalid_credentials")
        assert _login(client, "sopheap.finance").status_code == 429  # now 2 s
        clock[0] += 2.0
        recovered = _login(client, "sopheap.finance")
        assert recovered.status_code == 200, recovered.text

    with db.read() as conn:
        outcomes = [
            r.outcome
            for r in conn.execute(
                select(audit_events.c.outcome)
                .where(audit_events.c.action == "auth.login")
                .order_by(audit_events.c.id)
            )
        ]
        locked = conn.execute(
            select(users_table.c.locked_until).where(users_table.c.username == "sopheap.finance")
        ).scalar_one()
    assert outcomes == ["invalid_credentials"] * 6 + ["login_throttled"] * 3 + [
        "invalid_credentials",
        "login_throttled",
        "ok",
    ]
    assert locked is None


def test_too_many_sign_in_attempts_from_one_client_are_429(db: Database) -> None:
    _user(db, "sopheap.finance")
    with make_client(db, login_attempts_per_minute_max=3) as client:
        for _ in range(3):
            _assert_unauthorized(_login(client, "nobody.here", "x"), "invalid_credentials")
        for password in ("x", PASSWORD):  # even the right password waits
            limited = _login(client, "sopheap.finance", password)
            assert limited.status_code == 429, limited.text
            assert limited.json()["code"] == "too_many_requests"


# -- API tokens --------------------------------------------------------------------------------


def test_api_tokens_are_shown_once_listed_without_secret_and_revocable(
    db: Database, anonymous: TestClient[Any]
) -> None:
    user = _user(db, "sokha.officer", "officer", "province:Svay Rieng")
    other = _user(db, "dara.treasurer", "treasurer", "book:sg-a")
    signed_in = _auth(issue_access_token(user.id, TEST_SECRET_KEY, _now())[0])

    created = anonymous.post(
        "/api/auth/tokens", json={"name": "Bavet field phone 3", "days": 30}, headers=signed_in
    )
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    token_id = created.json()["id"]
    assert secret.startswith("llt_")
    assert len(secret) > 40

    device = _auth(secret)
    me = anonymous.get("/api/auth/me", headers=device)
    assert me.status_code == 200
    assert me.json()["provinces"] == ["Svay Rieng"]

    listed = anonymous.get("/api/auth/tokens", headers=device)
    assert listed.status_code == 200
    assert [(t["id"], t["name"], t["revoked_at"]) for t in listed.json()["items"]] == [
        (token_id, "Bavet field phone 3", None)
    ]
    assert secret not in listed.text
    assert "token" not in listed.json()["items"][0]
    with db.read() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalars().all()
        audited = conn.execute(select(audit_events)).all()
    assert secret not in stored  # only its digest is kept
    assert all(secret not in str(tuple(row)) for row in audited)

    # Another user cannot revoke it: for them it does not exist.
    theirs = _auth(issue_access_token(other.id, TEST_SECRET_KEY, _now())[0])
    foreign = anonymous.delete(f"/api/auth/tokens/{token_id}", headers=theirs)
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "token_not_found"
    assert anonymous.get("/api/auth/me", headers=device).status_code == 200

    revoked = anonymous.delete(f"/api/auth/tokens/{token_id}", headers=signed_in)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    _assert_unauthorized(anonymous.get("/api/auth/me", headers=device))
    # The sign-in token is untouched by revoking a device token.
    assert anonymous.get("/api/auth/me", headers=signed_in).status_code == 200


def test_an_expired_api_token_is_401(db: Database, anonymous: TestClient[Any]) -> None:
    user = _user(db, "sokha.officer", "officer", "province:Svay Rieng")
    long_ago = _now() - datetime.timedelta(days=40)
    _token, secret = db.write(
        lambda conn: users.create_api_token(conn, user.id, "old phone", 30, long_ago)
    )
    _assert_unauthorized(anonymous.get("/api/auth/me", headers=_auth(secret)))


def test_a_disabled_or_deleted_users_tokens_stop_working(
    db: Database, anonymous: TestClient[Any]
) -> None:
    """Changed by another process (here: straight in the database), the change takes effect
    once the guard's memory of the caller has lapsed, `caller_cache_seconds` at most."""
    clock = [0.0]
    anonymous.app.state.callers = CallerCache(5.0, clock=lambda: clock[0])
    kept = _user(db, "sopheap.finance")
    gone = _user(db, "dara.treasurer", "treasurer", "book:sg-a")
    tokens: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
    for user in (kept, gone):

        def create(conn: Connection, user: users.User = user) -> tuple[users.ApiToken, str]:
            return users.create_api_token(conn, user.id, "phone", 30, _now())

        _row, secret = db.write(create)
        tokens[user.id] = (
            _auth(issue_access_token(user.id, TEST_SECRET_KEY, _now())[0]),
            _auth(secret),
        )
        for headers in tokens[user.id]:
            assert anonymous.get("/api/auth/me", headers=headers).status_code == 200

    db.write(
        lambda conn: conn.execute(
            update(users_table).where(users_table.c.id == kept.id).values(disabled_at=_now())
        )
    )
    clock[0] += 5.0
    for headers in tokens[kept.id]:
        _assert_unauthorized(anonymous.get("/api/auth/me", headers=headers))
    _assert_unauthorized(_login(anonymous, kept.username), "invalid_credentials")

    def remove(conn: Any) -> None:
        conn.execute(delete(api_tokens).where(api_tokens.c.user_id == gone.id))
        conn.execute(delete(user_scopes).where(user_scopes.c.user_id == gone.id))
        conn.execute(delete(users_table).where(users_table.c.id == gone.id))

    db.write(remove)
    clock[0] += 5.0
    for headers in tokens[gone.id]:
        _assert_unauthorized(anonymous.get("/api/auth/me", headers=headers))


def test_through_the_api_a_disabled_user_or_a_changed_password_stops_the_next_request(
    db: Database, anonymous: TestClient[Any]
) -> None:
    """The guard remembers callers for a few seconds, but a change made through this server
    is seen by the very next request."""
    assert anonymous.app.state.callers.seconds > 0
    admin = _auth(
        issue_access_token(_user(db, "root.admin", "admin").id, TEST_SECRET_KEY, _now())[0]
    )
    leaving = _user(db, "sopheap.finance")
    staying = _user(db, "dara.finance")
    a_minute_ago = _now() - datetime.timedelta(minutes=1)
    leaving_token = _auth(issue_access_token(leaving.id, TEST_SECRET_KEY, _now())[0])
    staying_token = _auth(issue_access_token(staying.id, TEST_SECRET_KEY, a_minute_ago)[0])
    for headers in (leaving_token, staying_token):
        assert anonymous.get("/api/auth/me", headers=headers).status_code == 200  # remembered

    disabled = anonymous.post(f"/api/users/{leaving.id}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    _assert_unauthorized(anonymous.get("/api/auth/me", headers=leaving_token))
    _assert_unauthorized(anonymous.get("/api/books", headers=leaving_token))

    changed = anonymous.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=staying_token,
    )
    assert changed.status_code == 200, changed.text
    # A token issued before the change no longer signs in; one issued after it does.
    _assert_unauthorized(anonymous.get("/api/auth/me", headers=staying_token))
    fresh = _login(anonymous, staying.username, NEW_PASSWORD).json()["access_token"]
    assert anonymous.get("/api/auth/me", headers=_auth(fresh)).status_code == 200


def test_changing_the_password_retires_the_old_one(
    db: Database, anonymous: TestClient[Any]
) -> None:
    user = _user(db, "sopheap.finance")
    signed_in = _auth(issue_access_token(user.id, TEST_SECRET_KEY, _now())[0])

    wrong = anonymous.post(
        "/api/auth/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=signed_in,
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["code"] == "invalid_credentials"
    short = anonymous.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=signed_in,
    )
    assert short.status_code == 422
    assert short.json()["code"] == "password_invalid"
    assert _login(anonymous, user.username).status_code == 200  # nothing changed yet

    changed = anonymous.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=signed_in,
    )
    assert changed.status_code == 200, changed.text
    assert NEW_PASSWORD not in changed.text
    _assert_unauthorized(_login(anonymous, user.username), "invalid_credentials")
    assert _login(anonymous, user.username, NEW_PASSWORD).status_code == 200
    with db.read() as conn:
        rows = [str(tuple(r)) for r in conn.execute(select(audit_events))]
    assert not any(PASSWORD in r or NEW_PASSWORD in r for r in rows)
    assert any("user.password" in r for r in rows)


# -- the first start ---------------------------------------------------------------------------


def _fresh_app(path: Path) -> Any:
    """The app on an empty SQLite file, migrated at start-up like `livelihood-ledger serve`.
    (A fresh file on either TEST_DATABASE: the first start needs an empty database.)"""
    return create_app(
        f"sqlite:///{path}", migrate=True, auth=AuthSettings(secret_key=TEST_SECRET_KEY)
    )


def test_first_start_admin_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = "the admin's chosen first password"
    monkeypatch.setenv("LEDGER_ADMIN_PASSWORD", chosen)
    database = tmp_path / "first.sqlite3"
    with TestClient(_fresh_app(database)) as client:
        signed_in = _login(client, "admin", chosen)
        assert signed_in.status_code == 200, signed_in.text
        headers = _auth(signed_in.json()["access_token"])
        assert client.get("/api/auth/me", headers=headers).json()["role"] == "admin"
        listed = client.get("/api/users", headers=headers).json()["items"]
        assert [u["username"] for u in listed] == ["admin"]
    assert chosen not in capsys.readouterr().err  # a chosen password is never printed

    # The second start leaves the existing admin (and its password) alone.
    monkeypatch.setenv("LEDGER_ADMIN_PASSWORD", "another password entirely")
    with TestClient(_fresh_app(database)) as client:
        _assert_unauthorized(
            _login(client, "admin", "another password entirely"), "invalid_credentials"
        )
        assert _login(client, "admin", chosen).status_code == 200


def test_first_start_admin_with_a_printed_one_time_password(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("LEDGER_ADMIN_PASSWORD", raising=False)
    caplog.set_level(logging.DEBUG)
    with TestClient(_fresh_app(tmp_path / "first.sqlite3")) as client:
        printed = capsys.readouterr().err
        match = re.search(r"one-time password:\s*\n\s*(\S+)", printed)
        assert match, printed
        password = match.group(1)
        assert _login(client, "admin", password).status_code == 200
    assert all(password not in record.getMessage() for record in caplog.records)


# -- hardening on every response ---------------------------------------------------------------


def test_security_headers_and_the_request_size_limit(
    db: Database, anonymous: TestClient[Any]
) -> None:
    user = _user(db, "sopheap.finance")
    headers = _auth(issue_access_token(user.id, TEST_SECRET_KEY, _now())[0])
    for response in (
        anonymous.get("/api/books", headers=headers),
        anonymous.get("/api/books"),
        _login(anonymous, "nobody.here", "x"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["cache-control"] == "no-store"
        assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", response.headers["x-request-id"])

    too_big = anonymous.post(
        "/api/commodities",
        content=b'{"narration": "' + b"x" * (1024 * 1024) + b'"}',
        headers={**headers, "content-type": "application/json"},
    )
    assert too_big.status_code == 413, too_big.text[:200]
    assert too_big.json()["code"] == "request_too_large"


def test_guessing_the_current_password_is_refused_after_a_few_tries(db: Database) -> None:
    """The probe: 15 wrong `current_password`s in a row were all answered. Now the first six
    are, then 429 `password_change_throttled` (the right one too) until the delay passes;
    nothing changes meanwhile."""
    user = _user(db, "sopheap.finance")
    signed_in = _auth(issue_access_token(user.id, TEST_SECRET_KEY, _now())[0])
    clock = [1_000.0]
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    with make_client(db, clock=lambda: clock[0]) as client:
        answers = []
        for attempt in range(15):
            wrong = {**change, "current_password": f"guess number {attempt}"}
            response = client.post("/api/auth/password", json=wrong, headers=signed_in)
            answers.append((response.status_code, response.json()["code"]))
        assert answers[:6] == [(422, "invalid_credentials")] * 6
        assert answers[6:] == [(429, "password_change_throttled")] * 9
        refused = client.post("/api/auth/password", json=change, headers=signed_in)
        assert (refused.status_code, refused.json()["code"]) == (429, "password_change_throttled")
        assert _login(client, user.username).status_code == 200  # the password is unchanged

        clock[0] += 1.0
        changed = client.post("/api/auth/password", json=change, headers=signed_in)
        assert changed.status_code == 200, changed.text
    with db.read() as conn:
        events = conn.execute(
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "user.password", audit_events.c.outcome == "ok")
        ).scalar_one()
    assert events == 1


def test_a_password_change_revokes_every_credential_issued_before_it(
    db: Database, anonymous: TestClient[Any]
) -> None:
    """Sign-in tokens, and API (device) tokens, made before the change stop working on the
    next request; those made after it work. Ordered by the user's credential version, not by
    the clock: a token issued in the very instant of the change is void too."""
    user = _user(db, "sopheap.finance")
    before = _login(anonymous, user.username).json()["access_token"]
    device = anonymous.post(
        "/api/auth/tokens", json={"name": "Bavet phone", "days": 30}, headers=_auth(before)
    ).json()["token"]
    for token in (before, device):
        assert anonymous.get("/api/auth/me", headers=_auth(token)).status_code == 200

    changed = anonymous.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=_auth(before),
    )
    assert changed.status_code == 200, changed.text
    with db.read() as conn:
        changed_at, version = conn.execute(
            select(users_table.c.credentials_changed_at, users_table.c.credential_version).where(
                users_table.c.id == user.id
            )
        ).one()
    assert version == 1
    # A token stamped with the very instant of the change, at the old version.
    same_instant = issue_access_token(user.id, TEST_SECRET_KEY, changed_at)[0]
    for token in (before, device, same_instant):
        _assert_unauthorized(anonymous.get("/api/auth/me", headers=_auth(token)))
        _assert_unauthorized(anonymous.get("/api/books", headers=_auth(token)))

    after = _login(anonymous, user.username, NEW_PASSWORD).json()["access_token"]
    assert anonymous.get("/api/auth/me", headers=_auth(after)).status_code == 200
    new_device = anonymous.post(
        "/api/auth/tokens", json={"name": "new phone", "days": 30}, headers=_auth(after)
    ).json()["token"]
    assert anonymous.get("/api/auth/me", headers=_auth(new_device)).status_code == 200
    # The old device token is not revoked one by one: it is void, and listed as it was.
    listed = anonymous.get("/api/auth/tokens", headers=_auth(after)).json()["items"]
    assert [t["name"] for t in listed] == ["Bavet phone", "new phone"]


def test_an_access_token_without_a_credential_version_is_401(
    db: Database, anonymous: TestClient[Any]
) -> None:
    user = _user(db, "sopheap.finance")
    now = int(_now().timestamp())
    claims = {"sub": str(user.id), "iat": now, "exp": now + 60, "jti": "x", "typ": "access"}
    for extra in ({}, {"cv": "0"}, {"cv": True}, {"cv": 1}):
        token = jwt.encode({**claims, **extra}, TEST_SECRET_KEY, algorithm="HS256")
        _assert_unauthorized(anonymous.get("/api/auth/me", headers=_auth(token)))
    good = jwt.encode({**claims, "cv": 0}, TEST_SECRET_KEY, algorithm="HS256")
    assert anonymous.get("/api/auth/me", headers=_auth(good)).status_code == 200
