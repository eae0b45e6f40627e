"""The donor financial report of the CTIP award, its figures computed by hand.

The grants programme of tests/api/grants_world.py: 5,000.00 USD received on 2 July 2018;
1,000.00 USD exchanged into 4,112,000 riel at Bavet in November (4,112 riel to the dollar on
average); transport home for returnees, 120,000 riel at an explicit 4,100 = 29.27 USD on
4 November; a pig-raising grant of 300.00 USD to DV-009 (5 people), paid as 2 pigs worth
600,000 riel on 20 November (600,000 / 4,112 = 145.91 USD, in kind) and 616,500 riel in cash
on 20 January 2019 (149.93 USD).

Period October to December 2018:

| line | budget | this period | to date | remaining | used |
| --- | --- | --- | --- | --- | --- |
| Small-business grants | 2,000.00 | 145.91 | 145.91 | 1,854.09 | 7.3% |
| Transport home of returnees | 500.00 | 29.27 | 29.27 | 470.73 | 5.9% |
| total | 2,500.00 | 175.18 | 175.18 | 2,324.82 | 7.0% |

Bank at 31 December: 5,000.00 - 800.00 - 200.00 = 4,000.00 USD (not reconciled). Bavet cash:
4,112,000 - 120,000 - 600,000 = 3,392,000 riel, counted that day.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from PIL import Image

from ledger.store.database import Database
from tests.api.grants_world import AWARD, BAVET, PERSON, build_world, ok, programme
from tests.pdf import pdf_page_count, pdf_page_png, pdf_text

Q4 = {"start": "2018-10-01", "end": "2018-12-31"}
BAR_BLUE = (0x1F, 0x4E, 0x79)
BUDGET_BLUE = (0xC9, 0xD6, 0xE3)


def test_the_report_equals_the_hand_computed_figures(client: TestClient[Any], db: Database) -> None:
    programme(client, db)
    report = ok(client.get(f"/api/awards/{AWARD}/donor-report", params=Q4), 200)
    assert {k: report[k] for k in (
        "received_in_period", "received_to_date", "budget", "actual_in_period",
        "actual_to_date", "remaining", "percent_used", "in_kind_to_date",
    )} == {
        "received_in_period": "0.00",
        "received_to_date": "5000.00",
        "budget": "2500.00",
        "actual_in_period": "175.18",
        "actual_to_date": "175.18",
        "remaining": "2324.82",
        "percent_used": "7.0",
        "in_kind_to_date": "145.91",
    }  # fmt: skip
    assert [
        (line["code"], line["budget"], line["actual_in_period"], line["actual_to_date"],
         line["remaining"], line["percent_used"], line["in_kind_to_date"])
        for line in report["lines"]
    ] == [
        ("livelihood-grants", "2000.00", "145.91", "145.91", "1854.09", "7.3", "145.91"),
        ("transport", "500.00", "29.27", "29.27", "470.73", "5.9", "0.00"),
    ]  # fmt: skip
    assert report["reached_in_period"] == {"households": 1, "people": 5}
    assert "weighted average rate of the exchanges" in report["conversion_method"]
    assert report["bank_and_cash"] == [
        {
            "account": "Assets:Bank:Operating-USD",
            "currency": "USD",
            "ledger_balance": "4000.00",
            "reconciled_on": None,
            "reconciled_by": None,
            "counted": None,
            "lines_unmatched": 0,
        },
        {
            "account": BAVET,
            "currency": "KHR",
            "ledger_balance": "3392000",
            "reconciled_on": "2018-12-31",
            "reconciled_by": "cash_count",
            "counted": "3392000",
            "lines_unmatched": 0,
        },
    ]
    # The next quarter: the cash payment of January; the totals to date carry on.
    q1 = ok(
        client.get(
            f"/api/awards/{AWARD}/donor-report", params={"start": "2019-01-01", "end": "2019-03-31"}
        ),
        200,
    )
    grants_line = q1["lines"][0]
    assert (grants_line["actual_in_period"], grants_line["actual_to_date"]) == ("149.93", "295.84")
    assert (grants_line["remaining"], grants_line["percent_used"]) == ("1704.16", "14.8")
    assert (q1["reached_in_period"], q1["reached_to_date"]) == (
        {"households": 1, "people": 5},
        {"households": 1, "people": 5},
    )


def test_csv_and_pdf_carry_the_same_figures_and_no_personal_data(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    programme(client, db)
    as_json = client.get(f"/api/awards/{AWARD}/donor-report", params=Q4).text
    as_csv = client.get(f"/api/awards/{AWARD}/donor-report.csv", params=Q4)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = {
        (r["section"], r["item"]): r
        for r in csv.DictReader(io.StringIO(as_csv.text.removeprefix("\ufeff")))
    }
    assert rows[("funds", "received")]["to_date"] == "5000.00"
    line = rows[("budget_line", "livelihood-grants")]
    assert (line["budget"], line["to_date"], line["remaining"], line["percent_used"]) == (
        "2000.00",
        "145.91",
        "1854.09",
        "7.3",
    )
    assert rows[("total", "expenditure")]["in_kind"] == "145.91"
    assert rows[("reach", "households")]["in_period"] == "1"
    assert rows[("bank_and_cash", BAVET)]["reconciled_on"] == "2018-12-31"

    pdf = client.get(f"/api/awards/{AWARD}/donor-report.pdf", params=Q4)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf_page_count(pdf.content) == 1
    text = " ".join(pdf_text(pdf.content).split())
    for printed in (
        "Donor financial report",
        "CTIP-2018",
        "Period: 1 October 2018 to 31 December 2018",
        "Funds received from the donor 0.00 5,000.00",
        "Small-business grants 2,000.00 145.91 145.91 1,854.09 7.3% 145.91",
        "Total 2,500.00 175.18 175.18 2,324.82 7.0% 145.91",
        "Households reached (people in them) 1 (5) 1 (5)",
        "Conversion method: Expenses in another currency",
        "not reconciled",
        "3,392,000",
    ):
        assert printed in text, printed
    for leaked in (PERSON, "+855 12 345 678"):
        assert leaked not in text
        assert leaked not in as_csv.text
        assert leaked not in as_json

    # The chart is drawn: the page shows budget bars and actual bars in their colours.
    png = pdf_page_png(pdf.content, tmp_path, dpi=100)
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    counted = {colour: count for count, colour in colours}
    assert counted.get(BUDGET_BLUE, 0) > 1_000
    assert counted.get(BAR_BLUE, 0) > 100


def test_a_bad_period_or_award_is_refused(client: TestClient[Any], db: Database) -> None:
    build_world(client, db)
    for params, status, code in (
        ({"start": "2018-12-31", "end": "2018-10-01"}, 422, "report_period_invalid"),
        ({"start": "2010-01-01", "end": "2018-10-01"}, 422, "report_period_invalid"),
        ({"start": "2018-10-01", "end": "31/12/2018"}, 422, "request_invalid"),
    ):
        response = client.get(f"/api/awards/{AWARD}/donor-report", params=params)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    missing = client.get("/api/awards/NOPE/donor-report.pdf", params=Q4)
    assert (missing.status_code, missing.json()["code"]) == (404, "award_not_found")
