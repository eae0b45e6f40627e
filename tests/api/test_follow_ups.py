"""A whole follow-up visit in one request (`POST /api/households/{case}/follow-ups`): the herd
and the month's income together, once per Idempotency-Key, and nothing of it when any part
is refused. DV-009 holds the two pigs of its grant (tests/api/training_world.py)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import balances
from tests.api.training_world import Cohort, build_cohort

URL = "/api/households/DV-009/follow-ups"


def follow_up(**extra: Any) -> dict[str, Any]:
    """Eight piglets born, one pig died, three sold; the month's income from two sources."""
    return {
        "date": "2019-03-12",
        "officer": "dara.officer",
        "species": [
            {
                "species": "PIG",
                "counted": 6,
                "births": 8,
                "deaths": [{"cause": "disease", "head": 1}],
                "sold": 3,
                "sold_price": "1500000",
            }
        ],
        "income": {
            "month": "2019-03",
            "lines": [
                {"source": "livestock", "amount": "1500000"},
                {"source": "crops", "amount": "350000"},
            ],
        },
        **extra,
    }


def _state(client: TestClient[Any], cohort: Cohort) -> tuple[object, ...]:
    officer = cohort.world.officer
    return (
        balances(client, "hh-dv-009"),
        client.get("/api/households/DV-009/visits", headers=officer).json()["items"],
        client.get("/api/households/DV-009/income", headers=officer).json()["items"],
    )


def test_a_follow_up_records_the_herd_and_the_income_once(
    client: TestClient[Any], db: Database
) -> None:
    cohort = build_cohort(client, db)
    headers = {**cohort.world.officer, "Idempotency-Key": "visit-dv-009-2019-03"}
    made = client.post(URL, json=follow_up(), headers=headers)
    assert made.status_code == 201, made.text
    again = client.post(URL, json=follow_up(), headers=headers)
    assert again.status_code == 201
    assert again.json() == made.json()
    body = made.json()
    assert body["visit"]["species"][0]["counted"] == 6
    assert [(r["source"], r["amount"]) for r in body["income"]] == [
        ("livestock", "1500000"),
        ("crops", "350000"),
    ]
    visits, income = _state(client, cohort)[1:]
    assert isinstance(visits, list)
    assert isinstance(income, list)
    assert len(visits) == 1
    assert len(income) == 2
    held = balances(client, "hh-dv-009")
    assert held[("Assets:Livestock:Pig", "PIG")] == "6"
    # 1,500,000 from the sale; the 1,850,000 of income records are memorandum income, not
    # cash in the household's book (ledger/income/rules.py).
    assert held[("Assets:Cash", "KHR")].replace(",", "") == "1500000"
    assert held[("Equity:Memorandum:Household-Income", "KHR")].replace(",", "") == "1850000"


def test_income_alone_is_a_visit_and_an_empty_one_is_refused(
    client: TestClient[Any], db: Database
) -> None:
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    empty = client.post(URL, json=follow_up(species=[], income=None), headers=officer)
    assert empty.status_code == 422
    assert empty.json()["code"] == "follow_up_empty"
    alone = client.post(URL, json=follow_up(species=[]), headers=officer)
    assert alone.status_code == 201, alone.text
    assert alone.json()["visit"]["species"] == []


def test_any_refused_part_writes_nothing(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    before = _state(client, cohort)
    too_many_deaths = follow_up(
        species=[{"species": "PIG", "counted": 0, "deaths": [{"cause": "disease", "head": 3}]}]
    )
    refused = client.post(URL, json=too_many_deaths, headers=officer)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "more_than_held"
    assert refused.json()["errors"][0]["field"] == "species[0].counted"
    bad_income = follow_up(
        income={
            "month": "2019-13",
            "lines": [
                {"source": "crops", "amount": "-5"},
                {"source": "crops", "amount": "1"},
                {"source": "lottery", "amount": "1"},
            ],
        }
    )
    refused = client.post(URL, json=bad_income, headers=officer)
    assert refused.status_code == 422, refused.text
    fields = {(e["code"], e["field"]) for e in refused.json()["errors"]}
    assert fields == {
        ("month_invalid", "income.month"),
        ("amount_not_positive", "income.lines[0].amount"),
        ("income_source_repeated", "income.lines[1].source"),
        ("source_invalid", "income.lines[2].source"),
    }
    before_consent = follow_up(
        income={"month": "2018-01", "lines": [{"source": "crops", "amount": "1"}]}
    )
    refused = client.post(URL, json=before_consent, headers=officer)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "income.month"
    assert _state(client, cohort) == before


def test_a_baseline_month_recorded_twice_writes_no_visit(
    client: TestClient[Any], db: Database
) -> None:
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    baseline = {
        "month": "2018-11",
        "baseline": True,
        "lines": [{"source": "wages", "amount": "200000"}],
    }
    first = client.post(
        URL, json=follow_up(date="2018-12-01", species=[], income=baseline), headers=officer
    )
    assert first.status_code == 201, first.text
    before = _state(client, cohort)
    again = client.post(URL, json=follow_up(income=baseline), headers=officer)
    assert again.status_code == 409
    assert again.json()["code"] == "baseline_exists"
    assert again.json()["errors"][0]["field"] == "income.month"
    assert _state(client, cohort) == before


def test_another_provinces_household_is_not_found(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    before = _state(client, cohort)
    far = client.post(URL, json=follow_up(), headers=cohort.world.far_officer)
    assert far.status_code == 404
    assert far.json()["code"] == "household_not_found"
    assert _state(client, cohort) == before
