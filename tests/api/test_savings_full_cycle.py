"""A whole cycle of a 20-member group through the API, by its own treasurer, and a share-out
that must equal the figures worked out by hand below.

The group: 5,000 riel a share, 1 to 5 shares a meeting, 500 riel to the social fund each
meeting, 5% a month on the declining balance, loans up to 3 times savings for up to 6 months.
Member Mi buys (i mod 5) + 1 shares at each of the 12 weekly meetings from 12 January to
30 March 2026, and pays 500 riel to the social fund; the cycle ends on 30 March.

Events:
- 26 Jan: M05 is absent (no shares, no social fund); on 2 Feb M05 pays a 1,000 absence fine.
- 9 Feb: M10 is late, fine 500.
- 19 Jan: M04 borrows 100,000 for 2 months. 16 Feb: interest due is month 1 = 5% x 100,000 =
  5,000; M04 repays 55,000 = 5,000 interest + 50,000 principal. 16 Mar: month 2 (begun
  19 Feb) = 5% x 50,000 = 2,500; M04 repays 52,500 and the loan is repaid.
- 2 Feb: M09 borrows 200,000 for 3 months. 2 Mar: month 1 = 10,000 (month 2 begins on 2 Mar,
  so it is not yet due); M09 repays 60,000 = 10,000 + 50,000, leaving 150,000.
- 9 Feb: M20 borrows 20,000 for 1 month, never repays; the group writes it off on 30 Mar.
- 2 Mar: M07 receives a 50,000 grant from the social fund.

By hand:
- shares: 12 x (4 x (1+2+3+4+5)) = 720, less M05's missed share = 719; savings 3,595,000.
- social fund: 239 payments x 500 = 119,500, less the grant: 69,500.
- fines 1,500; interest paid in cash 5,000 + 2,500 + 10,000 = 17,500.
- cash: 3,595,000 + 119,500 - 50,000 + 1,500 - 320,000 lent + 150,000 repaid + 17,500
  = 3,513,500; available (less the social fund) 3,444,000.
- at the share-out on 31 Mar, M09 owes 150,000 and month 2's interest (begun 2 Mar)
  5% x 150,000 = 7,500: 157,500.
- fund = 3,444,000 + 157,500 = 3,601,500 (= savings 3,595,000 + interest 25,000 + fines
  1,500 - write-off 20,000); value per share = 3,601,500 / 719 = 5,009 + 29/719.
- 60 shares: 300,542.42 -> 300,500; 48: 240,433.94 -> 240,400; 36: 180,325.45 -> 180,300;
  24: 120,216.97 -> 120,200; 12: 60,108.48 -> 60,100; M05's 11: 55,099.44 -> 55,000.
- paid out in shares 3,600,900; M09 settles 157,500 from 300,500 and takes 143,000 in cash;
  payouts 3,443,400; carried forward 3,444,000 - 3,443,400 = 600; the box keeps
  69,500 + 600 = 70,100.
"""

from __future__ import annotations

import datetime
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from ledger.verify import verify_book
from tests.api.conftest import balances, bearer
from tests.api.savings_support import CODE, create_group, member_number

MONDAYS = [datetime.date(2026, 1, 12) + datetime.timedelta(weeks=w) for w in range(12)]
SHARE_PRICE = 5000
SOCIAL = 500
LOANS = {  # meeting date -> member -> (amount, months)
    datetime.date(2026, 1, 19): {"M04": (100_000, 2)},
    datetime.date(2026, 2, 2): {"M09": (200_000, 3)},
    datetime.date(2026, 2, 9): {"M20": (20_000, 1)},
}
REPAID = {
    datetime.date(2026, 2, 16): {"M04": 55_000},
    datetime.date(2026, 3, 16): {"M04": 52_500},
    datetime.date(2026, 3, 2): {"M09": 60_000},
}
FINES = {datetime.date(2026, 2, 2): {"M05": 1_000}, datetime.date(2026, 2, 9): {"M10": 500}}
GRANTS = {datetime.date(2026, 3, 2): {"M07": 50_000}}
ABSENT = {datetime.date(2026, 1, 26): {"M05"}}


def _shares(index: int) -> int:
    return index % 5 + 1


def _meeting(date: datetime.date, cash_before: int) -> tuple[dict[str, Any], int]:
    """The treasurer's record of one meeting, and the cash the box holds after it."""
    entries = []
    cash = cash_before
    for index in range(1, 21):
        number = member_number(index)
        if number in ABSENT.get(date, set()):
            entries.append({"member": number, "attendance": "absent", "shares": 0})
            continue
        item: dict[str, Any] = {
            "member": number,
            "attendance": "present",
            "shares": _shares(index),
            "social_fund_paid": str(SOCIAL),
        }
        cash += _shares(index) * SHARE_PRICE + SOCIAL
        if number in FINES.get(date, {}):
            item["fines_paid"] = str(FINES[date][number])
            cash += FINES[date][number]
        if number in REPAID.get(date, {}):
            item["loan_repaid"] = str(REPAID[date][number])
            cash += REPAID[date][number]
        if number in LOANS.get(date, {}):
            amount, months = LOANS[date][number]
            item["loan_taken"] = {"amount": str(amount), "term_months": months}
            cash -= amount
        if number in GRANTS.get(date, {}):
            item["grant_received"] = str(GRANTS[date][number])
            cash -= GRANTS[date][number]
        entries.append(item)
    return {"date": date.isoformat(), "entries": entries, "cash_counted": str(cash)}, cash


EXPECTED_BY_SHARES = {  # shares -> (savings, share value, profit)
    60: ("300000", "300500", "500"),
    48: ("240000", "240400", "400"),
    36: ("180000", "180300", "300"),
    24: ("120000", "120200", "200"),
    12: ("60000", "60100", "100"),
    11: ("55000", "55000", "0"),
}


def test_a_full_cycle_of_twenty_members_shares_out_as_computed_by_hand(
    client: TestClient[Any], db: Database
) -> None:
    create_group(
        client,
        members=20,
        planned_end="2026-03-30",
        interest_rate_monthly_percent="5",
    )
    treasurer = bearer(db, "treasurer.kt", "treasurer", (f"book:{CODE}",))
    cash = 0
    for date in MONDAYS:
        body, cash = _meeting(date, cash)
        response = client.post(
            f"/api/groups/{CODE}/meetings",
            json=body,
            headers={**treasurer, "Idempotency-Key": f"meeting-{date}"},
        )
        assert response.status_code == 201, (date, response.text)
    assert cash == 3_513_500

    loans = client.get(f"/api/groups/{CODE}/loans", headers=treasurer).json()["items"]
    by_member = {loan["member"]: loan for loan in loans}
    assert by_member["M04"]["status"] == "repaid"
    assert [(p["interest"], p["principal"]) for p in by_member["M04"]["payments"]] == [
        ("5000", "50000"),
        ("2500", "50000"),
    ]
    assert by_member["M09"]["principal_outstanding"] == "150000"
    m20 = by_member["M20"]
    assert m20["days_in_arrears"] > 0
    written_off = client.post(
        f"/api/groups/{CODE}/loans/{m20['id']}/write-off",
        json={"date": "2026-03-30", "reason": "The member moved to Thailand; group decision"},
        headers=treasurer,
    )
    assert written_off.status_code == 200, written_off.text
    assert written_off.json()["status"] == "written_off"

    preview = client.get(f"/api/groups/{CODE}/cycles/1/share-out", headers=treasurer)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["executed"] is False
    assert shown["date"] == "2026-03-31"
    assert shown["total_shares"] == 719
    assert shown["cash_held"] == "3513500"
    assert shown["social_fund"] == "69500"
    assert shown["cash_available"] == "3444000"
    assert shown["fund"] == "3601500"
    assert shown["value_per_share"] == "5009.0403"
    assert shown["value_per_share_exact"] == "3601500/719"
    assert shown["interest_income"] == "25000"
    assert shown["fines_income"] == "1500"
    assert shown["write_offs"] == "20000"
    assert shown["payouts"] == "3443400"
    assert shown["carried_forward"] == "600"
    assert shown["loans_carried_forward"] == "0"
    lines = {line["member"]: line for line in shown["members"]}
    assert len(lines) == 20
    for member, line in lines.items():
        savings, share_value, profit = EXPECTED_BY_SHARES[line["shares"]]
        assert (line["savings"], line["share_value"], line["profit"]) == (
            savings,
            share_value,
            profit,
        ), member
        if member != "M09":
            assert (line["loan_deducted"], line["payout"]) == ("0", share_value), member
    assert lines["M05"]["shares"] == 11
    assert lines["M09"]["interest_deducted"] == "7500"
    assert lines["M09"]["principal_deducted"] == "150000"
    assert lines["M09"]["loan_deducted"] == "157500"
    assert lines["M09"]["payout"] == "143000"

    executed = client.post(
        f"/api/groups/{CODE}/cycles/1/share-out",
        json={"date": "2026-03-31"},
        headers={**treasurer, "Idempotency-Key": "share-out-1"},
    )
    assert executed.status_code == 201, executed.text
    done = executed.json()
    assert done["executed"] is True
    assert {k: v for k, v in done.items() if k != "executed"} == {
        k: v for k, v in shown.items() if k != "executed"
    }

    after = balances(client, CODE)
    assert after == {
        ("Assets:Cash:Box", "KHR"): "70100",
        ("Equity:Social-Fund", "KHR"): "-69500",
        ("Equity:Carried-Forward", "KHR"): "-600",
    }
    cycles = client.get(f"/api/groups/{CODE}/cycles", headers=treasurer).json()["items"]
    assert [(c["number"], c["status"], c["start_date"]) for c in cycles] == [
        (1, "shared_out", "2026-01-05"),
        (2, "open", "2026-04-01"),
    ]
    assert client.get(f"/api/groups/{CODE}/loans", params={"active": True}).json()["items"] == []
    stored = client.get(f"/api/groups/{CODE}/cycles/1/share-out").json()
    assert stored == done
    report = verify_book(db, CODE)
    assert report.ok, report.differences

    # The next cycle starts with what this one carried forward.
    first = client.post(
        f"/api/groups/{CODE}/meetings",
        json={
            "date": "2026-04-06",
            "entries": [{"member": "M01", "attendance": "present", "shares": 2}],
            "cash_counted": str(70_100 + 10_000),
        },
        headers=treasurer,
    )
    assert first.status_code == 201, first.text
    assert first.json()["cycle"] == 2
    preview_2 = client.get(
        f"/api/groups/{CODE}/cycles/2/share-out", params={"date": "2026-04-07"}
    ).json()
    assert preview_2["carried_in"] == "600"
    assert preview_2["fund"] == "10600"
    assert preview_2["members"][0]["share_value"] == "10600"
