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

Target (from the issue): current balance of one account and current trial balance flat as the
book grows, at most 5 ms median with 1,000,000 postings. As-of figures are reported as they
are: a balance as of a date costs in proportion to the postings between that date and the
nearer end of the book.
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
from ledger.store.database import Database

TARGET_MS = 5.0
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
        early = first + datetime.timedelta(days=7)
        postings_after_recent = 2 * TRANSACTIONS_PER_DAY * (last - recent).days
        cases = queries_to_time(book_id, bank, line, recent, middle, early)
        for label, query in cases.items():
            results.setdefault(label, {})[size] = measure(db, query, repeat)
        check_agrees(db, book_id, [early, middle, recent])
        print(f"    ({postings_after_recent:,} postings lie after 'a week ago')")
    print()
    rows = []
    for label, by_size in results.items():
        medians = {s: statistics.median(t) for s, t in by_size.items()}
        largest = sizes[-1]
        growth = medians[largest] / medians[sizes[0]]
        p95 = _p95(by_size[largest])
        current = label.endswith("current")
        verdict = ""
        if current and largest >= 1_000_000:
            verdict = "PASS" if medians[largest] <= TARGET_MS else "FAIL"
        elif current:
            verdict = "(run --full)"
        rows.append(
            [label]
            + [f"{medians[s]:.2f}" for s in sizes]
            + [f"{p95:.2f}", f"{growth:.1f}x", f"<= {TARGET_MS:g} ms" if current else "", verdict]
        )
    headers = (
        ["query (ms per call)"]
        + [f"median @ {s:,}" for s in sizes]
        + [f"p95 @ {sizes[-1]:,}", f"growth {sizes[0]:,} -> {sizes[-1]:,}", "target", "result"]
    )
    print_table(headers, rows)


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
