"""A savings group's lists page by cursor, and every request example of the savings routes is
a request the API accepts, sent in the order a new group meets them."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar.testing import TestClient

from api.schemas.savings import (
    EXAMPLE_GROUP,
    EXAMPLE_MEETING,
    EXAMPLE_MEMBER,
    EXAMPLE_MEMBER_LEAVE,
    EXAMPLE_MEMBER_PERSON,
    EXAMPLE_SHARE_OUT,
    EXAMPLE_WRITE_OFF,
)
from tests.api.savings_support import CODE, create_group, entry, meeting

GROUP = f"/api/groups/{CODE}"
LISTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/api/groups", {}),
    (f"{GROUP}/members", {}),
    (f"{GROUP}/cycles", {}),
    (f"{GROUP}/meetings", {}),
    (f"{GROUP}/meetings", {"cycle": 1}),
    (f"{GROUP}/loans", {"as_of": "2026-01-26"}),
    (f"{GROUP}/loans", {}),
)


def _created(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    found: dict[str, Any] = response.json()
    return found


def test_the_request_examples_are_accepted(client: TestClient[Any]) -> None:
    group = _created(client.post("/api/groups", json=EXAMPLE_GROUP))
    members = f"/api/groups/{group['code']}/members"
    assert _created(client.post(members, json=EXAMPLE_MEMBER))["sex"] == "female"
    for number, role in (("M02", "treasurer"), ("M03", "member")):
        body = {"number": number, "role": role, "joined_on": "2026-01-05"}
        _created(client.post(members, json=body))
    person = client.put(f"{members}/M02/person", json=EXAMPLE_MEMBER_PERSON)
    assert _created(person, 200)["age_band"] == EXAMPLE_MEMBER_PERSON["age_band"]
    held = _created(client.post(f"/api/groups/{group['code']}/meetings", json=EXAMPLE_MEETING))
    [loan_id] = held["new_loan_ids"]
    loan = f"/api/groups/{group['code']}/loans/{loan_id}/write-off"
    assert _created(client.post(loan, json=EXAMPLE_WRITE_OFF), 200)["status"] == "written_off"
    left = _created(client.post(f"{members}/M03/leave", json=EXAMPLE_MEMBER_LEAVE), 200)
    assert left["left_on"] == EXAMPLE_MEMBER_LEAVE["date"]
    share_out = f"/api/groups/{group['code']}/cycles/1/share-out"
    assert _created(client.post(share_out, json=EXAMPLE_SHARE_OUT))["executed"] is True


@pytest.fixture(name="group")
def fixture_group(client: TestClient[Any]) -> str:
    """Three groups; sg-kt-001 with five members, three meetings, three loans and a share-out
    that opened cycle 2."""
    create_group(client, members=5, planned_end="2026-01-26")
    for code in ("sg-kt-002", "sg-kt-003"):
        create_group(client, members=0, code=code)
    everyone = [f"M0{n}" for n in range(1, 6)]
    loan = {"amount": "10000", "term_months": 2}
    meetings = (
        meeting("2026-01-12", [entry(m, 2) for m in everyone], 50_000),
        meeting(
            "2026-01-19",
            [entry(m, 1, loan_taken=loan) if m in ("M01", "M02") else entry(m) for m in everyone],
            55_000,
        ),
        meeting(
            "2026-01-26",
            [entry(m, 1, loan_taken=loan) if m == "M03" else entry(m) for m in everyone],
            70_000,
        ),
    )
    for body in meetings:
        _created(client.post(f"{GROUP}/meetings", json=body))
    _created(client.post(f"{GROUP}/cycles/1/share-out", json={"date": "2026-01-27"}))
    return CODE


def _walk(client: TestClient[Any], path: str, params: dict[str, Any], limit: int) -> list[Any]:
    seen: list[Any] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        page = _created(client.get(path, params=query), 200)
        assert set(page) == {"items", "next_cursor"}
        # A full page names the next one, which may be empty (the house's page shape).
        assert len(page["items"]) <= limit
        assert page["next_cursor"] is None or len(page["items"]) == limit
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize(("path", "params"), LISTS)
def test_a_list_pages_in_order_without_gaps(
    client: TestClient[Any], group: str, path: str, params: dict[str, Any]
) -> None:
    whole = _created(client.get(path, params={**params, "limit": 1000}), 200)
    assert whole["next_cursor"] is None
    assert len(whole["items"]) >= 2, whole
    for limit in (1, 2):
        assert _walk(client, path, params, limit) == whole["items"]


def test_the_pages_hold_what_the_group_did(client: TestClient[Any], group: str) -> None:
    codes = [g["code"] for g in _walk(client, "/api/groups", {}, 2)]
    assert codes == ["sg-kt-001", "sg-kt-002", "sg-kt-003"]
    assert [c["number"] for c in _walk(client, f"{GROUP}/cycles", {}, 1)] == [1, 2]
    numbers = [(m["cycle"], m["number"]) for m in _walk(client, f"{GROUP}/meetings", {}, 1)]
    assert numbers == [(1, 1), (1, 2), (1, 3)]
    loans = _walk(client, f"{GROUP}/loans", {"as_of": "2026-01-26"}, 1)
    assert [loan["member"] for loan in loans][:3] == ["M01", "M02", "M03"]
    assert [m["number"] for m in _walk(client, f"{GROUP}/members", {}, 2)] == [
        f"M0{n}" for n in range(1, 6)
    ]


def _forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BAD = (
    ({"cursor": "not-a-cursor"}, "cursor_invalid"),
    ({"cursor": _forged("dated|2026-13-01 1")}, "cursor_invalid"),
    ({"cursor": _forged("dated|2026-01-12 x")}, "cursor_invalid"),
    ({"limit": 0}, "request_invalid"),
    ({"limit": 1001}, "request_invalid"),
)


def test_a_bad_cursor_or_page_size_is_refused(client: TestClient[Any]) -> None:
    create_group(client, members=1)
    for path, params in LISTS:
        for query, code in BAD:
            response = client.get(path, params={**params, **query})
            assert response.status_code == 422, (path, query, response.text)
            assert response.json()["code"] == code, (path, query, response.text)
