"""Loans and share-outs through the API: limits, arrears, repayments, write-offs, a member
whose debt is more than their share, and every refusal leaving the group as it was."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from ledger.verify import verify_book
from tests.api.conftest import balances, bearer, make_client
from tests.api.savings_support import (
    CODE,
    create_group,
    entry,
    meeting,
    post_meeting,
    refused,
)

MEETINGS = f"/api/groups/{CODE}/meetings"


def _group_with_savings(client: TestClient[Any], **constitution: Any) -> None:
    """Two members with 50,000 riel of savings each (2 meetings of 5 shares); cash 100,000."""
    create_group(client, members=2, **constitution)
    post_meeting(client, meeting("2026-01-12", [entry("M01", 5), entry("M02", 5)], cash=50_000))
    post_meeting(client, meeting("2026-01-19", [entry("M01", 5), entry("M02", 5)], cash=100_000))


def _loan(amount: int, months: int = 2) -> dict[str, Any]:
    return {"amount": str(amount), "term_months": months}


def test_a_loan_within_the_limit_and_its_schedule(client: TestClient[Any]) -> None:
    _group_with_savings(client)
    # 150,000 is within M01's limit (3 x 55,000) but the box holds only 110,000.
    refused(
        client,
        "POST",
        MEETINGS,
        meeting(
            "2026-01-26",
            [entry("M01", 1, loan_taken=_loan(150_000, 3)), entry("M02", 1)],
            cash=0,
        ),
        409,
        "loan_fund_insufficient",
    )
    recorded = post_meeting(
        client,
        meeting(
            "2026-01-26",
            [entry("M01", 1, loan_taken=_loan(90_000, 3)), entry("M02", 1)],
            cash=100_000 + 10_000 - 90_000,
        ),
    )
    [loan_id] = recorded["new_loan_ids"]
    loan = client.get(f"/api/groups/{CODE}/loans/{loan_id}", params={"as_of": "2026-01-26"})
    assert loan.status_code == 200, loan.text
    shown = loan.json()
    assert (shown["principal"], shown["interest_method"], shown["term_months"]) == (
        "90000",
        "declining",
        3,
    )
    assert [(i["due_on"], i["principal"], i["interest"]) for i in shown["schedule"]] == [
        ("2026-02-26", "30000", "1800"),
        ("2026-03-26", "30000", "1200"),
        ("2026-04-26", "30000", "600"),
    ]
    assert shown["interest_due"] == "0"
    later = client.get(f"/api/groups/{CODE}/loans/{loan_id}", params={"as_of": "2026-01-27"}).json()
    assert later["interest_due"] == "1800"
    assert balances(client, CODE)[("Assets:Loans:M01", "KHR")] == "90000"


def test_a_loan_above_the_members_limit(client: TestClient[Any]) -> None:
    _group_with_savings(client)
    # Savings after this meeting: 55,000; three times that is 165,000.
    problem = refused(
        client,
        "POST",
        MEETINGS,
        meeting(
            "2026-01-26",
            [entry("M01", 1, loan_taken=_loan(165_100))],
            cash=0,
        ),
        422,
        "loan_above_limit",
    )
    assert problem["field"] == "entries[0].loan_taken.amount"


def test_a_loan_longer_than_the_constitution_allows(client: TestClient[Any]) -> None:
    _group_with_savings(client)
    refused(
        client,
        "POST",
        MEETINGS,
        meeting(
            "2026-01-26",
            [entry("M01", 1, loan_taken=_loan(10_000, 7))],
            cash=100_000 + 5_000 - 10_000,
        ),
        422,
        "loan_term_above_limit",
    )


def test_a_repayment_larger_than_what_is_owed(client: TestClient[Any]) -> None:
    _group_with_savings(client)
    post_meeting(
        client,
        meeting("2026-01-26", [entry("M01", 1, loan_taken=_loan(50_000))], cash=55_000),
    )
    # A week later: 50,000 principal and month 1's interest 1,000 are owed.
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-02-02", [entry("M01", 1, loan_repaid="51100")], cash=55_000 + 56_100),
        422,
        "repayment_exceeds_debt",
    )
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-02-02", [entry("M02", 1, loan_repaid="100")], cash=55_000 + 5_100),
        422,
        "repayment_exceeds_debt",
    )
    paid = post_meeting(
        client,
        meeting("2026-02-02", [entry("M01", 1, loan_repaid="51000")], cash=55_000 + 56_000),
    )
    assert paid["entries"][0]["interest_paid"] == "1000"
    assert paid["entries"][0]["principal_repaid"] == "50000"
    loans = client.get(f"/api/groups/{CODE}/loans").json()["items"]
    assert [loan["status"] for loan in loans] == ["repaid"]


def test_no_loan_to_a_member_in_arrears_when_the_constitution_forbids_it(
    client: TestClient[Any],
) -> None:
    _group_with_savings(client)
    post_meeting(
        client,
        meeting("2026-01-26", [entry("M01", 1, loan_taken=_loan(20_000, 1))], cash=85_000),
    )
    # Due 26 Feb, unpaid on 2 Mar: in arrears.
    overdue = client.get(f"/api/groups/{CODE}/loans", params={"as_of": "2026-03-02"}).json()[
        "items"
    ]
    assert overdue[0]["days_in_arrears"] == 4
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-03-02", [entry("M01", 1, loan_taken=_loan(10_000))], cash=80_000),
        409,
        "member_in_arrears",
    )
    # Paying part of it still leaves arrears: interest first (month 1 and month 2, begun
    # 26 Feb: 2 x 400), so 20,400 repays only 19,600 of the principal.
    refused(
        client,
        "POST",
        MEETINGS,
        meeting(
            "2026-03-02",
            [entry("M01", 1, loan_repaid="20400", loan_taken=_loan(10_000))],
            cash=85_000 + 5_000 + 20_400 - 10_000,
        ),
        409,
        "member_in_arrears",
    )
    # Paying all of it at the same meeting clears the way.
    cleared = post_meeting(
        client,
        meeting(
            "2026-03-02",
            [entry("M01", 1, loan_repaid="20800", loan_taken=_loan(10_000))],
            cash=85_000 + 5_000 + 20_800 - 10_000,
        ),
    )
    assert len(cleared["new_loan_ids"]) == 1


def test_a_group_that_lends_to_members_in_arrears(client: TestClient[Any]) -> None:
    _group_with_savings(client, lend_to_members_in_arrears=True)
    post_meeting(
        client,
        meeting("2026-01-26", [entry("M01", 1, loan_taken=_loan(20_000, 1))], cash=85_000),
    )
    second = post_meeting(
        client,
        meeting("2026-03-02", [entry("M01", 1, loan_taken=_loan(10_000))], cash=80_000),
    )
    assert len(second["new_loan_ids"]) == 1


def test_write_off_twice_and_without_a_reason(client: TestClient[Any]) -> None:
    _group_with_savings(client)
    recorded = post_meeting(
        client,
        meeting("2026-01-26", [entry("M01", 1, loan_taken=_loan(20_000, 1))], cash=85_000),
    )
    [loan_id] = recorded["new_loan_ids"]
    path = f"/api/groups/{CODE}/loans/{loan_id}/write-off"
    refused(client, "POST", path, {"date": "2026-03-30", "reason": " "}, 422, "reason_required")
    refused(
        client,
        "POST",
        path,
        {"date": "2026-01-20", "reason": "decided"},
        422,
        "write_off_before_last_payment",
    )
    done = client.post(path, json={"date": "2026-03-30", "reason": "Group decision"})
    assert done.status_code == 200, done.text
    assert balances(client, CODE)[("Expenses:Loan-Write-Offs", "KHR")] == "20000"
    refused(client, "POST", path, {"date": "2026-03-31", "reason": "again"}, 409, "loan_not_active")
    refused(
        client,
        "POST",
        f"/api/groups/{CODE}/loans/999999/write-off",
        {"date": "2026-03-31", "reason": "x"},
        404,
        "loan_not_found",
    )


# -- share-outs ------------------------------------------------------------------------------


def test_a_share_out_while_the_cycle_is_open_twice_or_before_its_last_meeting(
    client: TestClient[Any],
) -> None:
    _group_with_savings(client)
    share_out = f"/api/groups/{CODE}/cycles/1/share-out"
    refused(client, "POST", share_out, {"date": "2026-06-28"}, 409, "cycle_not_ended")
    post_meeting(client, meeting("2026-06-29", [entry("M01", 1)], cash=105_000))
    refused(client, "POST", share_out, {"date": "2026-06-29"}, 409, "share_out_before_last_meeting")
    refused(
        client,
        "POST",
        share_out,
        {"date": "2026-06-30", "next_cycle_planned_end": "2026-06-30"},
        422,
        "cycle_end_invalid",
    )
    done = client.post(share_out, json={"date": "2026-06-30"})
    assert done.status_code == 201, done.text
    assert done.json()["payouts"] == "105000"
    refused(client, "POST", share_out, {"date": "2026-07-01"}, 409, "cycle_shared_out")
    refused(
        client,
        "POST",
        f"/api/groups/{CODE}/cycles/7/share-out",
        {"date": "2026-07-01"},
        404,
        "cycle_not_found",
    )
    # A meeting dated inside the closed cycle (on the share-out day, or before it).
    for date, code in (
        ("2026-06-30", "cycle_closed"),
        ("2026-06-29", "meeting_date_taken"),
        ("2026-06-28", "meeting_date_not_after_previous"),
    ):
        refused(client, "POST", MEETINGS, meeting(date, [entry("M01", 1)], cash=5_000), 409, code)


def test_a_meeting_between_the_last_meeting_and_the_share_out_is_in_a_closed_cycle(
    client: TestClient[Any],
) -> None:
    _group_with_savings(client)
    post_meeting(client, meeting("2026-06-29", [entry("M01", 1)], cash=105_000))
    assert (
        client.post(f"/api/groups/{CODE}/cycles/1/share-out", json={"date": "2026-07-02"})
    ).status_code == 201
    refused(
        client,
        "POST",
        MEETINGS,
        meeting("2026-07-01", [entry("M01", 1)], cash=5_000),
        409,
        "cycle_closed",
    )


def test_a_member_whose_debt_exceeds_their_share_keeps_the_rest_as_a_loan(
    client: TestClient[Any], db: Database
) -> None:
    """M01 saved 10,000 and owes 30,000; M02 saved 100,000. M01's part settles what it
    covers, the rest rolls into the next cycle as a loan, and M02 is paid in cash."""
    create_group(client, members=2, planned_end="2026-02-28", loan_savings_multiple=3)
    post_meeting(client, meeting("2026-01-12", [entry("M01", 1), entry("M02", 5)], cash=30_000))
    post_meeting(
        client,
        meeting(
            "2026-01-19",
            [entry("M01", 1, loan_taken=_loan(30_000, 1)), entry("M02", 5)],
            cash=30_000,
        ),
    )
    post_meeting(client, meeting("2026-01-26", [entry("M02", 5)], cash=55_000))
    post_meeting(client, meeting("2026-02-02", [entry("M02", 5)], cash=80_000))
    # Share-out on 1 March: M01 owes 30,000 + month 1 (600) + month 2, begun 19 Feb (600).
    preview = client.get(
        f"/api/groups/{CODE}/cycles/1/share-out", params={"date": "2026-03-01"}
    ).json()
    lines = {line["member"]: line for line in preview["members"]}
    # Only M02's shares share the cash: 80,000 / 20 = 4,000 a share, M01's 2 shares worth
    # 8,000 settle interest first (1,200) then 6,800 of principal; 23,200 rolls over.
    assert preview["value_per_share_exact"] == "4000/1"
    assert preview["fund"] == "88000"
    assert (lines["M01"]["share_value"], lines["M01"]["interest_deducted"]) == ("8000", "1200")
    assert (lines["M01"]["principal_deducted"], lines["M01"]["payout"]) == ("6800", "0")
    assert lines["M01"]["loan_carried"] == "23200"
    assert (lines["M02"]["share_value"], lines["M02"]["payout"]) == ("80000", "80000")
    assert preview["carried_forward"] == "0"
    assert preview["loans_carried_forward"] == "23200"
    done = client.post(f"/api/groups/{CODE}/cycles/1/share-out", json={"date": "2026-03-01"})
    assert done.status_code == 201, done.text
    after = balances(client, CODE)
    assert after == {
        ("Assets:Loans:M01", "KHR"): "23200",
        ("Equity:Carried-Forward", "KHR"): "-23200",
    }
    [rolled] = client.get(f"/api/groups/{CODE}/loans", params={"active": True}).json()["items"]
    assert (rolled["member"], rolled["principal"], rolled["cycle"]) == ("M01", "23200", 2)
    assert rolled["rolled_from_id"] is not None
    assert verify_book(db, CODE).ok


# -- who may --------------------------------------------------------------------------------


def test_a_treasurer_of_another_group_sees_and_writes_nothing(
    client: TestClient[Any], db: Database
) -> None:
    _group_with_savings(client)
    create_group(client, members=1, code="sg-kt-002")
    other = bearer(db, "treasurer.other", "treasurer", ("book:sg-kt-002",))
    with make_client(db) as stranger:
        stranger.headers.update(other)
        before = balances(client, CODE)
        for method, path, body in (
            ("GET", f"/api/groups/{CODE}", None),
            ("GET", f"/api/groups/{CODE}/members", None),
            ("GET", f"/api/groups/{CODE}/cycles/1/share-out", None),
            ("GET", f"/api/groups/{CODE}/indicators", None),
            ("POST", MEETINGS, meeting("2026-01-26", [entry("M01", 1)], cash=105_000)),
            ("POST", f"/api/groups/{CODE}/members", {"number": "M09", "joined_on": "2026-01-05"}),
            ("POST", f"/api/groups/{CODE}/cycles/1/share-out", {"date": "2026-07-01"}),
        ):
            response = stranger.request(method, path, json=body)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["code"] == "book_not_found"
        assert balances(client, CODE) == before
        listed = stranger.get("/api/groups").json()["items"]
        assert [g["code"] for g in listed] == ["sg-kt-002"]
        own = stranger.post(
            "/api/groups/sg-kt-002/meetings",
            json=meeting("2026-01-12", [entry("M01", 1)], cash=5_000),
        )
        assert own.status_code == 201, own.text
        refused_create = stranger.post("/api/groups", json={})
        assert refused_create.status_code == 403


def test_an_auditor_reads_but_never_writes(client: TestClient[Any], db: Database) -> None:
    _group_with_savings(client)
    with make_client(db) as auditor:
        auditor.headers.update(bearer(db, "auditor.a", "auditor"))
        assert auditor.get(f"/api/groups/{CODE}/cycles/1/share-out").status_code == 200
        response = auditor.post(MEETINGS, json=meeting("2026-01-26", [], cash=100_000))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"


def test_a_book_changed_by_hand_is_not_shared_out(client: TestClient[Any]) -> None:
    """Someone posts 10,000 riel straight into M01's savings (no shares bought): the
    share-out refuses to distribute a book that disagrees with the group's records."""
    _group_with_savings(client)
    by_hand = client.post(
        f"/api/books/{CODE}/transactions",
        json={
            "date": "2026-01-20",
            "narration": "Entered by hand",
            "postings": [
                {"account": "Assets:Cash:Box", "amount": "10000", "currency": "KHR"},
                {
                    "account": "Liabilities:Members:M01:Savings",
                    "amount": "-10000",
                    "currency": "KHR",
                },
            ],
        },
    )
    assert by_hand.status_code == 201, by_hand.text
    preview = client.get(f"/api/groups/{CODE}/cycles/1/share-out", params={"date": "2026-06-30"})
    assert preview.status_code == 409
    assert preview.json()["code"] == "share_out_savings_mismatch"
    refused(
        client,
        "POST",
        f"/api/groups/{CODE}/cycles/1/share-out",
        {"date": "2026-06-30"},
        409,
        "share_out_savings_mismatch",
    )
