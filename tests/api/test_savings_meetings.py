"""Groups, members, cycles and meetings through the API: what lands, and what is refused."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import balances
from tests.api.savings_support import (
    CODE,
    create_group,
    entry,
    group_body,
    meeting,
    post_meeting,
    refused,
)

MEETINGS = f"/api/groups/{CODE}/meetings"


def test_creating_a_group_creates_its_book_accounts_and_first_cycle(
    client: TestClient[Any],
) -> None:
    create_group(client, members=2)
    group = client.get(f"/api/groups/{CODE}").json()
    assert group["constitution"]["share_price"] == "5000"
    assert group["constitution"]["cash_unit"] == "100"
    book = client.get(f"/api/books/{CODE}").json()
    assert (book["kind"], book["operating_currency"], book["province"]) == (
        "savings_group",
        "KHR",
        "Kampong Thom",
    )
    names = {a["name"] for a in client.get(f"/api/books/{CODE}/accounts").json()["items"]}
    assert {
        "Assets:Cash:Box",
        "Equity:Social-Fund",
        "Liabilities:Members:M01:Savings",
        "Assets:Loans:M02",
        "Income:Interest",
        "Expenses:Cash-Differences",
    } <= names
    cycles = client.get(f"/api/groups/{CODE}/cycles").json()["items"]
    assert cycles == [
        {
            "number": 1,
            "start_date": "2026-01-05",
            "planned_end_date": "2026-06-29",
            "status": "open",
            "shared_out_on": None,
        }
    ]


def test_a_meeting_posts_shares_social_fund_and_fines_and_asserts_the_cash_count(
    client: TestClient[Any],
) -> None:
    create_group(client, members=3)
    body = meeting(
        "2026-01-12",
        [
            entry("M01", 2, social_fund_paid="500"),
            entry("M02", 1, social_fund_paid="500", fines_paid="500"),
            {"member": "M03", "attendance": "absent", "shares": 0, "fines_paid": "1000"},
        ],
        cash=2 * 5000 + 500 + 5000 + 500 + 500 + 1000,
    )
    recorded = post_meeting(client, body, key="meeting-2026-01-12")
    assert recorded["number"] == 1
    assert recorded["cash_difference"] == "0"
    assert balances(client, CODE) == {
        ("Assets:Cash:Box", "KHR"): "17500",
        ("Liabilities:Members:M01:Savings", "KHR"): "-10000",
        ("Liabilities:Members:M02:Savings", "KHR"): "-5000",
        ("Equity:Social-Fund", "KHR"): "-1000",
        ("Income:Fines", "KHR"): "-1500",
    }
    # The phone retries: the same response, nothing posted twice.
    again = client.post(MEETINGS, json=body, headers={"Idempotency-Key": "meeting-2026-01-12"})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == recorded
    assert balances(client, CODE)[("Assets:Cash:Box", "KHR")] == "17500"
    export = client.get(f"/api/books/{CODE}/export.beancount").text
    assert "balance Assets:Cash:Box" in export
    assert "17500 KHR" in export


def test_a_cash_difference_with_a_reason_posts_to_cash_differences(
    client: TestClient[Any],
) -> None:
    create_group(client, members=1)
    recorded = post_meeting(
        client,
        meeting(
            "2026-01-12",
            [entry("M01", 1)],
            cash=4900,
            cash_difference_reason="A torn 100 riel note was thrown away",
        ),
    )
    assert recorded["cash_difference"] == "-100"
    assert balances(client, CODE)[("Expenses:Cash-Differences", "KHR")] == "100"
    assert balances(client, CODE)[("Assets:Cash:Box", "KHR")] == "4900"
    indicators = client.get(f"/api/groups/{CODE}/indicators").json()
    assert indicators["meetings_with_cash_difference"] == 1


# -- bad input: a specific 4xx and nothing changes ---------------------------------------------


def _with_one_meeting(client: TestClient[Any], members: int = 2) -> None:
    create_group(client, members=members)
    post_meeting(client, meeting("2026-01-12", [entry("M01", 1)], cash=5000))


def test_more_shares_than_the_constitution_allows(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 6)], cash=35000),
        422,
        "shares_above_limit",
    )


def test_fewer_shares_than_the_minimum_for_a_member_present(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 0)], cash=5000),
        422,
        "shares_below_minimum",
    )


def test_a_meeting_dated_before_the_previous_one(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    for date, code in (
        ("2026-01-11", "meeting_date_not_after_previous"),
        # A second meeting on the day of the last one: the date is taken.
        ("2026-01-12", "meeting_date_taken"),
    ):
        refused(client, "POST", MEETINGS, meeting(date, [entry("M01", 1)], cash=10000), 409, code)


def test_a_meeting_before_the_first_cycle_starts(client: TestClient[Any]) -> None:
    create_group(client, members=1)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-04", [entry("M01", 1)], cash=5000),
        422,
        "meeting_before_cycle_start",
    )


def test_a_cash_count_that_differs_without_a_reason(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    problem = refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 1)], cash=9900),
        409,
        "cash_count_differs",
    )
    assert problem["field"] == "cash_counted"


def test_a_blank_reason_does_not_accept_a_difference(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 1)], cash=9900, cash_difference_reason="  "),
        409,
        "cash_count_differs",
    )


def test_a_member_who_has_left(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    left = client.post(f"/api/groups/{CODE}/members/M02/leave", json={"date": "2026-01-15"})
    assert left.status_code == 200, left.text
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M02", 1)], cash=10000),
        409,
        "member_left",
    )


def test_a_member_cannot_leave_twice(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    assert (
        client.post(
            f"/api/groups/{CODE}/members/M02/leave", json={"date": "2026-01-15"}
        ).status_code
        == 200
    )
    refused(
        client,
        "POST",
        f"/api/groups/{CODE}/members/M02/leave",
        {"date": "2026-01-20"},
        409,
        "member_left",
    )


def test_an_unknown_or_repeated_member(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M09", 1)], cash=10000),
        422,
        "member_unknown",
    )
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 1), entry("M01", 1)], cash=15000),
        422,
        "member_repeated",
    )


def test_amounts_that_are_negative_floats_or_too_precise(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 1, fines_paid="-500")], cash=9500),
        422,
        "amount_negative",
    )
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 1, fines_paid="500.5")], cash=10500),
        422,
        "amount_precision_exceeded",
    )
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [entry("M01", 1, fines_paid=500)], cash=10500),
        422,
        "request_invalid",
    )
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-01-19", [{"member": "M01", "attendance": "asleep"}], cash=5000),
        422,
        "request_invalid",
    )


def test_a_grant_larger_than_the_social_fund(client: TestClient[Any]) -> None:
    _with_one_meeting(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting(
            "2026-01-19",
            [entry("M01", 1, social_fund_paid="500", grant_received="1000")],
            cash=9500,
        ),
        409,
        "grant_exceeds_social_fund",
    )


def test_a_meeting_for_a_group_that_does_not_exist(client: TestClient[Any]) -> None:
    response = client.post("/api/groups/sg-none/meetings", json=meeting("2026-01-12", [], cash=0))
    assert response.status_code == 404
    assert response.json()["code"] == "book_not_found"


def test_a_plain_book_is_not_a_group(
    client: TestClient[Any], admin_headers: dict[str, str]
) -> None:
    made = client.post(
        "/api/books",
        json={"code": "org", "name": "Org", "kind": "organisation", "operating_currency": "USD"},
        headers=admin_headers,
    )
    assert made.status_code == 201
    response = client.get("/api/groups/org")
    assert response.status_code == 404
    assert response.json()["code"] == "group_not_found"


def test_group_creation_refusals_change_nothing(client: TestClient[Any]) -> None:
    for overrides, code in (
        ({"share_price": "5050"}, "share_price_invalid"),
        ({"interest_method": "compound"}, "interest_method_invalid"),
        ({"interest_rate_monthly_percent": "2.5e1"}, "interest_rate_invalid"),
        ({"shares_per_meeting_min": 6}, "shares_per_meeting_invalid"),
        ({"fine_late": "-1"}, "amount_negative"),
    ):
        response = client.post("/api/groups", json=group_body(**overrides))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == code, response.text
    assert client.get("/api/groups").json() == {"items": [], "next_cursor": None}
    assert client.get(f"/api/books/{CODE}").status_code == 404
    create_group(client, members=0)
    again = client.post("/api/groups", json=group_body())
    assert again.status_code == 409
    assert again.json()["code"] == "book_exists"


def test_member_refusals(client: TestClient[Any]) -> None:
    create_group(client, members=1)
    path = f"/api/groups/{CODE}/members"
    for body, status, code in (
        ({"number": "M01", "joined_on": "2026-01-05"}, 409, "member_exists"),
        ({"number": "m 2", "joined_on": "2026-01-05"}, 422, "member_number_invalid"),
        ({"number": "M02", "joined_on": "2025-12-31"}, 422, "member_joined_before_formed"),
        ({"number": "M02", "joined_on": "2026-01-05", "role": "boss"}, 422, "member_role_invalid"),
        (
            {"number": "M02", "joined_on": "2026-01-05", "case_code": "Sokha"},
            422,
            "case_code_invalid",
        ),
    ):
        refused(client, "POST", path, body, status, code)


def test_two_phones_recording_the_same_meeting_at_once(client: TestClient[Any]) -> None:
    """Without an Idempotency-Key, one of them lands and the other gets a 409: never a 500,
    never the meeting twice."""
    import threading

    create_group(client, members=2)
    body = meeting("2026-01-12", [entry("M01", 1), entry("M02", 2)], cash=15_000)
    statuses: list[int] = []
    lock = threading.Lock()

    def record() -> None:
        response = client.post(MEETINGS, json=body)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert len(client.get(MEETINGS).json()["items"]) == 1
    assert balances(client, CODE)[("Assets:Cash:Box", "KHR")] == "15000"


def test_a_preview_as_of_an_earlier_date_counts_only_the_meetings_until_then(
    client: TestClient[Any],
) -> None:
    create_group(client, members=1)
    post_meeting(client, meeting("2026-01-12", [entry("M01", 1)], cash=5_000))
    post_meeting(client, meeting("2026-01-19", [entry("M01", 2)], cash=15_000))
    early = client.get(f"/api/groups/{CODE}/cycles/1/share-out", params={"date": "2026-01-13"})
    assert early.status_code == 200, early.text
    assert (early.json()["total_shares"], early.json()["fund"]) == (1, "5000")
    late = client.get(f"/api/groups/{CODE}/cycles/1/share-out", params={"date": "2026-01-20"})
    assert (late.json()["total_shares"], late.json()["fund"]) == (3, "15000")
