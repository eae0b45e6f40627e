"""Savings groups across the programme (SAVIX): every group's, each province's and the
programme's indicators as of a date, against figures worked out by hand and against each
group's own indicators; the quarterly CSV and the PDF."""

from __future__ import annotations

import csv
import io
import subprocess
from fractions import Fraction
from typing import Any

from litestar.testing import TestClient

from ledger.demo import load_demo
from ledger.store.database import Database
from tests.api.conftest import bearer, make_client
from tests.api.savings_support import CODE, create_group, entry, group_body, meeting, post_meeting

OTHER = "sg-sr-001"


def _group_in_arrears(client: TestClient[Any]) -> None:
    """The scenario of test_savings_indicators: on 30 March its one loan is 32 days late."""
    create_group(client, members=2)
    post_meeting(client, meeting("2026-01-12", [entry("M01", 5), entry("M02", 5)], cash=50_000))
    post_meeting(client, meeting("2026-01-19", [entry("M01", 5), entry("M02", 5)], cash=100_000))
    loan = {"amount": "20000", "term_months": 1}
    absent = {"member": "M02", "attendance": "absent", "fines_paid": "1000"}
    body = meeting(
        "2026-01-26",
        [entry("M01", 1, social_fund_paid="500", loan_taken=loan), absent],
        cash=86_500,
    )
    post_meeting(client, body)


def _group_with_a_dropout(client: TestClient[Any]) -> None:
    """Three members in Svay Rieng; M03 leaves after the first meeting."""
    body = {**group_body(OTHER), "province": "Svay Rieng"}
    assert client.post("/api/groups", json=body).status_code == 201
    for number, sex in (("M01", "female"), ("M02", "male"), ("M03", "female")):
        added = client.post(
            f"/api/groups/{OTHER}/members",
            json={"number": number, "joined_on": "2026-01-05", "sex": sex, "age_band": "25-34"},
        )
        assert added.status_code == 201, added.text
    three = [entry("M01", 2), entry("M02", 2), entry("M03", 2)]
    post_meeting(client, meeting("2026-01-12", three, cash=30_000), code=OTHER)
    left = client.post(f"/api/groups/{OTHER}/members/M03/leave", json={"date": "2026-01-20"})
    assert left.status_code in (200, 201), left.text
    post_meeting(client, meeting("2026-01-26", three[:2], cash=50_000), code=OTHER)


def _by_code(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["code"]: g["figures"] for g in report["groups"]}


def test_programme_indicators_add_up_the_groups(client: TestClient[Any]) -> None:
    _group_in_arrears(client)
    _group_with_a_dropout(client)
    report = client.get("/api/savix", params={"as_of": "2026-03-30"}).json()
    groups = _by_code(report)
    assert groups[CODE] | {"members_women": None} == {
        "currency": "KHR",
        "groups": 1,
        "members": 2,
        "members_women": None,
        "women_rate": None,
        "members_enrolled_in_cycle": 2,
        "members_dropped_out": 0,
        "dropout_rate": "0.0000",
        "attendance_rate": "0.8333",
        "savings": "105000",
        "savings_per_member": "52500",
        "loans_active": 1,
        "loans_outstanding": "20000",
        "portfolio_at_risk_30": "1.0000",
        "portfolio_at_risk_30_value": "20000",
        "cash_held": "86500",
        "social_fund_balance": "500",
        "total_assets": "106500",
        "cycle_profit": "1000",
        "return_on_savings_annualised": "0.0408",
        # 1,000 x 365 / 85 days / (86,500 cash + 20,000 lent)
        "return_on_assets_annualised": "0.0403",
    }
    other = groups[OTHER]
    # M03 left on 20 January: one of three members of the cycle dropped out; their savings
    # stay in the group's books until the share-out.
    assert (other["members"], other["members_enrolled_in_cycle"]) == (2, 3)
    assert (other["members_dropped_out"], other["dropout_rate"]) == (1, "0.3333")
    assert (other["savings"], other["savings_per_member"]) == ("50000", "25000")
    assert other["attendance_rate"] == "1.0000"
    # Of the two members on the date (M03 left), one is a woman.
    assert (other["members_women"], other["women_rate"]) == (1, "0.5000")
    assert [p["province"] for p in report["provinces"]] == ["Kampong Thom", "Svay Rieng"]
    [programme] = report["programme"]
    assert programme["province"] is None
    total = programme["figures"]
    assert (total["groups"], total["members"], total["members_dropped_out"]) == (2, 4, 1)
    assert total["dropout_rate"] == "0.2000"
    # The first group's members have no sex recorded: the rate is of those recorded.
    assert (total["members_women"], total["women_rate"]) == (1, "0.5000")
    # Ratios from the sums, not averages of the groups' ratios: 10 present of 11 records.
    assert total["attendance_rate"] == "0.9090"
    assert (total["savings"], total["loans_outstanding"]) == ("155000", "20000")
    assert total["portfolio_at_risk_30"] == "1.0000"
    annual_profit = Fraction(1000 * 365, 85)
    assert total["return_on_savings_annualised"] == _four(annual_profit / 155_000)
    assert total["return_on_assets_annualised"] == _four(annual_profit / (136_500 + 20_000))


def _four(value: Fraction) -> str:
    scaled = value.numerator * 10_000 // value.denominator
    return f"{scaled // 10_000}.{scaled % 10_000:04d}"


def test_a_date_before_the_loan_is_as_of_that_date(client: TestClient[Any]) -> None:
    _group_in_arrears(client)
    before = _by_code(client.get("/api/savix", params={"as_of": "2026-01-19"}).json())[CODE]
    assert (before["loans_active"], before["loans_outstanding"]) == (0, "0")
    assert before["savings"] == "100000"
    late_by_a_day = _by_code(client.get("/api/savix", params={"as_of": "2026-02-27"}).json())
    assert late_by_a_day[CODE]["portfolio_at_risk_30"] == "0.0000"
    assert client.get("/api/savix", params={"as_of": "2025-12-31"}).json()["groups"] == []


def test_the_demo_programme_matches_each_groups_own_indicators(db: Database) -> None:
    load_demo(db)
    with make_client(db) as client:
        client.headers.update(bearer(db, "sopheap.finance", "finance"))
        report = client.get("/api/savix", params={"as_of": "2018-12-31"}).json()
        for code, figures in _by_code(report).items():
            own = client.get(f"/api/groups/{code}/indicators", params={"as_of": "2018-12-31"})
            mine = own.json()
            for field in ("members", "savings", "loans_outstanding", "loans_active"):
                assert figures[field] == mine[field], (code, field)
            assert figures["social_fund_balance"] == mine["social_fund_balance"]
            assert figures["cash_held"] == mine["cash_held"]
            assert figures["cycle_profit"] == mine["cycle_profit"]
            assert figures["attendance_rate"] == mine["attendance_rate"]
            assert figures["portfolio_at_risk_30"] == mine["portfolio_at_risk_30"]
        [programme] = report["programme"]
        assert programme["figures"]["members"] == 33
        assert programme["figures"]["groups"] == 2


def test_quarterly_csv_in_the_savix_layout(client: TestClient[Any]) -> None:
    _group_in_arrears(client)
    _group_with_a_dropout(client)
    response = client.get("/api/savix/quarterly.csv", params={"year": 2026, "quarter": 1})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="savix-2026-Q1.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["level"], r["group_code"], r["province"]) for r in rows] == [
        ("group", CODE, "Kampong Thom"),
        ("group", OTHER, "Svay Rieng"),
        ("province", "", "Kampong Thom"),
        ("province", "", "Svay Rieng"),
        ("programme", "", ""),
    ]
    assert {r["reporting_period"] for r in rows} == {"2026-Q1"}
    assert {r["report_date"] for r in rows} == {"2026-03-31"}
    programme = rows[-1]
    assert programme["number_of_groups"] == "2"
    assert programme["savings_this_cycle"] == "155000"
    assert programme["members_dropped_out"] == "1"
    assert (programme["members_women"], programme["women_rate"]) == ("1", "0.5000")
    assert programme["portfolio_at_risk_30"] == "1.0000"
    assert rows[0]["cycle_start_date"] == "2026-01-05"


def test_quarter_out_of_range_is_refused(client: TestClient[Any]) -> None:
    for params in ({"quarter": 5}, {"quarter": 0}, {"year": 1999}, {"year": "x"}):
        response = client.get("/api/savix/quarterly.csv", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")


def test_officers_see_their_provinces_only(db: Database, client: TestClient[Any]) -> None:
    _group_in_arrears(client)
    _group_with_a_dropout(client)
    officer = bearer(db, "dara.officer", "officer", ("province:Svay Rieng",))
    report = client.get("/api/savix", params={"as_of": "2026-03-30"}, headers=officer).json()
    assert [g["code"] for g in report["groups"]] == [OTHER]
    assert report["programme"][0]["figures"]["members"] == 2
    asked = client.get(
        "/api/savix", params={"as_of": "2026-03-30", "province": "Kampong Thom"}, headers=officer
    ).json()
    assert asked["groups"] == []


def test_pdf_prints_the_programme_and_the_chart(client: TestClient[Any], tmp_path: Any) -> None:
    _group_in_arrears(client)
    _group_with_a_dropout(client)
    response = client.get("/api/savix/report.pdf", params={"as_of": "2026-03-30"})
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "savix.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Savings groups across the programme (SAVIX)" in text
    assert "Savings and loans outstanding by province (KHR)" in text
    assert "155000 KHR" in text  # the programme's savings
    assert "Svay Rieng" in text
    assert OTHER in text
