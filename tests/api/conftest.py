"""HTTP through Litestar's test client, on the same real database as the rest of the suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import AuthSettings
from ledger.access import users
from ledger.access.tokens import issue_access_token
from ledger.store.database import Database

TEST_SECRET_KEY = "test-only-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"

ORG_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"name": "Assets:Bank:Operating-USD", "open_date": "2018-01-01", "currencies": ["USD"]},
    {
        "name": "Assets:Cash:Bavet-KHR",
        "open_date": "2018-01-01",
        "currencies": ["KHR"],
        "non_negative": True,
    },
    {"name": "Assets:Cash:Poipet-THB", "open_date": "2018-01-01", "currencies": ["THB"]},
    {"name": "Income:Restricted:USAID-CTIP", "open_date": "2018-01-01"},
    {"name": "Expenses:Reintegration:Transport", "open_date": "2018-01-01"},
    {"name": "Expenses:Training:Livestock", "open_date": "2018-06-01"},
)


def bearer(db: Database, username: str, role: str, scopes: tuple[str, ...] = ()) -> dict[str, str]:
    """Create a user and return the Authorization header of a fresh access token for them."""
    import datetime

    user = db.write(lambda conn: users.create_user(conn, username, PASSWORD, role, scopes))
    token, _ = issue_access_token(user.id, TEST_SECRET_KEY, datetime.datetime.now(datetime.UTC))
    return {"Authorization": f"Bearer {token}"}


def make_client(db: Database, **settings: Any) -> TestClient[Any]:
    url = db.engine.url.render_as_string(hide_password=False)
    auth = AuthSettings(secret_key=TEST_SECRET_KEY, **settings)
    return TestClient(create_app(url, migrate=False, auth=auth), raise_server_exceptions=False)


@pytest.fixture
def client(db: Database) -> Iterator[TestClient[Any]]:
    """Signed in as a finance officer (the role that keeps the organisation's books)."""
    with make_client(db) as test_client:
        test_client.headers.update(bearer(db, "sopheap.finance", "finance"))
        yield test_client


@pytest.fixture
def admin_headers(db: Database) -> dict[str, str]:
    return bearer(db, "admin", "admin")


@pytest.fixture
def org(client: TestClient[Any], admin_headers: dict[str, str]) -> str:
    """The organisation's book, funded with 1,000.00 USD, as the API creates it."""
    response = client.post(
        "/api/books",
        json={
            "code": "org",
            "name": "CCPCR livelihood programme",
            "kind": "organisation",
            "operating_currency": "USD",
        },
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    for account in ORG_ACCOUNTS:
        created = client.post("/api/books/org/accounts", json=account)
        assert created.status_code == 201, created.text
    funded = client.post(
        "/api/books/org/transactions",
        json={
            "date": "2018-07-02",
            "payee": "Winrock International",
            "narration": "CTIP sub-award, first tranche",
            "postings": [
                {"account": "Assets:Bank:Operating-USD", "amount": "1000.00", "currency": "USD"},
                {
                    "account": "Income:Restricted:USAID-CTIP",
                    "amount": "-1000.00",
                    "currency": "USD",
                },
            ],
        },
    )
    assert funded.status_code == 201, funded.text
    return "org"


def balances(
    client: TestClient[Any], book: str, as_of: str | None = None
) -> dict[tuple[str, str], str]:
    params = {"as_of": as_of} if as_of else {}
    response = client.get(f"/api/books/{book}/balances", params=params)
    assert response.status_code == 200, response.text
    return {(b["account"], b["currency"]): b["amount"] for b in response.json()["balances"]}


def transaction_ids(client: TestClient[Any], book: str) -> list[int]:
    response = client.get(f"/api/books/{book}/transactions", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["items"]]


def exchange(amount_usd: str = "-100.00", amount_khr: str = "410000") -> dict[str, Any]:
    """The issue's example request: dollars at the bank into riel cash at Bavet."""
    return {
        "date": "2018-11-04",
        "narration": "Exchange for cash disbursements",
        "payee": None,
        "tags": ["ctip"],
        "links": ["fx-2018-11-04"],
        "meta": {"case": "DV-009"},
        "postings": [
            {"account": "Assets:Bank:Operating-USD", "amount": amount_usd, "currency": "USD"},
            {
                "account": "Assets:Cash:Bavet-KHR",
                "amount": amount_khr,
                "currency": "KHR",
                "total_price": {"amount": amount_usd.lstrip("-"), "currency": "USD"},
            },
        ],
    }
