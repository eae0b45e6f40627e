"""Tamper evidence: an attacker with write access to the database, who sets the append-only
triggers aside, changes or removes rows; `verify` names the first broken link.

The book: three grants received into the bank, a day apart, each balanced (an attacker who
changes an amount keeps the transaction balanced and the balances table in step, so only the
hash chain can tell):

    2018-11-01 Bank +1,000.00 USD / Income -1,000.00 USD
    2018-11-02 Bank +2,000.00 USD / Income -2,000.00 USD
    2018-11-03 Bank +3,000.00 USD / Income -3,000.00 USD
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import Connection, func, select, text

from ledger.access.audit import RequestFacts, record_event
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import journal
from ledger.store.chain import CHAIN_GENESIS
from ledger.store.chain_reads import transaction_links_of
from ledger.store.database import Database
from ledger.store.tables import audit_events, transactions
from ledger.verify import verify_audit_trail, verify_book

D = datetime.date
BANK = "Assets:Bank:Operating-USD"
INCOME = "Income:Grants:CTIP-2018"
APPEND_ONLY = (
    "transactions",
    "postings",
    "transaction_tags",
    "transaction_links",
    "transaction_meta",
    "audit_events",
)
THREADS = 6
WRITES_PER_THREAD = 5


def grant(day: int, dollars: int) -> TransactionDraft:
    return TransactionDraft(
        date=D(2018, 11, day),
        narration=f"CTIP grant, tranche {day}",
        postings=(
            PostingDraft(BANK, f"{dollars}.00", "USD"),
            PostingDraft(INCOME, f"-{dollars}.00", "USD"),
        ),
        tags=("ctip",),
        meta=(("donor-ref", f"CTIP-{day}"),),
    )


@pytest.fixture
def three(db: Database, org_book: str) -> list[int]:
    def posts(conn: Connection) -> list[int]:
        return [journal.post_draft(conn, org_book, grant(day, 1000 * day)) for day in (1, 2, 3)]

    return db.write(posts)


def as_attacker(db: Database, *statements: str, **params: object) -> None:
    """Run SQL with the append-only triggers set aside, as someone with the database's
    superuser (PostgreSQL) or write access to its file (SQLite) could."""

    def run(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in APPEND_ONLY:
                for action in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
        for statement in statements:
            conn.execute(text(statement), params)

    db.write(run)


def remove_transaction(db: Database, transaction_id: int, cents: int) -> None:
    """Remove a transaction and everything of it, and put the balances back in step."""
    as_attacker(
        db,
        *(
            f"DELETE FROM {table} WHERE transaction_id = :id"
            for table in ("postings", "transaction_tags", "transaction_meta")
        ),
        "DELETE FROM transactions WHERE id = :id",
        "UPDATE balances SET units = units - :cents WHERE account_id ="
        f" (SELECT id FROM accounts WHERE name = '{BANK}')",
        "UPDATE balances SET units = units + :cents WHERE account_id ="
        f" (SELECT id FROM accounts WHERE name = '{INCOME}')",
        id=transaction_id,
        cents=cents,
    )


def test_the_book_and_the_audit_trail_verify_untouched(
    db: Database, org_book: str, three: list[int]
) -> None:
    report = verify_book(db, org_book)
    assert report.differences == ()
    with db.read() as conn:
        last = conn.execute(select(transactions.c.chain_hash).where(transactions.c.id == three[2]))
        assert report.head == last.scalar_one()


def test_a_changed_amount_is_named_by_verify(db: Database, org_book: str, three: list[int]) -> None:
    # +1,000.00 to the bank and to the grant income, balanced, balances kept in step.
    as_attacker(
        db,
        "UPDATE postings SET units = units + 100000, weight = weight + 100000"
        " WHERE transaction_id = :id AND position = 0",
        "UPDATE postings SET units = units - 100000, weight = weight - 100000"
        " WHERE transaction_id = :id AND position = 1",
        f"UPDATE balances SET units = units + 100000 WHERE account_id ="
        f" (SELECT id FROM accounts WHERE name = '{BANK}')",
        f"UPDATE balances SET units = units - 100000 WHERE account_id ="
        f" (SELECT id FROM accounts WHERE name = '{INCOME}')",
        id=three[1],
    )
    # The chain's break comes first; the week-end balance checkpoints, which this attacker did
    # not keep in step, disagree too and follow it.
    assert verify_book(db, org_book).differences[0] == (
        f"hash chain broken at transaction {three[1]} (after transaction {three[0]}): it was"
        " changed, or a transaction before it was removed, changed or added"
    )


def test_a_changed_narration_of_the_first_transaction_is_named(
    db: Database, org_book: str, three: list[int]
) -> None:
    as_attacker(db, "UPDATE transactions SET narration = 'Nothing' WHERE id = :id", id=three[0])
    assert verify_book(db, org_book).differences == (
        f"hash chain broken at transaction {three[0]} (as the first): it was changed, or a"
        " transaction before it was removed, changed or added",
    )


def test_a_transaction_removed_from_the_middle_is_named(
    db: Database, org_book: str, three: list[int]
) -> None:
    remove_transaction(db, three[1], 200000)
    assert verify_book(db, org_book).differences[0] == (
        f"hash chain broken at transaction {three[2]} (after transaction {three[0]}): it was"
        " changed, or a transaction before it was removed, changed or added"
    )


def test_the_last_transaction_removed_is_caught_by_the_head(
    db: Database, org_book: str, three: list[int]
) -> None:
    remove_transaction(db, three[2], 300000)
    assert verify_book(db, org_book).differences[0] == (
        f"hash chain: the recorded head is not the hash of the last transaction (transaction"
        f" {three[1]}): rows after it were removed, or the head was changed"
    )


def test_a_rewritten_chain_verifies_but_not_against_a_kept_head(
    db: Database, org_book: str, three: list[int]
) -> None:
    """The limit of the chain: whoever rehashes everything from the change on is caught only
    by a head kept where they cannot write (docs/SECURITY.md)."""
    kept = verify_book(db, org_book).head
    as_attacker(db, "UPDATE transactions SET narration = 'Nothing' WHERE id = :id", id=three[1])
    with db.read() as conn:
        book_id = conn.execute(text("SELECT id FROM books WHERE code = :c"), {"c": org_book})
        book = book_id.scalar_one()
        previous, rehashed = CHAIN_GENESIS, []
        for link in transaction_links_of(conn, book):
            previous = link.expected_hash(previous)
            rehashed.append({"id": link.id, "link": previous})
    as_attacker(
        db,
        *(
            f"UPDATE transactions SET chain_hash = '{r['link']}' WHERE id = {r['id']}"
            for r in rehashed
        ),
        f"UPDATE books SET chain_head = '{previous}' WHERE id = {book}",
    )
    report = verify_book(db, org_book)
    assert report.ok
    assert report.head != kept


def audit(db: Database, n: int) -> list[int]:
    facts = RequestFacts(method="POST", path="/api/books/org/transactions", request_id=None)

    def event(conn: Connection, i: int) -> None:
        record_event(conn, None, facts, "transaction.post", username="finance", object_id=str(i))

    for i in range(n):
        db.write(partial(event, i=i))
    with db.read() as conn:
        return list(conn.execute(select(audit_events.c.id).order_by(audit_events.c.id)).scalars())


def test_a_changed_audit_event_is_named(db: Database) -> None:
    ids = audit(db, 3)
    assert verify_audit_trail(db).ok
    as_attacker(db, "UPDATE audit_events SET username = 'admin' WHERE id = :id", id=ids[1])
    assert verify_audit_trail(db).differences == (
        f"hash chain broken at audit event {ids[1]} (after audit event {ids[0]}): it was"
        " changed, or an audit event before it was removed, changed or added",
    )


def test_an_audit_event_removed_from_the_middle_or_the_end_is_named(db: Database) -> None:
    ids = audit(db, 4)
    as_attacker(db, "DELETE FROM audit_events WHERE id = :id", id=ids[3])
    assert verify_audit_trail(db).differences == (
        f"hash chain: the recorded head is not the hash of the last audit event (audit event"
        f" {ids[2]}): rows after it were removed, or the head was changed",
    )
    as_attacker(db, "DELETE FROM audit_events WHERE id = :id", id=ids[1])
    assert (
        verify_audit_trail(db)
        .differences[0]
        .startswith(f"hash chain broken at audit event {ids[2]} (after audit event {ids[0]})")
    )


def test_writers_at_once_in_one_book_keep_one_chain(db: Database, org_book: str) -> None:
    """On PostgreSQL the writers really run side by side: none may chain onto a head another
    has already used (the book's row and the audit head are locked)."""
    facts = RequestFacts(method="POST", path="/api/books/org/transactions", request_id=None)

    def officer(n: int) -> None:
        for i in range(WRITES_PER_THREAD):

            def work(conn: Connection, day: int = 1 + (n + i) % 28) -> None:
                journal.post_draft(conn, org_book, grant(day, 10 + n))
                record_event(conn, None, facts, "transaction.post", username=f"officer{n}")

            db.write(work)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(officer, range(THREADS)))
    with db.read() as conn:
        count = conn.execute(select(func.count()).select_from(transactions)).scalar_one()
    assert count == THREADS * WRITES_PER_THREAD
    assert verify_book(db, org_book).differences == ()
    assert verify_audit_trail(db).differences == ()
