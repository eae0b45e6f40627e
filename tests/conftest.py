"""Shared fixtures: a real, migrated database for every test.

The suite runs on SQLite by default. `TEST_DATABASE=postgresql` runs the same suite on the
PostgreSQL server at `TEST_POSTGRES_URL` (default: postgres on 127.0.0.1:5432): each pytest
worker gets its own database, migrated once, and every test starts from emptied tables.
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from ledger.access.audit import RequestFacts, record_event
from ledger.core.transaction import TransactionDraft
from ledger.store import books, driver, journal
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from ledger.store.tables import metadata

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Tables the migration seeds: emptied between tests but for these.
SEEDED_TABLES = frozenset({"commodities", "alembic_version"})
SEED_COMMODITY_CODES = ("KHR", "USD", "THB", "PIG", "CHICKEN", "DUCK", "COW", "BUFFALO", "GOAT")


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this worker: a template SQLite file, or a PostgreSQL database."""
    if TEST_DATABASE == "postgresql":
        # Unique per process: two pytest runs at once must not drop each other's database.
        name = f"ledger_test_{_worker_id()}_{os.getpid()}"
        admin = create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = TEST_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        db = Database.connect(url)
        upgrade(db.engine)
        db.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    assert TEST_DATABASE == "sqlite", f"TEST_DATABASE is sqlite or postgresql, not {TEST_DATABASE}"
    template = tmp_path_factory.mktemp("template") / "ledger.sqlite3"
    db = Database.connect(f"sqlite:///{template}")
    upgrade(db.engine)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    yield f"sqlite:///{template}"


def _empty_postgres(db: Database) -> None:
    names = [t.name for t in metadata.sorted_tables if t.name not in SEEDED_TABLES]
    with db.engine.begin() as conn:
        # The append-only tables refuse TRUNCATE by trigger; between tests (and only here)
        # the superuser test connection skips triggers for this one transaction.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        keep = ", ".join(f"'{code}'" for code in SEED_COMMODITY_CODES)
        conn.execute(text(f"DELETE FROM commodities WHERE code NOT IN ({keep})"))


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated, empty ledger database (commodities seeded)."""
    if TEST_DATABASE == "postgresql":
        database = Database.connect(database_url, pool_size=20, max_overflow=20)
        _empty_postgres(database)
    else:
        template = Path(database_url.split("///", 1)[1])
        copy = tmp_path / "ledger.sqlite3"
        shutil.copyfile(template, copy)
        database = Database.connect(f"sqlite:///{copy}")
    yield database
    database.dispose()


D = datetime.date


@pytest.fixture
def org_book(db: Database) -> str:
    """The organisation's book with a bank account, a non-negative cash box and a grant income."""

    def create(conn: Connection) -> None:
        books.create_book(conn, "org", "CCPCR livelihood programme", "organisation", "USD")
        for name, currencies, non_negative in (
            ("Assets:Bank:Operating-USD", ["USD"], False),
            ("Assets:Cash:Bavet-KHR", ["KHR"], True),
            ("Assets:Cash:Poipet-THB", ["THB"], True),
            ("Income:Grants:CTIP-2018", ["USD"], False),
            ("Expenses:Grants:Cash:CTIP-2018", [], False),
            ("Expenses:Training:Livestock", [], False),
            ("Equity:Opening-Balances", [], False),
        ):
            books.open_account(conn, "org", name, D(2018, 1, 1), currencies, non_negative)

    db.write(create)
    return "org"


_POST_FACTS = RequestFacts("POST", "/api/books/org/transactions", "request-1")


def early_post(
    book_code: str, draft: TransactionDraft, before: Callable[[Connection], object] | None = None
) -> Callable[[Connection], int]:
    """The work of the API's post of `draft` (`api.writes`, `posts=True`), after `before`:
    on PostgreSQL its audit event is queued first and the COMMIT offered to the post, which
    then writes, has the server check it and commits in one round trip
    (`driver.offer_early_commit`); elsewhere, and when the write runs again carefully, the
    event is recorded after the post."""

    def work(conn: Connection) -> int:
        if before is not None:
            before(conn)
        offered = driver.offer_early_commit(conn)
        if offered:
            _record_post(conn, book_code, None)
        try:
            txn_id = journal.post_draft(conn, book_code, draft)
        finally:
            driver.withdraw_early_commit(conn)
        if not offered:
            _record_post(conn, book_code, txn_id)
        return txn_id

    return work


def _record_post(conn: Connection, book_code: str, txn_id: int | None) -> None:
    """The audit event of `early_post`: its object the new transaction when `txn_id` is None."""
    record_event(
        conn,
        None,
        _POST_FACTS,
        "transaction.post",
        username="officer",
        book=book_code,
        object_type="transaction",
        object_id=None if txn_id is None else str(txn_id),
        object_is_new_transaction=txn_id is None,
    )
