"""The indicators endpoint, against figures worked out by hand (formulas in
docs/ACCOUNTING.md, section "Savings groups")."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.api.savings_support import CODE, create_group, entry, meeting, post_meeting


def test_indicators_of_a_group_with_a_loan_falling_into_arrears(client: TestClient[Any]) -> None:
    create_group(client, members=2)
    post_meeting(client, meeting("2026-01-12", [entry("M01", 5), entry("M02", 5)], cash=50_000))
    post_meeting(client, meeting("2026-01-19", [entry("M01", 5), entry("M02", 5)], cash=100_000))
    post_meeting(
        client,
        meeting(
            "2026-01-26",
            [
                entry(
                    "M01",
                    1,
                    social_fund_paid="500",
                    loan_taken={"amount": "20000", "term_months": 1},
                ),
                {"member": "M02", "attendance": "absent", "fines_paid": "1000"},
            ],
            cash=100_000 + 5_000 + 500 + 1_000 - 20_000,
        ),
    )
    path = f"/api/groups/{CODE}/indicators"
    # The loan fell due on 26 Feb; on 27 Feb it is one day late, not yet at risk.
    early = client.get(path, params={"as_of": "2026-02-27"}).json()
    assert early["portfolio_at_risk_30"] == "0.0000"
    shown = client.get(path, params={"as_of": "2026-03-30"}).json()
    assert shown == {
        "as_of": "2026-03-30",
        "cycle": 1,
        "currency": "KHR",
        "members": 2,
        "savings": "105000",
        "loans_outstanding": "20000",
        "loans_active": 1,
        "cash_held": "86500",
        "social_fund_balance": "500",
        # 20,000 lent of 20,000 + 86,500 - 500 = 106,000 the group could lend
        "loan_fund_utilisation": "0.1886",
        # 32 days late on 30 March: all of the portfolio is at risk
        "portfolio_at_risk_30": "1.0000",
        # 5 present of 6 attendance records
        "attendance_rate": "0.8333",
        "cycle_profit": "1000",
        # 1,000 / 105,000 x 365 / 85 days (5 January to 30 March)
        "return_on_savings_annualised": "0.0408",
        "cash_differences": "0",
        "meetings_with_cash_difference": 0,
    }
    default = client.get(path).json()
    assert default["as_of"] == "2026-01-26"


def test_indicators_of_a_new_group_have_no_ratios(client: TestClient[Any]) -> None:
    create_group(client, members=1)
    shown = client.get(f"/api/groups/{CODE}/indicators").json()
    assert shown["members"] == 1
    assert shown["loan_fund_utilisation"] is None
    assert shown["portfolio_at_risk_30"] is None
    assert shown["attendance_rate"] is None
    assert shown["return_on_savings_annualised"] is None
