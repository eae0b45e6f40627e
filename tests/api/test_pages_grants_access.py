"""The lists of grants, donor funds and access answer `{items, next_cursor}` and page by
keyset: walked with a small `limit`, every item comes once, in order, and the last page
says so (`next_cursor` null); a cursor this API did not return and a limit out of bounds
are 422."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer
from tests.api.grants_world import BANK, BAVET, approved_grant, build_world, cash, ok
from tests.api.test_training_statements import statements_naming

SCOPE = "province:Svay Rieng"


def walk(client: TestClient[Any], path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page by page of `limit`; each full page but the last."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = ok(client.get(path, params=query), 200)
        assert set(page) == {"items", "next_cursor"}
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit


def assert_pages(
    client: TestClient[Any], path: str, key: str, expected: list[Any], **params: Any
) -> None:
    """Walked 2 by 2 the list holds `expected` (by `key`), in order, each once; the whole
    list on one page is the same; bad cursors and limits are 422."""
    walked = [item[key] for item in walk(client, path, 2, **params)]
    assert walked == expected
    assert [item[key] for item in walk(client, path, 1000, **params)] == expected
    garbage = client.get(path, params=params | {"cursor": "not-a-cursor"})
    assert (garbage.status_code, garbage.json()["code"]) == (422, "cursor_invalid")
    for limit in (0, 1001):
        bounded = client.get(path, params=params | {"limit": limit})
        assert bounded.status_code == 422, bounded.text


def test_a_grants_disbursements_page_by_id(client: TestClient[Any], db: Database) -> None:
    world = build_world(client, db)
    grant_id = approved_grant(client, world)
    path = f"/api/grants/{grant_id}/disbursements"
    made = [ok(client.post(path, json=cash("100000", f"2018-11-2{day}")))["id"] for day in range(5)]
    assert made == sorted(made)
    assert_pages(client, path, "id", made)


def test_awards_and_a_books_exchanges_page_by_id(client: TestClient[Any], db: Database) -> None:
    build_world(client, db)  # CTIP-2018 and two exchanges into riel
    for year in (2019, 2020, 2021, 2022):
        award = {
            "book": "org",
            "code": f"CTIP-{year}",
            "donor": "USAID / Winrock International",
            "currency": "USD",
            "amount": "1000.00",
            "start_date": f"{year}-07-01",
            "end_date": f"{year + 1}-06-30",
            "income_account": f"Income:Restricted:CTIP-{year}",
        }
        ok(client.post("/api/awards", json=award))
        exchange = {
            "book": "org",
            "date": f"{year}-01-02",
            "from_account": BANK,
            "to_account": BAVET,
            "from_amount": "10.00",
            "rate": "4100",
        }
        ok(client.post("/api/exchanges", json=exchange))
    codes = ["CTIP-2018", "CTIP-2019", "CTIP-2020", "CTIP-2021", "CTIP-2022"]
    assert_pages(client, "/api/awards", "code", codes)
    exchanges = walk(client, "/api/exchanges", 1000, book="org")
    assert [e["date"] for e in exchanges][:2] == ["2018-11-02", "2018-11-05"]
    assert_pages(client, "/api/exchanges", "id", sorted(e["id"] for e in exchanges), book="org")
    assert len(exchanges) == 6


def test_users_and_their_tokens_page_by_id(client: TestClient[Any], db: Database) -> None:
    admin = bearer(db, "srey.admin", "admin")
    client.headers.update(admin)
    for name in ("dara", "sokha", "vanna", "chantha"):
        ok(client.post("/api/users", json=user(f"{name}.officer")))
    everyone = walk(client, "/api/users", 1000)
    ids = [u["id"] for u in everyone]
    assert ids == sorted(ids)
    assert len(ids) == 6  # sopheap.finance, srey.admin and the four officers
    assert_pages(client, "/api/users", "id", ids)
    made = [
        ok(client.post("/api/auth/tokens", json={"name": f"Bavet phone {n}", "days": 7}))["id"]
        for n in range(5)
    ]
    assert_pages(client, "/api/auth/tokens", "id", made)
    admin_id = next(u["id"] for u in everyone if u["username"] == "srey.admin")
    assert_pages(client, f"/api/users/{admin_id}/tokens", "id", made)
    assert ok(client.get(f"/api/users/{ids[0]}/tokens"), 200) == {"items": [], "next_cursor": None}


def user(username: str) -> dict[str, Any]:
    return {"username": username, "password": PASSWORD, "role": "officer"}


def test_a_page_of_users_reads_their_scopes_in_one_statement(
    client: TestClient[Any], db: Database
) -> None:
    """Two statements name the scopes, however many users the page holds: the signed-in
    admin's own (every request) and the page's (it used to be one per user)."""
    client.headers.update(bearer(db, "srey.admin", "admin"))
    with statements_naming("user_scopes") as two_users:
        assert len(ok(client.get("/api/users"), 200)["items"]) == 2
    for name in ("dara", "sokha", "vanna"):
        ok(client.post("/api/users", json=user(f"{name}.officer") | {"scopes": [SCOPE]}))
    with statements_naming("user_scopes") as five_users:
        page = ok(client.get("/api/users"), 200)
    assert [u["scopes"] for u in page["items"]][2:] == [[SCOPE]] * 3
    assert len(two_users) == len(five_users) == 2
