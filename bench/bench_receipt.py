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
import time

import jinja2
import weasyprint

from bench.common import median, print_conditions, print_table
from ledger.core.limits import DISBURSEMENT_ITEMS_MAX
from ledger.demo.receipts import cash_receipt, in_kind_receipt, receipt_at_limits
from ledger.reports.receipt import render_receipt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print_conditions(
        "grant receipt PDFs",
        {"weasyprint": weasyprint.__version__, "jinja2": jinja2.__version__, "repeat": args.repeat},
    )
    cases = {
        "cash, 410,000 KHR": cash_receipt(),
        f"in kind, {DISBURSEMENT_ITEMS_MAX} items": in_kind_receipt(DISBURSEMENT_ITEMS_MAX),
        "in kind, every text at its limit": receipt_at_limits(),
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
