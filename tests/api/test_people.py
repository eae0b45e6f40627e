"""People under a case code: household members with sex, birth year or age band and role;
sex and age of savings-group members; trainees as people of a household. Every hostile input
is a specific 4xx and changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

from litestar.testing import TestClient

from ledger.core import limits
from ledger.store.database import Database
from tests.api.grants_world import World, build_world, household, ok
from tests.api.savings_support import CODE, create_group
from tests.api.training_world import build_cohort

MEMBERS = "/api/households/DV-009/members"
GIRL = {"role": "child", "sex": "female", "birth_year": 2011}


def _world(client: TestClient[Any], db: Database) -> World:
    return build_world(client, db)  # with the household DV-009 of Svay Rieng


def test_people_of_a_household_are_recorded_listed_and_corrected(
    client: TestClient[Any], db: Database
) -> None:
    world = _world(client, db)
    head = ok(
        client.post(
            MEMBERS,
            json={"role": "head", "sex": "female", "age_band": "35-49"},
            headers=world.officer,
        )
    )
    assert head == {
        "case_code": "DV-009",
        "number": 1,
        "role": "head",
        "sex": "female",
        "birth_year": None,
        "age_band": "35-49",
    }
    girl = ok(client.post(MEMBERS, json=GIRL, headers=world.officer))
    assert (girl["number"], girl["birth_year"]) == (2, 2011)
    chosen = ok(client.post(MEMBERS, json={**GIRL, "number": 7}, headers=world.officer))
    assert chosen["number"] == 7
    fixed = ok(
        client.put(
            f"{MEMBERS}/2",
            json={"role": "child", "sex": "male", "birth_year": 2012},
            headers=world.officer,
        ),
        200,
    )
    assert (fixed["sex"], fixed["birth_year"]) == ("male", 2012)
    listed = ok(client.get(MEMBERS, headers=world.officer), 200)["items"]
    assert [(m["number"], m["sex"]) for m in listed] == [(1, "female"), (2, "male"), (7, "female")]
    # An officer of another province sees no such household, and may not write to it.
    assert client.get(MEMBERS, headers=world.far_officer).status_code == 404
    assert client.post(MEMBERS, json=GIRL, headers=world.far_officer).status_code == 404


NEXT_YEAR = datetime.date.today().year + 1
HOSTILE: list[tuple[str, dict[str, Any], int, str]] = [
    ("a birth year in the future", {**GIRL, "birth_year": NEXT_YEAR}, 422, "birth_year_in_future"),
    ("a birth year before 1900", {**GIRL, "birth_year": 1899}, 422, "birth_year_too_early"),
    ("an unknown sex", {**GIRL, "sex": "f"}, 422, "sex_invalid"),
    ("an empty sex", {**GIRL, "sex": ""}, 422, "sex_invalid"),
    ("both a birth year and an age band", {**GIRL, "age_band": "under-18"}, 422,
     "birth_year_and_age_band"),
    ("neither", {"role": "child", "sex": "female"}, 422, "birth_year_or_age_band_required"),
    ("an unknown age band", {"role": "child", "sex": "female", "age_band": "kid"}, 422,
     "age_band_invalid"),
    ("an unknown role", {**GIRL, "role": "boss"}, 422, "household_role_invalid"),
    ("a second head", {**GIRL, "role": "head"}, 409, "household_head_exists"),
    ("a number taken", {**GIRL, "number": 1}, 409, "household_member_exists"),
    ("a number past the limit", {**GIRL, "number": limits.HOUSEHOLD_MEMBERS_MAX + 1}, 422,
     "request_invalid"),
    ("a name", {**GIRL, "name": "Sok Dara"}, 422, "request_invalid"),
    ("a five-digit year", {**GIRL, "birth_year": 20110}, 422, "request_invalid"),
]  # fmt: skip


def test_hostile_people_are_refused_and_change_nothing(
    client: TestClient[Any], db: Database
) -> None:
    world = _world(client, db)
    ok(client.post(MEMBERS, json={**GIRL, "role": "head"}, headers=world.officer))
    before = client.get(MEMBERS, headers=world.officer).json()
    wrong = []
    for name, body, status, code in HOSTILE:
        for method, path in (("POST", MEMBERS), ("PUT", f"{MEMBERS}/1")):
            if method == "PUT" and status == 409:
                continue  # the head may stay head; number 1 is their own
            response = client.request(method, path, json=body, headers=world.officer)
            if (response.status_code, response.json().get("code")) != (status, code):
                wrong.append(f"{method} {name}: {response.status_code} {response.text[:200]}")
    assert not wrong, wrong
    missing = client.put(f"{MEMBERS}/9", json=GIRL, headers=world.officer)
    assert (missing.status_code, missing.json()["code"]) == (404, "household_member_not_found")
    moved = client.put(f"{MEMBERS}/1", json={**GIRL, "number": 2}, headers=world.officer)
    assert (moved.status_code, moved.json()["code"]) == (422, "household_member_number_fixed")
    assert client.get(MEMBERS, headers=world.officer).json() == before


def test_a_household_holds_at_most_the_limit_of_people(
    client: TestClient[Any], db: Database
) -> None:
    world = _world(client, db)
    for _ in range(limits.HOUSEHOLD_MEMBERS_MAX):
        ok(client.post(MEMBERS, json=GIRL, headers=world.officer))
    refused = client.post(MEMBERS, json=GIRL, headers=world.officer)
    assert (refused.status_code, refused.json()["code"]) == (409, "household_member_limit_reached")
    assert len(client.get(MEMBERS, headers=world.officer).json()["items"]) == 50


def test_khmer_reader_gets_khmer_messages(client: TestClient[Any], db: Database) -> None:
    world = _world(client, db)
    refused = client.post(
        MEMBERS,
        json={**GIRL, "birth_year": 1850},
        headers={**world.officer, "Accept-Language": "km"},
    )
    assert refused.json()["code"] == "birth_year_too_early"
    assert "១៩០០" in refused.json()["detail"]


def test_savings_members_have_sex_and_age(client: TestClient[Any]) -> None:
    create_group(client, members=1)
    added = ok(
        client.post(
            f"/api/groups/{CODE}/members",
            json={"number": "M02", "joined_on": "2026-01-05", "sex": "female", "birth_year": 1985},
        )
    )
    assert (added["sex"], added["birth_year"], added["age_band"]) == ("female", 1985, None)
    described = ok(
        client.put(
            f"/api/groups/{CODE}/members/M01/person", json={"sex": "male", "age_band": "50-64"}
        ),
        200,
    )
    assert (described["sex"], described["age_band"]) == ("male", "50-64")
    members = ok(client.get(f"/api/groups/{CODE}/members"), 200)["items"]
    assert [(m["number"], m["sex"]) for m in members] == [("M01", "male"), ("M02", "female")]
    for body, code in (
        ({"sex": "woman"}, "sex_invalid"),
        ({"birth_year": NEXT_YEAR}, "birth_year_in_future"),
        ({"birth_year": 1850}, "birth_year_too_early"),
        ({"birth_year": 1985, "age_band": "35-49"}, "birth_year_and_age_band"),
    ):
        new = client.post(
            f"/api/groups/{CODE}/members", json={"number": "M09", "joined_on": "2026-01-05", **body}
        )
        put = client.put(f"/api/groups/{CODE}/members/M01/person", json=body)
        assert (new.status_code, new.json()["code"]) == (422, code), new.text
        assert (put.status_code, put.json()["code"]) == (422, code), put.text
    assert ok(client.get(f"/api/groups/{CODE}/members"), 200)["items"] == members
    missing = client.put(f"/api/groups/{CODE}/members/M77/person", json={"sex": "male"})
    assert missing.status_code == 404


def test_trainees_are_people_of_the_household(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    world = cohort.world
    ok(client.post("/api/households", json=household("KT-033"), headers=world.officer))
    people = "/api/households/KT-033/members"
    for body in ({"role": "head", "sex": "male", "birth_year": 1980}, GIRL, GIRL):
        ok(client.post(people, json=body, headers=world.officer))
    path = f"/api/trainings/{cohort.training_id}/participants"
    before = client.get(f"/api/trainings/{cohort.training_id}", headers=world.officer).json()
    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({"trainees": [1, 4]}, 422, "trainee_not_household_member"),
        ({"trainees": [1, 1]}, 422, "trainee_repeated"),
        ({"trainees": [1, 3], "people": 3}, 422, "people_not_trainees"),
        ({"trainees": [0]}, 422, "request_invalid"),
    ]
    for body, status, code in refusals:
        refused = client.post(path, json={"case_code": "KT-033", **body}, headers=world.officer)
        assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert (
        client.get(f"/api/trainings/{cohort.training_id}", headers=world.officer).json() == before
    )
    training = ok(
        client.post(path, json={"case_code": "KT-033", "trainees": [3, 1]}, headers=world.officer)
    )
    joined = {p["case_code"]: p for p in training["participants"]}
    assert (joined["KT-033"]["people"], joined["KT-033"]["trainees"]) == (2, [1, 3])
    # A participant registered as a count keeps its count, with no trainees named.
    assert (joined["DV-009"]["people"], joined["DV-009"]["trainees"]) == (2, [])
    read = ok(client.get(f"/api/trainings/{cohort.training_id}", headers=world.officer), 200)
    assert read["participants"] == training["participants"]
