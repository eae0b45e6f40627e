"""Balance queries as the book grows: one account's balance and the full trial balance,
current and as of a past date, at several book sizes in one run.

The book is built with `journal.post_many` (the bank pays `--accounts` grant lines, two
postings per transaction, 250 transactions a day, so 1,000,000 postings span about five and
a half years). At each size every query runs `--repeat` times, each in its own read unit of
work (`db.read()`: connection from the pool, BEGIN, query, COMMIT), as an API request would.

The baseline, measured on the same database in the same run, is what the balance would cost
without the balances table: summing the postings (`SUM(units)` over the account's postings,
and `GROUP BY` over the book's postings for the trial balance).

    .venv/bin/python -m bench.bench_balances                   # 10k, 100k, 300k postings
    .venv/bin/python -m bench.bench_balances --full            # 10k, 100k, 1M postings
    .venv/bin/python -m bench.bench_balances --postgresql      # the same on PostgreSQL

Targets (from the issues): the current balance of one account and the current trial balance
at most 5 ms median with 1,000,000 postings, flat as the book grows; the same balances as of
any date within the book (read from the month-end checkpoints, `ledger.store.checkpoints`)
at most 5 ms median at 1,000,000 postings and within 2x of the figure at the first size.
"As of the middle" is the middle day of the book; "as of mid-week" the Wednesday of the
middle week, a day on which an as-of read sums the most postings (three days of them).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Connection, text

from bench.common import (
    BANK,
    BOOK_CODE,
    TRANSACTIONS_PER_DAY,
    account_names,
    date_of,
    filesystem_of,
    make_transactions,
    migrated_sqlite,
    open_book,
    postgres_database,
    print_conditions,
    print_table,
    scratch_dir,
)
from ledger.store import journal, queries
from ledger.store.checkpoints import week_of
from ledger.store.database import Database

TARGET_MS = 5.0
# An as-of balance at the largest size is within this factor of the smallest size's.
AS_OF_GROWTH_MAX = 2.0
LOAD_CHUNK = 10_000


def load_until(db: Database, names: Sequence[str], have: int, want: int) -> float:
    """Post transactions `have`..`want`-1 with post_many; return seconds taken."""
    start = time.perf_counter()
    for first in range(have, want, LOAD_CHUNK):
        chunk = make_transactions(first, min(LOAD_CHUNK, want - first), names)
        db.write(partial(journal.post_many, book_code=BOOK_CODE, txns=chunk))
    return time.perf_counter() - start


def measure(db: Database, query: Callable[[Connection], Any], repeat: int) -> list[float]:
    """Milliseconds per call, each call in its own read (`db.read()`).

    Stops early (after at least 5 calls) once two seconds have gone, so that the slow
    baselines at full size do not dominate the run.
    """
    with db.read() as conn:  # warm the pool, the statement caches and the page cache
        query(conn)
    times = []
    budget_end = time.perf_counter() + 2.0
    for _ in range(repeat):
        start = time.perf_counter()
        with db.read() as conn:
            query(conn)
        times.append((time.perf_counter() - start) * 1000)
        if len(times) >= 5 and time.perf_counter() > budget_end:
            break
    return times


def naive_account_balance(conn: Connection, account_id: int) -> Any:
    return conn.execute(
        text("SELECT commodity, sum(units) FROM postings WHERE account_id = :a GROUP BY commodity"),
        {"a": account_id},
    ).all()


def naive_trial_balance(conn: Connection, book_id: int) -> Any:
    return conn.execute(
        text(
            "SELECT account_id, commodity, sum(units) FROM postings WHERE book_id = :b"
            " GROUP BY account_id, commodity"
        ),
        {"b": book_id},
    ).all()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000,300000",
        help="book sizes in postings, ascending (default 10k,100k,300k)",
    )
    parser.add_argument("--full", action="store_true", help="sizes 10k, 100k and 1,000,000")
    parser.add_argument("--accounts", type=int, default=200, help="grant lines in the book")
    parser.add_argument("--repeat", type=int, default=200, help="calls per query and size")
    parser.add_argument("--postgresql", action="store_true", help="run on PostgreSQL instead")
    parser.add_argument("--dir", help="keep the SQLite file here (default: a temp dir)")
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000, 1_000_000] if args.full else [int(s) for s in args.sizes.split(",")]
    names = account_names(args.accounts)

    with scratch_dir(args.dir) as directory:
        if args.postgresql:
            db, where, drop = postgres_database("ledger_bench_balances")
        else:
            path = directory / "balances.sqlite3"
            db, where, drop = migrated_sqlite(path), f"{path} on {filesystem_of(directory)}", None
        try:
            open_book(db, args.accounts)
            print_conditions(
                "balance queries as the book grows",
                {
                    "database": where,
                    "book": f"1 bank account + {args.accounts} grant lines, 2 postings per"
                    f" transaction, {TRANSACTIONS_PER_DAY} transactions a day",
                    "sizes (postings)": ", ".join(f"{s:,}" for s in sizes),
                    "timing": f"median and p95 of up to {args.repeat} calls, each in its own"
                    " db.read() (pool checkout, BEGIN, query, COMMIT)",
                },
            )
            run(db, names, sizes, args.repeat)
        finally:
            db.dispose()
            if drop:
                drop()


def run(db: Database, names: Sequence[str], sizes: Sequence[int], repeat: int) -> None:
    with db.read() as conn:
        book_id = conn.execute(
            text("SELECT id FROM books WHERE code = :c"), {"c": BOOK_CODE}
        ).one()[0]
        ids = dict(conn.execute(text("SELECT name, id FROM accounts")).tuples().all())
    bank, line = ids[BANK], ids[names[1]]
    results: dict[str, dict[int, list[float]]] = {}
    have = 0
    for size in sizes:
        want = size // 2
        seconds = load_until(db, names, have, want)
        print(f"  loaded {want - have:,} transactions in {seconds:.1f} s ({size:,} postings now)")
        have = want
        last = date_of(want - 1)
        first = date_of(0)
        recent = last - datetime.timedelta(days=7)
        middle = first + (last - first) / 2
        mid_week = min(week_of(middle) + datetime.timedelta(days=2), last)
        early = first + datetime.timedelta(days=7)
        postings_after_recent = 2 * TRANSACTIONS_PER_DAY * (last - recent).days
        cases = queries_to_time(book_id, bank, line, recent, middle, early)
        cases.update(mid_week_queries(bank, mid_week))
        for label, query in cases.items():
            results.setdefault(label, {})[size] = measure(db, query, repeat)
        check_agrees(db, book_id, [early, middle, mid_week, recent])
        print(f"    ({postings_after_recent:,} postings lie after 'a week ago')")
    print()
    rows = [_result_row(label, by_size, sizes) for label, by_size in results.items()]
    headers = (
        ["query (ms per call)"]
        + [f"median @ {s:,}" for s in sizes]
        + [f"p95 @ {sizes[-1]:,}", f"growth {sizes[0]:,} -> {sizes[-1]:,}", "target", "result"]
    )
    print_table(headers, rows)


def _result_row(label: str, by_size: dict[int, list[float]], sizes: Sequence[int]) -> list[str]:
    """One line of the table: medians per size, p95 at the largest, growth, target, verdict.

    Current balances must be at most `TARGET_MS` at 1,000,000 postings; as-of balances also
    within `AS_OF_GROWTH_MAX` of the smallest size.
    """
    medians = {s: statistics.median(t) for s, t in by_size.items()}
    largest = sizes[-1]
    growth = medians[largest] / medians[sizes[0]]
    as_of = "as of" in label and not label.startswith("baseline")
    targeted = label.endswith("current") or as_of
    target = ""
    if targeted:
        target = f"<= {TARGET_MS:g} ms" + (f", <= {AS_OF_GROWTH_MAX:g}x" if as_of else "")
    verdict = ""
    if targeted and largest >= 1_000_000:
        met = medians[largest] <= TARGET_MS and (not as_of or growth <= AS_OF_GROWTH_MAX)
        verdict = "PASS" if met else "FAIL"
    elif targeted:
        verdict = "(run --full)"
    return (
        [label]
        + [f"{medians[s]:.2f}" for s in sizes]
        + [f"{_p95(by_size[largest]):.2f}", f"{growth:.1f}x", target, verdict]
    )


def queries_to_time(
    book_id: int,
    bank: int,
    line: int,
    recent: datetime.date,
    middle: datetime.date,
    early: datetime.date,
) -> dict[str, Callable[[Connection], Any]]:
    """The queries timed at each size, by label (labels ending in 'current' have a target)."""
    return {
        "account_balance, bank (1/2 of postings), current": lambda c: queries.account_balance(
            c, BOOK_CODE, bank
        ),
        "account_balance, one grant line, current": lambda c: queries.account_balance(
            c, BOOK_CODE, line
        ),
        "trial_balance, current": lambda c: queries.trial_balance(c, BOOK_CODE),
        "account_balance, bank, as of a week ago": lambda c: queries.account_balance(
            c, BOOK_CODE, bank, recent
        ),
        "trial_balance, as of a week ago": lambda c: queries.trial_balance(c, BOOK_CODE, recent),
        "account_balance, bank, as of the middle": lambda c: queries.account_balance(
            c, BOOK_CODE, bank, middle
        ),
        "trial_balance, as of the middle": lambda c: queries.trial_balance(c, BOOK_CODE, middle),
        "account_balance, one grant line, as of the middle": lambda c: queries.account_balance(
            c, BOOK_CODE, line, middle
        ),
        "account_balance, bank, as of week 1": lambda c: queries.account_balance(
            c, BOOK_CODE, bank, early
        ),
        "trial_balance, as of week 1": lambda c: queries.trial_balance(c, BOOK_CODE, early),
        "baseline: SUM over the bank's postings": lambda c: naive_account_balance(c, bank),
        "baseline: GROUP BY over the book's postings": lambda c: naive_trial_balance(c, book_id),
    }


def mid_week_queries(bank: int, mid_week: datetime.date) -> dict[str, Callable[[Connection], Any]]:
    """As of a Wednesday: the most postings an as-of read sums (Monday to Wednesday)."""
    return {
        "account_balance, bank, as of mid-week": lambda c: queries.account_balance(
            c, BOOK_CODE, bank, mid_week
        ),
        "trial_balance, as of mid-week": lambda c: queries.trial_balance(c, BOOK_CODE, mid_week),
    }


def check_agrees(db: Database, book_id: int, dates: Sequence[datetime.date]) -> None:
    """The answers timed must be right: the balances table equals the sum of the postings, and
    each as-of trial balance equals the postings summed up to that date.
    """
    with db.read() as conn:
        from_postings = {(a, c): int(u) for a, c, u in naive_trial_balance(conn, book_id) if u}
        from_table = {
            (r.account_id, r.commodity): r.units
            for r in conn.execute(
                text("SELECT account_id, commodity, units FROM balances WHERE book_id = :b"),
                {"b": book_id},
            )
            if r.units
        }
        if from_postings != from_table:
            raise SystemExit("the balances table disagrees with the postings")
        names = dict(conn.execute(text("SELECT id, name FROM accounts")).tuples().all())
        for as_of in dates:
            expected = sorted(
                (names[a], c, int(u))
                for a, c, u in conn.execute(
                    text(
                        "SELECT account_id, commodity, sum(units) FROM postings"
                        " WHERE book_id = :b AND date <= :d GROUP BY account_id, commodity"
                    ),
                    {"b": book_id, "d": as_of},
                )
                if u
            )
            got = [
                (r.account, r.commodity, r.units)
                for r in queries.trial_balance(conn, BOOK_CODE, as_of)
            ]
            if got != expected:
                raise SystemExit(f"trial_balance as of {as_of} disagrees with the postings")


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
