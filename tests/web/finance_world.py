"""The finance team's world for the page and browser tests: the grants programme of
tests/api/grants_world.py (CTIP-2018 with 5,000.00 USD received, two exchanges into riel at
Bavet), a second bank account at ABA with the four entries the ABA sample statement
(tests/data/statement-aba-usd.csv) shows as five lines, and the accounts a reconciliation
may need for a difference (bank charges, interest)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import bearer, make_client
from tests.api.grants_world import BANK, build_world, ok

FINANCE = "sopheap.finance"
ABA = "Assets:Bank:ABA-USD"
INTEREST = "Income:Interest"
CHARGES = "Expenses:Bank-Charges"
VENUE = "Expenses:Training:Venue"
ABA_ENTRIES = (
    ("2018-12-03", "1500.00", "Transfer from ACLEDA operating", BANK),
    ("2018-12-10", "-200.00", "Feed for Long An pig raisers, first half INV-0931", VENUE),
    ("2018-12-10", "-150.00", "Feed for Long An pig raisers, second half INV-0931", VENUE),
    ("2018-12-14", "-150.00", "Svay Rieng livestock training: venue and lunch", VENUE),
)


def _negated(amount: str) -> str:
    return amount[1:] if amount.startswith("-") else f"-{amount}"


def _open(api: TestClient[Any], name: str, currencies: list[str] | None = None) -> None:
    body: dict[str, Any] = {"name": name, "open_date": "2018-01-01"}
    if currencies:
        body["currencies"] = currencies
    ok(api.post("/api/books/org/accounts", json=body))


def build_finance_world(db: Database) -> dict[str, int]:
    """The world through the API as the finance user; the ids of the book's accounts."""
    with make_client(db) as api:
        api.headers.update(bearer(db, FINANCE, "finance"))
        build_world(api, db)
        _open(api, ABA, ["USD"])
        for name in (INTEREST, CHARGES, VENUE):
            _open(api, name)
        for date, amount, narration, other in ABA_ENTRIES:
            postings = [
                {"account": ABA, "amount": amount, "currency": "USD"},
                {"account": other, "amount": _negated(amount), "currency": "USD"},
            ]
            body = {"date": date, "narration": narration, "postings": postings}
            ok(api.post("/api/books/org/transactions", json=body))
        found = ok(api.get("/api/books/org/accounts", params={"limit": 1000}), 200)
    return {a["name"]: a["id"] for a in found["items"]}
