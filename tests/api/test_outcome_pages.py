"""A household's visits and income records page by cursor: in date (month) order, without
gaps or repeats, whatever order they were recorded in. DV-009 holds the two pigs of its
grant (tests/api/training_world.py)."""

from __future__ import annotations

import base64
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.training_world import build_cohort, income, visit

VISITS = "/api/households/DV-009/visits"
INCOME = "/api/households/DV-009/income"
PIGS_HELD = {"species": "PIG", "counted": 2}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _walk(client: TestClient[Any], path: str, headers: dict[str, str], limit: int) -> list[Any]:
    seen: list[Any] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = _ok(client.get(path, params=params, headers=headers))
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_visits_and_income_page_in_date_order(client: TestClient[Any], db: Database) -> None:
    officer = build_cohort(client, db).world.officer
    for date in ("2019-03-10", "2019-04-10", "2019-05-10"):
        _ok(client.post(VISITS, json=visit(date, PIGS_HELD), headers=officer), 201)
    for month, source in (("2019-04", "crops"), ("2019-03", "crops"), ("2019-03", "livestock")):
        _ok(client.post(INCOME, json=income(month, source, "350000"), headers=officer), 201)
    for path, key in ((VISITS, "date"), (INCOME, "month")):
        whole = _ok(client.get(path, params={"limit": 1000}, headers=officer))
        assert whole["next_cursor"] is None
        keys = [item[key] for item in whole["items"]]
        assert len(keys) == 3, keys
        assert keys == sorted(keys), keys
        for limit in (1, 2):
            assert _walk(client, path, officer, limit) == whole["items"]


def test_a_bad_cursor_or_page_size_is_refused(client: TestClient[Any], db: Database) -> None:
    officer = build_cohort(client, db).world.officer
    forged = base64.urlsafe_b64encode(b"dated|2019-02-30 1").decode()
    for path in (VISITS, INCOME):
        for query, code in (
            ({"cursor": "not-a-cursor"}, "cursor_invalid"),
            ({"cursor": forged}, "cursor_invalid"),
            ({"limit": 0}, "request_invalid"),
            ({"limit": 1001}, "request_invalid"),
        ):
            response = client.get(path, params=query, headers=officer)
            assert (response.status_code, response.json()["code"]) == (422, code), response.text
