"""A small programme built through the API, shared by the grants tests.

CCPCR's CTIP award of 10,000.00 USD (threshold 250.00 for maker-checker), funds received,
two exchanges into riel at Bavet (800.00 USD at 4,110 and 200.00 USD at 4,120: a weighted
average of 4,112 riel to the dollar), and the returnee household DV-009 in Svay Rieng.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import Connection

from ledger.funds import service as funds
from ledger.funds.service import AwardDraft, BudgetLineDraft
from ledger.households.rules import HouseholdDraft
from ledger.store.database import Database
from tests.api.conftest import bearer

BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"
AWARD = "CTIP-2018"
GRANTS_LINE = "livelihood-grants"
TRANSPORT_LINE = "transport"
PERSON = "Chea Sopheap"  # a name on file in contacts, which no report may print


@dataclass(frozen=True)
class World:
    finance: dict[str, str]
    officer: dict[str, str]  # an officer for Svay Rieng
    other_officer: dict[str, str]  # an officer for Svay Rieng too: the checker
    far_officer: dict[str, str]  # an officer for Mondulkiri
    admin: dict[str, str]


def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def household(case_code: str = "DV-009", province: str = "Svay Rieng") -> dict[str, Any]:
    return {
        "case_code": case_code,
        "province": province,
        "district": "Bavet",
        "commune": "Bavet",
        "village": "Prey Kokir",
        "head_sex": "female",
        "head_age_band": "35-49",
        "members": 5,
        "children": 4,
        "category": "trafficking_survivor",
        "referral_source": "Bavet transit centre",
        "consent_date": "2018-11-04",
    }


def household_draft(case_code: str = "DV-009", province: str = "Svay Rieng") -> HouseholdDraft:
    """The same household for tests that call the services without HTTP."""
    fields = household(case_code, province)
    consent = datetime.date.fromisoformat(fields.pop("consent_date"))
    return HouseholdDraft(**fields, consent_date=consent)


def create_ctip(conn: Connection, lines: list[BudgetLineDraft]) -> funds.Award:
    """CTIP-2018 through the service (tests without HTTP): 10,000.00 USD from July 2018 to
    June 2019, approval threshold 250.00, with `lines`."""
    draft = AwardDraft(
        book_code="org",
        code=AWARD,
        donor="USAID / Winrock International",
        currency="USD",
        amount="10000.00",
        start_date=datetime.date(2018, 7, 1),
        end_date=datetime.date(2019, 6, 30),
        approval_threshold="250.00",
        income_account="Income:Restricted:CTIP-2018",
        lines=tuple(lines),
    )
    return funds.create_award(conn, draft, "setup")


def build_world(client: TestClient[Any], db: Database) -> World:
    world = World(
        finance=dict(client.headers),
        officer=bearer(db, "dara.officer", "officer", ("province:Svay Rieng",)),
        other_officer=bearer(db, "sokha.officer", "officer", ("province:Svay Rieng",)),
        far_officer=bearer(db, "vanna.officer", "officer", ("province:Mondulkiri",)),
        admin=bearer(db, "admin", "admin"),
    )
    ok(
        client.post(
            "/api/books",
            json={
                "code": "org",
                "name": "CCPCR livelihood programme",
                "kind": "organisation",
                "operating_currency": "USD",
            },
            headers=world.admin,
        )
    )
    for name, currencies, non_negative in (
        (BANK, ["USD"], True),
        (BAVET, ["KHR"], True),
    ):
        ok(
            client.post(
                "/api/books/org/accounts",
                json={
                    "name": name,
                    "open_date": "2018-01-01",
                    "currencies": currencies,
                    "non_negative": non_negative,
                },
            )
        )
    ok(
        client.post(
            "/api/awards",
            json={
                "book": "org",
                "code": AWARD,
                "donor": "USAID / Winrock International",
                "currency": "USD",
                "amount": "10000.00",
                "start_date": "2018-07-01",
                "end_date": "2019-06-30",
                "income_account": "Income:Restricted:CTIP-2018",
                "approval_threshold": "250.00",
                "budget_lines": [
                    {
                        "code": GRANTS_LINE,
                        "name": "Small-business grants",
                        "amount": "2000.00",
                        "expense_account": "Expenses:Grants:Livelihood:CTIP-2018",
                    },
                    {
                        "code": TRANSPORT_LINE,
                        "name": "Transport home of returnees",
                        "amount": "500.00",
                        "expense_account": "Expenses:Reintegration:Transport:CTIP-2018",
                    },
                ],
            },
        )
    )
    ok(
        client.post(
            f"/api/awards/{AWARD}/receipts",
            json={"date": "2018-07-02", "bank_account": BANK, "amount": "5000.00"},
        )
    )
    for date, usd, rate in (("2018-11-02", "800.00", "4110"), ("2018-11-05", "200.00", "4120")):
        ok(
            client.post(
                "/api/exchanges",
                json={
                    "book": "org",
                    "date": date,
                    "from_account": BANK,
                    "to_account": BAVET,
                    "from_amount": usd,
                    "rate": rate,
                },
            )
        )
    ok(client.post("/api/households", json=household(), headers=world.officer))
    return world


def propose(
    client: TestClient[Any], headers: dict[str, str], amount: str = "300.00", **extra: Any
) -> dict[str, Any]:
    body = {
        "case_code": "DV-009",
        "award": AWARD,
        "budget_line": GRANTS_LINE,
        "business_type": "pig_raising",
        "approved_amount": amount,
        "purpose": "Two piglets and feed",
        **extra,
    }
    result: dict[str, Any] = ok(client.post("/api/grants", json=body, headers=headers))
    return result


def approved_grant(client: TestClient[Any], world: World, amount: str = "300.00") -> int:
    grant = propose(client, world.officer, amount)
    ok(client.post(f"/api/grants/{grant['id']}/approve", headers=world.other_officer), 200)
    grant_id: int = grant["id"]
    return grant_id


def pigs(date: str = "2018-11-20", count: int | float = 2, cost: str = "300000") -> dict[str, Any]:
    return {
        "date": date,
        "method": "in_kind",
        "paid_from": BAVET,
        "items": [{"commodity": "PIG", "quantity": count, "unit_cost": cost, "currency": "KHR"}],
    }


def cash(amount: str, date: str = "2019-01-20") -> dict[str, Any]:
    return {"date": date, "method": "cash", "paid_from": BAVET, "amount": amount}


def programme(client: TestClient[Any], db: Database) -> None:
    """The world, DV-009's contact on file, a 300.00 USD pig-raising grant paid as 2 pigs
    (20 November 2018) and 616,500 riel cash (20 January 2019), transport home for
    returnees (120,000 riel at 4,100 on 4 November), and the Bavet cash box counted at
    3,392,000 riel on 31 December 2018."""
    world = build_world(client, db)
    ok(
        client.put(
            "/api/contacts/DV-009",
            json={"province": "Svay Rieng", "name": PERSON, "phone": "+855 12 345 678"},
            headers=world.officer,
        ),
        200,
    )
    grant_id = approved_grant(client, world)
    ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    ok(client.post(f"/api/grants/{grant_id}/disbursements", json=cash("616500")))
    ok(
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
    bavet = next(
        a["id"]
        for a in ok(client.get("/api/books/org/accounts"), 200)["items"]
        if a["name"] == BAVET
    )
    ok(
        client.post(
            f"/api/books/org/accounts/{bavet}/cash-counts",
            json={"date": "2018-12-31", "amount": "3392000"},
        )
    )
