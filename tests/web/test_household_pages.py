"""The officer's household pages through HTTP: the home in their provinces, registering a
household (once per form), a household page without names, the contacts page for the roles
allowed, another province's pages (404), and a follow-up visit with its errors in Khmer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.ratelimit import SlidingWindowLimiter
from ledger.store.database import Database
from tests.api.conftest import make_client
from tests.web.conftest import csrf_of, sign_in
from tests.web.officer_world import (
    AUDITOR,
    CONTACT_NAME,
    CONTACT_PHONE,
    FAR_HOUSEHOLD,
    HOUSEHOLD,
    OFFICER,
    api_get,
    api_income,
    api_visits,
    key_of,
    officers,
)

__all__ = ["officers"]  # the fixture


@pytest.fixture
def officer(db: Database, officers: dict[str, Any]) -> Iterator[TestClient[Any]]:
    with make_client(db) as client:
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        signed_in = sign_in(client, OFFICER)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/households"
        yield client


def register_form(client: TestClient[Any], **fields: str) -> dict[str, str]:
    page = client.get("/households/new")
    assert page.status_code == 200, page.text
    form = {
        "_csrf_token": csrf_of(page.text),
        "idempotency_key": key_of(page.text),
        "case_code": "la-201",
        "consent_date": "2019-01-15",
        "province": "Svay Rieng",
        "district": "Svay Teab",
        "commune": "Kokir",
        "village": "Thlok",
        "head_sex": "male",
        "head_age_band": "25-34",
        "members": "4",
        "children": "2",
        "category": "repatriated_migrant",
        "referral_source": "Poipet transit centre",
    }
    return {**form, **fields}


def visit_form(client: TestClient[Any], **fields: str) -> dict[str, str]:
    page = client.get(f"/households/{HOUSEHOLD}/visits/new")
    assert page.status_code == 200, page.text
    form = {
        "_csrf_token": csrf_of(page.text),
        "idempotency_key": key_of(page.text),
        "date": "2019-03-12",
        "currency": "KHR",
        "species[0].species": "PIG",
        "species[0].births": "3",
        "species[0].counted": "3",
        "income.month": "2019-03",
        "income.crops": "350,000",
        "step": "save",
    }
    return {**form, **fields}


def test_the_officer_home_lists_the_households_of_their_provinces(
    officer: TestClient[Any],
) -> None:
    home = officer.get("/households")
    assert home.status_code == 200
    assert f'href="/households/{HOUSEHOLD}"' in home.text
    assert FAR_HOUSEHOLD not in home.text
    for link in ('href="/households"', 'href="/grants"', 'href="/trainings"'):
        assert link in home.text, link
    assert 'href="/journal"' not in home.text
    assert 'href="/admin"' not in home.text
    assert HOUSEHOLD in officer.get("/households", params={"q": "dv-0"}).text
    assert f'href="/households/{HOUSEHOLD}"' not in officer.get("/households?q=LA").text
    hostile = officer.get("/households", params={"q": "%' OR 1=1 --"})
    assert hostile.status_code == 200


def test_an_officer_registers_a_household_once(officer: TestClient[Any], db: Database) -> None:
    form = register_form(officer)
    made = officer.post("/households/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/households/LA-201?registered=1"
    again = officer.post("/households/new", data=form, follow_redirects=False)
    assert again.status_code == 303  # the same key: the first answer, no second household
    page = officer.get(made.headers["location"])
    assert page.status_code == 200
    assert 'id="registered"' in page.text
    assert "Svay Teab" in page.text
    found = api_get(db, officer, "/api/households")["items"]
    assert [h["case_code"] for h in found] == ["DV-009", "LA-201", "MK-001"]
    assert "LA-201" in officer.get("/households").text


def test_bad_households_are_shown_beside_their_fields_and_nothing_is_written(
    officer: TestClient[Any], db: Database
) -> None:
    officer.cookies.set("ledger_lang", "km")
    form = register_form(officer, case_code="bad code", members="five", consent_date="2019-02-30")
    refused = officer.post("/households/new", data=form)
    assert refused.status_code == 422
    for field in ("members", "consent_date"):
        assert f'data-field="{field}"' in refused.text, field
    assert 'value="bad code"' in refused.text  # what was typed stays
    refused = officer.post("/households/new", data=register_form(officer, case_code="bad"))
    assert refused.status_code == 422
    beside = re.search(r'data-field="case_code">([^<]+)<', refused.text)
    assert beside is not None
    assert "DV-009" in beside.group(1)  # the Khmer message shows the case code's shape
    assert re.search("[\u1780-\u17ff]", beside.group(1))
    far = officer.post("/households/new", data=register_form(officer, province="Mondulkiri"))
    assert far.status_code == 403
    assert 'data-field="province"' in far.text
    taken = officer.post("/households/new", data=register_form(officer, case_code=HOUSEHOLD))
    assert taken.status_code == 409
    assert 'data-field="case_code"' in taken.text
    children = officer.post("/households/new", data=register_form(officer, children="9"))
    assert children.status_code == 422
    assert 'data-field="children"' in children.text
    found = api_get(db, officer, "/api/households")["items"]
    assert [h["case_code"] for h in found] == ["DV-009", "MK-001"]


def test_the_household_page_has_no_names_and_links_the_contacts(
    officer: TestClient[Any],
) -> None:
    page = officer.get(f"/households/{HOUSEHOLD}")
    assert page.status_code == 200
    assert CONTACT_NAME not in page.text
    assert CONTACT_PHONE not in page.text
    assert f'href="/households/{HOUSEHOLD}/contacts"' in page.text
    contacts = officer.get(f"/households/{HOUSEHOLD}/contacts")
    assert contacts.status_code == 200
    assert CONTACT_NAME in contacts.text
    assert CONTACT_PHONE in contacts.text


def test_another_provinces_household_is_not_found(officer: TestClient[Any]) -> None:
    for path in ("", "/contacts", "/visits/new"):
        response = officer.get(f"/households/{FAR_HOUSEHOLD}{path}")
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
    assert officer.get("/households/XX-999").status_code == 404


def test_an_auditor_reads_the_household_but_not_its_contacts(
    db: Database, officers: dict[str, Any]
) -> None:
    with make_client(db) as client:
        assert sign_in(client, AUDITOR).status_code == 303
        page = client.get(f"/households/{HOUSEHOLD}")
        assert page.status_code == 200
        assert "/contacts" not in page.text
        assert "/visits/new" not in page.text
        assert client.get(f"/households/{HOUSEHOLD}/contacts").status_code == 404
        assert client.get(f"/households/{HOUSEHOLD}/visits/new").status_code == 403
        assert 'href="/audit"' in page.text
        assert 'href="/households"' not in page.text.split("<main", 1)[0]


def test_a_visit_is_recorded_once_with_its_income(officer: TestClient[Any], db: Database) -> None:
    form = visit_form(officer)
    saved = officer.post(f"/households/{HOUSEHOLD}/visits/", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    again = officer.post(f"/households/{HOUSEHOLD}/visits/", data=form, follow_redirects=False)
    assert again.status_code == 303
    visits = api_visits(db, officer)
    assert len(visits) == 1
    assert visits[0]["species"][0]["births"] == 3
    assert [(r["source"], r["amount"]) for r in api_income(db, officer)] == [("crops", "350000")]
    page = officer.get(saved.headers["location"])
    assert 'id="saved"' in page.text
    assert 'data-species="PIG"' in page.text
    assert 'id="income-chart"' in page.text
    assert 'data-units="350000"' in page.text
    # The next visit offers a row for the pigs the book holds.
    blank = officer.get(f"/households/{HOUSEHOLD}/visits/new").text
    assert 'name="species[0].species" value="PIG"' in blank


def test_a_wrong_visit_is_shown_in_khmer_and_writes_nothing(
    officer: TestClient[Any], db: Database
) -> None:
    officer.cookies.set("ledger_lang", "km")
    form = visit_form(officer, **{"species[0].births": "0", "species[0].deaths[0].head": "5"})
    form["species[0].counted"] = "0"
    refused = officer.post(f"/households/{HOUSEHOLD}/visits/", data=form)
    assert refused.status_code == 409, refused.text[:500]
    beside = re.search(r'data-field="species\[0\]\.counted">([^<]+)<', refused.text)
    assert beside is not None
    assert re.search("[\u1780-\u17ff]", beside.group(1))
    assert 'name="income.crops" value="350,000"' in refused.text  # what was typed stays
    bad = visit_form(
        officer,
        **{"species[0].counted": "", "income.wages": "lots", "date": "", "feed_cost": "-1"},
    )
    refused = officer.post(f"/households/{HOUSEHOLD}/visits/", data=bad)
    assert refused.status_code == 422
    for field in ("species[0].counted", "income.wages", "date", "feed_cost"):
        assert f'data-field="{field}"' in refused.text, field
    empty = visit_form(officer, **{"species[0].births": "", "species[0].counted": ""})
    del empty["income.crops"]
    refused = officer.post(f"/households/{HOUSEHOLD}/visits/", data=empty)
    assert refused.status_code == 422
    assert 'data-code="follow_up_empty"' in refused.text
    assert api_visits(db, officer) == []
    assert api_income(db, officer) == []
    # Corrected, the same form (the same key: a refusal kept nothing) records the visit.
    form.update(
        {"species[0].births": "3", "species[0].deaths[0].head": "", "species[0].counted": "3"}
    )
    fixed = officer.post(f"/households/{HOUSEHOLD}/visits/", data=form, follow_redirects=False)
    assert fixed.status_code == 303, fixed.text[:500]
    assert len(api_visits(db, officer)) == 1


def test_hostile_visit_values_never_reach_a_500(officer: TestClient[Any], db: Database) -> None:
    form = visit_form(
        officer,
        **{
            "idempotency_key": "<script>",
            "species[0].species": "\x00",
            "species[0].deaths[0].cause": "sorcery",
            "species[0].reason": "x" * 5000,
            "species[5].species": "YAK",
            "species[5].counted": "1",
            "income.month": "2019-99",
            "currency": "EUR",
            "note": "\x00" * 10,
        },
    )
    refused = officer.post(f"/households/{HOUSEHOLD}/visits/", data=form)
    assert refused.status_code in (409, 422), refused.text[:300]
    assert "<script>" not in refused.text.split('name="idempotency_key"', 1)[1][:80]
    assert api_visits(db, officer) == []


def test_the_first_load_of_the_visit_form_is_small(officer: TestClient[Any]) -> None:
    page = officer.get(f"/households/{HOUSEHOLD}/visits/new", headers={"Accept-Encoding": "gzip"})
    sizes = [int(page.headers.get("content-length", len(page.content)))]
    for asset in ("/static/htmx.min.js", "/static/app.css", "/static/outbox.js", "/sw.js"):
        response = officer.get(asset, headers={"Accept-Encoding": "gzip"})
        sizes.append(int(response.headers["content-length"]))
    assert sum(sizes) < 60_000, sizes


def test_the_home_pages_through_many_households(
    officer: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = officer.post("/households/new", data=register_form(officer), follow_redirects=False)
    assert made.status_code == 303
    # A page of one household (100 in use): DV-009, then LA-201, then none.
    for module in ("api.pages.households", "api.pages.household_views"):
        monkeypatch.setattr(f"{module}.HOUSEHOLDS_PER_PAGE", 1)
    first = officer.get("/households")
    assert f'href="/households/{HOUSEHOLD}"' in first.text
    more = re.search(r'href="(/households\?after=[^"]+)" id="more"', first.text)
    assert more is not None
    second = officer.get(more.group(1))
    assert 'href="/households/LA-201"' in second.text
    assert f'href="/households/{HOUSEHOLD}"' not in second.text
