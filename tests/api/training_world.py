"""A training cohort built through the API on top of the grants world (tests/api/grants_world.py).

The CTIP award gets a livestock-training line; a three-day course (6-8 November 2018) for
DV-009 (two people, every day: completes) and LA-101 (one person, missed the last day); DV-009
receives two pigs as a grant. Visits and income records are the tests' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.grants_world import (
    AWARD,
    BAVET,
    World,
    approved_grant,
    build_world,
    household,
    ok,
    pigs,
)

TRAINING_LINE = "livestock-training"


@dataclass(frozen=True)
class Cohort:
    world: World
    training_id: int


def visit(date: str, *species: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"date": date, "officer": "dara.officer", "species": list(species), **extra}


def income(month: str, source: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"month": month, "source": source, "amount": amount, **extra}


def build_cohort(client: TestClient[Any], db: Database) -> Cohort:
    world = build_world(client, db)
    ok(
        client.post(
            f"/api/awards/{AWARD}/budget-lines",
            json={
                "code": TRAINING_LINE,
                "name": "Chicken and pig raising training",
                "amount": "1000.00",
                "expense_account": "Expenses:Training:Livestock:CTIP-2018",
            },
        )
    )
    ok(client.post("/api/households", json=household("LA-101"), headers=world.officer))
    training = ok(
        client.post(
            "/api/trainings",
            json={
                "topics": ["chicken_raising", "pig_raising"],
                "title": "Chicken and pig raising",
                "start_date": "2018-11-06",
                "end_date": "2018-11-08",
                "province": "Svay Rieng",
                "place": "Bavet commune hall",
                "trainer": "Provincial Department of Agriculture",
                "award": AWARD,
                "budget_line": TRAINING_LINE,
            },
            headers=world.officer,
        )
    )
    training_id: int = training["id"]
    for case, people in (("DV-009", 2), ("LA-101", 1)):
        ok(
            client.post(
                f"/api/trainings/{training_id}/participants",
                json={"case_code": case, "people": people},
                headers=world.officer,
            )
        )
    for date, present in (
        ("2018-11-06", [("DV-009", 2), ("LA-101", 1)]),
        ("2018-11-07", [("DV-009", 2), ("LA-101", 1)]),
        ("2018-11-08", [("DV-009", 1)]),
    ):
        ok(
            client.post(
                f"/api/trainings/{training_id}/attendance",
                json={"date": date, "present": [{"case_code": c, "people": n} for c, n in present]},
                headers=world.officer,
            )
        )
    ok(
        client.post(
            f"/api/trainings/{training_id}/costs",
            json={"item": "venue", "date": "2018-11-06", "paid_from": BAVET, "amount": "400000"},
            headers=world.officer,
        )
    )
    grant_id = approved_grant(client, world)
    ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))  # 2018-11-20
    return Cohort(world, training_id)
