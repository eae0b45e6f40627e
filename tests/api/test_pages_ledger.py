"""The ledger's lists page by cursor: books, commodities, accounts, statement imports,
reconciliations, attachments and amendments answer `{items, next_cursor}`; walked two at a
time they give every item once, in the order of one large page. The bodies the OpenAPI
document shows as examples pass the API's own checks.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from api.schemas.books import (
    EXAMPLE_ACCOUNT_CLOSE,
    EXAMPLE_CASH_COUNT_ASSERTION,
    EXAMPLE_COMMODITY,
    EXAMPLE_LOCK_DATE,
)
from api.schemas.fx import EXAMPLE_REVALUATION
from api.schemas.transactions import EXAMPLE_EXCHANGE, EXAMPLE_REVERSAL
from ledger.store.database import Database
from tests.api.grants_world import AWARD, GRANTS_LINE, TRANSPORT_LINE, World, build_world, ok
from tests.api.test_attachments import jpeg, pdf, png

ORG = "/api/books/org"
AMENDMENTS = f"/api/awards/{AWARD}/amendments"


def _forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BAD_CURSORS = ("not-a-cursor!", _forged("nope|1"), _forged("id|x"), _forged("key|"))


@pytest.fixture
def world(client: TestClient[Any], db: Database) -> World:
    return build_world(client, db)


def walk(
    client: TestClient[Any], path: str, key: Callable[[Any], Any], headers: Any = None
) -> list[Any]:
    """Every item of `path`, two a page; checked against one page of them all."""
    everything = ok(client.get(path, params={"limit": 1000}, headers=headers), 200)
    assert everything["next_cursor"] is None
    seen: list[Any] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = ok(client.get(path, params=params, headers=headers), 200)
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything["items"]
    assert len({key(item) for item in seen}) == len(seen)
    for bad in BAD_CURSORS:
        refused = client.get(path, params={"cursor": bad}, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (422, "cursor_invalid"), bad
    for limit in (0, 1001):
        assert client.get(path, params={"limit": limit}, headers=headers).status_code == 422
    return seen


def account_ids(client: TestClient[Any]) -> dict[str, int]:
    return {a["name"]: a["id"] for a in walk(client, f"{ORG}/accounts", lambda a: a["id"])}


def test_books_commodities_and_accounts_page_in_code_and_name_order(
    client: TestClient[Any], world: World
) -> None:
    group = {"code": "sg-sr-001", "name": "Chantrea savings group", "kind": "savings_group"}
    body = group | {"operating_currency": "KHR", "province": "Svay Rieng"}
    ok(client.post("/api/books", json=body, headers=world.admin))
    books = walk(client, "/api/books", lambda b: b["code"])
    assert len(books) >= 3
    assert [b["code"] for b in books] == sorted(b["code"] for b in books)
    # An officer's pages hold the books of their province only, read in the same way.
    mine = walk(client, "/api/books", lambda b: b["code"], world.officer)
    assert len(mine) >= 2
    assert {b["province"] for b in mine} == {"Svay Rieng"}
    commodities = walk(client, "/api/commodities", lambda c: c["code"])
    assert len(commodities) >= 3
    assert [c["code"] for c in commodities] == sorted(c["code"] for c in commodities)
    names = list(account_ids(client))
    assert len(names) >= 5
    assert names == sorted(names)


def test_statements_and_reconciliations_page(client: TestClient[Any], world: World) -> None:
    accounts = account_ids(client)
    bank = f"{ORG}/accounts/{accounts['Assets:Bank:Operating-USD']}"
    mapping = {"date": "Date", "description": "Description", "amount": "Amount"}
    for day in ("05", "06", "07"):
        csv = f"Date,Description,Amount\n2018-11-{day},Deposit,1000\n"
        ok(client.post(f"{bank}/statements", json={"csv": csv, "mapping": mapping}))
    assert len(walk(client, f"{bank}/statements", lambda s: s["id"])) == 3
    opened = ok(
        client.post(
            f"{ORG}/accounts",
            json={
                "name": "Assets:Cash:Poipet-KHR",
                "open_date": "2018-01-01",
                "currencies": ["KHR"],
            },
        )
    )
    box = f"{ORG}/accounts/{opened['id']}"
    for day in ("2018-01-15", "2018-02-15", "2018-03-15"):
        ok(client.post(f"{box}/cash-counts", json={"date": day, "amount": "0"}))
    counts = walk(client, f"{box}/reconciliations", lambda r: r["id"])
    assert [r["date"] for r in counts] == ["2018-01-15", "2018-02-15", "2018-03-15"]
    refused = client.get(f"{box}/reconciliations", params={"cursor": _forged("key|2018-13-01/1")})
    assert (refused.status_code, refused.json()["code"]) == (422, "cursor_invalid")


def test_attachments_and_amendments_page(client: TestClient[Any], world: World) -> None:
    files = f"/api/awards/{AWARD}/attachments"
    for content in (pdf(), png(), jpeg()):
        ok(client.post(files, content=content))
    assert len(walk(client, files, lambda a: a["id"])) == 3
    for moved in ("100.00", "150.00", "200.00"):
        lines = [
            {"budget_line": GRANTS_LINE, "amount": f"{2000 + float(moved):.2f}"},
            {"budget_line": TRANSPORT_LINE, "amount": f"{500 - float(moved):.2f}"},
        ]
        body = {"effective_date": "2019-06-01", "reason": f"Move {moved}", "lines": lines}
        ok(client.post(AMENDMENTS, json=body))
    amendments = walk(client, AMENDMENTS, lambda a: a["id"])
    assert [a["reason"] for a in amendments] == ["Move 100.00", "Move 150.00", "Move 200.00"]


def test_the_examples_pass_the_checks(client: TestClient[Any], world: World) -> None:
    """Each example is a body the API accepts: recorded, or refused only by the state of
    this world's books (never as a malformed request)."""
    assert ok(client.post("/api/commodities", json=EXAMPLE_COMMODITY))["precision"] == 1
    empty = ok(
        client.post(f"{ORG}/accounts", json={"name": "Expenses:Spare", "open_date": "2018-06-01"})
    )
    closed = ok(client.post(f"{ORG}/accounts/{empty['id']}/close", json=EXAMPLE_ACCOUNT_CLOSE), 200)
    assert closed["close_date"] == EXAMPLE_ACCOUNT_CLOSE["date"]
    counted = client.post(f"{ORG}/balance-assertions", json=EXAMPLE_CASH_COUNT_ASSERTION)
    assert counted.status_code == 201 or counted.json()["code"] == "balance_assertion_failed"
    exchange = ok(client.post(f"{ORG}/transactions", json=EXAMPLE_EXCHANGE))
    reversal = ok(
        client.post(f"{ORG}/transactions/{exchange['id']}/reverse", json=EXAMPLE_REVERSAL)
    )
    assert reversal["reverses"] == exchange["id"]
    revalued = client.post(f"{ORG}/fx-revaluations", json=EXAMPLE_REVALUATION)
    assert revalued.status_code == 201, revalued.text
    locked = ok(client.put(f"{ORG}/lock-date", json=EXAMPLE_LOCK_DATE), 200)
    assert locked["lock_date"] == EXAMPLE_LOCK_DATE["lock_date"]


def test_an_import_template_of_no_such_kind_is_refused(client: TestClient[Any]) -> None:
    for suffix in ("csv", "xlsx"):
        refused = client.get(f"/api/imports/nothing/template.{suffix}")
        assert (refused.status_code, refused.json()["code"]) == (422, "request_invalid")
