"""The livelihood officer's world for the page and browser tests: two households registered
through the API (DV-009 in Svay Rieng with its contact details, MK-001 in Mondulkiri), an
officer for each province, and an auditor."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection

from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer, make_client
from tests.api.grants_world import household

OFFICER = "dara.officer"  # Svay Rieng
FAR_OFFICER = "vanna.officer"  # Mondulkiri
AUDITOR = "sokha.auditor"
HOUSEHOLD = "DV-009"
FAR_HOUSEHOLD = "MK-001"
# Personal data: it may appear on the contacts page only.
CONTACT_NAME = "Sok Chanthou"
CONTACT_PHONE = "+855 12 345 678"
KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')

_readers = itertools.count(1)


@pytest.fixture
def officers(db: Database) -> dict[str, Any]:
    """The two households, their contact details, and the users who sign in to the pages."""
    people: tuple[tuple[str, str, tuple[str, ...]], ...] = (
        (OFFICER, "officer", ("province:Svay Rieng",)),
        (FAR_OFFICER, "officer", ("province:Mondulkiri",)),
        (AUDITOR, "auditor", ()),
    )

    def create(conn: Connection) -> None:
        for name, role, scopes in people:
            users.create_user(conn, name, PASSWORD, role, scopes)

    db.write(create)
    with make_client(db) as api:
        admin = bearer(db, "admin", "admin")
        for case, province in ((HOUSEHOLD, "Svay Rieng"), (FAR_HOUSEHOLD, "Mondulkiri")):
            made = api.post("/api/households", json=household(case, province), headers=admin)
            assert made.status_code == 201, made.text
        contact = {"province": "Svay Rieng", "name": CONTACT_NAME, "phone": CONTACT_PHONE}
        put = api.put(f"/api/contacts/{HOUSEHOLD}", json=contact, headers=admin)
        assert put.status_code == 200, put.text
    return {"households": (HOUSEHOLD, FAR_HOUSEHOLD)}


def key_of(html: str) -> str:
    found = KEY_RE.search(html)
    assert found is not None, "the form has no Idempotency-Key"
    return found.group(1)


def api_get(db: Database, client: Any, path: str) -> Any:
    """What the API shows an auditor (every province) at `path`."""
    headers = bearer(db, f"reader.auditor{next(_readers)}", "auditor")
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def api_visits(db: Database, client: TestClient[Any] | Any, case: str = HOUSEHOLD) -> Any:
    return api_get(db, client, f"/api/households/{case}/visits")["items"]


def api_income(db: Database, client: TestClient[Any] | Any, case: str = HOUSEHOLD) -> Any:
    return api_get(db, client, f"/api/households/{case}/income")["items"]
