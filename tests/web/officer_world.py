"""The livelihood officers' world for the page tests, built through the API on top of the
grants world (tests/api/grants_world.py): the CTIP award in dollars, riel at the Bavet cash
box, household DV-009 in Svay Rieng, and two officers of that province (dara proposes,
sokha approves) and one of Mondulkiri (vanna), all with the test password.

On top of it: a riel award `CCPCR-KHR` (threshold 500,000 riel, a 20,000,000 riel
livelihood line, running to 2030 so that today's date is inside it) and household LA-101.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.grants_world import World, build_world, household, ok

KHR_AWARD = "CCPCR-KHR"
KHR_LINE = "household-grants"
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
                "code": KHR_AWARD,
                "donor": "CCPCR own funds",
                "currency": "KHR",
                "amount": "40000000",
                "start_date": "2018-07-01",
                "end_date": "2030-12-31",
                "income_account": "Income:Restricted:CCPCR-KHR",
                "approval_threshold": "500000",
                "budget_lines": [
                    {
                        "code": KHR_LINE,
                        "name": "Household grants in riel",
                        "amount": "20000000",
                        "expense_account": "Expenses:Grants:Livelihood:CCPCR-KHR",
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
        "award": KHR_AWARD,
        "budget_line": KHR_LINE,
        "business_type": "pig_raising",
        "approved_amount": amount,
        "purpose": "Two piglets and feed",
    }
    result: dict[str, Any] = ok(client.post("/api/grants", json=body, headers=headers))
    return result
