"""The roles of the issue, as the people who hold them would meet them.

Two savings groups: A in Kampong Thom and B in Svay Rieng. A household on file in each
province. A's treasurer, a Kampong Thom officer, an auditor, an admin and the finance team
each try what their job needs and a little more; what is outside a scope answers 404, what a
role may never do answers 403, and a refusal changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from ledger.households import service as households
from ledger.people import contacts
from ledger.store import books
from ledger.store.database import Database
from ledger.store.tables import audit_events
from tests.api.conftest import PASSWORD, bearer
from tests.api.grants_world import household_draft

D = datetime.date
GROUP_A = "sg-a"
GROUP_B = "sg-b"


def _deposit(units: str = "20000", case: str = "DV-009") -> dict[str, Any]:
    return {
        "date": "2018-11-04",
        "narration": "Savings deposit at the monthly meeting",
        "meta": {"case": case},
        "postings": [
            {"account": "Assets:Cash:Box-KHR", "amount": units, "currency": "KHR"},
            {"account": "Liabilities:Members:Savings", "amount": f"-{units}", "currency": "KHR"},
        ],
    }


@pytest.fixture
def groups(db: Database, client: TestClient[Any]) -> dict[str, int]:
    """Groups A and B with a cash box and members' savings, one deposit each (by finance);
    households DV-009 (Kampong Thom) and DV-077 (Svay Rieng) on file. Returns deposit ids."""

    def setup(conn: Any) -> None:
        books.create_book(conn, "org", "CCPCR livelihood programme", "organisation", "USD")
        books.create_book(conn, GROUP_A, "Group A", "savings_group", "KHR", "Kampong Thom")
        books.create_book(conn, GROUP_B, "Group B", "savings_group", "KHR", "Svay Rieng")
        for code in (GROUP_A, GROUP_B):
            books.open_account(conn, code, "Assets:Cash:Box-KHR", D(2018, 1, 1), ["KHR"], True)
            books.open_account(conn, code, "Liabilities:Members:Savings", D(2018, 1, 1), [], False)
        # Registered households (a contact belongs to one): DV-010 and DV-011 have no
        # contact details yet.
        for case_code, province in (
            ("DV-009", "Kampong Thom"),
            ("DV-077", "Svay Rieng"),
            ("DV-010", "Kampong Thom"),
            ("DV-011", "Svay Rieng"),
        ):
            households.register_household(
                conn, household_draft(case_code, province), D(2026, 1, 1), "setup"
            )
        contacts.put_contact(
            conn, "DV-009", "Kampong Thom", "Household A", "+855 12 000 009", "", None
        )
        contacts.put_contact(
            conn, "DV-077", "Svay Rieng", "Household B", "+855 12 000 077", "", None
        )

    db.write(setup)
    ids = {}
    for code in (GROUP_A, GROUP_B):
        posted = client.post(f"/api/books/{code}/transactions", json=_deposit())
        assert posted.status_code == 201, posted.text
        ids[code] = posted.json()["id"]
    return ids


def _audit_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def _balances(client: TestClient[Any], book: str, headers: dict[str, str]) -> Any:
    response = client.get(f"/api/books/{book}/balances", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


# -- treasurer ---------------------------------------------------------------------------------


def test_treasurer_of_group_a_cannot_see_or_touch_group_b(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    treasurer = bearer(db, "dara.treasurer", "treasurer", (f"book:{GROUP_A}",))
    b_before = _balances(client, GROUP_B, {})  # as finance
    events_before = _audit_count(db)

    listed = client.get("/api/books", headers=treasurer)
    assert listed.status_code == 200
    # (Each registered household has a tracking book of its own.)
    assert [b["code"] for b in listed.json()["items"] if not b["code"].startswith("hh-")] == [
        GROUP_A
    ]

    b_id = groups[GROUP_B]
    for method, path, body in (
        ("GET", f"/api/books/{GROUP_B}", None),
        ("GET", f"/api/books/{GROUP_B}/balances", None),
        ("GET", f"/api/books/{GROUP_B}/transactions", None),
        ("GET", f"/api/books/{GROUP_B}/transactions/{b_id}", None),
        ("GET", f"/api/books/{GROUP_B}/accounts", None),
        ("GET", f"/api/books/{GROUP_B}/export.beancount", None),
        ("POST", f"/api/books/{GROUP_B}/transactions", _deposit()),
        ("POST", f"/api/books/{GROUP_B}/transactions/{b_id}/reverse", {}),
        (
            "POST",
            f"/api/books/{GROUP_B}/accounts",
            {"name": "Assets:Cash:Stolen", "open_date": "2018-06-01"},
        ),
    ):
        response = client.request(method, path, json=body, headers=treasurer)
        # Exactly what a book that does not exist answers: no existence leak.
        _assert_problem(response, 404, "book_not_found")
        missing = client.request(
            method, path.replace(GROUP_B, "sg-zz"), json=body, headers=treasurer
        )
        _assert_problem(missing, 404, "book_not_found")
        assert response.json()["detail"] == missing.json()["detail"]

    assert _balances(client, GROUP_B, {}) == b_before
    assert _audit_count(db) == events_before

    # Their own group works.
    assert client.get(f"/api/books/{GROUP_A}/balances", headers=treasurer).status_code == 200
    own = client.post(f"/api/books/{GROUP_A}/transactions", json=_deposit(), headers=treasurer)
    assert own.status_code == 201, own.text
    assert own.json()["created_by"] == "dara.treasurer"
    exported = client.get(f"/api/books/{GROUP_A}/export.beancount", headers=treasurer)
    assert exported.status_code == 200
    assert "20000 KHR" in exported.text


def test_treasurer_may_never_lock_or_create_books(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    treasurer = bearer(db, "dara.treasurer", "treasurer", (f"book:{GROUP_A}",))
    locked = client.put(
        f"/api/books/{GROUP_A}/lock-date", json={"lock_date": "2018-12-31"}, headers=treasurer
    )
    _assert_problem(locked, 403, "forbidden")
    created = client.post(
        "/api/books",
        json={"code": "sg-c", "name": "C", "kind": "savings_group", "operating_currency": "KHR"},
        headers=treasurer,
    )
    _assert_problem(created, 403, "forbidden")
    _assert_problem(client.get("/api/contacts/DV-009", headers=treasurer), 403, "forbidden")


# -- officer -----------------------------------------------------------------------------------


def test_officer_reads_households_in_their_province_only(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    officer = bearer(db, "sokha.officer", "officer", ("province:Kampong Thom",))

    theirs = client.get("/api/contacts/DV-009", headers=officer)
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["name"] == "Household A"

    other = client.get("/api/contacts/DV-077", headers=officer)
    _assert_problem(other, 404, "contact_not_found")
    assert "Household B" not in other.text
    nobody = client.get("/api/contacts/DV-555", headers=officer)
    _assert_problem(nobody, 404, "contact_not_found")
    assert other.json()["detail"] == nobody.json()["detail"]

    # Books: only those of their province.
    listed = client.get("/api/books", headers=officer)
    # (Each registered household has a tracking book of its own.)
    assert [b["code"] for b in listed.json()["items"] if not b["code"].startswith("hh-")] == [
        GROUP_A
    ]
    _assert_problem(client.get(f"/api/books/{GROUP_B}", headers=officer), 404, "book_not_found")
    _assert_problem(client.get("/api/books/org/balances", headers=officer), 404, "book_not_found")
    assert client.get(f"/api/books/{GROUP_A}/transactions", headers=officer).status_code == 200


def test_officer_writes_households_in_their_province_only(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    officer = bearer(db, "sokha.officer", "officer", ("province:Kampong Thom",))
    admin = bearer(db, "admin", "admin")
    body = {"province": "Kampong Thom", "name": "Household A", "phone": "+855 12 999 009"}

    assert client.put("/api/contacts/DV-009", json=body, headers=officer).status_code == 200
    new = client.put("/api/contacts/DV-010", json=body, headers=officer)
    assert new.status_code == 200, new.text
    events_before = _audit_count(db)

    for case_code, province in (
        ("DV-077", "Kampong Thom"),  # a household on file elsewhere: hidden, whatever the body
        ("DV-077", "Svay Rieng"),
        ("DV-011", "Kampong Thom"),  # a household without contacts yet, in another province
        ("DV-011", "Svay Rieng"),
        ("ZZ-999", "Kampong Thom"),  # no such household: the same answer
    ):
        refused = client.put(
            f"/api/contacts/{case_code}", json={**body, "province": province}, headers=officer
        )
        _assert_problem(refused, 404, "household_not_found")
    # Moving one of theirs out of their reach: a contact's province is its household's.
    moved = client.put(
        "/api/contacts/DV-009", json={**body, "province": "Svay Rieng"}, headers=officer
    )
    _assert_problem(moved, 422, "contact_province_mismatch")
    # Not even an admin writes contacts for a household that does not exist.
    _assert_problem(
        client.put("/api/contacts/ZZ-999", json=body, headers=admin), 404, "household_not_found"
    )

    assert _audit_count(db) == events_before
    b = client.get("/api/contacts/DV-077", headers=admin).json()
    assert (b["province"], b["name"], b["phone"]) == (
        "Svay Rieng",
        "Household B",
        "+855 12 000 077",
    )
    assert client.get("/api/contacts/DV-009", headers=admin).json()["province"] == "Kampong Thom"
    assert client.get("/api/contacts/DV-011", headers=admin).status_code == 404
    assert client.get("/api/contacts/ZZ-999", headers=admin).status_code == 404


def test_an_officer_cannot_claim_another_provinces_household_by_the_body(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    """The probe: a Svay Rieng officer PUTs a Kampong Thom household's contact naming Svay
    Rieng in the body. 404, nothing written, and the Kampong Thom officer still reads it."""
    svay_rieng = bearer(db, "dara.officer", "officer", ("province:Svay Rieng",))
    kampong_thom = bearer(db, "sokha.officer", "officer", ("province:Kampong Thom",))
    before = client.get("/api/contacts/DV-009", headers=kampong_thom).json()
    events_before = _audit_count(db)
    for case_code in ("DV-009", "DV-010"):
        claimed = client.put(
            f"/api/contacts/{case_code}",
            json={"province": "Svay Rieng", "name": "Claimed", "phone": ""},
            headers=svay_rieng,
        )
        _assert_problem(claimed, 404, "household_not_found")
        _assert_problem(
            client.get(f"/api/contacts/{case_code}", headers=svay_rieng), 404, "contact_not_found"
        )
    assert client.get("/api/contacts/DV-009", headers=kampong_thom).json() == before
    assert client.get("/api/contacts/DV-010", headers=kampong_thom).status_code == 404
    assert _audit_count(db) == events_before


def test_officer_may_not_post_to_the_journal(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    officer = bearer(db, "sokha.officer", "officer", ("province:Kampong Thom",))
    posted = client.post(f"/api/books/{GROUP_A}/transactions", json=_deposit(), headers=officer)
    _assert_problem(posted, 403, "forbidden")


def test_a_forbidden_action_is_403_whether_or_not_the_book_exists(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    officer = bearer(db, "sokha.officer", "officer", ("province:Kampong Thom",))
    existing = client.post(f"/api/books/{GROUP_B}/transactions", json=_deposit(), headers=officer)
    missing = client.post("/api/books/sg-zz/transactions", json=_deposit(), headers=officer)
    _assert_problem(existing, 403, "forbidden")
    _assert_problem(missing, 403, "forbidden")


# -- auditor -----------------------------------------------------------------------------------


def test_auditor_reads_everything_but_personal_data(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    auditor = bearer(db, "chan.auditor", "auditor")
    listed = client.get("/api/books", headers=auditor)
    codes = sorted(b["code"] for b in listed.json()["items"] if not b["code"].startswith("hh-"))
    assert codes == ["org", GROUP_A, GROUP_B]
    for code in (GROUP_A, GROUP_B):
        for path in (
            f"/api/books/{code}",
            f"/api/books/{code}/balances",
            f"/api/books/{code}/accounts",
            f"/api/books/{code}/transactions",
            f"/api/books/{code}/transactions/{groups[code]}",
            f"/api/books/{code}/export.beancount",
        ):
            response = client.get(path, headers=auditor)
            assert response.status_code == 200, (path, response.text)
    audit = client.get("/api/audit", headers=auditor)
    assert audit.status_code == 200
    assert {e["action"] for e in audit.json()["items"]} >= {"transaction.post"}
    for case_code in ("DV-009", "DV-077"):
        _assert_problem(client.get(f"/api/contacts/{case_code}", headers=auditor), 403, "forbidden")


def test_auditor_may_write_nothing(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    auditor = bearer(db, "chan.auditor", "auditor")
    a_before = _balances(client, GROUP_A, {})
    events_before = _audit_count(db)
    a_id = groups[GROUP_A]
    for method, path, body in (
        ("POST", f"/api/books/{GROUP_A}/transactions", _deposit()),
        ("POST", f"/api/books/{GROUP_A}/transactions/{a_id}/reverse", {}),
        (
            "POST",
            f"/api/books/{GROUP_A}/balance-assertions",
            {
                "account": "Assets:Cash:Box-KHR",
                "currency": "KHR",
                "amount": "0",
                "date": "2018-02-01",
            },
        ),
        ("PUT", f"/api/books/{GROUP_A}/lock-date", {"lock_date": "2018-12-31"}),
        (
            "POST",
            f"/api/books/{GROUP_A}/accounts",
            {"name": "Assets:Cash:Audit", "open_date": "2018-06-01"},
        ),
        ("POST", f"/api/books/{GROUP_A}/accounts/1/close", {"date": "2018-12-31"}),
        (
            "POST",
            "/api/books",
            {"code": "sg-c", "name": "C", "kind": "savings_group", "operating_currency": "KHR"},
        ),
        ("POST", "/api/commodities", {"code": "FEED-KG", "precision": 0}),
        ("POST", "/api/users", {"username": "x.auditor", "password": PASSWORD, "role": "admin"}),
        ("PUT", "/api/contacts/DV-009", {"province": "Kampong Thom", "name": "Changed"}),
    ):
        response = client.request(method, path, json=body, headers=auditor)
        _assert_problem(response, 403, "forbidden")
    assert _balances(client, GROUP_A, {}) == a_before
    assert _audit_count(db) == events_before


# -- admin and finance -------------------------------------------------------------------------


def test_admin_manages_books_and_users_but_never_posts(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    admin = bearer(db, "admin", "admin")
    created = client.post(
        "/api/books",
        json={
            "code": "sg-c",
            "name": "Group C",
            "kind": "savings_group",
            "operating_currency": "KHR",
            "province": "Svay Rieng",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    user = client.post(
        "/api/users",
        json={
            "username": "vanna.treasurer",
            "password": PASSWORD,
            "role": "treasurer",
            "scopes": ["book:sg-c"],
        },
        headers=admin,
    )
    assert user.status_code == 201, user.text
    assert user.json()["scopes"] == ["book:sg-c"]
    assert "password" not in user.text
    assert client.get("/api/users", headers=admin).status_code == 200

    posted = client.post(f"/api/books/{GROUP_A}/transactions", json=_deposit(), headers=admin)
    _assert_problem(posted, 403, "forbidden")
    reversed_ = client.post(
        f"/api/books/{GROUP_A}/transactions/{groups[GROUP_A]}/reverse", json={}, headers=admin
    )
    _assert_problem(reversed_, 403, "forbidden")
    locked = client.put(
        f"/api/books/{GROUP_A}/lock-date", json={"lock_date": "2018-12-31"}, headers=admin
    )
    _assert_problem(locked, 403, "forbidden")
    # ...but reads every book and the personal data, and can correct it.
    assert client.get(f"/api/books/{GROUP_B}/balances", headers=admin).status_code == 200
    assert client.get("/api/contacts/DV-077", headers=admin).status_code == 200


def test_finance_keeps_the_books_but_no_users_and_no_personal_data(
    db: Database, client: TestClient[Any], groups: dict[str, int]
) -> None:
    # `client` is signed in as finance.
    created = client.post(
        "/api/users", json={"username": "x.finance", "password": PASSWORD, "role": "admin"}
    )
    _assert_problem(created, 403, "forbidden")
    _assert_problem(client.get("/api/users"), 403, "forbidden")
    for case_code in ("DV-009", "DV-077", "DV-555"):
        _assert_problem(client.get(f"/api/contacts/{case_code}"), 403, "forbidden")
    _assert_problem(
        client.put("/api/contacts/DV-009", json={"province": "Kampong Thom", "name": "x"}),
        403,
        "forbidden",
    )
    _assert_problem(client.get("/api/audit"), 403, "forbidden")
    # Every book is theirs to keep.
    for code in ("org", GROUP_A, GROUP_B):
        locked = client.put(f"/api/books/{code}/lock-date", json={"lock_date": "2018-01-31"})
        assert locked.status_code == 200, locked.text
    assert client.post(f"/api/books/{GROUP_B}/transactions", json=_deposit()).status_code == 201
