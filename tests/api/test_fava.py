"""The organisation's book opens in Fava, and Fava's balance sheet and income statement
totals equal the ledger's own trial balance, currency by currency.

The book is the grants programme after a reconciliation: fund receipt, exchanges into riel
at a total price, a grant paid in pigs and in cash, transport, a bank fee found on the
statement, a cash count, and balance assertions (Beancount `balance` directives).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount.core import data
from fava.core import FavaLedger
from fava.core.tree import Tree
from litestar.testing import TestClient

from ledger.store.database import Database
from ledger.verify import verify_all
from tests.api.grants_world import BANK, build_world, ok, programme

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")


def fava_totals(node: Any) -> dict[str, Decimal]:
    """A Fava tree node's cumulative balance in units per currency (no cost, no zeros)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (currency, _cost), number in node.balance_children.items():
        totals[currency] += number
    return {c: n for c, n in totals.items() if n != 0}


def our_totals(client: TestClient[Any]) -> dict[str, dict[str, Decimal]]:
    """The ledger's trial balance summed per root account and currency; conversions (the
    `Equity:Conversions:Current` line the API adds) count with equity, as Fava's closed
    balance sheet shows them."""
    totals: dict[str, dict[str, Decimal]] = {root: defaultdict(Decimal) for root in ROOTS}
    for line in ok(client.get("/api/books/org/balances"), 200)["balances"]:
        totals[line["account"].split(":", 1)[0]][line["currency"]] += Decimal(line["amount"])
    return {root: {c: n for c, n in found.items() if n != 0} for root, found in totals.items()}


def test_fava_reads_the_export_and_agrees_with_the_ledger(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    programme(client, db)
    ok(client.post("/api/books/org/accounts", json={"name": "Expenses:Bank-Charges",
                                                    "open_date": "2018-01-01"}))  # fmt: skip
    bank = next(
        a["id"]
        for a in ok(client.get("/api/books/org/accounts"), 200)["items"]
        if a["name"] == BANK
    )
    ok(
        client.post(
            f"/api/books/org/accounts/{bank}/reconciliations",
            json={
                "date": "2018-12-31",
                "closing_balance": "3998.00",
                "adjustment_account": "Expenses:Bank-Charges",
            },
        )
    )
    path = tmp_path / "org.beancount"
    path.write_bytes(client.get("/api/books/org/export.beancount").content)

    fava = FavaLedger(str(path))
    assert list(fava.errors) == []
    filtered = fava.get_filtered()
    ours = our_totals(client)

    # Income statement: Fava's open tree, income and expenses and their net.
    income_statement = filtered.root_tree
    assert fava_totals(income_statement.get("Income")) == ours["Income"]
    assert fava_totals(income_statement.get("Expenses")) == ours["Expenses"]
    net = fava_totals(income_statement.net_profit(fava.options, "Net Profit"))
    expected_net = defaultdict(Decimal, ours["Income"])
    for currency, number in ours["Expenses"].items():
        expected_net[currency] += number
    assert net == {c: n for c, n in expected_net.items() if n != 0}
    assert ours["Expenses"]["USD"] == Decimal("2.00")  # the bank fee, in dollars
    assert ours["Expenses"]["KHR"] == Decimal("1336500")  # pigs, cash grant, transport

    # Balance sheet: Fava's closed tree, where income and expenses move into equity.
    balance_sheet: Tree = filtered.root_tree_closed
    assert fava_totals(balance_sheet.get("Assets")) == ours["Assets"]
    assert fava_totals(balance_sheet.get("Liabilities")) == ours["Liabilities"]
    closed_equity: dict[str, Decimal] = defaultdict(Decimal)
    for root in ("Equity", "Income", "Expenses"):
        for currency, number in ours[root].items():
            closed_equity[currency] += number
    assert fava_totals(balance_sheet.get("Equity")) == {
        c: n for c, n in closed_equity.items() if n != 0
    }
    assert ours["Assets"] == {"USD": Decimal("3998.00"), "KHR": Decimal("2775500")}


def test_fava_opens_every_book_in_one_file_with_the_budget_view_filled_in(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    """The organisation's combined file (issue 17, item 4): every book the user may see, one
    direction of prices, a budget for each award line that Fava's own loader reads, and the
    household's income as a memorandum, not cash."""
    programme(client, db)
    ok(
        client.post(
            "/api/households/DV-009/income",
            json={"month": "2019-03", "source": "wages", "amount": "300000"},
        )
    )
    response = client.get("/api/books/export.beancount")
    assert response.status_code == 200, response.text
    path = tmp_path / "organisation.beancount"
    path.write_bytes(response.content)

    fava = FavaLedger(str(path))
    assert list(fava.errors) == []
    # The budget of the small-business grants line over the award's dates (1 July 2018 to
    # 30 June 2019; Fava's end date is exclusive) is its 2,000.00 dollars; the fourth
    # quarter of 2018 is 92 of its 365 days.
    grants = "Expenses:Grants:Livelihood:CTIP-2018"
    whole = fava.budgets.calculate(grants, date(2018, 7, 1), date(2019, 7, 1))
    assert whole["USD"].quantize(Decimal("0.01")) == Decimal("2000.00")
    quarter = fava.budgets.calculate(grants, date(2018, 10, 1), date(2019, 1, 1))
    assert quarter["USD"].quantize(Decimal("0.01")) == Decimal("504.11")  # 2000 x 92 / 365
    assert fava.budgets.calculate(grants, date(2019, 7, 1), date(2019, 12, 31)) == {
        "USD": Decimal(0)
    }
    transport = "Expenses:Reintegration:Transport:CTIP-2018"
    whole = fava.budgets.calculate(transport, date(2018, 7, 1), date(2019, 7, 1))
    assert whole["USD"].quantize(Decimal("0.01")) == Decimal("500.00")

    entries: list[Any] = list(fava.all_entries)
    prices = [e for e in entries if isinstance(e, data.Price)]
    assert prices
    assert all((p.amount.number or 0) >= 1 for p in prices)  # `USD 4110 KHR`, not the inverse
    assert {(p.currency, p.amount.currency) for p in prices} == {("USD", "KHR"), ("PIG", "KHR")}

    # Both books are there, the household's under its own code; its income record is a
    # memorandum: the cash it holds is the 616,500 riel grant, not also the 300,000 of wages.
    opened = {e.account for e in entries if isinstance(e, data.Open)}
    assert "Assets:Cash:Bavet-KHR" in opened
    assert "Assets:HH-DV-009:Cash" in opened
    balances = fava_totals(fava.get_filtered().root_tree.get("Assets:HH-DV-009:Cash"))
    assert balances == {"KHR": Decimal("616500")}
    memorandum = fava.get_filtered().root_tree.get("Equity:HH-DV-009:Memorandum")
    assert fava_totals(memorandum) == {"KHR": Decimal("300000")}
    # And each book still verifies: the ledger's balances are Beancount's.
    assert all(report.ok for report in verify_all(db)), [r.differences for r in verify_all(db)]


def test_the_combined_file_holds_only_the_books_a_user_may_see(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    world = build_world(client, db)
    far = client.get("/api/books/export.beancount", headers=world.far_officer)
    assert far.status_code == 200, far.text
    text = far.text
    assert "HH-DV-009" not in text  # a household of Svay Rieng: not the Mondulkiri officer's
    assert "Assets:Cash:Bavet-KHR" not in text
    near = client.get("/api/books/export.beancount", headers=world.officer).text
    assert "Assets:HH-DV-009:Cash" in near
    assert "Assets:Cash:Bavet-KHR" not in near  # the organisation's book is not in scope
    path = tmp_path / "near.beancount"
    path.write_text(near, encoding="utf-8")
    assert list(FavaLedger(str(path)).errors) == []
