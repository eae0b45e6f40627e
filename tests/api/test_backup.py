"""`livelihood-ledger backup PATH` while writes run, then `restore PATH` into a fresh database.

The copy is the database at one moment: restored, every balance equals the sum of the
source's postings of the transactions it holds (a prefix of the source's, since one writer
posts them in order), `verify` passes on it, and the transactions posted after the backup
are simply not in it. SQLite through its backup API; PostgreSQL through pg_dump/pg_restore.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, func, select, text

from api.cli import main
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import journal
from ledger.store.database import Database
from ledger.store.tables import balances, postings, transactions
from tests.conftest import TEST_DATABASE, TEST_POSTGRES_URL

WRITES_BEFORE_BACKUP_MIN = 20
WAIT_SECONDS_MAX = 60.0


def _draft(number: int) -> TransactionDraft:
    if number % 2:
        legs = (
            ("Assets:Bank:Operating-USD", "1.25", "USD"),
            ("Income:Grants:CTIP-2018", "-1.25", "USD"),
        )
    else:
        legs = (
            ("Assets:Cash:Bavet-KHR", "4100", "KHR"),
            ("Equity:Opening-Balances", "-4100", "KHR"),
        )
    return TransactionDraft(
        date=datetime.date(2018, 11, 4),
        narration=f"Write {number} while the backup runs",
        postings=tuple(PostingDraft(account, units, currency) for account, units, currency in legs),
    )


def _post(conn: Connection, draft: TransactionDraft) -> int:
    return journal.post_draft(conn, "org", draft)


class Writer(threading.Thread):
    """Posts one transaction after another into `org` until stopped."""

    def __init__(self, db: Database) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.posted = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.db.write(partial(_post, draft=_draft(self.posted)))
                self.posted += 1
        except BaseException as error:  # reported by the test
            self.error = error


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database."""
    if TEST_DATABASE != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"ledger_restore_{os.getpid()}"
    admin = create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield TEST_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _balances(db: Database) -> dict[tuple[int, str], int]:
    with db.read() as conn:
        return {
            (row.account_id, row.commodity): int(row.units)
            for row in conn.execute(select(balances)).all()
            if row.units
        }


def _sums_up_to(db: Database, last_id: int) -> dict[tuple[int, str], int]:
    """The source's balances as of its transaction `last_id`, from its postings."""
    with db.read() as conn:
        rows = conn.execute(
            select(postings.c.account_id, postings.c.commodity, func.sum(postings.c.units))
            .where(postings.c.transaction_id <= last_id)
            .group_by(postings.c.account_id, postings.c.commodity)
        ).all()
    return {(account, commodity): int(units) for account, commodity, units in rows if units}


def test_a_backup_taken_while_writes_run_restores_with_every_balance_equal(
    db: Database,
    org_book: str,
    fresh_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_url = db.engine.url.render_as_string(hide_password=False)
    backup_path = tmp_path / "ledger.backup"
    writer = Writer(db)
    writer.start()
    deadline = time.monotonic() + WAIT_SECONDS_MAX
    while writer.posted < WRITES_BEFORE_BACKUP_MIN and time.monotonic() < deadline:
        time.sleep(0.05)
    posted_before = writer.posted

    monkeypatch.setenv("DATABASE_URL", source_url)
    assert main(["backup", str(backup_path)]) == 0
    backed_up = capsys.readouterr().out
    posted_after = writer.posted
    while writer.posted < posted_after + 5 and time.monotonic() < deadline:
        time.sleep(0.05)  # the writes carry on after the backup too
    writer.stop.set()
    writer.join(WAIT_SECONDS_MAX)
    assert writer.error is None, writer.error
    assert posted_before >= WRITES_BEFORE_BACKUP_MIN
    assert writer.posted > posted_after, "no write ran after the backup"
    assert "org: ok" in backed_up, backed_up

    monkeypatch.setenv("DATABASE_URL", fresh_url)
    assert main(["restore", str(backup_path)]) == 0
    restored_out = capsys.readouterr().out
    assert "org: ok" in restored_out, restored_out

    restored = Database.connect(fresh_url)
    try:
        with restored.read() as conn:
            last_id = conn.execute(select(func.max(transactions.c.id))).scalar_one()
            count = conn.execute(select(func.count()).select_from(transactions)).scalar_one()
        restored_balances = _balances(restored)
    finally:
        restored.dispose()
    with db.read() as conn:
        total = conn.execute(select(func.count()).select_from(transactions)).scalar_one()
        prefix = conn.execute(
            select(func.count()).select_from(transactions).where(transactions.c.id <= last_id)
        ).scalar_one()
    # The copy holds what was posted before it began and nothing posted after it ended.
    assert posted_before <= count <= posted_after
    assert count == prefix < total
    assert restored_balances == _sums_up_to(db, last_id)
    assert len(restored_balances) == 4


def test_restore_refuses_a_database_in_use_and_a_missing_file(
    db: Database,
    org_book: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    backup_path = tmp_path / "ledger.backup"
    assert main(["backup", str(backup_path)]) == 0
    before = _balances(db)
    assert main(["backup", str(backup_path)]) == 2  # never overwrites a backup
    assert main(["restore", str(backup_path)]) == 2  # never into the books in use
    assert main(["restore", str(tmp_path / "missing.backup")]) == 2
    errors = capsys.readouterr().err
    assert "backup_exists" in errors
    assert "restore_target_not_empty" in errors
    assert "backup_missing" in errors
    assert _balances(db) == before
