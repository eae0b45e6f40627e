"""Reconciliation through the API: a bank statement imported, matched and closed into a
balance assertion that bean-check accepts; a cash count; the period close and its lock.

The world is the grants programme (tests/api/grants_world.py): 5,000.00 USD received on
2 July 2018, then 800.00 and 200.00 USD exchanged into riel at Bavet in November. The bank
(tests/data/statement-acleda-usd.csv) shows the same three movements and a 2.00 USD fee.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger.demo.statements import ABA_LIKE, ACLEDA_LIKE, as_json
from ledger.store.database import Database
from ledger.verify import verify_book
from tests.api.conftest import balances
from tests.api.grants_world import BANK, BAVET, build_world, ok

DATA = Path(__file__).resolve().parents[1] / "data"
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
ACLEDA_CSV = (DATA / "statement-acleda-usd.csv").read_text("utf-8")
ABA_CSV = (DATA / "statement-aba-usd.csv").read_text("utf-8")
ACLEDA = as_json(ACLEDA_LIKE)
ABA = as_json(ABA_LIKE)
CHARGES = "Expenses:Bank-Charges"


def account_ids(client: TestClient[Any]) -> dict[str, int]:
    return {a["name"]: a["id"] for a in ok(client.get("/api/books/org/accounts"), 200)["items"]}


def open_account(client: TestClient[Any], name: str, currencies: list[str] | None = None) -> None:
    body: dict[str, Any] = {"name": name, "open_date": "2018-01-01"}
    if currencies:
        body["currencies"] = currencies
    ok(client.post("/api/books/org/accounts", json=body))


def base(account_id: int) -> str:
    return f"/api/books/org/accounts/{account_id}"


def import_acleda(client: TestClient[Any], bank: int, text: str = ACLEDA_CSV) -> Any:
    return client.post(
        f"{base(bank)}/statements",
        json={"csv": text, "mapping": ACLEDA, "file_name": "acleda-2018-11.csv"},
    )


def state(client: TestClient[Any], bank: int) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        ok(client.get(f"{base(bank)}/statements"), 200),
        ok(client.get(f"{base(bank)}/unmatched"), 200),
        ok(client.get(f"{base(bank)}/reconciliations"), 200),
        balances(client, "org"),
        ok(client.get("/api/books/org"), 200)["lock_date"],
    )


def test_import_match_close_count_and_lock_the_period(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    build_world(client, db)
    open_account(client, CHARGES)
    ids = account_ids(client)
    bank, bavet = ids[BANK], ids[BAVET]

    imported = ok(import_acleda(client, bank))
    assert (imported["lines_read"], imported["lines_added"]) == (4, 4)
    assert imported["closing_balance"] == "3998.00"
    # The same file again, and an overlapping cut of it, add nothing; a new line is added.
    assert ok(import_acleda(client, bank))["lines_added"] == 0
    head, rows = ACLEDA_CSV.splitlines()[:6], ACLEDA_CSV.splitlines()[6:]
    overlap = [
        *head,
        *rows[2:],
        '31/12/2018,Monthly account service fee,FEE-201812,2.00,,"3,996.00"',
    ]
    again = ok(import_acleda(client, bank, "\n".join(overlap) + "\n"))
    assert (again["lines_read"], again["lines_added"]) == (3, 1)

    proposals = ok(client.get(f"{base(bank)}/proposals"), 200)
    assert [(p["amount"], p["kind"]) for p in proposals["proposals"]] == [
        ("5000.00", "one_to_one"),
        ("-800.00", "one_to_one"),
        ("-200.00", "one_to_one"),
    ]
    for proposal in proposals["proposals"]:
        body = {"line_ids": proposal["line_ids"], "posting_ids": proposal["posting_ids"]}
        match = ok(client.post(f"{base(bank)}/matches", json=body | {"proposed": True}))
        assert match["how"] == "proposed"
    left = ok(client.get(f"{base(bank)}/unmatched"), 200)
    assert [(line["amount"], line["reference"]) for line in left["lines"]] == [
        ("-2.00", "FEE-201811"),
        ("-2.00", "FEE-201812"),
    ]
    assert left["postings"] == []

    # The fee is on the statement, not in the books: the close is refused until explained.
    before = state(client, bank)
    refused = client.post(f"{base(bank)}/reconciliations", json={"date": "2018-11-30"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "reconciliation_difference"
    assert state(client, bank) == before

    closed = ok(
        client.post(
            f"{base(bank)}/reconciliations",
            json={"date": "2018-11-30", "adjustment_account": CHARGES},
        )
    )
    assert (closed["counted"], closed["ledger_before"], closed["difference"]) == (
        "3998.00",
        "4000.00",
        "-2.00",
    )
    assert closed["lines_unmatched"] == 0  # the adjustment took the November fee line
    assert balances(client, "org")[(BANK, "USD")] == "3998.00"
    assert balances(client, "org")[(CHARGES, "USD")] == "2.00"

    # Petty cash the same way, without a file: 3,288,000 + 824,000 riel counted.
    count = ok(
        client.post(f"{base(bavet)}/cash-counts", json={"date": "2018-11-30", "amount": "4112000"})
    )
    assert (count["kind"], count["difference"], count["adjustment_transaction_id"]) == (
        "cash_count",
        "0",
        None,
    )

    export = client.get("/api/books/org/export.beancount")
    path = tmp_path / "org.beancount"
    path.write_bytes(export.content)
    checked = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = export.content.decode("utf-8")
    assert f"2018-12-01 balance {BANK}  3998.00 ~ 0 USD" in text
    assert f"2018-12-01 balance {BAVET}  4112000 KHR" in text
    verified = verify_book(db, "org")  # stored balances, the export and Beancount agree
    assert verified.ok, verified

    book = ok(client.post("/api/books/org/period-close", json={"date": "2018-11-30"}), 200)
    assert book["lock_date"] == "2018-11-30"
    late = {
        "date": "2018-11-15",
        "narration": "A fee found late",
        "postings": [
            {"account": CHARGES, "amount": "1.00", "currency": "USD"},
            {"account": BANK, "amount": "-1.00", "currency": "USD"},
        ],
    }
    locked = client.post("/api/books/org/transactions", json=late)
    assert locked.status_code == 409, locked.text
    assert locked.json()["code"] == "period_locked"
    assert balances(client, "org")[(BANK, "USD")] == "3998.00"
    ok(client.post("/api/books/org/transactions", json=late | {"date": "2018-12-31"}))


def test_one_line_to_many_postings_many_lines_to_one_and_interest(
    client: TestClient[Any], db: Database
) -> None:
    """The ABA sample on a second bank account: a supplier paid in two entries shows as one
    bank line; a venue and lunch paid as two bank lines are one entry in the books."""
    build_world(client, db)
    aba = "Assets:Bank:ABA-USD"
    open_account(client, aba, ["USD"])
    open_account(client, "Expenses:Training:Venue")
    open_account(client, "Income:Interest")
    for date, amount, narration in (
        ("2018-12-03", "1500.00", "Transfer from ACLEDA operating"),
        ("2018-12-10", "-200.00", "Feed for Long An pig raisers, first half INV-0931"),
        ("2018-12-10", "-150.00", "Feed for Long An pig raisers, second half INV-0931"),
        ("2018-12-14", "-150.00", "Svay Rieng livestock training: venue and lunch"),
    ):
        other = BANK if amount.startswith("1500") else "Expenses:Training:Venue"
        ok(
            client.post(
                "/api/books/org/transactions",
                json={
                    "date": date,
                    "narration": narration,
                    "postings": [
                        {"account": aba, "amount": amount, "currency": "USD"},
                        {"account": other, "amount": _negated(amount), "currency": "USD"},
                    ],
                },
            )
        )
    account = account_ids(client)[aba]
    imported = ok(client.post(f"{base(account)}/statements", json={"csv": ABA_CSV, "mapping": ABA}))
    assert imported["lines_added"] == 5
    proposals = ok(client.get(f"{base(account)}/proposals"), 200)["proposals"]
    shapes = [
        (p["kind"], p["amount"], len(p["line_ids"]), len(p["posting_ids"])) for p in proposals
    ]
    assert shapes == [
        ("one_to_one", "1500.00", 1, 1),
        ("one_line_to_many", "-350.00", 1, 2),
        ("many_lines_to_one", "-150.00", 2, 1),
    ]  # fmt: skip
    # The first is rejected (a person knows better), then matched by hand all the same.
    first = proposals[0]
    pair = {"line_ids": first["line_ids"], "posting_ids": first["posting_ids"]}
    assert ok(client.post(f"{base(account)}/rejections", json=pair))["pairs"] == 1
    again = ok(client.get(f"{base(account)}/proposals"), 200)["proposals"]
    assert [p["amount"] for p in again] == ["-350.00", "-150.00"]
    assert ok(client.post(f"{base(account)}/matches", json=pair))["how"] == "manual"
    for p in again:
        ok(
            client.post(
                f"{base(account)}/matches",
                json={"line_ids": p["line_ids"], "posting_ids": p["posting_ids"]},
            )
        )
    closed = ok(
        client.post(
            f"{base(account)}/reconciliations",
            json={"date": "2018-12-31", "adjustment_account": "Income:Interest"},
        )
    )
    assert (closed["counted"], closed["difference"], closed["lines_unmatched"]) == (
        "1000.42",
        "0.42",
        0,
    )
    assert balances(client, "org")[("Income:Interest", "USD")] == "-0.42"


def _negated(amount: str) -> str:
    return amount[1:] if amount.startswith("-") else f"-{amount}"


# -- bad input: a specific 4xx, and nothing changes --------------------------------------------

HEADINGS = "Date,Description,Reference,Debit,Credit,Balance\n"
PREAMBLE = "\n".join(ACLEDA_CSV.splitlines()[:5]) + "\n"


def _acleda_with(row: str) -> str:
    return PREAMBLE + HEADINGS + row + "\n"


BAD_STATEMENTS = [
    pytest.param(
        PREAMBLE + "Date,Description,Reference,Credit,Balance\n02/07/2018,x,,1.00,1.00\n",
        ACLEDA,
        422,
        "statement_column_missing",
        id="missing-column",
    ),
    pytest.param(
        _acleda_with('31/02/2018,Transfer,TT1,,"5,000.00","5,000.00"'),
        ACLEDA,
        422,
        "statement_date_invalid",
        id="bad-date",
    ),
    pytest.param(
        _acleda_with('2018-07-02,Transfer,TT1,,"5,000.00","5,000.00"'),
        ACLEDA,
        422,
        "statement_date_invalid",
        id="date-in-another-format",
    ),
    pytest.param(
        _acleda_with('02/07/2018,Transfer,TT1,,"5,00.00","5,000.00"'),
        ACLEDA,
        422,
        "statement_amount_invalid",
        id="comma-in-the-wrong-place",
    ),
    pytest.param(
        _acleda_with('02/07/2018,Transfer,TT1,,"5000,00","5,000.00"'),
        ACLEDA,
        422,
        "statement_amount_invalid",
        id="decimal-comma",
    ),
    pytest.param(
        _acleda_with("02/07/2018,Transfer,TT1,,5000.00$,5000.00"),
        ACLEDA,
        422,
        "statement_amount_invalid",
        id="symbol-after-the-number",
    ),
    pytest.param(
        _acleda_with("02/07/2018,Transfer,TT1,,៛20500000,20500000"),
        ACLEDA,
        422,
        "statement_currency_mismatch",
        id="riel-symbol-on-a-dollar-account",
    ),
    pytest.param(
        ABA_CSV.replace(",USD,", ",KHR,", 1),
        ABA,
        422,
        "statement_currency_mismatch",
        id="currency-column-says-riel",
    ),
    pytest.param(
        _acleda_with("02/07/2018,Transfer,TT1,,5000.005,5000.005"),
        ACLEDA,
        422,
        "amount_precision_exceeded",
        id="more-digits-than-cents",
    ),
    pytest.param(
        _acleda_with('02/07/2018,Transfer,TT1,,"5,000.00","4,000.00"')
        + '03/07/2018,Fee,F1,1.00,,"4,000.00"\n',
        ACLEDA,
        422,
        "statement_balance_inconsistent",
        id="running-balance-does-not-follow",
    ),
    pytest.param("", ACLEDA, 422, "statement_empty", id="empty-file"),
    pytest.param(PREAMBLE + HEADINGS, ACLEDA, 422, "statement_empty", id="headings-only"),
    pytest.param(
        PREAMBLE + HEADINGS + "02/07/2018,Fee,F1,0.01,,\n" * 20_001,
        {k: v for k, v in ACLEDA.items() if k != "balance"},
        422,
        "statement_too_many_lines",
        id="row-count-over-the-limit",
    ),
    pytest.param(
        _acleda_with("02/07/2018," + "x" * 2_100 + ",TT1,,1.00,1.00"),
        ACLEDA,
        422,
        "statement_line_too_long",
        id="line-too-long",
    ),
    pytest.param(
        "x" * (5 * 1024 * 1024 + 1),
        ACLEDA,
        422,
        "statement_too_large",
        id="just-over-5-MiB",
    ),
    pytest.param(
        ACLEDA_CSV,
        {**ACLEDA, "amount": "Credit"},
        422,
        "mapping_amount_columns",
        id="amount-and-debit-credit-mapped",
    ),
    pytest.param(ACLEDA_CSV, {"date": "Date"}, 422, "request_invalid", id="mapping-incomplete"),
]


@pytest.mark.parametrize(("text", "mapping", "status", "code"), BAD_STATEMENTS)
def test_a_bad_statement_is_refused_and_changes_nothing(
    client: TestClient[Any], org: str, text: str, mapping: dict[str, Any], status: int, code: str
) -> None:
    bank = account_ids(client)[BANK]
    before = state(client, bank)
    response = client.post(f"{base(bank)}/statements", json={"csv": text, "mapping": mapping})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert state(client, bank) == before


def test_a_50_mb_file_is_refused_before_it_is_read(client: TestClient[Any], org: str) -> None:
    bank = account_ids(client)[BANK]
    before = state(client, bank)
    body = b'{"mapping": {"date": "Date", "description": "D", "amount": "A"}, "csv": "'
    body += b"02/07/2018,Fee,1.00\\n" * (50 * 1024 * 1024 // 20) + b'"}'
    response = client.post(
        f"{base(bank)}/statements", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:300]
    assert response.json()["code"] == "request_too_large"
    assert state(client, bank) == before


def test_matching_twice_closing_with_a_difference_and_an_unreconciled_period(
    client: TestClient[Any], db: Database
) -> None:
    build_world(client, db)
    ids = account_ids(client)
    bank, bavet = ids[BANK], ids[BAVET]
    ok(import_acleda(client, bank))
    proposal = ok(client.get(f"{base(bank)}/proposals"), 200)["proposals"][0]
    pair = {"line_ids": proposal["line_ids"], "posting_ids": proposal["posting_ids"]}
    ok(client.post(f"{base(bank)}/matches", json=pair))
    lines = {line["reference"]: line["id"] for line in ok(client.get(f"{base(bank)}/unmatched"), 200)["lines"]}  # fmt: skip  # noqa: E501
    postings = ok(client.get(f"{base(bank)}/unmatched"), 200)["postings"]
    before = state(client, bank)

    refusals = [
        (f"{base(bank)}/matches", pair, 409, "already_matched"),
        (
            f"{base(bank)}/matches",
            {"line_ids": [lines["CHQ-000101"]], "posting_ids": pair["posting_ids"]},
            409,
            "already_matched",
        ),
        (
            f"{base(bank)}/matches",
            {"line_ids": [lines["CHQ-000101"]], "posting_ids": [postings[1]["id"]]},
            422,
            "match_amounts_differ",
        ),
        (
            f"{base(bank)}/matches",
            {"line_ids": [lines["CHQ-000101"], lines["CHQ-000101"]], "posting_ids": [1]},
            422,
            "match_repeats_item",
        ),
        (
            f"{base(bank)}/matches",
            {"line_ids": [999999], "posting_ids": [postings[0]["id"]]},
            404,
            "statement_line_not_found",
        ),
        (f"{base(bank)}/reconciliations", {"date": "2018-11-30"}, 409, "reconciliation_difference"),
        (
            f"{base(bank)}/reconciliations",
            {"date": "2018-11-30", "adjustment_account": "Expenses:Nowhere"},
            422,
            "account_unknown",
        ),
        (
            f"{base(bank)}/reconciliations",
            {"date": "2018-11-30", "closing_balance": "3,998.00"},
            422,
            "amount_invalid",
        ),
        (f"{base(bavet)}/cash-counts", {"date": "2018-11-30", "amount": "4000000"}, 409,
         "reconciliation_difference"),
        (f"{base(bavet)}/statements", {"csv": ACLEDA_CSV, "mapping": ACLEDA}, 422,
         "account_not_bank"),
        (f"{base(bank)}/cash-counts", {"date": "2018-11-30", "amount": "1.00"}, 422,
         "account_not_cash"),
        ("/api/books/org/period-close", {"date": "2018-11-30"}, 409, "account_not_reconciled"),
    ]  # fmt: skip
    for path, body, status, code in refusals:
        response = client.post(path, json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), (path, body)
        assert state(client, bank) == before, (path, body)
    unreconciled = client.post("/api/books/org/period-close", json={"date": "2018-11-30"})
    assert {e["field"] for e in unreconciled.json()["errors"]} == {BANK, BAVET}
