"""A training cohort end to end: cost on the budget line, attendance and completion, visits
with births, deaths and sales, income against baselines; figures worked by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount import loader
from litestar.testing import TestClient

from ledger.export.beancount import export_book
from ledger.outcomes import service as outcomes
from ledger.reports.certificate import certificate as certificate_of
from ledger.reports.certificate import certificate_html
from ledger.reports.outcomes import outcomes_html, training_view
from ledger.store.database import Database
from ledger.training import service as trainings
from ledger.verify import verify_book
from tests.api.conftest import balances
from tests.api.grants_world import AWARD, ok
from tests.api.grants_world import household as household_body
from tests.api.training_world import TRAINING_LINE, build_cohort, income, visit
from tests.pdf import pdf_page_count, pdf_page_png, pdf_text

PIG = "Assets:Livestock:Pig"


def _record_the_year(client: TestClient[Any], officer: dict[str, str]) -> None:
    """DV-009: two pigs (grant, 20 Nov); 8 born, 2 died by March; 3 sold for 1,500,000 riel
    and 1 died in May, and one is missing. LA-101: 10 hens bought, 20 chicks, 5 died."""
    for case, body in (
        (
            "DV-009",
            visit(
                "2019-03-10",
                {
                    "species": "PIG",
                    "counted": 8,
                    "births": 8,
                    "deaths": [{"cause": "disease", "head": 1}, {"cause": "accident", "head": 1}],
                },
            ),
        ),
        (
            "DV-009",
            visit(
                "2019-05-10",
                {
                    "species": "PIG",
                    "counted": 3,
                    "sold": 3,
                    "sold_price": "1500000",
                    "deaths": [{"cause": "disease", "head": 1}],
                    "reason": "One piglet missing, probably stolen",
                },
                feed_cost="60000",
                vet_cost="15000",
            ),
        ),
        (
            "LA-101",
            visit(
                "2019-02-01",
                {"species": "CHICKEN", "counted": 10, "bought": 10, "bought_price": "250000"},
            ),
        ),
        (
            "LA-101",
            visit(
                "2019-04-01",
                {
                    "species": "CHICKEN",
                    "counted": 25,
                    "births": 20,
                    "deaths": [{"cause": "disease", "head": 5}],
                },
            ),
        ),
    ):
        ok(client.post(f"/api/households/{case}/visits", json=body, headers=officer))
    for case, body in (
        ("DV-009", income("2018-11", "crops", "200000", baseline=True)),
        ("DV-009", income("2019-03", "wages", "300000")),
        ("DV-009", income("2019-05", "crops", "100000")),
        ("LA-101", income("2018-11", "wages", "400000", baseline=True)),
        ("LA-101", income("2019-04", "wages", "300000")),
    ):
        ok(client.post(f"/api/households/{case}/income", json=body, headers=officer))


def test_cohort_outcomes_equal_figures_by_hand(client: TestClient[Any], db: Database) -> None:
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    tid = cohort.training_id
    training = ok(client.get(f"/api/trainings/{tid}", headers=officer), 200)
    assert (training["households"], training["people"], training["completed"]) == (2, 3, 1)
    completed = {p["case_code"]: p["completed"] for p in training["participants"]}
    assert completed == {"DV-009": True, "LA-101": False}
    # 400,000 riel from the Bavet cash box at its average rate of 4,112 riel to the dollar.
    assert training["cost"] == "97.28"
    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    line = next(x for x in budget["lines"] if x["code"] == TRAINING_LINE)
    assert (line["actual"], line["remaining"]) == ("97.28", "902.72")

    _record_the_year(client, officer)
    dv = balances(client, "hh-dv-009")
    # 2 + 8 born - 2 died - 3 sold - 1 died - 1 missing = 3 pigs.
    assert dv[(PIG, "PIG")] == "3"
    assert dv[("Income:Livestock:Births", "PIG")] == "-8"
    assert dv[("Expenses:Livestock:Deaths:Disease", "PIG")] == "2"
    assert dv[("Expenses:Livestock:Count-Differences", "PIG")] == "1"
    assert dv[("Income:Livestock:Sales", "KHR")] == "-1500000"
    # Sales 1,500,000 - feed and vet 75,000 riel; the income records (600,000) are a
    # memorandum, never cash the household is said to hold.
    assert dv[("Assets:Cash", "KHR")] == "1425000"
    assert dv[("Equity:Memorandum:Household-Income", "KHR")] == "600000"
    visits = ok(client.get("/api/households/DV-009/visits", headers=officer), 200)["items"]
    last = visits[-1]["species"][0]
    assert (last["expected"], last["adjustment"], last["reason"]) == (
        4,
        -1,
        "One piglet missing, probably stolen",
    )

    report = ok(
        client.get(f"/api/trainings/{tid}/outcomes", params={"currency": "KHR"}, headers=officer),
        200,
    )
    assert (report["households"], report["completed"], report["completion_percent"]) == (
        2,
        1,
        "50.0",
    )
    herds = {h["species"]: h for h in report["participants"]["herds"]}
    # Pigs at risk since the training: 2 received + 8 born; 3 died: 30.0 %.
    assert (herds["PIG"]["at_risk"], herds["PIG"]["deaths"], herds["PIG"]["mortality_percent"]) == (
        10,
        3,
        "30.0",
    )
    assert herds["PIG"]["sold"] == 3
    # Chickens: 10 bought + 20 hatched; 5 died: 16.7 %.
    assert (herds["CHICKEN"]["at_risk"], herds["CHICKEN"]["mortality_percent"]) == (30, "16.7")
    assert report["sales"] == "1500000"
    assert report["herd_by_month"] == [
        {"month": "2019-02", "head": {"CHICKEN": 10}},
        {"month": "2019-03", "head": {"CHICKEN": 10, "PIG": 8}},
        {"month": "2019-04", "head": {"CHICKEN": 25, "PIG": 8}},
        {"month": "2019-05", "head": {"CHICKEN": 25, "PIG": 3}},
    ]
    group = report["participants"]
    # DV-009: baseline 200,000; after support March 300,000 and May 100,000 + 1,500,000 sales:
    # mean 950,000, a rise of 750,000. LA-101: 400,000 then 300,000, a fall of 100,000.
    # Median of (750,000, -100,000) = 325,000; one household of two rose.
    assert (group["compared"], group["rose"], group["share_rose_percent"]) == (2, 1, "50.0")
    assert group["median_change"] == "325000"
    assert group["livestock_income"] == "1500000"

    household = ok(client.get("/api/households/DV-009/outcomes", headers=officer), 200)
    assert (household["baseline_mean"], household["follow_up_mean"], household["change"]) == (
        "200000",
        "950000",
        "750000",
    )
    assert [(m["month"], m["baseline"], m["total"]) for m in household["months"]] == [
        ("2018-11", True, "200000"),
        ("2019-03", False, "300000"),
        ("2019-05", False, "1600000"),
    ]
    # In the award's currency, at 4,112 riel to the dollar, each posting converted on its date.
    usd = ok(client.get("/api/households/DV-009/outcomes?currency=USD", headers=officer), 200)
    assert usd["baseline_mean"] == "48.64"  # 200,000 / 4,112 = 48.638
    assert usd["months"][2]["total"] == "389.11"  # 24.32 + 364.79

    programme = ok(client.get("/api/outcomes", params={"award": AWARD}), 200)
    assert programme["currency"] == "USD"
    assert programme["overall"]["households"] == 2
    assert programme["overall"]["share_rose_percent"] == "50.0"
    csv = client.get("/api/outcomes.csv", params={"award": AWARD, "currency": "KHR"})
    assert csv.status_code == 200
    assert "DV-009,Svay Rieng,KHR,200000,950000,750000,yes,1500000" in csv.text
    assert "LA-101,Svay Rieng,KHR,400000,300000,-100000,no,0" in csv.text

    for book in ("org", "hh-dv-009", "hh-la-101"):
        checked = verify_book(db, book)
        assert checked.ok, checked


def test_beancount_income_statement_equals_the_income_report(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    cohort = build_cohort(client, db)
    _record_the_year(client, cohort.world.officer)
    for case, book in (("DV-009", "hh-dv-009"), ("LA-101", "hh-la-101")):
        path = tmp_path / f"{book}.beancount"
        with db.read() as conn:
            path.write_text("".join(export_book(conn, book)), encoding="utf-8")
        entries, errors, _ = loader.load_file(str(path))
        assert errors == []
        income_khr = Decimal(0)
        for entry in entries:
            for posting in getattr(entry, "postings", None) or ():
                if posting.account.startswith(("Income:Household:", "Income:Livestock:Sales")):
                    assert posting.units.currency == "KHR"
                    income_khr -= posting.units.number
        report = ok(client.get(f"/api/households/{case}/outcomes"), 200)
        assert sum(Decimal(m["total"]) for m in report["months"]) == income_khr
    assert income_khr == Decimal("700000")  # LA-101: 400,000 + 300,000


def test_certificate_and_outcome_pdfs(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    cohort = build_cohort(client, db)
    _record_the_year(client, cohort.world.officer)
    tid = cohort.training_id
    certificate = client.get(f"/api/trainings/{tid}/certificates/DV-009")
    assert certificate.status_code == 200, certificate.text
    assert certificate.headers["content-type"] == "application/pdf"
    assert pdf_page_count(certificate.content) == 1
    text = pdf_text(certificate.content)
    for expected in (
        "Certificate of completion",
        "DV-009",
        "chicken raising and pig raising",
        "6 November 2018",
        "attended 3 of 3 days",
        f"TRN-{tid:04d}-DV-009",
    ):
        assert expected in text, expected
    refused = client.get(f"/api/trainings/{tid}/certificates/LA-101")
    assert (refused.status_code, refused.json()["code"]) == (409, "training_not_completed")
    # A household of the province that never took part: not "not completed", not a participant.
    ok(client.post("/api/households", json=household_body("LA-102"), headers=cohort.world.officer))
    stranger = client.get(f"/api/trainings/{tid}/certificates/LA-102")
    assert (stranger.status_code, stranger.json()["code"]) == (404, "not_a_participant")
    assert stranger.json()["field"] == "case_code"

    pdf = client.get(f"/api/trainings/{tid}/outcomes.pdf", params={"currency": "KHR"})
    assert pdf.status_code == 200, pdf.text
    text = pdf_text(pdf.content)
    for expected in (
        "Training outcomes",
        "Completion rate",
        "1 / 2 households (50.0%)",
        "30.0",
        "16.7",
        "1,500,000 KHR",
        "325,000 KHR",
        "Mar 2019",
    ):
        assert expected in text, expected
    assert pdf_page_count(pdf.content) == 1
    png = pdf_page_png(pdf.content, tmp_path, dpi=90)
    assert png.stat().st_size > 10_000
    # pdftotext scrambles Khmer: the Khmer and the chart are checked on the HTML printed.
    with db.read() as conn:
        training = trainings.get_training(conn, tid)
        outcome = outcomes.training_outcome(conn, training, "KHR")
        view = certificate_of(training, "DV-009")
    html = outcomes_html(training_view(outcome, datetime.date(2019, 6, 1)))
    for khmer in ("លទ្ធផលវគ្គបណ្តុះបណ្តាល", "អត្រាបញ្ចប់វគ្គ", "ការចិញ្ចឹមមាន់ និង ការចិញ្ចឹមជ្រូក"):
        assert khmer in html, khmer
    assert html.count("<svg") == 1
    assert html.count('<rect x="') == 2 + 2 * 4  # the legend's two keys, two species x 4 months
    certificate_text = certificate_html(view)
    assert "វិញ្ញាបនបត្របញ្ចប់វគ្គបណ្តុះបណ្តាល" in certificate_text
    assert "ថ្ងៃទី៦ ខែវិច្ឆិកា ឆ្នាំ២០១៨" in certificate_text  # 6 November 2018
    assert "២ នាក់" in certificate_text  # two people
    household = client.get("/api/households/DV-009/outcomes.pdf")
    assert household.status_code == 200, household.text
    for expected in ("Household income", "DV-009", "Nov 2018*", "750,000 KHR", "1,600,000"):
        assert expected in pdf_text(household.content), expected
    programme = client.get("/api/outcomes.pdf", params={"award": AWARD, "currency": "KHR"})
    assert programme.status_code == 200
    assert "Programme outcomes" in pdf_text(programme.content)


def test_a_reversed_cost_item_leaves_the_training_and_its_budget_line(
    client: TestClient[Any], db: Database
) -> None:
    cohort = build_cohort(client, db)
    tid = cohort.training_id
    cost = ok(client.get(f"/api/trainings/{tid}"), 200)["costs"][0]
    ok(
        client.post(
            f"/api/books/org/transactions/{cost['transaction_id']}/reverse",
            json={"date": "2018-11-07", "narration": "Venue paid twice"},
        )
    )
    assert ok(client.get(f"/api/trainings/{tid}"), 200)["cost"] == "0.00"
    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    line = next(x for x in budget["lines"] if x["code"] == TRAINING_LINE)
    assert line["actual"] == "0.00"


def test_reversed_visits_and_income_leave_the_outcomes(
    client: TestClient[Any], db: Database
) -> None:
    """A mistake reversed later (even in another month) takes its figures out of the reports."""
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    _record_the_year(client, officer)
    income_ids = {
        r["month"]: r["transaction_id"]
        for r in ok(client.get("/api/households/DV-009/income", headers=officer), 200)["items"]
    }
    visits = ok(client.get("/api/households/DV-009/visits", headers=officer), 200)["items"]
    march = visits[0]["species"][0]["transaction_id"]  # 8 born, 2 died
    for transaction_id, date in ((income_ids["2019-03"], "2019-06-02"), (march, "2019-06-02")):
        ok(
            client.post(
                f"/api/books/hh-dv-009/transactions/{transaction_id}/reverse",
                json={"date": date, "narration": "Entered for the wrong household"},
            )
        )
    household = ok(client.get("/api/households/DV-009/outcomes", headers=officer), 200)
    assert [m["month"] for m in household["months"]] == ["2018-11", "2019-05"]
    assert (household["follow_up_mean"], household["change"]) == ("1600000", "1400000")
    pigs = next(h for h in household["herds"] if h["species"] == "PIG")
    # Left: 2 received; 1 died in May (the May count was kept as the officer wrote it).
    assert (pigs["entered"], pigs["deaths"]) == (2, 1)
