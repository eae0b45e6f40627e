"""What every benchmark shares: the conditions it reports, a standard book, generated
transactions, a raw `sqlite3` connection with the ledger's pragmas, and plain-text tables.

Machines here are noisy (2 shared cores), so a benchmark never compares against a figure
measured on another day: it measures its baseline in the same run and reports ratios.
"""

from __future__ import annotations

import datetime
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy

from ledger.core.transaction import Posting, Transaction
from ledger.store import books
from ledger.store.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_MMAP_BYTES, Database
from ledger.store.migrate import upgrade

BOOK_CODE = "bench"
BANK = "Assets:Bank:Operating-USD"
FIRST_DATE = datetime.date(2018, 1, 2)
OPEN_DATE = datetime.date(2018, 1, 1)
# Transactions per calendar day in generated books: 500,000 transactions (1,000,000
# postings) span about five and a half years, like a national programme's books.
TRANSACTIONS_PER_DAY = 250
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# -- conditions --------------------------------------------------------------------------------


def postgres_version() -> str:
    """The PostgreSQL server's version, or why it could not be asked."""
    try:
        import psycopg

        dsn = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except Exception as error:  # a report, not control flow
        return f"unreachable ({type(error).__name__})"


def print_conditions(title: str, extra: dict[str, Any] | None = None) -> None:
    """Print the machine, the versions and the benchmark's own settings."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    lines = {
        "benchmark": title,
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "load average (1/5/15 min)": " ".join(f"{x:.2f}" for x in load),
        "python": sys.version.split()[0],
        "sqlite (library)": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "postgresql (server)": postgres_version(),
    }
    lines.update(extra or {})
    print(f"== {title} ==")
    width = max(len(k) for k in lines)
    for key, value in lines.items():
        print(f"  {key:<{width}}  {value}")
    print()


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A plain-text table, right-aligned numbers (also valid Markdown)."""
    text_rows = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text_rows]) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in text_rows:
        cells = [
            c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
        ]
        print("| " + " | ".join(cells) + " |")
    print()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("x", "").replace("%", "").isdigit()


# -- timing ------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def time_call(fn: Callable[[], Any]) -> float:
    """Seconds one call takes (monotonic, high resolution)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- databases and books ----------------------------------------------------------------------


@contextmanager
def scratch_dir(keep: str | None = None) -> Iterator[Path]:
    """A directory for database files: `keep` if given, else a temporary one removed after.

    The default temporary directory is /var/tmp (on disk), not /tmp (often tmpfs, where an
    fsync costs nothing and durability figures would flatter).
    """
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    base = os.environ.get("BENCH_TMPDIR", "/var/tmp")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-", dir=base) as name:
        yield Path(name)


def filesystem_of(path: Path) -> str:
    """The file system type holding `path` (tmpfs would make fsync free)."""
    try:
        best = ("", "?")
        resolved = str(path.resolve())
        with open("/proc/mounts") as mounts:
            for line in mounts:
                _dev, mount_point, fs_type, *_ = line.split()
                prefix = mount_point.rstrip("/") + "/"
                if (resolved + "/").startswith(prefix) and len(mount_point) > len(best[0]):
                    best = (mount_point, fs_type)
        return f"{best[1]} (mounted on {best[0]})"
    except OSError:
        return "unknown"


def account_names(accounts_n: int) -> list[str]:
    """The bank account and `accounts_n` expense accounts (one per grant line)."""
    return [BANK] + [f"Expenses:Grants:Cash:G-{i:04d}" for i in range(accounts_n)]


def migrated_sqlite(path: Path) -> Database:
    """A new, migrated SQLite ledger at `path` (WAL, synchronous=FULL, as in production)."""
    db = Database.connect(f"sqlite:///{path}")
    upgrade(db.engine)
    return db


def open_book(db: Database, accounts_n: int, code: str = BOOK_CODE) -> list[str]:
    """Create the bench book and its accounts; return the account names."""
    names = account_names(accounts_n)

    def create(conn: sqlalchemy.Connection) -> None:
        books.create_book(conn, code, "Benchmark programme", "organisation", "USD")
        for name in names:
            books.open_account(conn, code, name, OPEN_DATE, ["USD"])

    db.write(create)
    return names


def date_of(index: int) -> datetime.date:
    return FIRST_DATE + datetime.timedelta(days=index // TRANSACTIONS_PER_DAY)


def make_transactions(start: int, count: int, names: Sequence[str]) -> list[Transaction]:
    """`count` two-posting transactions: the bank pays a grant line (dates ascend with index)."""
    expense_names = names[1:]
    lines = len(expense_names)
    result = []
    for index in range(start, start + count):
        units = 1_000 + index % 97 * 25
        result.append(
            Transaction(
                date=date_of(index),
                narration=f"Cash grant disbursement {index}",
                postings=(
                    Posting(BANK, -units, "USD"),
                    Posting(expense_names[index % lines], units, "USD"),
                ),
            )
        )
    return result


# -- the raw sqlite3 baseline ---------------------------------------------------------------


def raw_sqlite(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    """A plain `sqlite3` connection with the ledger's pragmas (WAL, FKs on, busy timeout,
    memory-mapped reads)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    return conn


RAW_INSERT_TRANSACTION = (
    "INSERT INTO transactions (id, book_id, date, payee, narration, reverses_id, created_at,"
    " created_by) VALUES (?, ?, ?, NULL, ?, NULL, ?, NULL)"
)
RAW_INSERT_POSTING = (
    "INSERT INTO postings (transaction_id, book_id, account_id, date, position, commodity,"
    " units, price_commodity, price_per_unit, price_total, weight_commodity, weight)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)"
)
RAW_UPSERT_BALANCE = (
    "INSERT INTO balances (account_id, commodity, book_id, units) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (account_id, commodity) DO UPDATE SET units = balances.units + excluded.units"
)


def raw_ids(conn: sqlite3.Connection, code: str = BOOK_CODE) -> tuple[int, dict[str, int]]:
    """The book's id and its account ids by name (looked up once, as a raw program would)."""
    book_id = conn.execute("SELECT id FROM books WHERE code = ?", (code,)).fetchone()[0]
    rows = conn.execute("SELECT name, id FROM accounts WHERE book_id = ?", (book_id,))
    return book_id, dict(rows.fetchall())


def raw_rows(
    txns: Sequence[Transaction], first_id: int, book_id: int, account_ids: dict[str, int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], dict[tuple[int, str], int]]:
    """The same rows the journal writes: transactions, postings and balance deltas."""
    now = datetime.datetime.now(datetime.UTC).isoformat(sep=" ")
    txn_rows: list[tuple[Any, ...]] = []
    posting_rows: list[tuple[Any, ...]] = []
    deltas: dict[tuple[int, str], int] = {}
    for offset, txn in enumerate(txns):
        txn_id = first_id + offset
        day = txn.date.isoformat()
        txn_rows.append((txn_id, book_id, day, txn.narration, now))
        for position, p in enumerate(txn.postings):
            account_id = account_ids[p.account]
            posting_rows.append(
                (
                    txn_id,
                    book_id,
                    account_id,
                    day,
                    position,
                    p.commodity,
                    p.units,
                    p.commodity,
                    p.units,
                )
            )
            key = (account_id, p.commodity)
            deltas[key] = deltas.get(key, 0) + p.units
    return txn_rows, posting_rows, deltas


def next_transaction_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM transactions").fetchone()[0])


def postgres_database(name: str) -> tuple[Database, str, Callable[[], None]]:
    """A new, migrated PostgreSQL database `name` (dropped first if it exists).

    Returns the handle, a description for the conditions and a function that drops it.
    """
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database.connect(url)
    upgrade(db.engine)

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, f"PostgreSQL {postgres_version()}, database {name}", drop
