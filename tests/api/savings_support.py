"""A savings group through the API, for the savings tests: its constitution, its members, and
the state a refused request must leave unchanged."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from api.schemas.savings import EXAMPLE_CONSTITUTION
from tests.api.conftest import balances

CODE = "sg-kt-001"
CONSTITUTION: dict[str, Any] = dict(EXAMPLE_CONSTITUTION)  # the /schema example's


def group_body(
    code: str = CODE, planned_end: str = "2026-06-29", **constitution: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "name": "Prasat Balang women's savings group",
        "village": "Kampong Svay",
        "commune": "Prasat Balang",
        "province": "Kampong Thom",
        "formed_on": "2026-01-05",
        "cycle_planned_end": planned_end,
        "constitution": {**CONSTITUTION, **constitution},
    }


def member_number(index: int) -> str:
    return f"M{index:02d}"


def create_group(
    client: TestClient[Any],
    members: int = 3,
    code: str = CODE,
    planned_end: str = "2026-06-29",
    **constitution: Any,
) -> str:
    created = client.post("/api/groups", json=group_body(code, planned_end, **constitution))
    assert created.status_code == 201, created.text
    for index in range(1, members + 1):
        added = client.post(
            f"/api/groups/{code}/members",
            json={
                "number": member_number(index),
                "joined_on": "2026-01-05",
                "role": "chair" if index == 1 else "treasurer" if index == 2 else "member",
            },
        )
        assert added.status_code == 201, added.text
    return code


def entry(member: str, shares: int = 1, **fields: Any) -> dict[str, Any]:
    return {"member": member, "attendance": "present", "shares": shares, **fields}


def meeting(
    date: str, entries: list[dict[str, Any]], cash: int | str, **extra: Any
) -> dict[str, Any]:
    return {"date": date, "entries": entries, "cash_counted": str(cash), **extra}


def post_meeting(
    client: TestClient[Any],
    body: dict[str, Any],
    code: str = CODE,
    key: str | None = None,
    status: int = 201,
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post(f"/api/groups/{code}/meetings", json=body, headers=headers)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def state(client: TestClient[Any], code: str = CODE) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    parts = []
    for path in ("meetings", "loans", "cycles", "members"):
        response = client.get(f"/api/groups/{code}/{path}", params={"limit": 1000})
        assert response.status_code == 200, response.text
        parts.append(response.json()["items"])
    transactions = client.get(f"/api/books/{code}/transactions", params={"limit": 1000})
    assert transactions.status_code == 200
    parts.append([t["id"] for t in transactions.json()["items"]])
    return (*parts, balances(client, code))


def refused(
    client: TestClient[Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: str,
    group: str = CODE,
) -> dict[str, Any]:
    """The request gets `status` with error `code`, and nothing in the group changes."""
    before = state(client, group)
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    assert state(client, group) == before
    return problem
