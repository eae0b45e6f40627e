"""Defects seen in documents (issue 17, item 6): each as the finance team met it.

- an exchange given a rate into a two-decimal currency wrote "into 32500 THB" for 325.00 THB;
- the donor report printed a cash box counted as a balance assertion as "not reconciled";
- the chart cut budget-line names ("Small-business grants to retu...").

(The share-out's value per share with thousands separators is in test_savings_statements;
the second meeting on one day, `meeting_date_taken`, in test_savings_meetings.)
"""

from __future__ import annotations

import datetime
from typing import Any

from litestar.testing import TestClient

from ledger.reports.donor_report import CHART_LABEL_CHARS, chart_label
from ledger.store import journal
from ledger.store.database import Database
from tests.api.grants_world import AWARD, BANK, BAVET, build_world, ok
from tests.pdf import pdf_text

THB = "Assets:Cash:Poipet-THB"


def test_an_exchange_narration_prints_both_amounts_at_their_precision(
    client: TestClient[Any], db: Database
) -> None:
    build_world(client, db)
    account = {"name": THB, "open_date": "2018-01-01", "currencies": ["THB"]}
    ok(client.post("/api/books/org/accounts", json=account))
    body = {"book": "org", "date": "2018-11-06", "from_account": BANK, "to_account": THB}
    by_rate = ok(client.post("/api/exchanges", json={**body, "from_amount": "10", "rate": "32.5"}))
    back = ok(client.post("/api/exchanges", json={**body, "to_amount": "65", "rate": "32.5"}))
    both = ok(
        client.post("/api/exchanges", json={**body, "from_amount": "1.5", "to_amount": "48.75"})
    )
    listed = ok(client.get("/api/books/org/transactions"), 200)
    items = listed["items"] if isinstance(listed, dict) else listed
    narrations = {t["id"]: t["narration"] for t in items}
    assert narrations[by_rate["transaction_id"]] == "Exchange 10.00 USD into 325.00 THB"
    assert narrations[back["transaction_id"]] == "Exchange 2.00 USD into 65.00 THB"
    assert narrations[both["transaction_id"]] == "Exchange 1.50 USD into 48.75 THB"


def test_a_cash_box_checked_by_a_balance_assertion_is_reconciled_on_the_donor_report(
    client: TestClient[Any], db: Database
) -> None:
    build_world(client, db)
    # As the demo does: the count entered as a balance assertion, not through cash-counts.
    db.write(
        lambda conn: journal.assert_balance(
            conn, "org", BAVET, "KHR", datetime.date(2018, 11, 30), 4_112_000
        )
    )
    params = {"start": "2018-10-01", "end": "2018-12-31"}
    report = ok(client.get(f"/api/awards/{AWARD}/donor-report", params=params), 200)
    bavet = next(a for a in report["bank_and_cash"] if a["account"] == BAVET)
    assert bavet["reconciled_on"] == "2018-11-30"
    assert bavet["reconciled_by"] == "balance_assertion"
    assert bavet["counted"] == "4112000"
    bank = next(a for a in report["bank_and_cash"] if a["account"] == BANK)
    assert bank["reconciled_on"] is None  # the bank is really not reconciled
    pdf = client.get(f"/api/awards/{AWARD}/donor-report.pdf", params=params)
    text = " ".join(pdf_text(pdf.content).split())
    assert "balance assertion" in text
    assert text.count("not reconciled") == 1  # the bank's line only


def test_chart_labels_are_wrapped_whole_never_cut() -> None:
    name = "Small-business grants to returnees and their households in Svay Rieng"
    lines = chart_label(name)
    assert len(lines) > 1
    assert " ".join(lines) == name
    assert all(len(line) <= CHART_LABEL_CHARS for line in lines)
    assert chart_label("Transport") == ("Transport",)
