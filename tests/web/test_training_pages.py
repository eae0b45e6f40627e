"""The livelihood officer's training pages through HTTP: the list, a training's attendance per
day and certificates, registering a household, a day's register (once per form), cost items,
errors beside their fields in Khmer, and another province's training (404).

The cohort (tests/api/training_world.py): a three-day course, 6-8 November 2018, DV-009 (two
people, every day: completed) and LA-101 (one person, missed the last day)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.ratelimit import SlidingWindowLimiter
from ledger.store.database import Database
from tests.api.conftest import bearer, make_client
from tests.api.grants_world import BAVET, PERSON, household, ok
from tests.api.training_world import Cohort, build_cohort
from tests.web.conftest import csrf_of, sign_in

KEY_RE = re.compile(r'<form[^>]*id="{form}-form"[^>]*>.*?name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def cohort(db: Database) -> Cohort:
    with make_client(db) as api:
        api.headers.update(bearer(db, "sopheap.finance", "finance"))
        built = build_cohort(api, db)
        ok(api.post("/api/households", json=household("LA-102"), headers=built.world.officer))
        ok(
            api.put(
                "/api/contacts/DV-009",
                json={"province": "Svay Rieng", "name": PERSON, "phone": "+855 12 345 678"},
                headers=built.world.officer,
            ),
            200,
        )
        return built


def signed_in(db: Database, username: str) -> Iterator[TestClient[Any]]:
    with make_client(db) as client:
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        assert sign_in(client, username).status_code == 303
        yield client


@pytest.fixture
def dara(db: Database, cohort: Cohort) -> Iterator[TestClient[Any]]:
    yield from signed_in(db, "dara.officer")


def form_fields(client: TestClient[Any], path: str, form: str) -> dict[str, str]:
    """The CSRF token and the Idempotency-Key of one form of the page."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    key = re.search(KEY_RE.pattern.format(form=form), page.text, re.DOTALL)
    assert key is not None, form
    return {"_csrf_token": csrf_of(page.text), "idempotency_key": key.group(1)}


def api_training(db: Database, client: TestClient[Any], training_id: int) -> dict[str, Any]:
    headers = bearer(db, f"auditor{id(client)}{len(client.cookies)}", "auditor")
    found: dict[str, Any] = ok(client.get(f"/api/trainings/{training_id}", headers=headers), 200)
    return found


def test_the_list_and_the_attendance_per_day(dara: TestClient[Any], cohort: Cohort) -> None:
    listed = dara.get("/trainings")
    assert listed.status_code == 200
    assert f'href="/trainings/{cohort.training_id}"' in listed.text
    page = dara.get(f"/trainings/{cohort.training_id}").text
    row = page.split('id="participant-DV-009"')[1].split("</tr>")[0]
    assert row.count("✓") == 3
    assert "certificates/DV-009.pdf" in row
    missed = page.split('id="participant-LA-101"')[1].split("</tr>")[0]
    assert missed.count("✓") == 2
    assert "certificates/" not in missed
    assert 'id="completed">1<' in page


def test_a_certificate_prints_the_case_code_and_no_name(
    dara: TestClient[Any], cohort: Cohort
) -> None:
    pdf = dara.get(f"/trainings/{cohort.training_id}/certificates/DV-009.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "DV-009" in text
    assert PERSON not in text
    refused = dara.get(f"/trainings/{cohort.training_id}/certificates/LA-101.pdf")
    assert refused.status_code == 409


def test_register_a_household_and_record_its_day_once(
    dara: TestClient[Any], db: Database, cohort: Cohort
) -> None:
    path = f"/trainings/{cohort.training_id}"
    joined = dara.post(
        f"{path}/participants",
        data={**form_fields(dara, path, "participant"), "case_code": "LA-102", "people": "1"},
        follow_redirects=False,
    )
    assert joined.status_code == 303, joined.text
    page = dara.get(path).text
    index = page.split('value="LA-102"')[0].count('type="checkbox"') - 1
    register = {
        **form_fields(dara, path, "attendance"),
        "date": "2018-11-06",
        f"present[{index}].case_code": "LA-102",
        f"present[{index}].people": "1",
    }
    first = dara.post(f"{path}/attendance", data=register, follow_redirects=False)
    assert first.status_code == 303, first.text
    again = dara.post(f"{path}/attendance", data=register, follow_redirects=False)
    assert again.status_code == 303  # the same form twice: replayed, recorded once
    found = api_training(db, dara, cohort.training_id)
    la102 = next(p for p in found["participants"] if p["case_code"] == "LA-102")
    assert la102["days_attended"] == ["2018-11-06"]


def test_a_wrong_register_is_shown_beside_the_household_in_khmer(
    dara: TestClient[Any], db: Database, cohort: Cohort
) -> None:
    path = f"/trainings/{cohort.training_id}"
    dara.cookies.set("ledger_lang", "km")
    register = {
        **form_fields(dara, path, "attendance"),
        "date": "2018-11-08",
        "present[1].case_code": "LA-101",
        "present[1].people": "3",  # one person registered
    }
    refused = dara.post(f"{path}/attendance", data=register)
    assert refused.status_code == 422, refused.text
    beside = re.search(r'data-field="present\[1\]" data-code="([a-z_]+)">([^<]+)<', refused.text)
    assert beside is not None
    assert beside.group(1) == "people_more_than_registered"
    assert re.search("[\u1780-\u17ff]", beside.group(2))
    assert 'name="present[1].people" inputmode="numeric" value="3"' in refused.text
    found = api_training(db, dara, cohort.training_id)
    la101 = next(p for p in found["participants"] if p["case_code"] == "LA-101")
    assert len(la101["days_attended"]) == 2


def test_cost_items(dara: TestClient[Any], db: Database, cohort: Cohort) -> None:
    path = f"/trainings/{cohort.training_id}"
    cost = {
        **form_fields(dara, path, "cost"),
        "item": "meals",
        "date": "2018-11-07",
        "paid_from": BAVET,
        "amount": "12O000",
    }
    refused = dara.post(f"{path}/costs", data=cost)
    assert refused.status_code == 422
    assert 'data-field="amount"' in refused.text
    assert 'value="12O000"' in refused.text
    saved = dara.post(f"{path}/costs", data={**cost, "amount": "120000"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    found = api_training(db, dara, cohort.training_id)
    assert [(c["item"], c["amount"]) for c in found["costs"]] == [
        ("venue", "400000"),
        ("meals", "120000"),
    ]


def test_another_provinces_training_is_not_found(db: Database, cohort: Cohort) -> None:
    for vanna in signed_in(db, "vanna.officer"):
        assert f"/trainings/{cohort.training_id}" not in vanna.get("/trainings").text
        for tail in ("", "/certificates/DV-009.pdf"):
            assert vanna.get(f"/trainings/{cohort.training_id}{tail}").status_code == 404
        form = {"_csrf_token": csrf_of(vanna.get("/trainings").text), "case_code": "LA-102"}
        assert (
            vanna.post(f"/trainings/{cohort.training_id}/participants", data=form).status_code
            == 404
        )
