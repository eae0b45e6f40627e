"""The request examples of the household and contact routes are requests the API accepts: a
newcomer who sends them in order registers DV-009, records a girl, corrects her and keeps the
household's contact details."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from api.schemas.grants import EXAMPLE_HOUSEHOLD
from api.schemas.people import EXAMPLE_CONTACT, EXAMPLE_MEMBER
from ledger.store.database import Database
from tests.api.conftest import bearer


def test_the_household_and_contact_examples_are_accepted(
    client: TestClient[Any], db: Database
) -> None:
    officer = bearer(db, "dara.officer", "officer", ("province:Svay Rieng",))
    registered = client.post("/api/households", json=EXAMPLE_HOUSEHOLD, headers=officer)
    assert registered.status_code == 201, registered.text
    case = EXAMPLE_HOUSEHOLD["case_code"]
    added = client.post(f"/api/households/{case}/members", json=EXAMPLE_MEMBER, headers=officer)
    assert added.status_code == 201, added.text
    number = added.json()["number"]
    path = f"/api/households/{case}/members/{number}"
    corrected = client.put(path, json=EXAMPLE_MEMBER, headers=officer)
    assert corrected.status_code == 200, corrected.text
    kept = client.put(f"/api/contacts/{case}", json=EXAMPLE_CONTACT, headers=officer)
    assert kept.status_code == 200, kept.text
    shown = client.get(f"/api/contacts/{case}", headers=officer).json()
    assert {k: shown[k] for k in EXAMPLE_CONTACT} == EXAMPLE_CONTACT
