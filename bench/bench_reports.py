"""Reports on a large book: the budget against actual of an award and its donor report.

The book is the balances benchmark's (a bank account pays 200 grant lines, two postings per
transaction, 250 transactions a day), with one donor award running through all of it: one
transaction in `--award-share` is an expense on one of the award's ten budget lines (posted
as `funds.rules.budget_expense` builds it, with its `budget_spends` row and its line's week,
as `funds.post_expense` writes them through `funds.line_weeks.record_spends`), and the donor
pays the award in a tranche every 50,000 transactions (`funds.receive_funds`). The book is
loaded with `journal.post_many`, 10,000 transactions per commit.

Each report is timed as an API request makes it, in its own read unit of work (`db.read()`):

- budget against actual as of the middle of the book (`funds.budget_report`, what
  `GET /api/awards/{code}/budget?as_of=` returns);
- the baseline of the same run: the award's spends summed line by line as budget against
  actual summed them before `budget_line_weeks` (every spend, probed for a reversal);
- the donor report for the quarter that holds the middle of the book
  (`reports.donor_report.build_donor_report`: budget use at both ends of the period, reach,
  and every bank and cash account's balance as of the end, with its last reconciliation).

    .venv/bin/python -m bench.bench_reports            # 200,000 postings
    .venv/bin/python -m bench.bench_reports --full     # 1,000,000 postings

Targets (issue 13): at 1,000,000 postings, budget against actual at most 100 ms and the
donor report at most 1 s (medians).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, exists, func, select

from bench.common import (
    BANK,
    BOOK_CODE,
    FIRST_DATE,
    TRANSACTIONS_PER_DAY,
    date_of,
    filesystem_of,
    make_transactions,
    migrated_sqlite,
    open_book,
    print_conditions,
    print_table,
    scratch_dir,
)
from ledger.core.transaction import Transaction
from ledger.funds import line_weeks
from ledger.funds import rules as fund_rules
from ledger.funds import service as funds
from ledger.reports.donor_report import build_donor_report
from ledger.store import journal
from ledger.store.database import Database
from ledger.store.tables import budget_spends, transactions

AWARD = "BENCH-AWARD"
LINES_N = 10
CHUNK = 10_000
TRANCHE_EVERY = 50_000
BUDGET_TARGET_MS = 100.0
DONOR_REPORT_TARGET_MS = 1_000.0


def create_award(db: Database, last: datetime.date) -> funds.Award:
    lines = [
        funds.BudgetLineDraft(
            code=f"line-{n:02d}",
            name=f"Budget line {n}",
            amount="100000000.00",
            expense_account=f"Expenses:Award:Line-{n:02d}",
        )
        for n in range(LINES_N)
    ]
    draft = funds.AwardDraft(
        book_code=BOOK_CODE,
        code=AWARD,
        donor="Benchmark donor",
        currency="USD",
        amount="1000000000.00",
        start_date=FIRST_DATE,
        end_date=last,
        approval_threshold="1000.00",
        income_account="Income:Grants:Bench-Award",
        lines=tuple(lines),
    )
    return db.write(lambda c: funds.create_award(c, draft, None))


def award_expense(award: funds.Award, index: int, base: Transaction) -> Transaction:
    """The award's expense that takes the place of the book's `index`th transaction."""
    line = award.lines[index // 7 % LINES_N]
    return fund_rules.budget_expense(
        base.date,
        line.expense_account,
        BANK,
        -base.postings[0].units,
        "USD",
        f"Award expense {index}",
        None,
        award.code,
        line.code,
    )


def spend_rows(
    award: funds.Award, ids: Sequence[int], txns: Sequence[Transaction], spent: Sequence[int]
) -> list[dict[str, Any]]:
    """The `budget_spends` rows of the award expenses among `txns` (positions `spent`)."""
    lines = {line.expense_account: line for line in award.lines}
    rows = []
    for position in spent:
        txn = txns[position]
        units = txn.postings[0].units
        rows.append(
            {
                "book_id": award.book_id,
                "award_id": award.id,
                "budget_line_id": lines[txn.postings[0].account].id,
                "transaction_id": ids[position],
                "date": txn.date,
                "kind": "expense",
                "currency": "USD",
                "units": units,
                "award_units": units,
                "rate": None,
                "rate_method": "same_currency",
            }
        )
    return rows


def receive_tranche(db: Database, date: datetime.date) -> None:
    db.write(lambda c: funds.receive_funds(c, AWARD, date, BANK, "5000000.00", None, None, None))


def post_with_spends(
    conn: Connection, award: funds.Award, txns: Sequence[Transaction], spent: Sequence[int]
) -> None:
    """Post the transactions and the budget spends of the award's among them (with their
    lines' weeks, as `funds.post_expense` writes them)."""
    ids = journal.post_many(conn, BOOK_CODE, txns)
    line_weeks.record_spends(conn, spend_rows(award, ids, txns, spent))


def load(db: Database, award: funds.Award, names: Sequence[str], total: int, share: int) -> None:
    """Post `total` transactions, one in `share` an award expense, with the donor's tranches."""
    for first in range(0, total, CHUNK):
        if first % TRANCHE_EVERY == 0:
            receive_tranche(db, date_of(first))
        txns = make_transactions(first, min(CHUNK, total - first), names)
        spent = [p for p in range(len(txns)) if (first + p) % share == 0]
        for position in spent:
            txns[position] = award_expense(award, first + position, txns[position])

        def work(
            conn: Connection, txns: list[Transaction] = txns, spent: list[int] = spent
        ) -> None:
            post_with_spends(conn, award, txns, spent)

        db.write(work)


def quarter_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    following = (start + datetime.timedelta(days=95)).replace(day=1)
    return start, following - datetime.timedelta(days=1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=200_000, help="book size in postings")
    parser.add_argument("--full", action="store_true", help="1,000,000 postings")
    parser.add_argument("--award-share", type=int, default=10, help="1 in N is an award expense")
    parser.add_argument("--accounts", type=int, default=200, help="grant lines in the book")
    parser.add_argument("--repeat", type=int, default=30, help="calls per report")
    parser.add_argument("--dir", help="keep the SQLite file here (default: a temp dir)")
    args = parser.parse_args(argv)
    postings_n = 1_000_000 if args.full else args.postings
    total = postings_n // 2
    with scratch_dir(args.dir) as directory:
        path = directory / "reports.sqlite3"
        db = migrated_sqlite(path)
        try:
            names = open_book(db, args.accounts)
            last = date_of(total - 1)
            award = create_award(db, last)
            print_conditions(
                "donor reports on a large book",
                {
                    "database": f"{path} on {filesystem_of(directory)}",
                    "book": f"{postings_n:,} postings: 1 bank account + {args.accounts} grant"
                    f" lines, {TRANSACTIONS_PER_DAY} transactions a day, {FIRST_DATE} to {last}",
                    "award": f"{LINES_N} budget lines; 1 transaction in {args.award_share} is"
                    f" an award expense ({total // args.award_share:,} budget spends); a donor"
                    f" tranche every {TRANCHE_EVERY:,} transactions",
                    "timing": f"median and p95 of up to {args.repeat} calls, each in its own"
                    " db.read() unit of work",
                },
            )
            start = time.perf_counter()
            load(db, award, names, total, args.award_share)
            print(f"  loaded in {time.perf_counter() - start:.1f} s")
            run(db, FIRST_DATE + (last - FIRST_DATE) / 2, args.repeat)
        finally:
            db.dispose()


def summed_spends(conn: Connection, as_of: datetime.date | None) -> list[int]:
    """The baseline: the award's spends per line as budget against actual summed them before
    `budget_line_weeks` (every spend of the line up to the date, each probed for a reversal
    up to the date)."""
    award = funds.get_award(conn, AWARD)
    totals = []
    for line in award.lines:
        reversal = transactions.alias("reversal")
        reversed_where = [reversal.c.reverses_id == budget_spends.c.transaction_id]
        spent_where = [budget_spends.c.budget_line_id == line.id]
        if as_of is not None:
            spent_where.append(budget_spends.c.date <= as_of)
            reversed_where.append(reversal.c.date <= as_of)
        spent_where.append(~exists().where(and_(*reversed_where)))
        query = select(func.coalesce(func.sum(budget_spends.c.award_units), 0))
        totals.append(int(conn.execute(query.where(and_(*spent_where))).scalar_one()))
    return totals


def measure_with_cpu(
    db: Database, query: Callable[[Connection], Any], repeat: int
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per call, each call in its own read (`db.read()`),
    stopping early (after at least 5 calls) once two seconds have gone. SQLite runs in this
    process, so its CPU time is the call's work: on a loaded machine, where the wall clock
    also counts the time other jobs hold the cores, it is the steadier of the two."""
    with db.read() as conn:  # warm the pool, the statement caches and the page cache
        query(conn)
    wall: list[float] = []
    cpu: list[float] = []
    budget_end = time.perf_counter() + 2.0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        with db.read() as conn:
            query(conn)
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
        if len(wall) >= 5 and time.perf_counter() > budget_end:
            break
    return wall, cpu


def run(db: Database, middle: datetime.date, repeat: int) -> None:
    quarter = quarter_of(middle)
    cases: dict[str, tuple[Callable[[Connection], Any], float]] = {
        f"budget against actual, as of {middle}": (
            lambda c: funds.budget_report(c, AWARD, middle),
            BUDGET_TARGET_MS,
        ),
        "budget against actual, today": (lambda c: funds.budget_report(c, AWARD), BUDGET_TARGET_MS),
        f"baseline: every spend summed, as of {middle}": (
            lambda c: summed_spends(c, middle),
            BUDGET_TARGET_MS,
        ),
        "baseline: every spend summed, today": (
            lambda c: summed_spends(c, None),
            BUDGET_TARGET_MS,
        ),
        f"donor report, {quarter[0]} to {quarter[1]}": (
            lambda c: build_donor_report(c, AWARD, *quarter),
            DONOR_REPORT_TARGET_MS,
        ),
    }
    rows = []
    for label, (query, target_ms) in cases.items():
        times, cpu = measure_with_cpu(db, query, repeat)
        median = statistics.median(times)
        p95 = sorted(times)[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        verdict = "PASS" if median <= target_ms else "FAIL"
        if label.startswith("baseline"):  # for the scale: not a target of its own
            verdict, target_text = "", ""
        else:
            target_text = f"<= {target_ms:g}"
        rows.append(
            [
                label,
                f"{median:.1f}",
                f"{p95:.1f}",
                f"{statistics.median(cpu):.1f}",
                len(times),
                target_text,
                verdict,
            ]
        )
    print()
    print_table(
        ["report (ms per call)", "median", "p95", "CPU median", "calls", "target ms", "result"],
        rows,
    )


if __name__ == "__main__":
    main()
