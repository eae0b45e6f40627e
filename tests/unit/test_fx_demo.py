"""The CTIP demo as the finance team reads it (issue 17): a realised and an unrealised
exchange line, the Bavet cash box reconciled on the donor report, and one organisation file
that Fava opens with its budget view filled in; every book still verifies."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from fava.core import FavaLedger

from ledger.demo import load_demo
from ledger.demo.organisation import AWARD, CASH_BAVET
from ledger.export.beancount import export_organisation
from ledger.reports.donor_report import build_donor_report
from ledger.store import books
from ledger.store.database import Database
from ledger.verify import verify_all


def test_the_demo_shows_its_exchange_differences_and_opens_in_fava(
    db: Database, tmp_path: Path
) -> None:
    lines = load_demo(db)
    revalued = next(line for line in lines if "FX revaluation" in line)
    assert "realised 0.00 USD" not in revalued
    assert "unrealised 0.00 USD" not in revalued
    with db.read() as conn:
        report = build_donor_report(conn, AWARD, end=datetime.date(2018, 12, 31))
        assert report.fx.realised_to_date != 0
        assert report.fx.unrealised_at_end != 0
        bavet = next(a for a in report.bank_and_cash if a.account == CASH_BAVET)
        assert bavet.reconciled_on is not None
        codes = [b.code for b in books.list_books(conn)]
        path = tmp_path / "organisation.beancount"
        path.write_text("".join(export_organisation(conn, "CCPCR", codes)), encoding="utf-8")
    fava = FavaLedger(str(path))
    assert list(fava.errors) == []
    # The demo's amendment extends the award to 2019-12-31 at no cost: the line's 12,000.00
    # is spread over the extended award (ledger/export/beancount_printer.py, format_budgets).
    budget = fava.budgets.calculate(
        "Expenses:Grants:Livelihood:CTIP-2018", datetime.date(2018, 7, 1), datetime.date(2020, 1, 1)
    )
    assert budget["USD"].quantize(Decimal("0.01")) == Decimal("12000.00")
    failed = [r for r in verify_all(db) if not r.ok]
    assert failed == [], [r.differences for r in failed]
