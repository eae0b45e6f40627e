"""Every bad input of the grants issue: a specific 4xx with a stable code, and nothing changes.

"Nothing" is checked on everything a refused write could touch: the balances of the
organisation's book and of the household's, both books' transaction ids, the award's budget
against actual, and every grant's status and amount disbursed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import balances, transaction_ids
from tests.api.grants_world import (
    AWARD,
    BANK,
    BAVET,
    GRANTS_LINE,
    TRANSPORT_LINE,
    World,
    approved_grant,
    build_world,
    cash,
    household,
    ok,
    pigs,
    propose,
)

BEAN_CHECK = Path(sys.executable).parent / "bean-check"
HOUSEHOLD_BOOK = "hh-dv-009"
EXPENSE = "Expenses:Grants:Livelihood:CTIP-2018"
HOSTILE_TEXT = 'Piglets "Kandal" \\ sow\nline two; ជ្រូកពីរក្បាល\tចំណី\r\nend'


@pytest.fixture
def world(client: TestClient[Any], db: Database) -> World:
    return build_world(client, db)


def state(client: TestClient[Any]) -> dict[str, Any]:
    """Everything a refused grants request must leave as it was."""
    grants = ok(client.get("/api/grants", params={"limit": 500}), 200)["items"]
    return {
        "org": balances(client, "org"),
        "household": balances(client, HOUSEHOLD_BOOK),
        "org_transactions": transaction_ids(client, "org"),
        "household_transactions": transaction_ids(client, HOUSEHOLD_BOOK),
        "budget": ok(client.get(f"/api/awards/{AWARD}/budget"), 200),
        "grants": [(g["id"], g["status"], g["disbursed"], g["approved_by"]) for g in grants],
        "households": [
            h["case_code"]
            for h in ok(client.get("/api/households", params={"limit": 500}), 200)["items"]
        ],
        "exchanges": ok(client.get("/api/exchanges", params={"book": "org"}), 200),
    }


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json().get("code")) == (status, code), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    return problem


def assert_refused_and_unchanged(
    client: TestClient[Any],
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    headers: dict[str, str] | None = None,
) -> None:
    before = state(client)
    response = client.request(method, path, json=body, headers=headers)
    refused(response, status, code)
    assert state(client) == before


def walk(
    client: TestClient[Any],
    cases: list[tuple[str, str, Any, int, str]],
    headers: dict[str, str] | None = None,
) -> None:
    """POST each (name, path, body, status, code); every one refused as said, none changing
    anything. One world for the whole table: every failure is listed at the end."""
    wrong: list[str] = []
    for name, path, body, status, code in cases:
        before = state(client)
        response = client.post(path, json=body, headers=headers)
        got = (response.status_code, response.json().get("code"))
        if got != (status, code):
            wrong.append(f"{name}: {got}, expected {(status, code)}: {response.text[:200]}")
        elif state(client) != before:
            wrong.append(f"{name}: refused, but something changed")
    assert not wrong, "\n".join(wrong)


def disbursing(grant_id: int) -> str:
    return f"/api/grants/{grant_id}/disbursements"


# -- the rules of a grant ------------------------------------------------------------------------


def test_disbursing_more_than_approved(client: TestClient[Any], world: World) -> None:
    grant_id = approved_grant(client, world)  # 300.00 USD
    # 1,233,601 riel at 4,112 to the dollar is 300.00024...: 300.00 USD, still within.
    # 1,233,621 riel is 300.0051 -> 300.01 USD: one cent too many.
    assert_refused_and_unchanged(
        client, "POST", disbursing(grant_id), cash("1233621"), 409, "grant_amount_exceeded"
    )
    # After a first payment, the remainder is what counts.
    ok(client.post(disbursing(grant_id), json=pigs()))  # 145.91 USD
    # 154.09 USD left: 633,650 riel is 154.0978 -> 154.10 USD.
    assert_refused_and_unchanged(
        client, "POST", disbursing(grant_id), cash("633650"), 409, "grant_amount_exceeded"
    )
    assert_refused_and_unchanged(
        client, "POST", disbursing(grant_id), pigs(count=3), 409, "grant_amount_exceeded"
    )  # 900,000 riel = 218.87 USD > 154.09 left


def test_approving_more_than_the_budget_line_has_left(
    client: TestClient[Any], world: World
) -> None:
    too_big = propose(client, world.officer, "2000.01")
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{too_big['id']}/approve",
        None,
        409,
        "budget_line_exceeded",
        world.other_officer,
    )
    # An approved grant reserves its amount: a second one cannot take the same money.
    approved_grant(client, world, "1900.00")
    second = propose(client, world.officer, "100.01")
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{second['id']}/approve",
        None,
        409,
        "budget_line_exceeded",
        world.other_officer,
    )
    # Nor can a budget-line expense (paid from the bank, in dollars).
    expense = {
        "date": "2018-11-04",
        "budget_line": GRANTS_LINE,
        "paid_from": BANK,
        "amount": "100.01",
        "narration": "Emergency grant outside the grant register",
    }
    assert_refused_and_unchanged(
        client, "POST", f"/api/awards/{AWARD}/expenses", expense, 409, "budget_line_exceeded"
    )
    ok(client.post(f"/api/awards/{AWARD}/expenses", json=expense | {"amount": "100.00"}))
    lines = {
        line["code"]: line for line in ok(client.get(f"/api/awards/{AWARD}/budget"), 200)["lines"]
    }
    assert (lines[GRANTS_LINE]["committed"], lines[GRANTS_LINE]["remaining"]) == (
        "1900.00",
        "0.00",
    )


def test_transport_line_cannot_be_overspent(client: TestClient[Any], world: World) -> None:
    expense = {
        "date": "2018-11-06",  # after both exchanges: 4,112 riel to the dollar
        "budget_line": TRANSPORT_LINE,
        "paid_from": BAVET,
        "amount": "2056001",  # at 4,112 riel to the dollar: 500.00024 -> 500.00 fits ...
        "narration": "Transport home for returnees",
    }
    over = expense | {"amount": "2056021"}  # ... 500.0051 -> 500.01 does not
    assert_refused_and_unchanged(
        client, "POST", f"/api/awards/{AWARD}/expenses", over, 409, "budget_line_exceeded"
    )
    ok(client.post(f"/api/awards/{AWARD}/expenses", json=expense))


def test_disbursing_a_cancelled_grant(client: TestClient[Any], world: World) -> None:
    grant_id = approved_grant(client, world)
    ok(client.post(f"/api/grants/{grant_id}/cancel", json={"reason": "Moved away"}), 200)
    assert_refused_and_unchanged(
        client, "POST", disbursing(grant_id), pigs(), 409, "grant_cancelled"
    )
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant_id}/approve",
        None,
        409,
        "grant_not_proposed",
        world.other_officer,
    )
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant_id}/cancel",
        {"reason": "again"},
        409,
        "grant_not_cancellable",
    )


def test_disbursing_an_unapproved_grant(client: TestClient[Any], world: World) -> None:
    grant = propose(client, world.officer)
    assert_refused_and_unchanged(
        client, "POST", disbursing(grant["id"]), cash("100000"), 409, "grant_not_approved"
    )
    assert_refused_and_unchanged(
        client, "POST", f"/api/grants/{grant['id']}/close", None, 409, "grant_not_closable"
    )


def test_cancelling_needs_a_reason(client: TestClient[Any], world: World) -> None:
    grant = propose(client, world.officer)
    for body in ({}, {"reason": "   "}, {"reason": "no\x00reason"}):
        code = (
            "text_control_character"
            if "reason" in body and "\x00" in body["reason"]
            else ("reason_required")
        )
        assert_refused_and_unchanged(
            client, "POST", f"/api/grants/{grant['id']}/cancel", body, 422, code
        )


def test_the_proposer_may_not_approve_above_the_threshold(
    client: TestClient[Any], world: World
) -> None:
    grant = propose(client, world.officer, "250.01")  # the threshold is 250.00
    assert_refused_and_unchanged(
        client,
        "POST",
        f"/api/grants/{grant['id']}/approve",
        None,
        403,
        "approval_needs_second_person",
        world.officer,
    )
    approved = ok(
        client.post(f"/api/grants/{grant['id']}/approve", headers=world.other_officer), 200
    )
    assert (approved["status"], approved["approved_by"]) == ("approved", "sokha.officer")


@pytest.mark.parametrize("amount", ["250.00", "40.00"])
def test_the_proposer_may_approve_up_to_the_threshold(
    client: TestClient[Any], world: World, amount: str
) -> None:
    grant = propose(client, world.officer, amount)
    approved = ok(client.post(f"/api/grants/{grant['id']}/approve", headers=world.officer), 200)
    assert (approved["status"], approved["approved_by"]) == ("approved", "dara.officer")
    made = ok(client.post(disbursing(grant["id"]), json=cash("164480")))  # 40.00 USD
    assert made["award_amount"] == "40.00"


def test_disbursing_past_the_end_or_before_the_start_of_the_award(
    client: TestClient[Any], world: World
) -> None:
    grant_id = approved_grant(client, world)  # the award runs 2018-07-01 to 2019-06-30
    for date in ("2019-07-01", "2031-01-01"):
        assert_refused_and_unchanged(
            client, "POST", disbursing(grant_id), cash("100000", date), 422, "award_not_active"
        )
    # Before the household consented (2018-11-04): a receipt cannot predate the case.
    assert_refused_and_unchanged(
        client,
        "POST",
        disbursing(grant_id),
        cash("100000", "2018-11-03"),
        422,
        "date_before_consent",
    )
    made = ok(client.post(disbursing(grant_id), json=cash("100000", "2019-06-30")))
    assert made["receipt_number"] == "ORG-2019-0001"


def test_a_cash_box_cannot_go_below_zero(client: TestClient[Any], world: World) -> None:
    grant_id = approved_grant(client, world, "1900.00")
    # Bavet holds 4,112,000 riel (1,000.00 USD); 4,112,001 riel is 1,000.00 USD at the average
    # rate, within the grant, but one riel more than the box holds.
    assert_refused_and_unchanged(
        client, "POST", disbursing(grant_id), cash("4112001"), 409, "account_overdrawn"
    )
    ok(client.post(disbursing(grant_id), json=cash("4112000")))
    assert (BAVET, "KHR") not in balances(client, "org")  # exactly empty
    # An empty box with an explicit rate is still an empty box.
    assert_refused_and_unchanged(
        client,
        "POST",
        disbursing(grant_id),
        cash("100") | {"exchange_rate": "4100"},
        409,
        "account_overdrawn",
    )


# -- households and scope --------------------------------------------------------------------------


def test_a_duplicate_case_code(client: TestClient[Any], world: World) -> None:
    assert_refused_and_unchanged(
        client, "POST", "/api/households", household(), 409, "case_code_exists", world.officer
    )


def test_a_province_outside_the_officers_scope(client: TestClient[Any], world: World) -> None:
    far = world.far_officer  # Mondulkiri only; DV-009 lives in Svay Rieng
    assert_refused_and_unchanged(
        client,
        "POST",
        "/api/households",
        household("DV-010"),
        403,
        "province_not_in_scope",
        far,
    )
    grant_id = approved_grant(client, world)
    made = ok(client.post(disbursing(grant_id), json=pigs()))
    proposed = propose(client, world.officer)
    # Reading or acting on the household or its grants answers as if they did not exist.
    for method, path, body, code in (
        ("GET", "/api/households/DV-009", None, "household_not_found"),
        ("GET", "/api/households/DV-404", None, "household_not_found"),
        ("POST", "/api/grants", {**_proposal(), "case_code": "DV-009"}, "household_not_found"),
        ("GET", f"/api/grants/{grant_id}", None, "grant_not_found"),
        ("GET", "/api/grants/999999", None, "grant_not_found"),
        ("GET", disbursing(grant_id), None, "grant_not_found"),
        ("GET", f"{disbursing(grant_id)}/{made['id']}", None, "grant_not_found"),
        ("POST", disbursing(grant_id), cash("1000"), "grant_not_found"),
        ("POST", f"{disbursing(grant_id)}/{made['id']}/reverse", {}, "grant_not_found"),
        ("POST", f"/api/grants/{proposed['id']}/approve", None, "grant_not_found"),
        ("POST", f"/api/grants/{grant_id}/cancel", {"reason": "x"}, "grant_not_found"),
        ("POST", f"/api/grants/{grant_id}/close", None, "grant_not_found"),
    ):
        assert_refused_and_unchanged(client, method, path, body, 404, code, far)
    # Lists show nothing of another province.
    assert ok(client.get("/api/households", headers=far), 200)["items"] == []
    assert ok(client.get("/api/grants", headers=far), 200)["items"] == []
    register = client.get("/api/grants/register.csv", headers=far)
    assert register.status_code == 200
    assert len(register.text.strip().splitlines()) == 1  # the header only
    assert "DV-009" not in register.text


def _proposal(**changes: Any) -> dict[str, Any]:
    return {
        "case_code": "DV-009",
        "award": AWARD,
        "budget_line": GRANTS_LINE,
        "business_type": "pig_raising",
        "approved_amount": "300.00",
        "purpose": "Two piglets and feed",
        **changes,
    }


BAD_HOUSEHOLDS: list[tuple[str, dict[str, Any], str]] = [
    ("malformed case code", household("dv 9"), "case_code_invalid"),
    (
        "children above members",
        household("DV-010") | {"members": 2, "children": 3},
        "children_invalid",
    ),
    ("no members", household("DV-010") | {"members": 0}, "members_invalid"),
    ("unknown category", household("DV-010") | {"category": "refugee"}, "category_invalid"),
    ("unknown sex", household("DV-010") | {"head_sex": "x"}, "head_sex_invalid"),
    (
        "consent tomorrow",
        household("DV-010") | {"consent_date": "2999-01-01"},
        "consent_date_in_future",
    ),
    ("NUL in village", household("DV-010") | {"village": "Prey\x00Kokir"}, "place_invalid"),
    ("newline in village", household("DV-010") | {"village": "Prey\nKokir"}, "place_invalid"),
    ("a name slipped in", household("DV-010") | {"head_name": "Test Person"}, "request_invalid"),
]


def test_bad_households_are_refused_and_change_nothing(
    client: TestClient[Any], world: World
) -> None:
    cases = [(n, "/api/households", b, 422, c) for n, b, c in BAD_HOUSEHOLDS]
    walk(client, cases, world.officer)


# -- in kind ---------------------------------------------------------------------------------------


def _item(**changes: Any) -> dict[str, Any]:
    body = pigs()
    body["items"] = [body["items"][0] | changes]
    return body


BAD_DISBURSEMENTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown commodity", _item(commodity="UNICORN"), 422, "commodity_unknown"),
    ("lowercase commodity", _item(commodity="pig"), 422, "commodity_unknown"),
    ("half a pig", _item(quantity=1.5), 422, "quantity_fractional"),
    ("a tiny fraction of a pig", _item(quantity=2.000001), 422, "quantity_fractional"),
    ("no pigs", _item(quantity=0), 422, "quantity_invalid"),
    ("minus two pigs", _item(quantity=-2), 422, "quantity_invalid"),
    ("10^30 pigs", _item(quantity=10**30), 422, "quantity_invalid"),
    ("pigs valued in dollars", _item(currency="USD"), 422, "item_currency_mismatch"),
    ("riel as an item", _item(commodity="KHR"), 422, "item_is_money"),
    ("fraction of a riel", _item(unit_cost="300000.5"), 422, "amount_precision_exceeded"),
    ("free pigs", _item(unit_cost="0"), 422, "amount_not_positive"),
    ("negative cost", _item(unit_cost="-300000"), 422, "amount_not_positive"),
    ("cost as a float", _item(unit_cost=300000.0), 422, "request_invalid"),
    ("30-digit cost", _item(unit_cost="9" * 30), 422, "amount_too_large"),
    ("items worth too much", _item(quantity=10**6, unit_cost="9" * 12), 422, "amount_too_large"),
    ("in kind without items", pigs() | {"items": []}, 422, "in_kind_needs_items"),
    ("in kind with an amount", pigs() | {"amount": "600000"}, 422, "in_kind_needs_items"),
    ("21 items", pigs() | {"items": pigs()["items"] * 21}, 422, "request_invalid"),
    # cash
    ("cash without an amount", cash("1") | {"amount": None}, 422, "cash_needs_amount"),
    ("cash with items", cash("600000") | {"items": pigs()["items"]}, 422, "cash_needs_amount"),
    ("fraction of a riel in cash", cash("100000.5"), 422, "amount_precision_exceeded"),
    ("cash as a float", cash("1") | {"amount": 100000.0}, 422, "request_invalid"),
    ("cash as an integer", cash("1") | {"amount": 100000}, 422, "request_invalid"),
    ("30-digit cash", cash("1" * 30), 422, "amount_too_large"),
    ("no cash", cash("0"), 422, "amount_not_positive"),
    ("paid from an expense", cash("100") | {"paid_from": EXPENSE}, 422, "account_not_asset"),
    ("worth nothing in dollars", cash("20"), 422, "amount_not_positive"),  # 0.0049 USD
    (
        "an absurd rate",
        cash("100000") | {"exchange_rate": "999999999999"},
        422,
        "amount_not_positive",
    ),
    ("negative cash", cash("-100000"), 422, "amount_not_positive"),
    ("words for cash", cash("one hundred"), 422, "amount_invalid"),
    ("unknown method", cash("100000") | {"method": "cheque"}, 422, "method_invalid"),
    (
        "unknown account",
        cash("100000") | {"paid_from": "Assets:Cash:Nowhere"},
        422,
        "account_unknown",
    ),
    ("malformed account", cash("100000") | {"paid_from": "cash box"}, 422, "account_unknown"),
    ("bad rate", cash("100000") | {"exchange_rate": "-4100"}, 422, "price_invalid"),
    ("zero rate", cash("100000") | {"exchange_rate": "0"}, 422, "price_invalid"),
    ("rate as a float", cash("100000") | {"exchange_rate": 4100.0}, 422, "request_invalid"),
    (
        "NUL in narration",
        cash("100000") | {"narration": "cash\x00box"},
        422,
        "text_control_character",
    ),
    ("not a date", cash("100000", "2018-02-30"), 422, "request_invalid"),
    ("unknown field", cash("100000") | {"amount_usd": "5"}, 422, "request_invalid"),
]


def test_bad_disbursements_are_refused_and_change_nothing(
    client: TestClient[Any], world: World
) -> None:
    grant_id = approved_grant(client, world)
    walk(client, [(n, disbursing(grant_id), b, s, c) for n, b, s, c in BAD_DISBURSEMENTS])
    # The next receipt number is still the first: a refusal does not burn one.
    assert ok(client.post(disbursing(grant_id), json=pigs()))["receipt_number"] == "ORG-2018-0001"


BAD_PROPOSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown award", _proposal(award="NOPE-2018"), 404, "award_not_found"),
    ("unknown budget line", _proposal(budget_line="nowhere"), 404, "budget_line_not_found"),
    ("unknown household", _proposal(case_code="DV-404"), 404, "household_not_found"),
    ("unknown business", _proposal(business_type="casino"), 422, "business_type_invalid"),
    ("too many cents", _proposal(approved_amount="300.001"), 422, "amount_precision_exceeded"),
    ("float amount", _proposal(approved_amount=300.0), 422, "request_invalid"),
    ("30-digit amount", _proposal(approved_amount="1" * 30), 422, "amount_too_large"),
    ("zero", _proposal(approved_amount="0.00"), 422, "amount_not_positive"),
    ("negative", _proposal(approved_amount="-300.00"), 422, "amount_not_positive"),
    ("NUL in purpose", _proposal(purpose="pigs\x00feed"), 422, "text_control_character"),
    (
        "tranches that do not add up",
        _proposal(tranches=[{"planned_date": "2018-11-20", "amount": "100.00"}]),
        422,
        "tranches_do_not_add_up",
    ),
    (
        "tranche after the award",
        _proposal(tranches=[{"planned_date": "2019-07-01", "amount": "300.00"}]),
        422,
        "award_not_active",
    ),
    (
        "13 tranches",
        _proposal(tranches=[{"planned_date": "2018-11-20", "amount": "1.00"}] * 13),
        422,
        "request_invalid",
    ),
]


def test_bad_proposals_are_refused_and_change_nothing(
    client: TestClient[Any], world: World
) -> None:
    cases = [(n, "/api/grants", b, s, c) for n, b, s, c in BAD_PROPOSALS]
    walk(client, cases, world.officer)


# -- donor funds and exchanges --------------------------------------------------------------------


def _exchange(**changes: Any) -> dict[str, Any]:
    return {
        "book": "org",
        "date": "2018-11-06",
        "from_account": BANK,
        "to_account": BAVET,
        **changes,
    }


BAD_EXCHANGES: list[tuple[str, dict[str, Any], int, str]] = [
    ("neither amount nor rate", _exchange(), 422, "exchange_terms_invalid"),
    ("only a rate", _exchange(rate="4100"), 422, "exchange_terms_invalid"),
    ("only an amount", _exchange(from_amount="100.00"), 422, "exchange_terms_invalid"),
    (
        "all three",
        _exchange(from_amount="100.00", to_amount="410000", rate="4100"),
        422,
        "exchange_terms_invalid",
    ),
    (
        "same currency",
        _exchange(to_account=BANK, from_amount="100.00", to_amount="100.00"),
        422,
        "exchange_same_currency",
    ),
    (
        "unknown account",
        _exchange(to_account="Assets:Cash:Nowhere", from_amount="1.00", rate="4100"),
        422,
        "account_unknown",
    ),
    (
        "unknown book",
        _exchange(book="nowhere", from_amount="1.00", rate="4100"),
        404,
        "book_not_found",
    ),
    (
        "too many cents",
        _exchange(from_amount="100.001", rate="4100"),
        422,
        "amount_precision_exceeded",
    ),
    (
        "fraction of a riel",
        _exchange(from_amount="100.00", to_amount="410000.5"),
        422,
        "amount_precision_exceeded",
    ),
    ("float amount", _exchange(from_amount=100.0, rate="4100"), 422, "request_invalid"),
    ("30-digit amount", _exchange(from_amount="1" * 30, rate="4100"), 422, "amount_too_large"),
    ("negative rate", _exchange(from_amount="100.00", rate="-4100"), 422, "price_invalid"),
    ("zero rate", _exchange(from_amount="100.00", rate="0"), 422, "price_invalid"),
    ("rounds to nothing", _exchange(to_amount="1", rate="4100"), 422, "amount_not_positive"),
    (
        "more than the bank holds",
        _exchange(from_amount="4000.01", rate="4100"),
        409,
        "account_overdrawn",
    ),
    (
        "into an income account",
        _exchange(to_account="Income:Restricted:CTIP-2018", from_amount="1.00", to_amount="1.00"),
        422,
        "account_not_asset",
    ),
    ("rate of 10^12", _exchange(from_amount="0.01", to_amount="10000000000"), 422, "price_invalid"),
    (
        "rate rounding to 10^12",
        _exchange(from_amount="0.01", rate="999999999999"),
        422,
        "price_invalid",
    ),
    (
        "NUL in narration",
        _exchange(from_amount="1.00", rate="4100", narration="a\x00b"),
        422,
        "text_control_character",
    ),
]


def test_bad_exchanges_are_refused_and_change_nothing(
    client: TestClient[Any], world: World
) -> None:
    walk(client, [(n, "/api/exchanges", b, s, c) for n, b, s, c in BAD_EXCHANGES])


def _award(**changes: Any) -> dict[str, Any]:
    return {
        "book": "org",
        "code": "CTIP-2019",
        "donor": "USAID / Winrock International",
        "currency": "USD",
        "amount": "1000.00",
        "start_date": "2019-07-01",
        "end_date": "2020-06-30",
        "income_account": "Income:Restricted:CTIP-2019",
        "approval_threshold": "100.00",
        "budget_lines": [
            {
                "code": "grants",
                "name": "Grants",
                "amount": "1000.00",
                "expense_account": "Expenses:Grants:CTIP-2019",
            }
        ],
        **changes,
    }


def _receipt(**changes: Any) -> dict[str, Any]:
    return {"date": "2018-07-03", "bank_account": BANK, "amount": "100.00", **changes}


BAD_FUNDS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("award exists", "/api/awards", _award(code=AWARD), 409, "award_exists"),
    ("award code", "/api/awards", _award(code="ctip 2019"), 422, "award_code_invalid"),
    ("award in cents", "/api/awards", _award(amount="1000.001"), 422, "amount_precision_exceeded"),
    ("award as a float", "/api/awards", _award(amount=1000.0), 422, "request_invalid"),
    ("award of 30 digits", "/api/awards", _award(amount="1" * 30), 422, "amount_too_large"),
    ("award ends first", "/api/awards", _award(end_date="2019-06-30"), 422, "award_dates_invalid"),
    ("unknown currency", "/api/awards", _award(currency="EUR"), 422, "commodity_unknown"),
    ("unknown book", "/api/awards", _award(book="nowhere"), 404, "book_not_found"),
    ("lines above the award", "/api/awards", _award(amount="999.99"), 422, "budget_exceeds_award"),
    ("NUL in donor", "/api/awards", _award(donor="US\x00AID"), 422, "text_control_character"),
    ("receipt for no award", "/api/awards/NOPE/receipts", _receipt(), 404, "award_not_found"),
    (
        "receipt in cents",
        f"/api/awards/{AWARD}/receipts",
        _receipt(amount="1.001"),
        422,
        "amount_precision_exceeded",
    ),
    (
        "receipt to nowhere",
        f"/api/awards/{AWARD}/receipts",
        _receipt(bank_account="Assets:Bank:Nowhere"),
        422,
        "account_unknown",
    ),
    (
        "expense on no line",
        f"/api/awards/{AWARD}/expenses",
        {
            "date": "2018-11-04",
            "budget_line": "nowhere",
            "paid_from": BANK,
            "amount": "1.00",
            "narration": "x",
        },
        404,
        "budget_line_not_found",
    ),
    (
        "expense after the award",
        f"/api/awards/{AWARD}/expenses",
        {
            "date": "2019-07-01",
            "budget_line": TRANSPORT_LINE,
            "paid_from": BANK,
            "amount": "1.00",
            "narration": "x",
        },
        422,
        "award_not_active",
    ),
    (
        "receipt into an expense",
        f"/api/awards/{AWARD}/receipts",
        _receipt(bank_account=EXPENSE),
        422,
        "account_not_asset",
    ),
    (
        "expense paid from income",
        f"/api/awards/{AWARD}/expenses",
        {
            "date": "2018-11-06",
            "budget_line": TRANSPORT_LINE,
            "paid_from": "Income:Restricted:CTIP-2018",
            "amount": "1.00",
            "narration": "x",
        },
        422,
        "account_not_asset",
    ),
    (
        "expense worth nothing in dollars",
        f"/api/awards/{AWARD}/expenses",
        {
            "date": "2018-11-06",
            "budget_line": TRANSPORT_LINE,
            "paid_from": BAVET,
            "amount": "20",
            "narration": "x",
        },
        422,
        "amount_not_positive",
    ),
    (
        "budget line exists",
        f"/api/awards/{AWARD}/budget-lines",
        {
            "code": GRANTS_LINE,
            "name": "again",
            "amount": "1.00",
            "expense_account": "Expenses:Again",
        },
        409,
        "budget_line_exists",
    ),
]


def test_bad_funds_requests_are_refused_and_change_nothing(
    client: TestClient[Any], world: World
) -> None:
    walk(client, BAD_FUNDS)


# -- retries ---------------------------------------------------------------------------------------


def test_a_retried_disbursement_pays_once(client: TestClient[Any], world: World) -> None:
    grant_id = approved_grant(client, world)
    headers = {"Idempotency-Key": "phone-dara-2018-11-20-0001"}
    first = client.post(disbursing(grant_id), json=pigs(), headers=headers)
    assert first.status_code == 201, first.text
    after_first = state(client)
    second = client.post(disbursing(grant_id), json=pigs(), headers=headers)
    assert second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.content == first.content
    assert state(client) == after_first
    made = ok(client.get(disbursing(grant_id)), 200)["items"]
    assert [d["receipt_number"] for d in made] == ["ORG-2018-0001"]
    assert balances(client, HOUSEHOLD_BOOK)[("Assets:Livestock:Pig", "PIG")] == "2"
    # The same key with another request is a conflict, and still pays nothing.
    assert_refused_and_unchanged(
        client,
        "POST",
        disbursing(grant_id),
        pigs(count=1),
        409,
        "idempotency_key_reused",
        headers,
    )
    # A new key is a new payment, with the next receipt number.
    again = ok(client.post(disbursing(grant_id), json=pigs(), headers={"Idempotency-Key": "k2"}))
    assert again["receipt_number"] == "ORG-2018-0002"


def test_a_retried_approval_and_household_are_replayed(
    client: TestClient[Any], world: World
) -> None:
    grant = propose(client, world.officer)
    headers = world.other_officer | {"Idempotency-Key": "approve-0001"}
    first = client.post(f"/api/grants/{grant['id']}/approve", headers=headers)
    second = client.post(f"/api/grants/{grant['id']}/approve", headers=headers)
    assert first.status_code == second.status_code == 200, first.text
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.content == first.content
    headers = world.officer | {"Idempotency-Key": "household-0002"}
    created = client.post("/api/households", json=household("DV-010"), headers=headers)
    replayed = client.post("/api/households", json=household("DV-010"), headers=headers)
    assert (created.status_code, replayed.status_code) == (201, 201)
    assert replayed.content == created.content


# -- hostile text is kept and exported -------------------------------------------------------------


def _bean_check(client: TestClient[Any], book: str, tmp_path: Path) -> str:
    response = client.get(f"/api/books/{book}/export.beancount")
    assert response.status_code == 200, response.text
    path = tmp_path / f"{book}.beancount"
    path.write_bytes(response.content)
    checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return response.content.decode("utf-8")


def test_hostile_text_is_kept_and_exported(
    client: TestClient[Any], world: World, tmp_path: Path
) -> None:
    grant = propose(client, world.officer, purpose=HOSTILE_TEXT)
    assert grant["purpose"] == HOSTILE_TEXT
    ok(client.post(f"/api/grants/{grant['id']}/approve", headers=world.other_officer), 200)
    in_kind = ok(client.post(disbursing(grant["id"]), json=pigs() | {"narration": HOSTILE_TEXT}))
    in_cash = ok(client.post(disbursing(grant["id"]), json=cash("100000") | {"narration": "ok"}))
    for made in (in_kind, in_cash):
        assert made["receipt_number"].startswith("ORG-")
    spent = ok(
        client.post(
            f"/api/awards/{AWARD}/expenses",
            json={
                "date": "2018-11-21",
                "budget_line": TRANSPORT_LINE,
                "paid_from": BAVET,
                "amount": "41120",
                "narration": HOSTILE_TEXT,
                "payee": 'Moto-taxi "Sok" \\ Bavet',
            },
        )
    )
    ok(
        client.post(
            "/api/exchanges",
            json=_exchange(from_amount="10.00", to_amount="41000", narration=HOSTILE_TEXT),
        )
    )
    org_txn = ok(client.get(f"/api/books/org/transactions/{in_kind['org_transaction_id']}"), 200)
    assert org_txn["narration"] == HOSTILE_TEXT
    expense_txn = ok(client.get(f"/api/books/org/transactions/{spent['transaction_id']}"), 200)
    assert expense_txn["payee"] == 'Moto-taxi "Sok" \\ Bavet'
    household_txn = ok(
        client.get(
            f"/api/books/{HOUSEHOLD_BOOK}/transactions/{in_kind['household_transaction_id']}"
        ),
        200,
    )
    assert household_txn["narration"] == HOSTILE_TEXT
    org_text = _bean_check(client, "org", tmp_path)
    assert "ជ្រូកពីរក្បាល" in org_text
    household_text = _bean_check(client, HOUSEHOLD_BOOK, tmp_path)
    assert "2 PIG @ 300000 KHR" in household_text
    assert "ជ្រូកពីរក្បាល" in household_text


# -- paths and queries no column could hold ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/households/DV%00009", "text_control_character"),
        ("/api/households?province=%00", "text_control_character"),
        ("/api/households?province=Svay%00Rieng", "text_control_character"),
        ("/api/grants?award=%00", "text_control_character"),
        ("/api/grants?status=%01&case_code=DV-009", "text_control_character"),
        ("/api/grants/register.csv?province=%00", "text_control_character"),
        ("/api/awards/CTIP%002018", "text_control_character"),
        ("/api/awards/%00/budget.csv", "text_control_character"),
        ("/api/exchanges?book=%00", "text_control_character"),
        ("/api/books/%00/balances", "text_control_character"),
        ("/api/grants/2147483648", "request_invalid"),
        ("/api/grants/99999999999999999999999/disbursements", "request_invalid"),
        ("/api/grants/1/disbursements/-2147483649", "request_invalid"),
        ("/api/grants?limit=2147483648", "request_invalid"),
        ("/api/books/org/transactions/99999999999999999999", "request_invalid"),
    ],
)
def test_parameters_no_column_could_hold(client: TestClient[Any], path: str, code: str) -> None:
    """NUL in a path or query (PostgreSQL text cannot hold it) and ids beyond INTEGER are
    refused before any lookup, not passed to the driver to fail with a 500."""
    response = client.get(path)
    refused(response, 422, code)


def test_the_largest_id_is_merely_not_found(client: TestClient[Any], world: World) -> None:
    for path, code in (
        ("/api/grants/2147483647", "grant_not_found"),
        ("/api/grants/-2147483647", "grant_not_found"),
        ("/api/books/org/transactions/2147483647", "transaction_not_found"),
    ):
        refused(client.get(path), 404, code)
    ok(client.get("/api/grants", params={"limit": 1000}), 200)
