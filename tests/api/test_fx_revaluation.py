"""The period-end revaluation (POST /api/books/{book}/fx-revaluations), on the grants
programme of grants_world: the Bavet cash box holds riel carried at its weighted-average
dollar cost.

800.00 USD at 4,110 gives 3,288,000 riel. Transport of 120,000 riel on 4 November is measured
at the explicit 4,100 (29.27 USD) but carried 800.00 x 120,000 / 3,288,000 = 29.20: a realised
gain of 0.07. 200.00 USD at 4,120 adds 824,000 riel (3,992,000 riel carried at 970.80). The
pigs, 600,000 riel at the average 4,112 (145.91), carry 145.91: no difference. On 31 December
3,392,000 riel are carried at 824.89 USD; at 4,150 they are worth 817.35: unrealised -7.54,
reversed on 1 January.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fava.core import FavaLedger
from litestar.testing import TestClient

from ledger.store.database import Database
from ledger.verify import verify_all
from tests.api.grants_world import AWARD, BAVET, build_world, ok, programme
from tests.pdf import pdf_text

REVALUE = "/api/books/org/fx-revaluations"
AT_4150 = {"date": "2018-12-31", "rates": [{"currency": "KHR", "rate": "4150"}]}


def balances(client: TestClient[Any], as_of: str | None = None) -> dict[str, str]:
    params = {"as_of": as_of} if as_of else {}
    found = ok(client.get("/api/books/org/balances", params=params), 200)["balances"]
    return {line["account"]: line["amount"] for line in found if ":FX:" in line["account"]}


def test_a_revaluation_posts_the_realised_and_unrealised_lines(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    programme(client, db)
    done = ok(client.post(REVALUE, json=AT_4150))
    assert done["accounts"] == [
        {
            "account": BAVET,
            "currency": "KHR",
            "balance": "3392000",
            "rate": "4150",
            "carrying": "824.89",
            "revalued": "817.35",
            "realised": "0.07",
            "unrealised": "-7.54",
        }
    ]
    assert len(done["transaction_ids"]) == 3  # realised, revaluation, its reversal
    assert balances(client, "2018-12-31") == {
        "Income:FX:Realised": "-0.07",
        "Expenses:FX:Unrealised": "7.54",
        "Equity:FX:Translation": "-7.47",
    }
    after = balances(client, "2019-01-01")  # the revaluation reversed the next day
    assert after.get("Expenses:FX:Unrealised", "0.00") == "0.00"
    assert after["Income:FX:Realised"] == "-0.07"

    report = ok(
        client.get(f"/api/awards/{AWARD}/donor-report",
                   params={"start": "2018-10-01", "end": "2018-12-31"}),
        200,
    )  # fmt: skip
    assert (report["fx_realised_in_period"], report["fx_realised_to_date"]) == ("0.07", "0.07")
    assert report["fx_unrealised_at_end"] == "-7.54"
    csv_text = client.get(f"/api/awards/{AWARD}/donor-report.csv",
                          params={"start": "2018-10-01", "end": "2018-12-31"}).text  # fmt: skip
    assert "fx,realised,,USD,,0.07,0.07," in csv_text
    assert "fx,unrealised,,USD,,,-7.54," in csv_text
    pdf = client.get(f"/api/awards/{AWARD}/donor-report.pdf",
                     params={"start": "2018-10-01", "end": "2018-12-31"})  # fmt: skip
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.content).split())
    assert "Exchange gains (losses) realised on riel and baht 0.07 0.07" in text
    assert "-7.54" in text
    later = ok(client.get(f"/api/awards/{AWARD}/donor-report"), 200)
    assert later["fx_unrealised_at_end"] == "0.00"

    # Nothing is realised twice: the next revaluation counts only what left since.
    again = ok(client.post(REVALUE, json={**AT_4150, "date": "2019-01-31"}))
    line = again["accounts"][0]
    # The 616,500 riel paid on 20 January are measured at the average 4,112 (149.93) and
    # carried 824.89 x 616,500 / 3,392,000 = 149.92: a gain of 0.01 in January alone.
    assert (line["balance"], line["carrying"], line["realised"]) == ("2775500", "674.97", "0.01")

    assert all(r.ok for r in verify_all(db)), [r.differences for r in verify_all(db)]
    path = tmp_path / "org.beancount"
    path.write_bytes(client.get("/api/books/org/export.beancount").content)
    assert list(FavaLedger(str(path)).errors) == []


def test_without_a_rate_the_last_kept_rate_is_used(client: TestClient[Any], db: Database) -> None:
    programme(client, db)
    done = ok(client.post(REVALUE, json={"date": "2018-12-31"}))
    line = done["accounts"][0]
    # The last price kept by then: the exchange of 5 November, 4,120 riel to the dollar.
    assert (line["rate"], line["revalued"], line["unrealised"]) == ("4120", "823.30", "-1.59")


def test_hostile_revaluations_are_refused_and_write_nothing(
    client: TestClient[Any], db: Database
) -> None:
    world = build_world(client, db)

    def refused(body: Any, status: int, code: str, path: str = REVALUE, **kw: Any) -> None:
        response = client.post(path, json=body, **kw)
        assert response.status_code == status, response.text
        assert response.json()["code"] == code, response.text

    for rates, code in (
        ([{"currency": "XYZ", "rate": "1"}], "fx_rate_currency_invalid"),
        ([{"currency": "USD", "rate": "1"}], "fx_rate_currency_invalid"),
        ([{"currency": "KHR", "rate": "-4100"}], "price_invalid"),
        ([{"currency": "KHR", "rate": "0"}], "price_invalid"),
        ([{"currency": "KHR", "rate": "four thousand"}], "price_invalid"),
    ):
        refused({"date": "2018-12-31", "rates": rates}, 422, code)
    refused({"date": "2018-12-31"}, 404, "book_not_found", "/api/books/nope/fx-revaluations")
    refused({"date": "2018-12-31"}, 422, "book_not_organisation",
            "/api/books/hh-dv-009/fx-revaluations")  # fmt: skip
    forbidden = client.post(REVALUE, json={"date": "2018-12-31"}, headers=world.officer)
    assert forbidden.status_code == 403, forbidden.text
    assert balances(client) == {}  # nothing was written

    ok(client.post(REVALUE, json=AT_4150))
    refused(AT_4150, 409, "fx_revaluation_not_after_previous")
    refused({**AT_4150, "date": "2018-11-30"}, 409, "fx_revaluation_not_after_previous")
