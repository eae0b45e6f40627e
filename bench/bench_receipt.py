"""Printing grant receipts: milliseconds per PDF and its size, for a cash receipt, a receipt
with the most items in kind, and one with every text at its limit (which is laid out twice:
normal style, then compact).

    .venv/bin/python -m bench.bench_receipt              # 20 renders of each
    .venv/bin/python -m bench.bench_receipt --repeat 50

Each render is the whole path an API request takes: Jinja2 to HTML, WeasyPrint layout and
PDF bytes. The first render of the process (fonts loaded, template compiled) is reported
apart from the medians. CPU time (this process) is reported beside wall time: on a shared
machine the wall time mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import time
from decimal import Decimal

import jinja2
import weasyprint

from bench.common import median, print_conditions, print_table
from ledger.core import limits
from ledger.reports.receipt import (
    LIVESTOCK,
    TEXT_LENGTH_MAX,
    ReceiptItem,
    ReceiptView,
    render_receipt,
)

CASH = ReceiptView(
    organisation="Livelihood Programme Cambodia",
    book_code="org",
    receipt_number="ORG-2018-0007",
    date=datetime.date(2018, 11, 4),
    case_code="DV-009",
    grant_id=12,
    business_type="chicken_raising",
    award_code="CTIP-2018",
    donor="Counter-Trafficking Fund",
    budget_line="Livelihood grants",
    method="cash",
    paid_from="Assets:Cash:Poipet-KHR",
    currency="KHR",
    amount=Decimal("410000"),
    items=(),
    total_value=Decimal("410000"),
    officer="dara.officer",
)


def _in_kind(quantity: int, unit_cost: Decimal, **texts: str) -> ReceiptView:
    codes = list(LIVESTOCK)
    items = tuple(
        ReceiptItem(codes[i % len(codes)], quantity, unit_cost, "KHR")
        for i in range(limits.DISBURSEMENT_ITEMS_MAX)
    )
    total = sum((item.value for item in items), Decimal(0))
    view = dataclasses.replace(CASH, method="in_kind", amount=None, items=items, total_value=total)
    return dataclasses.replace(view, **texts)  # type: ignore[arg-type]


def _at_limit(field: str, unit: str) -> str:
    return (unit * TEXT_LENGTH_MAX[field])[: TEXT_LENGTH_MAX[field]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print_conditions(
        "grant receipt PDFs",
        {"weasyprint": weasyprint.__version__, "jinja2": jinja2.__version__, "repeat": args.repeat},
    )
    cases = {
        "cash, 410,000 KHR": CASH,
        f"in kind, {limits.DISBURSEMENT_ITEMS_MAX} items": _in_kind(2, Decimal("600000")),
        "in kind, every text at its limit": _in_kind(
            9_999,
            Decimal("4999999"),
            organisation=_at_limit("organisation", "Livelihood Grants "),
            donor=_at_limit("donor", "Counter-Trafficking Fund "),
            budget_line=_at_limit("budget_line", "Livelihood grants "),
            paid_from=_at_limit("paid_from", "Assets:Cash:Poipet-"),
            narration=_at_limit("narration", "ជំនួយចិញ្ចឹមជ្រូក and feed "),
        ),
    }
    rows = []
    for label, view in cases.items():
        start = time.perf_counter()
        pdf = render_receipt(view)
        first_ms = (time.perf_counter() - start) * 1000
        wall_ms, cpu_ms = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            render_receipt(view)
            wall_ms.append((time.perf_counter() - start) * 1000)
            cpu_ms.append((time.process_time() - start_cpu) * 1000)
        size_kib = f"{len(pdf) / 1024:.0f}"
        rows.append((label, first_ms, median(wall_ms), median(cpu_ms), max(wall_ms), size_kib))
    headers = ["receipt", "first ms", "median ms", "median CPU ms", "max ms", "PDF KiB"]
    print_table(headers, rows)


if __name__ == "__main__":
    main()
