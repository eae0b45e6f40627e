"""Grants in the currency the household receives (issue 17, item 1), through the API.

The world (tests/api/grants_world.py): 800.00 USD at 4,110 and 200.00 USD at 4,120 into the
Bavet cash box, a weighted average of 4,112 riel to the dollar. Figures by hand; the worked
example is the one docs/ACCOUNTING.md tells.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from ledger.store.database import Database
from ledger.verify import verify_book
from tests.api.conftest import balances
from tests.api.grants_world import (
    AWARD,
    BANK,
    BAVET,
    GRANTS_LINE,
    World,
    build_world,
    cash,
    household,
    ok,
    pigs,
    propose,
)
from tests.api.test_grants_bad_input import assert_refused_and_unchanged, walk


@pytest.fixture
def world(client: TestClient[Any], db: Database) -> World:
    return build_world(client, db)


def grants_line(client: TestClient[Any]) -> dict[str, Any]:
    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    line: dict[str, Any] = next(x for x in budget["lines"] if x["code"] == GRANTS_LINE)
    return line


def riel_grant(client: TestClient[Any], world: World, amount: str = "1000000") -> dict[str, Any]:
    return propose(client, world.officer, amount, currency="KHR")


def test_worked_example_a_riel_grant_completes_and_its_commitment_falls_to_what_was_spent(
    client: TestClient[Any], world: World
) -> None:
    proposed = riel_grant(client, world)
    assert (proposed["currency"], proposed["approved_amount"], proposed["committed"]) == (
        "KHR",
        "1000000",
        None,
    )
    # Approved at 4,000 riel to the dollar: 1,000,000 / 4,000 = 250.00 USD committed.
    approved = ok(
        client.post(
            f"/api/grants/{proposed['id']}/approve",
            json={"exchange_rate": "4000"},
            headers=world.other_officer,
        ),
        200,
    )
    assert approved["committed"] == "250.00"
    assert (approved["commitment_rate"], approved["commitment_rate_method"]) == ("4000", "explicit")
    assert approved["reserved"] == "250.00"
    line = grants_line(client)
    assert (line["actual"], line["committed"], line["remaining"]) == ("0.00", "250.00", "1750.00")

    # Paid in full at the day's rate of 4,100: 1,000,000 / 4,100 = 243.90 USD spent.
    paid = ok(
        client.post(
            f"/api/grants/{proposed['id']}/disbursements",
            json=cash("1000000", "2018-11-20") | {"exchange_rate": "4100"},
        )
    )
    assert (paid["amount"], paid["award_amount"]) == ("1000000", "243.90")
    grant = ok(client.get(f"/api/grants/{proposed['id']}"), 200)
    assert (grant["status"], grant["disbursed"], grant["remaining"]) == (
        "fully_disbursed",
        "1000000",
        "0",
    )
    # The commitment falls to what was actually spent; nothing stays reserved.
    assert (grant["committed"], grant["award_disbursed"], grant["reserved"]) == (
        "243.90",
        "243.90",
        "0.00",
    )
    line = grants_line(client)
    assert (line["actual"], line["committed"], line["remaining"]) == ("243.90", "0.00", "1756.10")
    ok(client.post(f"/api/grants/{proposed['id']}/close", json={}), 200)


def test_approval_by_the_weighted_average_then_paid_in_pigs_and_riel(
    client: TestClient[Any], world: World
) -> None:
    proposed = riel_grant(client, world, "1200000")
    approved = ok(
        client.post(f"/api/grants/{proposed['id']}/approve", headers=world.other_officer), 200
    )
    # 1,200,000 / 4,112 = 291.83 USD, at the average of the exchanges into riel.
    assert (approved["committed"], approved["commitment_rate"]) == ("291.83", "4112")
    assert approved["commitment_rate_method"] == "average_exchange"
    ok(client.post(f"/api/grants/{proposed['id']}/disbursements", json=pigs()))  # 600,000
    grant = ok(client.get(f"/api/grants/{proposed['id']}"), 200)
    # 600,000 / 4,112 = 145.91 spent; 291.83 - 145.91 = 145.92 still reserved.
    assert (grant["status"], grant["disbursed"], grant["reserved"]) == (
        "disbursing",
        "600000",
        "145.92",
    )
    assert grants_line(client)["committed"] == "145.92"
    made = ok(client.post(f"/api/grants/{proposed['id']}/disbursements", json=cash("600000")))
    grant = ok(client.get(f"/api/grants/{proposed['id']}"), 200)
    assert (grant["status"], grant["committed"], grant["reserved"]) == (
        "fully_disbursed",
        "291.82",  # 145.91 + 145.91: a cent less than committed
        "0.00",
    )
    line = grants_line(client)
    assert (line["actual"], line["committed"]) == ("291.82", "0.00")
    # Reversing the last payment reserves exactly what it had spent again.
    ok(
        client.post(
            f"/api/grants/{proposed['id']}/disbursements/{made['id']}/reverse",
            json={"date": "2019-01-21"},
        ),
        200,
    )
    grant = ok(client.get(f"/api/grants/{proposed['id']}"), 200)
    assert (grant["status"], grant["disbursed"], grant["reserved"]) == (
        "disbursing",
        "600000",
        "145.91",
    )
    line = grants_line(client)
    assert (line["actual"], line["committed"]) == ("145.91", "145.91")


def test_a_grant_without_currency_is_in_the_awards_as_before(
    client: TestClient[Any], world: World
) -> None:
    proposed = propose(client, world.officer, "300.00")
    assert proposed["currency"] == proposed["award_currency"] == "USD"
    approved = ok(
        client.post(f"/api/grants/{proposed['id']}/approve", headers=world.other_officer), 200
    )
    assert (approved["committed"], approved["commitment_rate_method"]) == (
        "300.00",
        "same_currency",
    )
    assert approved["commitment_rate"] is None


def test_maker_checker_measures_the_commitment_in_the_awards_currency(
    client: TestClient[Any], world: World
) -> None:
    # 1,000,000 riel at 4,112 is 243.19 USD: under the 250.00 threshold, the proposer may.
    small = riel_grant(client, world)
    ok(client.post(f"/api/grants/{small['id']}/approve", headers=world.officer), 200)
    # 1,100,000 riel is 267.51 USD: above it, a second person approves.
    large = riel_grant(client, world, "1100000")
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{large['id']}/approve",
        None,
        403,
        "approval_needs_second_person",
        headers=world.officer,
    )


def test_bad_grants_in_another_currency(client: TestClient[Any], world: World) -> None:
    cases: list[tuple[str, str, Any, int, str]] = []
    base = {
        "case_code": "DV-009",
        "award": AWARD,
        "budget_line": GRANTS_LINE,
        "business_type": "pig_raising",
        "approved_amount": "1000000",
    }
    for name, currency, amount, status, code in (
        ("livestock as the currency", "PIG", "2", 422, "currency_not_money"),
        ("an unknown currency", "XYZ", "100", 422, "currency_not_money"),
        ("lower case", "khr", "100", 422, "currency_not_money"),
        ("a NUL", "KH\u0000R", "100", 422, "currency_not_money"),
        ("riel with cents", "KHR", "1000.50", 422, "amount_precision_exceeded"),
        ("nothing", "KHR", "0", 422, "amount_not_positive"),
        ("negative", "KHR", "-5", 422, "amount_not_positive"),
    ):
        cases.append(
            (
                name,
                "/api/grants",
                base | {"currency": currency, "approved_amount": amount},
                status,
                code,
            )
        )
    cases.append(
        (
            "tranches in dollars for a riel grant",
            "/api/grants",
            base
            | {
                "currency": "KHR",
                "tranches": [{"planned_date": "2018-12-01", "amount": "243.90"}],
            },
            422,
            "amount_precision_exceeded",
        )
    )
    cases.append(
        (
            "tranches not adding up",
            "/api/grants",
            base
            | {
                "currency": "KHR",
                "tranches": [{"planned_date": "2018-12-01", "amount": "500000"}],
            },
            422,
            "tranches_do_not_add_up",
        )
    )
    walk(client, cases, world.officer)


def test_bad_approvals_and_payments_of_a_riel_grant(client: TestClient[Any], world: World) -> None:
    grant = riel_grant(client, world)
    approve = f"/api/grants/{grant['id']}/approve"
    cases: list[tuple[str, str, Any, int, str]] = [
        ("a rate of nothing", approve, {"exchange_rate": "0"}, 422, "price_invalid"),
        ("a negative rate", approve, {"exchange_rate": "-4100"}, 422, "price_invalid"),
        ("a rate in words", approve, {"exchange_rate": "four"}, 422, "price_invalid"),
        ("a huge rate", approve, {"exchange_rate": "9" * 30}, 422, "price_invalid"),
        ("an unknown field", approve, {"rate": "4100"}, 422, "request_invalid"),
        ("a number, not text", approve, {"exchange_rate": 4100}, 422, "request_invalid"),
    ]
    walk(client, cases, world.other_officer)
    ok(client.post(approve, headers=world.other_officer), 200)
    dollars = {"date": "2018-11-20", "method": "cash", "paid_from": BANK, "amount": "243.19"}
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant['id']}/disbursements",
        dollars,
        409,
        "grant_currency_mismatch",
    )
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant['id']}/disbursements",
        cash("1000001", "2018-11-20"),
        409,
        "grant_amount_exceeded",
    )


def test_a_baht_grant_with_no_baht_ever_bought_needs_a_rate(
    client: TestClient[Any], world: World
) -> None:
    grant = propose(client, world.officer, "8000.00", currency="THB")
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant['id']}/approve",
        {},
        422,
        "exchange_rate_required",
        headers=world.other_officer,
    )
    approved = ok(
        client.post(
            f"/api/grants/{grant['id']}/approve",
            json={"exchange_rate": "32.50"},
            headers=world.other_officer,
        ),
        200,
    )
    assert approved["committed"] == "246.15"  # 8,000.00 / 32.50 = 246.153...


def test_a_household_that_consented_after_the_award_ended_gets_no_grant(
    client: TestClient[Any], world: World, db: Database
) -> None:
    late = household("LA-099") | {"consent_date": "2019-07-01"}  # the award ended 2019-06-30
    ok(client.post("/api/households", json=late, headers=world.officer))
    body = {
        "case_code": "LA-099",
        "award": AWARD,
        "budget_line": GRANTS_LINE,
        "business_type": "grocery",
        "approved_amount": "100.00",
    }
    assert_refused_and_unchanged(
        client, "POST", "/api/grants", body, 409, "consent_after_award_end", world.officer
    )
    # A grant proposed before the rule (its household's consent recorded late): approval
    # refuses it too, since it could never be paid.
    grant = propose(client, world.officer, "100.00")

    def consent_late(conn: Any) -> None:
        conn.execute(
            text("UPDATE households SET consent_date = '2019-07-01' WHERE case_code = 'DV-009'")
        )

    db.write(consent_late)
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant['id']}/approve",
        None,
        409,
        "consent_after_award_end",
        headers=world.other_officer,
    )


def test_the_books_stay_whole(client: TestClient[Any], world: World, db: Database) -> None:
    grant = riel_grant(client, world, "600000")
    ok(client.post(f"/api/grants/{grant['id']}/approve", headers=world.other_officer), 200)
    ok(client.post(f"/api/grants/{grant['id']}/disbursements", json=pigs()))
    assert balances(client, "org")[(BAVET, "KHR")] == "3512000"  # 4,112,000 - 600,000
    for book in ("org", "hh-dv-009"):
        assert verify_book(db, book).ok
