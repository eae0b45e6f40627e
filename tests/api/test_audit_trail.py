"""The audit trail: every change traceable to a person, a credential and a request.

Each write records who, with which token, on which request (the response's X-Request-ID),
with which method and path, what action, and what it created or changed. A replay or a
refusal changed nothing and records nothing. Nobody can edit or delete an event.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from ledger.store.database import Database
from ledger.store.tables import audit_events
from tests.api.conftest import PASSWORD, bearer, exchange
from tests.api.grants_world import household

FINANCE = "sopheap.finance"


def _jti(headers: dict[str, str] | Any) -> str:
    token = headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


def _events(db: Database, **where: Any) -> list[dict[str, Any]]:
    with db.read() as conn:
        query = select(audit_events).order_by(audit_events.c.id)
        for column, value in where.items():
            query = query.where(audit_events.c[column] == value)
        return [dict(row._mapping) for row in conn.execute(query)]


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def _only(db: Database, **where: Any) -> dict[str, Any]:
    found = _events(db, **where)
    assert len(found) == 1, (where, found)
    return found[0]


def _assert_event(
    event: dict[str, Any],
    response: Any,
    *,
    username: str,
    token: str,
    method: str,
    path: str,
    action: str,
    object_id: str,
    book: str | None,
) -> None:
    assert event["username"] == username
    assert event["token"] == token
    assert event["request_id"] == response.headers["x-request-id"]
    assert event["method"] == method
    assert event["path"] == path
    assert event["action"] == action
    assert event["object_id"] == object_id
    assert event["book"] == book
    assert event["outcome"] == "ok"
    assert event["at"] is not None


def test_every_write_records_who_how_and_what(
    db: Database, client: TestClient[Any], admin_headers: dict[str, str], org: str
) -> None:
    finance_token = f"jwt:{_jti(client.headers)}"
    admin_token = f"jwt:{_jti(admin_headers)}"

    posted = client.post(
        "/api/books/org/transactions", json=exchange(), headers={"X-Request-ID": "field-req-0001"}
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["x-request-id"] == "field-req-0001"
    txn_id = posted.json()["id"]
    _assert_event(
        _only(db, action="transaction.post", object_id=str(txn_id)),
        posted,
        username=FINANCE,
        token=finance_token,
        method="POST",
        path="/api/books/org/transactions",
        action="transaction.post",
        object_id=str(txn_id),
        book="org",
    )

    reversed_ = client.post(f"/api/books/org/transactions/{txn_id}/reverse", json={})
    assert reversed_.status_code == 201, reversed_.text
    _assert_event(
        _only(db, action="transaction.reverse"),
        reversed_,
        username=FINANCE,
        token=finance_token,
        method="POST",
        path=f"/api/books/org/transactions/{txn_id}/reverse",
        action="transaction.reverse",
        object_id=str(reversed_.json()["id"]),
        book="org",
    )

    book = client.post(
        "/api/books",
        json={
            "code": "sg-a",
            "name": "Group A",
            "kind": "savings_group",
            "operating_currency": "KHR",
            "province": "Kampong Thom",
        },
        headers={**admin_headers, "X-Request-ID": "admin.req_0002"},
    )
    assert book.status_code == 201, book.text
    assert book.headers["x-request-id"] == "admin.req_0002"
    _assert_event(
        _only(db, action="book.create", object_id="sg-a"),
        book,
        username="admin",
        token=admin_token,
        method="POST",
        path="/api/books",
        action="book.create",
        object_id="sg-a",
        book="sg-a",
    )

    account = client.post(
        "/api/books/sg-a/accounts",
        json={"name": "Assets:Cash:Box-KHR", "open_date": "2018-01-01", "currencies": ["KHR"]},
    )
    assert account.status_code == 201, account.text
    _assert_event(
        _only(db, action="account.open", book="sg-a"),
        account,
        username=FINANCE,
        token=finance_token,
        method="POST",
        path="/api/books/sg-a/accounts",
        action="account.open",
        object_id=str(account.json()["id"]),
        book="sg-a",
    )

    locked = client.put("/api/books/org/lock-date", json={"lock_date": "2018-06-30"})
    assert locked.status_code == 200, locked.text
    _assert_event(
        _only(db, action="book.lock_date"),
        locked,
        username=FINANCE,
        token=finance_token,
        method="PUT",
        path="/api/books/org/lock-date",
        action="book.lock_date",
        object_id="org",
        book="org",
    )

    registered = client.post("/api/households", json=household("DV-009"), headers=admin_headers)
    assert registered.status_code == 201, registered.text
    contact = client.put(
        "/api/contacts/DV-009",
        json={"province": "Svay Rieng", "name": "Household of DV-009", "phone": "+855 12 000 009"},
        headers=admin_headers,
    )
    assert contact.status_code == 200, contact.text
    event = _only(db, action="contact.put")
    _assert_event(
        event,
        contact,
        username="admin",
        token=admin_token,
        method="PUT",
        path="/api/contacts/DV-009",
        action="contact.put",
        object_id="DV-009",
        book=None,
    )
    assert "Household" not in str(event)  # the case code names the household, nothing else


def test_api_token_writes_are_traced_to_the_token(
    db: Database, client: TestClient[Any], org: str
) -> None:
    created = client.post("/api/auth/tokens", json={"name": "Bavet field phone 3"})
    assert created.status_code == 201, created.text
    token_id = created.json()["id"]
    _only(db, action="token.create", object_id=str(token_id))

    device = {"Authorization": f"Bearer {created.json()['token']}"}
    posted = client.post("/api/books/org/transactions", json=exchange(), headers=device)
    assert posted.status_code == 201, posted.text
    event = _only(db, action="transaction.post", object_id=str(posted.json()["id"]))
    assert event["token"] == f"api:{token_id}"
    assert event["username"] == FINANCE
    assert event["request_id"] == posted.headers["x-request-id"]

    revoked = client.delete(f"/api/auth/tokens/{token_id}")
    assert revoked.status_code == 200
    _only(db, action="token.revoke", object_id=str(token_id))


def test_an_insane_request_id_is_replaced_and_the_event_carries_the_replacement(
    db: Database, client: TestClient[Any], org: str
) -> None:
    for supplied in ("has spaces in it", "x" * 65, "short", "ünïcode-request-id"):
        posted = client.post(
            "/api/books/org/transactions",
            json=exchange(),
            headers=[(b"x-request-id", supplied.encode("utf-8"))],
        )
        assert posted.status_code == 201, posted.text
        answered = posted.headers["x-request-id"]
        assert answered != supplied
        event = _only(db, action="transaction.post", object_id=str(posted.json()["id"]))
        assert event["request_id"] == answered


def test_an_idempotent_replay_records_no_second_event(
    db: Database, client: TestClient[Any], org: str
) -> None:
    key = {"Idempotency-Key": "dv-009-exchange-2018-11-04"}
    first = client.post("/api/books/org/transactions", json=exchange(), headers=key)
    again = client.post("/api/books/org/transactions", json=exchange(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    event = _only(db, action="transaction.post", object_id=str(first.json()["id"]))
    assert event["request_id"] == first.headers["x-request-id"]


def test_a_refused_write_records_nothing(
    db: Database, client: TestClient[Any], admin_headers: dict[str, str], org: str
) -> None:
    auditor = bearer(db, "chan.auditor", "auditor")
    treasurer = bearer(db, "dara.treasurer", "treasurer", ("book:sg-zz",))
    before = _count(db)
    unbalanced = exchange()
    unbalanced["postings"][0]["amount"] = "-99.00"
    for method, path, body, headers, status in (
        ("POST", "/api/books/org/transactions", unbalanced, {}, 422),
        ("POST", "/api/books/org/transactions", exchange(), auditor, 403),
        ("POST", "/api/books/org/transactions", exchange(), treasurer, 404),
        ("POST", "/api/books/nope/transactions", exchange(), {}, 404),
        ("POST", "/api/books/org/transactions", exchange(), {"Authorization": "Bearer x"}, 401),
        ("POST", "/api/books/org/transactions/999999/reverse", {}, {}, 404),
        (
            "POST",
            "/api/books",
            {"code": "org", "name": "again", "kind": "organisation", "operating_currency": "USD"},
            admin_headers,
            409,
        ),
        ("PUT", "/api/books/org/lock-date", {"lock_date": "not a date"}, {}, 422),
        ("PUT", "/api/contacts/DV-009", {"province": "Svay Rieng", "name": "x"}, auditor, 403),
        ("PUT", "/api/contacts/dv 9", {"province": "Svay Rieng", "name": "x"}, admin_headers, 422),
        (
            "POST",
            "/api/users",
            {"username": "x", "password": PASSWORD, "role": "x"},
            admin_headers,
            422,
        ),
    ):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (method, path, response.text)
    assert _count(db) == before


def test_the_audit_trail_filters_for_admin_and_auditor_only(
    db: Database, client: TestClient[Any], admin_headers: dict[str, str], org: str
) -> None:
    auditor = bearer(db, "chan.auditor", "auditor")
    created = client.post(
        "/api/books",
        json={"code": "sg-a", "name": "A", "kind": "savings_group", "operating_currency": "KHR"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    assert client.post("/api/books/org/transactions", json=exchange()).status_code == 201

    for headers in (admin_headers, auditor):
        everything = client.get("/api/audit", params={"limit": 1000}, headers=headers)
        assert everything.status_code == 200, everything.text
        all_events = everything.json()["items"]
        assert len(all_events) == _count(db)
        assert [e["id"] for e in all_events] == sorted(e["id"] for e in all_events)

        by_admin = client.get("/api/audit", params={"username": "admin"}, headers=headers).json()[
            "items"
        ]
        assert {e["action"] for e in by_admin} == {"book.create"}
        assert sorted(e["object_id"] for e in by_admin) == ["org", "sg-a"]

        posts = client.get("/api/audit", params={"action": "transaction.post"}, headers=headers)
        assert len(posts.json()["items"]) == 2  # the org fixture's funding and the exchange
        assert {e["username"] for e in posts.json()["items"]} == {FINANCE}

        in_org = client.get("/api/audit", params={"book": "org"}, headers=headers).json()["items"]
        assert {e["book"] for e in in_org} == {"org"}
        assert len(in_org) == len([e for e in all_events if e["book"] == "org"])

        both = client.get(
            "/api/audit",
            params={"username": FINANCE, "action": "account.open", "book": "org"},
            headers=headers,
        ).json()["items"]
        assert len(both) == 6

        first_page = client.get("/api/audit", params={"limit": 3}, headers=headers).json()
        next_page = client.get(
            "/api/audit",
            params={"limit": 3, "cursor": first_page["next_cursor"]},
            headers=headers,
        ).json()
        assert [e["id"] for e in first_page["items"] + next_page["items"]] == [
            e["id"] for e in all_events[:6]
        ]

    refused = client.get("/api/audit")  # finance
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    too_many = client.get("/api/audit", params={"limit": 10_001}, headers=admin_headers)
    assert too_many.status_code == 422


def test_the_audit_trail_is_append_only(db: Database, client: TestClient[Any], org: str) -> None:
    before = _events(db)
    assert before
    for statement in (
        update(audit_events).values(username="someone.else"),
        update(audit_events).where(audit_events.c.id == before[0]["id"]).values(outcome="x"),
        delete(audit_events),
        delete(audit_events).where(audit_events.c.id == before[-1]["id"]),
    ):
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(statement)
    assert _events(db) == before


def test_transactions_carry_created_by(
    db: Database, client: TestClient[Any], admin_headers: dict[str, str], org: str
) -> None:
    treasurer = bearer(db, "dara.treasurer", "treasurer", ("book:org",))
    posted = client.post("/api/books/org/transactions", json=exchange(), headers=treasurer)
    assert posted.status_code == 201, posted.text
    txn_id = posted.json()["id"]
    assert posted.json()["created_by"] == "dara.treasurer"

    reversed_ = client.post(f"/api/books/org/transactions/{txn_id}/reverse", json={})
    assert reversed_.status_code == 201
    for transaction_id, username in ((txn_id, "dara.treasurer"), (reversed_.json()["id"], FINANCE)):
        shown = client.get(f"/api/books/org/transactions/{transaction_id}", headers=admin_headers)
        assert shown.status_code == 200
        assert shown.json()["created_by"] == username
    listed = client.get("/api/books/org/transactions").json()["items"]
    assert all(t["created_by"] in {FINANCE, "dara.treasurer"} for t in listed)
    exported = client.get("/api/books/org/export.beancount").text
    assert 'created-by: "dara.treasurer"' in exported
