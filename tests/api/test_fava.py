"""The organisation's book opens in Fava, and Fava's balance sheet and income statement
totals equal the ledger's own trial balance, currency by currency.

The book is the grants programme after a reconciliation: fund receipt, exchanges into riel
at a total price, a grant paid in pigs and in cash, transport, a bank fee found on the
statement, a cash count, and balance assertions (Beancount `balance` directives).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from fava.core import FavaLedger
from fava.core.tree import Tree
from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.grants_world import BANK, ok, programme

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
        a["id"] for a in ok(client.get("/api/books/org/accounts"), 200) if a["name"] == BANK
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
