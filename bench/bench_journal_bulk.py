"""Bulk import through the journal (`journal.post_many`) against the same rows written by raw
`sqlite3` and by plain SQLAlchemy Core, all in one run.

Every contender starts from the same list of `Transaction` objects (two postings each), writes
them into a freshly migrated SQLite file with the ledger's pragmas (WAL, synchronous=FULL,
foreign keys on), `--chunk` transactions per database transaction (one durable commit each),
and maintains the balances table in the same database transaction:

- raw sqlite3: `executemany` of the transaction rows, the posting rows and one balance upsert
  per (account, commodity); no validation. The floor.
- SQLAlchemy Core: the same three statements through `Connection.execute(insert(...), rows)`.
- journal.post_many: what a bulk import really calls, with every check (pure validation, the
  book's lock date, accounts open and allowing the currency, non-negative accounts, the
  read-back of stored weights).

    .venv/bin/python -m bench.bench_journal_bulk                 # 100,000 transactions x 3
    .venv/bin/python -m bench.bench_journal_bulk --transactions 1000000 --runs 3   # full size

The target (from the issue): post_many >= 50,000 two-posting transactions per second.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bench.common import (
    BOOK_CODE,
    RAW_INSERT_POSTING,
    RAW_INSERT_TRANSACTION,
    RAW_UPSERT_BALANCE,
    account_names,
    filesystem_of,
    make_transactions,
    median,
    migrated_sqlite,
    next_transaction_id,
    open_book,
    print_conditions,
    print_table,
    raw_ids,
    raw_rows,
    raw_sqlite,
    scratch_dir,
    time_call,
)
from ledger.core.transaction import Transaction, validate_transaction
from ledger.store import journal
from ledger.store.books import utc_now
from ledger.store.database import Database
from ledger.store.tables import balances, postings, transactions

TARGET_TXNS_PER_S = 50_000

Chunks = Sequence[Sequence[Transaction]]


def load_raw(path: Path, chunks: Chunks) -> float:
    """Seconds raw sqlite3 takes to write every chunk, one commit per chunk."""
    conn = raw_sqlite(path)
    book_id, account_ids = raw_ids(conn)

    def run() -> None:
        for chunk in chunks:
            conn.execute("BEGIN IMMEDIATE")
            first_id = next_transaction_id(conn)
            txn_rows, posting_rows, deltas = raw_rows(chunk, first_id, book_id, account_ids)
            conn.executemany(RAW_INSERT_TRANSACTION, txn_rows)
            conn.executemany(RAW_INSERT_POSTING, posting_rows)
            conn.executemany(
                RAW_UPSERT_BALANCE,
                [(a, c, book_id, units) for (a, c), units in sorted(deltas.items())],
            )
            conn.execute("COMMIT")

    seconds = time_call(run)
    conn.close()
    return seconds


def load_core(db: Database, chunks: Chunks) -> float:
    """Seconds plain SQLAlchemy Core `insert(...)` executemany takes for the same rows."""
    with db.engine.connect() as conn:
        book_id = conn.exec_driver_sql(
            "SELECT id FROM books WHERE code = ?", (BOOK_CODE,)
        ).scalar_one()
        account_ids = dict(
            conn.exec_driver_sql("SELECT name, id FROM accounts WHERE book_id = ?", (book_id,))
            .tuples()
            .all()
        )
        conn.rollback()

    def write_chunk(conn: Connection, chunk: Sequence[Transaction]) -> None:
        first_id = conn.exec_driver_sql(
            "SELECT coalesce(max(id), 0) + 1 FROM transactions"
        ).scalar_one()
        now = utc_now()
        txn_rows, posting_rows = [], []
        deltas: dict[tuple[int, str], int] = {}
        for offset, txn in enumerate(chunk):
            txn_id = first_id + offset
            txn_rows.append(
                {
                    "id": txn_id,
                    "book_id": book_id,
                    "date": txn.date,
                    "payee": None,
                    "narration": txn.narration,
                    "reverses_id": None,
                    "created_at": now,
                    "created_by": None,
                }
            )
            for position, p in enumerate(txn.postings):
                account_id = account_ids[p.account]
                posting_rows.append(
                    {
                        "transaction_id": txn_id,
                        "book_id": book_id,
                        "account_id": account_id,
                        "date": txn.date,
                        "position": position,
                        "commodity": p.commodity,
                        "units": p.units,
                        "price_commodity": None,
                        "price_per_unit": None,
                        "price_total": None,
                        "weight_commodity": p.commodity,
                        "weight": p.units,
                    }
                )
                key = (account_id, p.commodity)
                deltas[key] = deltas.get(key, 0) + p.units
        conn.execute(insert(transactions), txn_rows)
        conn.execute(insert(postings), posting_rows)
        upsert = sqlite_insert(balances)
        upsert = upsert.on_conflict_do_update(
            index_elements=[balances.c.account_id, balances.c.commodity],
            set_={"units": balances.c.units + upsert.excluded.units},
        )
        conn.execute(
            upsert,
            [
                {"account_id": a, "commodity": c, "book_id": book_id, "units": units}
                for (a, c), units in sorted(deltas.items())
            ],
        )

    def run() -> None:
        for chunk in chunks:
            db.write(partial(write_chunk, chunk=chunk))

    return time_call(run)


def load_journal(db: Database, chunks: Chunks) -> float:
    """Seconds `journal.post_many` takes, one `db.write` per chunk."""

    def run() -> None:
        for chunk in chunks:
            db.write(partial(journal.post_many, book_code=BOOK_CODE, txns=chunk))

    return time_call(run)


def check_same_result(paths: Sequence[Path]) -> None:
    """Every contender must leave the same postings count and balances behind."""
    results = []
    for path in paths:
        conn = raw_sqlite(path)
        count = conn.execute("SELECT count(*) FROM postings").fetchone()[0]
        sums = conn.execute(
            "SELECT account_id, commodity, units FROM balances ORDER BY 1, 2"
        ).fetchall()
        conn.close()
        results.append((count, sums))
    if any(r != results[0] for r in results):
        raise SystemExit("contenders wrote different rows: the comparison is not fair")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=100_000, help="per run")
    parser.add_argument("--chunk", type=int, default=10_000, help="transactions per commit")
    parser.add_argument("--accounts", type=int, default=200, help="expense accounts in the book")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", help="keep the database files here (default: a temp dir)")
    args = parser.parse_args(argv)

    txns = make_transactions(0, args.transactions, account_names(args.accounts))
    chunks = [txns[i : i + args.chunk] for i in range(0, len(txns), args.chunk)]
    contenders: dict[str, Callable[[Path, Database], float]] = {
        "raw sqlite3 executemany": lambda path, db: load_raw(path, chunks),
        "SQLAlchemy Core executemany": lambda path, db: load_core(db, chunks),
        "journal.post_many": lambda path, db: load_journal(db, chunks),
    }
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    # CPU seconds of this process (SQLite runs in it): unlike wall time, not stretched by
    # other jobs on a shared machine, nor by waiting for the disk.
    cpu_seconds: dict[str, list[float]] = {name: [] for name in contenders}
    with scratch_dir(args.dir) as directory:
        print_conditions(
            "journal bulk import (SQLite)",
            {
                "database files": f"{directory} on {filesystem_of(directory)}",
                "durability": "WAL, synchronous=FULL, foreign_keys=ON; one commit per chunk",
                "size": f"{args.transactions:,} transactions x 2 postings per run, "
                f"{args.chunk:,} per commit, {args.accounts + 1} accounts",
                "runs": f"{args.runs} (contenders interleaved; median reported)",
            },
        )
        for run in range(args.runs):
            paths = []
            for index, (name, load) in enumerate(contenders.items()):
                path = directory / f"run{run}-{index}.sqlite3"
                for leftover in directory.glob(f"{path.name}*"):
                    leftover.unlink()
                db = migrated_sqlite(path)
                open_book(db, args.accounts)
                cpu_before = time.process_time()
                seconds[name].append(load(path, db))
                cpu_seconds[name].append(time.process_time() - cpu_before)
                db.dispose()
                paths.append(path)
            check_same_result(paths)
            for path in paths:
                for file in directory.glob(f"{path.name}*"):
                    file.unlink()
            print(
                f"  run {run + 1}: "
                + ", ".join(f"{n} {args.transactions / s[-1]:,.0f}/s" for n, s in seconds.items())
            )
    print()
    raw = args.transactions / median(seconds["raw sqlite3 executemany"])
    raw_cpu = median(cpu_seconds["raw sqlite3 executemany"])
    rows = []
    for name, values in seconds.items():
        rate = args.transactions / median(values)
        target = f">= {TARGET_TXNS_PER_S:,}/s" if name == "journal.post_many" else ""
        verdict = ("PASS" if rate >= TARGET_TXNS_PER_S else "FAIL") if target else ""
        cpu = median(cpu_seconds[name])
        rows.append(
            (
                name,
                round(rate),
                round(2 * rate),
                f"{1e6 / rate:.1f}",
                f"{rate / raw:.2f}x",
                f"{1e6 * cpu / args.transactions:.1f}",
                f"{raw_cpu / cpu:.2f}x",
                target,
                verdict,
            )
        )
    print_table(
        [
            "contender",
            "txns/s",
            "postings/s",
            "us/txn",
            "vs raw",
            "CPU us/txn",
            "CPU vs raw",
            "target",
            "result",
        ],
        rows,
    )
    validation_us = pure_validation_us(txns)
    journal_us = 1e6 * median(seconds["journal.post_many"]) / args.transactions
    raw_us = 1e6 / raw
    print(
        f"where post_many's time goes: {journal_us:.1f} us/txn, of which the pure checks"
        f" (ledger.core validate_transaction, measured alone) {validation_us:.1f} us; raw"
        f" sqlite3 writing the same rows {raw_us:.1f} us; the rest (book and account checks,"
        f" row building, read-back) {journal_us - validation_us - raw_us:.1f} us"
    )


def pure_validation_us(txns: Sequence[Transaction]) -> float:
    """Microseconds per transaction that `validate_transaction` alone costs (median of 3)."""
    precisions = {"USD": 2, "KHR": 0, "THB": 2}
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for txn in txns:
            validate_transaction(txn, precisions)
        runs.append(time.perf_counter() - started)
    return 1e6 * median(runs) / len(txns)


if __name__ == "__main__":
    main()
