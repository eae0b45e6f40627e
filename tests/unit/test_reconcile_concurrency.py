"""Reconciliation under several writers at once: the same statement imported by eight
requests stores each line once; eight requests matching the same line make one match; two
closes of one day make one reconciliation. On PostgreSQL they really run side by side; on
SQLite they queue on the write lock. Never a crash (a 500), always an answer as data.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.demo.statements import ACLEDA_LIKE
from ledger.reconcile import service as reconcile
from ledger.reconcile.service import StatementCloseDraft
from ledger.store import books, journal
from ledger.store.database import Database
from ledger.store.tables import (
    balance_assertions,
    matched_lines,
    postings,
    reconciliations,
    statement_lines,
)

BANK = "Assets:Bank:Operating-USD"
INCOME = "Income:Grants:CTIP-2018"
THREADS = 8
STATEMENT = (
    "ACLEDA Bank Plc.\nAccount,1\nName,X\nCurrency,USD\nPeriod,2018\n"
    "Date,Description,Reference,Debit,Credit,Balance\n"
    '02/07/2018,Incoming TT CTIP,TT1,,"5,000.00","5,000.00"\n'
    '03/07/2018,Service fee,FEE1,2.00,,"4,998.00"\n'
)


def outcome(attempt: Callable[[], object]) -> str:
    try:
        attempt()
    except LedgerRejected as rejected:
        return rejected.first.code
    except Exception as error:  # a crash is an outcome the test reports
        return type(error).__name__
    return "ok"


def _bank_id(db: Database) -> int:
    with db.read() as conn:
        book = books.get_book(conn, "org")
        found = books.find_account(conn, book.id, BANK)
        assert found is not None
        return found.id


def _receipt(db: Database) -> int:
    draft = TransactionDraft(
        date=datetime.date(2018, 7, 2),
        narration="CTIP first tranche TT1",
        postings=(PostingDraft(BANK, "5000.00", "USD"), PostingDraft(INCOME, "-5000.00", "USD")),
    )
    transaction_id = db.write(lambda c: journal.post_draft(c, "org", draft))
    with db.read() as conn:
        return int(
            conn.execute(
                select(postings.c.id).where(
                    (postings.c.transaction_id == transaction_id) & (postings.c.units > 0)
                )
            ).scalar_one()
        )


def test_racing_imports_store_each_line_once(db: Database, org_book: str) -> None:
    bank = _bank_id(db)

    def one() -> None:
        db.write(
            lambda c: reconcile.import_statement(c, "org", bank, STATEMENT, ACLEDA_LIKE, "", "x")
        )

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(lambda _: outcome(one), range(THREADS)))
    assert outcomes == {"ok": THREADS}
    with db.read() as conn:
        stored = conn.execute(select(func.count()).select_from(statement_lines)).scalar_one()
    assert stored == 2


def test_racing_matches_of_one_line_make_one_match(db: Database, org_book: str) -> None:
    bank = _bank_id(db)
    posting_id = _receipt(db)
    db.write(lambda c: reconcile.import_statement(c, "org", bank, STATEMENT, ACLEDA_LIKE, "", "x"))
    with db.read() as conn:
        line_id = conn.execute(
            select(statement_lines.c.id).where(statement_lines.c.reference == "TT1")
        ).scalar_one()

    def one() -> None:
        db.write(lambda c: reconcile.match(c, "org", bank, [line_id], [posting_id], "manual", "x"))

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(lambda _: outcome(one), range(THREADS)))
    assert outcomes == {"ok": 1, "already_matched": THREADS - 1}
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(matched_lines)).scalar_one() == 1


def test_racing_closes_of_one_day_make_one_reconciliation(db: Database, org_book: str) -> None:
    bank = _bank_id(db)
    _receipt(db)

    def one() -> None:
        db.write(
            lambda c: reconcile.close_statement(
                c, "org", bank, StatementCloseDraft(datetime.date(2018, 7, 2), "5000.00"), "x"
            )
        )

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(lambda _: outcome(one), range(THREADS)))
    assert outcomes == {"ok": 1, "already_reconciled": THREADS - 1}
    with db.read() as conn:
        for table in (reconciliations, balance_assertions):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 1
