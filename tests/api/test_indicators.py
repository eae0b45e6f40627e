"""The indicator report through the API, on the demo: it reproduces the field report's counts
from the demo's own records. "On 4th November, 33 Cambodian, including 25 (14 females)
trafficked children were repatriated ... and other 8 adults" (CCPCR, CTIP)."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar.testing import TestClient

from ledger.demo import load_demo
from ledger.store.database import Database
from tests.api.conftest import bearer
from tests.pdf import pdf_text

NOVEMBER_2018 = {"start": "2018-11-01", "end": "2018-11-30"}
DEMO_DAY = {"end": "2020-01-01"}


def _get(client: TestClient[Any], path: str, headers: dict[str, str], **params: str) -> Any:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def test_the_demo_reproduces_the_long_an_repatriation(
    client: TestClient[Any], db: Database
) -> None:
    load_demo(db)
    admin = bearer(db, "admin", "admin")
    report = _get(client, "/api/indicators", admin, **NOVEMBER_2018).json()
    people = report["reached"]["people"]
    assert (people["people"], people["children"], people["girls"], people["adults"]) == (
        33, 25, 14, 8,
    )  # fmt: skip
    assert (people["boys"], people["women"], people["men"], people["age_unknown"]) == (11, 5, 3, 0)
    # Ten households with their returnees recorded; DV-009 (same day) declared 5 members only.
    reached = report["reached"]
    assert (reached["households"], reached["households_with_people"]) == (11, 10)
    assert reached["declared_members"] == 5
    provinces = {r["label"]: r["people"]["people"] for r in report["reached_by_province"]}
    assert provinces == {"Kampong Speu": 1, "Prey Veng": 10, "Svay Rieng": 20, "Tboung Khmum": 2}
    # The whole programme to the demo's last day: the training cohort (Q3) before Long An (Q4).
    everything = _get(client, "/api/indicators", admin, **DEMO_DAY).json()
    quarters = {r["label"]: r["people"] for r in everything["reached_by_quarter"]}
    assert (quarters["2018-Q4"]["people"], quarters["2018-Q4"]["girls"]) == (33, 14)
    assert (quarters["2018-Q3"]["people"], quarters["2018-Q3"]["children"]) == (33, 0)
    training = everything["training"]
    assert (training["trainings"], training["households"], training["trainees"]) == (1, 22, 33)
    assert training["trainees_named"]["people"] == 33
    # Two households missed the last day: 20 certificates, for 30 of the 33 trainees.
    assert (training["certificates"], training["certified_people"]) == (20, 30)
    grants = everything["grants"]
    assert [(g["currency"], g["grants"], g["cash_disbursements"], g["in_kind_disbursements"])
            for g in grants] == [("USD", 9, 5, 6)]  # fmt: skip
    assert everything["income"]["rose"] <= everything["income"]["compared"]
    assert everything["savings"]["groups"] == 2


def test_csv_and_pdf_carry_the_same_counts_in_both_languages(
    client: TestClient[Any], db: Database
) -> None:
    load_demo(db)
    admin = bearer(db, "admin", "admin")
    text = _get(client, "/api/indicators.csv", admin, **NOVEMBER_2018).text
    found = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # a BOM for spreadsheets
    rows = {(r["section"], r["group"], r["item"]): r for r in found}
    for item, value in (("people", "33"), ("children", "25"), ("girls", "14"), ("adults", "8")):
        assert rows[("reached", "all", item)]["value"] == value
    assert rows[("reached", "all", "girls")]["label_km"] == "កុមារី"
    pdf = _get(client, "/api/indicators.pdf", admin, **NOVEMBER_2018)
    assert pdf.headers["content-type"].startswith("application/pdf")
    printed = pdf_text(pdf.content)
    assert "People reached" in printed
    assert "Girls" in printed
    assert "2018-11-01" in printed
    # Counts only: no case code, and no birth year of anyone in the cohort.
    for leaked in ("LA-0", "DV-009", "1979", "1966", "2012"):
        assert leaked not in printed
        assert leaked not in text


def test_an_officer_sees_the_counts_of_their_province_only(
    client: TestClient[Any], db: Database
) -> None:
    load_demo(db)
    officer = bearer(db, "sokha.officer", "officer", ("province:Prey Veng",))
    report = _get(client, "/api/indicators", officer, **NOVEMBER_2018).json()
    assert [r["label"] for r in report["reached_by_province"]] == ["Prey Veng"]
    assert report["reached"]["people"]["people"] == 10
    other = _get(client, "/api/indicators", officer, province="Svay Rieng", **NOVEMBER_2018)
    assert other.json()["reached"]["households"] == 0


def test_a_bad_period_is_refused(client: TestClient[Any], db: Database) -> None:
    admin = bearer(db, "admin", "admin")
    for path in ("/api/indicators", "/api/indicators.csv", "/api/indicators.pdf"):
        backwards = client.get(path, params={"start": "2019-01-01", "end": "2018-01-01"},
                               headers=admin)  # fmt: skip
        assert (backwards.status_code, backwards.json()["code"]) == (422, "report_period_invalid")
        garbled = client.get(path, params={"start": "2019-13-01"}, headers=admin)
        assert garbled.status_code in (400, 422)
    unknown = client.get("/api/indicators", headers={"Authorization": "Bearer not-a-token"})
    assert unknown.status_code == 401
