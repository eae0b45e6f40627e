"""The livelihood officers' world for the page tests, built through the API on top of the
grants world (tests/api/grants_world.py): the CTIP award in dollars, riel at the Bavet cash
box, household DV-009 in Svay Rieng, and two officers of that province (dara proposes,
sokha approves) and one of Mondulkiri (vanna), all with the test password.

On top of it: a dollar award `CCPCR-2026` whose grants above 200.00 USD need a second
person (a 1,000,000 riel grant commits 243.19 USD at the Bavet exchanges' 4,112 riel to the
dollar), with a 10,000.00 USD household-grants line, running to 2030 so that today's date is
inside it; and household LA-101. Grants are proposed in riel, what the household receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.grants_world import World, build_world, household, ok

AWARD = "CCPCR-2026"
LINE = "household-grants"
PROPOSER = "dara.officer"
CHECKER = "sokha.officer"
FAR_OFFICER = "vanna.officer"
CASE = "DV-009"


@dataclass(frozen=True)
class OfficerWorld:
    api: World


def build_officer_world(client: TestClient[Any], db: Database) -> OfficerWorld:
    """`client` is signed in as finance (its headers)."""
    world = build_world(client, db)
    ok(
        client.post(
            "/api/awards",
            json={
                "book": "org",
                "code": AWARD,
                "donor": "CCPCR own funds",
                "currency": "USD",
                "amount": "20000.00",
                "start_date": "2018-07-01",
                "end_date": "2030-12-31",
                "income_account": "Income:Restricted:CCPCR-2026",
                "approval_threshold": "200.00",
                "budget_lines": [
                    {
                        "code": LINE,
                        "name": "Household grants",
                        "amount": "10000.00",
                        "expense_account": "Expenses:Grants:Livelihood:CCPCR-2026",
                    }
                ],
            },
        )
    )
    ok(client.post("/api/households", json=household("LA-101"), headers=world.officer))
    return OfficerWorld(world)


def propose_khr(
    client: TestClient[Any], headers: dict[str, str], amount: str = "1000000"
) -> dict[str, Any]:
    body = {
        "case_code": CASE,
        "award": AWARD,
        "budget_line": LINE,
        "currency": "KHR",
        "business_type": "pig_raising",
        "approved_amount": amount,
        "purpose": "Two piglets and feed",
    }
    result: dict[str, Any] = ok(client.post("/api/grants", json=body, headers=headers))
    return result
