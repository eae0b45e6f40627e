"""Donor award to household grant, end to end through the API, with figures by hand."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from ledger.verify import verify_book
from tests.api.conftest import balances
from tests.api.grants_world import (
    AWARD,
    BAVET,
    GRANTS_LINE,
    TRANSPORT_LINE,
    approved_grant,
    build_world,
    cash,
    ok,
    pigs,
)
from tests.api.test_export_api import BEAN_CHECK
from tests.pdf import pdf_page_count, pdf_text


def test_award_to_pigs_and_cash_with_budget_by_hand(client: TestClient[Any], db: Database) -> None:
    world = build_world(client, db)
    grant_id = approved_grant(client, world)

    in_kind = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    # 2 pigs x 300,000 riel = 600,000 riel; at the weighted average of the exchanges into
    # Bavet cash (4,112,000 riel for 1,000.00 USD = 4,112 riel to the dollar): 145.91 USD.
    assert in_kind["receipt_number"] == "ORG-2018-0001"
    assert in_kind["amount"] == "600000"
    assert in_kind["award_amount"] == "145.91"
    assert in_kind["rate_method"] == "average_exchange"
    assert in_kind["rate"] == "4112"
    assert in_kind["items"] == [
        {"commodity": "PIG", "quantity": 2, "unit_cost": "300000", "value": "600000"}
    ]
    in_cash = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=cash("616500")))
    assert in_cash["receipt_number"] == "ORG-2019-0001"  # a new year, a new sequence
    assert in_cash["award_amount"] == "149.93"  # 616,500 / 4,112 = 149.927

    grant = ok(client.get(f"/api/grants/{grant_id}"), 200)
    assert (grant["status"], grant["disbursed"], grant["remaining"]) == (
        "disbursing",
        "295.84",
        "4.16",
    )
    # Transport home for returnees, paid in riel at an explicit rate: 120,000 / 4,100 = 29.27.
    spent = ok(
        client.post(
            f"/api/awards/{AWARD}/expenses",
            json={
                "date": "2018-11-04",
                "budget_line": TRANSPORT_LINE,
                "paid_from": BAVET,
                "amount": "120000",
                "narration": "Transport home for 33 returnees from Long An",
                "exchange_rate": "4100",
            },
        )
    )
    assert (spent["award_amount"], spent["rate_method"]) == ("29.27", "explicit")

    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    assert budget["received"] == "5000.00"
    lines = {line["code"]: line for line in budget["lines"]}
    assert lines[GRANTS_LINE] | {} == {
        "code": GRANTS_LINE,
        "name": "Small-business grants",
        "budget": "2000.00",
        "original_budget": "2000.00",  # never amended: the same
        "actual": "295.84",
        "committed": "4.16",
        "remaining": "1700.00",
        "percent_used": "14.8",
        "in_kind": "145.91",
    }
    assert (lines[TRANSPORT_LINE]["actual"], lines[TRANSPORT_LINE]["remaining"]) == (
        "29.27",
        "470.73",
    )

    org = balances(client, "org")
    # 3,288,000 + 824,000 riel exchanged; 600,000 + 616,500 + 120,000 paid out.
    assert org[(BAVET, "KHR")] == "2775500"
    household = balances(client, "hh-dv-009")
    assert household[("Assets:Livestock:Pig", "PIG")] == "2"
    assert household[("Assets:Cash", "KHR")] == "616500"
    assert household[("Income:Grants:CTIP-2018", "KHR")] == "-1216500"

    # Cancelling releases the 4.16 the grant still reserved.
    ok(
        client.post(
            f"/api/grants/{grant_id}/cancel", json={"reason": "Family moved to Phnom Penh"}
        ),
        200,
    )
    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    lines = {line["code"]: line for line in budget["lines"]}
    assert (lines[GRANTS_LINE]["committed"], lines[GRANTS_LINE]["remaining"]) == (
        "0.00",
        "1704.16",
    )
    for book in ("org", "hh-dv-009"):
        report = verify_book(db, book)
        assert report.ok, report


def test_reversing_a_disbursement_undoes_both_books(client: TestClient[Any], db: Database) -> None:
    world = build_world(client, db)
    grant_id = approved_grant(client, world)
    made = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    reversed_ = ok(
        client.post(
            f"/api/grants/{grant_id}/disbursements/{made['id']}/reverse",
            json={"date": "2018-11-21", "reason": "Piglets died on the way; refunded"},
        ),
        200,
    )
    assert reversed_["reversed_by"] == "sopheap.finance"
    assert balances(client, "org")[(BAVET, "KHR")] == "4112000"
    assert ("Assets:Livestock:Pig", "PIG") not in balances(client, "hh-dv-009")
    grant = ok(client.get(f"/api/grants/{grant_id}"), 200)
    assert (grant["status"], grant["disbursed"]) == ("approved", "0.00")
    again = client.post(f"/api/grants/{grant_id}/disbursements/{made['id']}/reverse", json={})
    assert again.status_code == 409
    assert again.json()["code"] == "already_reversed"
    for book in ("org", "hh-dv-009"):
        assert verify_book(db, book).ok


def test_a_disbursements_transactions_are_reversed_only_through_the_grant(
    client: TestClient[Any], db: Database
) -> None:
    """Neither book's half of a disbursement reverses alone through the journal's route: the
    grant's record and the other book would be left behind."""
    world = build_world(client, db)
    grant_id = approved_grant(client, world)
    made = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    for book, transaction_id in (
        ("org", made["org_transaction_id"]),
        ("hh-dv-009", made["household_transaction_id"]),
    ):
        refused = client.post(f"/api/books/{book}/transactions/{transaction_id}/reverse", json={})
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "reverse_through_grant"
    assert balances(client, "org")[(BAVET, "KHR")] == "3512000"
    grant = ok(client.get(f"/api/grants/{grant_id}"), 200)
    assert (grant["status"], grant["disbursed"]) == ("disbursing", "145.91")
    # Through the grant, both books are reversed together; the reversals themselves are the
    # journal's to refuse.
    ok(client.post(f"/api/grants/{grant_id}/disbursements/{made['id']}/reverse", json={}), 200)
    transactions = ok(client.get("/api/books/org/transactions", params={"limit": 1000}), 200)
    reversal = next(t for t in transactions["items"] if t["id"] > made["org_transaction_id"])
    again = client.post(f"/api/books/org/transactions/{reversal['id']}/reverse", json={})
    assert again.status_code == 409
    assert again.json()["code"] == "reversal_not_reversible"


def test_receipt_pdf_of_pigs_given_in_kind(client: TestClient[Any], db: Database) -> None:
    world = build_world(client, db)
    grant_id = approved_grant(client, world)
    made = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    response = client.get(
        f"/api/grants/{grant_id}/disbursements/{made['id']}/receipt.pdf", headers=world.officer
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="receipt-ORG-2018-0001.pdf"' in response.headers["content-disposition"]
    assert pdf_page_count(response.content) == 1
    text = pdf_text(response.content)
    for expected in ("ORG-2018-0001", "DV-009", "CTIP-2018", "600,000"):
        assert expected in text, expected
    assert "Six hundred thousand riel" in text
    # An officer of another province cannot see that the grant exists.
    hidden = client.get(
        f"/api/grants/{grant_id}/disbursements/{made['id']}/receipt.pdf",
        headers=world.far_officer,
    )
    assert (hidden.status_code, hidden.json()["code"]) == (404, "grant_not_found")


def test_export_keeps_exchange_rates_as_prices_and_links_both_books(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    world = build_world(client, db)
    grant_id = approved_grant(client, world)
    ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    for book in ("org", "hh-dv-009"):
        response = client.get(f"/api/books/{book}/export.beancount")
        assert response.status_code == 200
        path = tmp_path / f"{book}.beancount"
        path.write_bytes(response.content)
        checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        text = response.content.decode("utf-8")
        assert "^disbursement-ORG-2018-0001" in text
        if book == "org":
            assert "2018-11-02 price USD 4110 KHR" in text
            assert "2018-11-05 price USD 4120 KHR" in text
            assert 'case: "DV-009"' in text
        else:
            assert "Assets:Livestock:Pig" in text
            assert "2 PIG @ 300000 KHR" in text
