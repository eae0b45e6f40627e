"""CSV downloads: UTF-8 with a byte-order mark (Excel reads Khmer right), one charset, cells a
spreadsheet will not run as formulas; the transactions and savings meetings CSVs."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar.testing import TestClient

from api.files import BOM
from tests.api.savings_support import create_group, entry, meeting, post_meeting

KHMER = "ទិញជ្រូកពីរក្បាល"  # "bought two pigs"
FORMULA = '=HYPERLINK("http://example.invalid","x")'
CSV_TYPE = "text/csv; charset=utf-8"


def _rows(response: Any) -> list[dict[str, str]]:
    """The CSV as Excel sees it: a byte-order mark, then UTF-8."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CSV_TYPE
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(BOM.encode("utf-8"))
    text = response.content.decode("utf-8").removeprefix(BOM)
    return list(csv.DictReader(io.StringIO(text)))


def _post(client: TestClient[Any], date: str, narration: str, usd: str, tag: str) -> None:
    created = client.post(
        "/api/books/org/transactions",
        json={
            "date": date,
            "narration": narration,
            "tags": [tag],
            "postings": [
                {"account": "Expenses:Reintegration:Transport", "amount": usd, "currency": "USD"},
                {"account": "Assets:Bank:Operating-USD", "amount": f"-{usd}", "currency": "USD"},
            ],
        },
    )
    assert created.status_code == 201, created.text


def test_transactions_csv_round_trips_khmer_and_neutralises_formulas(
    client: TestClient[Any], org: str
) -> None:
    _post(client, "2018-08-01", KHMER, "12.50", "pigs")
    _post(client, "2018-08-02", FORMULA, "3.00", "pigs")
    rows = _rows(client.get(f"/api/books/{org}/transactions.csv"))
    assert [r["narration"] for r in rows] == [
        "CTIP sub-award, first tranche",
        "CTIP sub-award, first tranche",
        KHMER,
        KHMER,
        "'" + FORMULA,
        "'" + FORMULA,
    ]
    spent = [r for r in rows if r["account"] == "Assets:Bank:Operating-USD"]
    # A negative amount stays a number a spreadsheet can add up.
    assert [r["amount"] for r in spent] == ["1000.00", "-12.50", "-3.00"]
    assert {r["currency"] for r in rows} == {"USD"}


def test_transactions_csv_takes_the_json_lists_filters(client: TestClient[Any], org: str) -> None:
    _post(client, "2018-08-01", KHMER, "12.50", "pigs")
    _post(client, "2018-09-01", "Bus fare", "3.00", "bus")
    by_tag = _rows(client.get(f"/api/books/{org}/transactions.csv", params={"tag": "bus"}))
    assert {r["narration"] for r in by_tag} == {"Bus fare"}
    by_date = _rows(
        client.get(f"/api/books/{org}/transactions.csv", params={"date_from": "2018-08-01"})
    )
    assert [r["date"] for r in by_date] == ["2018-08-01"] * 2 + ["2018-09-01"] * 2


def test_transactions_csv_of_an_unknown_book_is_404(client: TestClient[Any]) -> None:
    response = client.get("/api/books/no-such-book/transactions.csv")
    assert response.status_code == 404
    assert response.json()["code"] == "book_not_found"


def test_meetings_csv_has_a_row_per_member_and_neutralises_formulas(
    client: TestClient[Any],
) -> None:
    code = create_group(client)
    entries = [entry("M01", 2, social_fund_paid="500"), entry("M02", 1, social_fund_paid="500")]
    post_meeting(client, meeting("2026-01-12", entries, 16000))
    entries = [entry("M01", 1, social_fund_paid="500"), entry("M03", 1, social_fund_paid="500")]
    body = meeting("2026-01-19", entries, 26900, cash_difference_reason=FORMULA)
    post_meeting(client, body)
    rows = _rows(client.get(f"/api/groups/{code}/meetings.csv"))
    assert [(r["number"], r["member"], r["shares"]) for r in rows] == [
        ("1", "M01", "2"),
        ("1", "M02", "1"),
        ("2", "M01", "1"),
        ("2", "M03", "1"),
    ]
    assert rows[0]["cash_counted"] == "16000"
    assert rows[2]["cash_difference"] == "-100"
    assert rows[2]["cash_difference_reason"] == "'" + FORMULA


def test_every_csv_download_has_the_mark_and_one_charset(client: TestClient[Any], org: str) -> None:
    for path in ("/api/grants/register.csv", f"/api/books/{org}/transactions.csv"):
        _rows(client.get(path))
