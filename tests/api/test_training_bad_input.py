"""Every bad input of the training and outcomes issue: a specific 4xx, and nothing changes."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import balances
from tests.api.training_world import Cohort, build_cohort, income, visit

PIGS_HELD = {"species": "PIG", "counted": 2}


def _state(client: TestClient[Any], cohort: Cohort) -> tuple[object, ...]:
    """Everything a refused request might have changed."""
    officer = cohort.world.officer
    return (
        balances(client, "org"),
        balances(client, "hh-dv-009"),
        client.get("/api/households/DV-009/visits", headers=officer).json()["items"],
        client.get("/api/households/DV-009/income", headers=officer).json()["items"],
        client.get(f"/api/trainings/{cohort.training_id}", headers=officer).json(),
        client.get("/api/audit", headers=cohort.world.admin).json()["items"],
    )


def _pig(**fields: Any) -> dict[str, Any]:
    return visit("2019-03-10", {"species": "PIG", "counted": 2, **fields})


VISITS: list[tuple[str, dict[str, Any], int, str]] = [
    ("negative head count", _pig(counted=-1), 422, "head_count_negative"),
    ("negative births", _pig(births=-3), 422, "head_count_negative"),
    ("fractional births", _pig(births=2.5, counted=4.5), 422, "head_count_fractional"),
    ("fractional deaths", _pig(deaths=[{"cause": "disease", "head": 0.5}]), 422,
     "head_count_fractional"),
    ("more deaths than held", _pig(counted=0, deaths=[{"cause": "disease", "head": 3}]), 409,
     "more_than_held"),
    ("more sales than held", _pig(counted=0, sold=3, sold_price="900000"), 409, "more_than_held"),
    ("a sale without its price", _pig(counted=1, sold=1), 422, "price_required"),
    ("an unknown cause of death", _pig(counted=1, deaths=[{"cause": "sorcery", "head": 1}]),
     422, "death_cause_invalid"),
    ("a count off the book without a reason", _pig(counted=5), 422, "count_reason_required"),
    ("an unknown species", visit("2019-03-10", {"species": "YAK", "counted": 1}), 422,
     "species_invalid"),
    ("costs in an unknown currency", visit("2019-03-10", PIGS_HELD, currency="EUR"), 422,
     "commodity_unknown"),
    ("costs in head of livestock", visit("2019-03-10", PIGS_HELD, currency="PIG"), 422,
     "currency_not_money"),
    ("a visit before consent", visit("2018-10-01", PIGS_HELD), 422, "date_before_consent"),
    ("a visit in the future", visit("2999-01-01", PIGS_HELD), 422, "date_in_future"),
]  # fmt: skip


def test_bad_visits_change_nothing(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    before = _state(client, cohort)
    wrong = []
    for name, body, status, code in VISITS:
        response = client.post(
            "/api/households/DV-009/visits", json=body, headers=cohort.world.officer
        )
        if (response.status_code, response.json().get("code")) != (status, code):
            wrong.append(f"{name}: {response.status_code} {response.text[:200]}")
    assert not wrong, wrong
    assert _state(client, cohort) == before


def test_visits_in_order_and_in_scope(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    world = cohort.world
    made = client.post(
        "/api/households/DV-009/visits", json=visit("2019-03-10", PIGS_HELD), headers=world.officer
    )
    assert made.status_code == 201, made.text
    before = _state(client, cohort)
    earlier = client.post(
        "/api/households/DV-009/visits", json=visit("2019-03-01", PIGS_HELD), headers=world.officer
    )
    assert (earlier.status_code, earlier.json()["code"]) == (409, "visit_not_after_last")
    # An officer of Mondulkiri cannot visit, or learn of, a household of Svay Rieng.
    for method, path, body in (
        ("POST", "/api/households/DV-009/visits", visit("2019-04-01", PIGS_HELD)),
        ("POST", "/api/households/DV-009/income", income("2019-04", "crops", "1000")),
        ("GET", "/api/households/DV-009/visits", None),
        ("GET", "/api/households/DV-009/outcomes", None),
    ):
        hidden = client.request(method, path, json=body, headers=world.far_officer)
        assert (hidden.status_code, hidden.json()["code"]) == (404, "household_not_found")
    assert _state(client, cohort) == before


INCOME: list[tuple[str, dict[str, Any], int, str]] = [
    ("an unknown currency", income("2019-03", "crops", "1000", currency="XYZ"), 422,
     "commodity_unknown"),
    ("income in pigs", income("2019-03", "crops", "2", currency="PIG"), 422,
     "currency_not_money"),
    ("an unknown source", income("2019-03", "lottery", "1000"), 422, "source_invalid"),
    ("a malformed month", income("2019-13", "crops", "1000"), 422, "month_invalid"),
    ("riel with cents", income("2019-03", "crops", "1000.50"), 422,
     "amount_precision_exceeded"),
    ("a negative amount", income("2019-03", "crops", "-1000"), 422, "amount_not_positive"),
    ("a month before consent", income("2018-10", "crops", "1000"), 422, "date_before_consent"),
    ("a month to come", income("2999-01", "crops", "1000"), 422, "date_in_future"),
    ("a second baseline", income("2018-11", "wages", "5000", baseline=True), 409,
     "baseline_exists"),
]  # fmt: skip


def test_bad_income_changes_nothing(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    first = client.post(
        "/api/households/DV-009/income",
        json=income("2018-11", "crops", "200000", baseline=True),
        headers=cohort.world.officer,
    )
    assert first.status_code == 201, first.text
    before = _state(client, cohort)
    wrong = []
    for name, body, status, code in INCOME:
        response = client.post(
            "/api/households/DV-009/income", json=body, headers=cohort.world.officer
        )
        if (response.status_code, response.json().get("code")) != (status, code):
            wrong.append(f"{name}: {response.status_code} {response.text[:200]}")
    assert not wrong, wrong
    assert _state(client, cohort) == before
    # The same month may hold income after support, and another month its own baseline.
    for body in (
        income("2018-11", "wages", "5000"),
        income("2018-12", "wages", "5000", baseline=True),
    ):
        made = client.post("/api/households/DV-009/income", json=body, headers=cohort.world.officer)
        assert made.status_code == 201, made.text


def test_bad_training_input_changes_nothing(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    world = cohort.world
    tid = cohort.training_id
    before = _state(client, cohort)
    for path, body, status, code in (
        (f"/api/trainings/{tid}/attendance",
         {"date": "2018-11-09", "present": [{"case_code": "LA-101"}]}, 422,
         "attendance_date_outside_training"),
        (f"/api/trainings/{tid}/attendance",
         {"date": "2018-11-08", "present": [{"case_code": "DV-009"}]}, 409,
         "attendance_recorded"),
        (f"/api/trainings/{tid}/attendance",
         {"date": "2018-11-08", "present": [{"case_code": "LA-101", "people": 3}]}, 422,
         "people_more_than_registered"),
        (f"/api/trainings/{tid}/attendance",
         {"date": "2018-11-08", "present": [{"case_code": "LA-101", "people": 0.5}]}, 422,
         "people_fractional"),
        (f"/api/trainings/{tid}/participants", {"case_code": "DV-009", "people": 1}, 409,
         "participant_exists"),
        (f"/api/trainings/{tid}/participants", {"case_code": "LA-999", "people": 1}, 404,
         "household_not_found"),
        (f"/api/trainings/{tid}/costs",
         {"item": "venue", "date": "2018-11-06", "paid_from": "Assets:Cash:Bavet-KHR",
          "amount": "99000000"}, 409, "budget_line_exceeded"),
        (f"/api/trainings/{tid}/costs",
         {"item": "party", "date": "2018-11-06", "paid_from": "Assets:Cash:Bavet-KHR",
          "amount": "1000"}, 422, "cost_item_invalid"),
        ("/api/trainings/999/participants", {"case_code": "DV-009"}, 404, "training_not_found"),
    ):  # fmt: skip
        response = client.post(path, json=body, headers=world.officer)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    changes: tuple[tuple[dict[str, Any], str], ...] = (
        ({"end_date": "2018-11-01"}, "training_dates_invalid"),
        ({"topics": ["knitting"]}, "topic_invalid"),
        ({"completion_days_min": 4}, "completion_days_invalid"),
        ({"start_date": "2020-01-01", "end_date": "2020-01-02"}, "award_not_active"),
    )
    for change, code in changes:
        training: dict[str, Any] = {
            "topics": ["pig_raising"],
            "title": "Pig raising",
            "start_date": "2018-11-06",
            "end_date": "2018-11-08",
            "province": "Svay Rieng",
            "place": "Bavet",
            "trainer": "PDA",
            "award": "CTIP-2018",
            "budget_line": "livestock-training",
            **change,
        }
        response = client.post("/api/trainings", json=training, headers=world.officer)
        assert (response.status_code, response.json()["code"]) == (422, code), response.text
    elsewhere = client.post(
        "/api/trainings",
        json={**training, "start_date": "2018-11-06", "province": "Kampong Cham"},
        headers=world.officer,
    )
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "province_not_in_scope")
    assert client.get("/api/trainings", headers=world.officer).json()["items"][1:] == []
    assert _state(client, cohort) == before
