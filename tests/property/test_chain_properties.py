"""Properties of the hash chains after random sequences of posts and reversals (the journal
properties' sequences: several commodities, prices, hostile texts, tags, links, metadata).

1. The chain recomputed from what is stored holds, link by link, up to the book's head (the
   hashes the post path made from the values in hand are the ones read back). Also checked,
   with the balances and Beancount, by `verify_book` in `test_journal_properties`.
2. Any single change to a stored field a transaction's hash covers, made behind the journal's
   back with the triggers set aside, is named by `verify` at exactly that transaction.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from ledger.store.database import Database
from ledger.verify import chain_differences
from tests.property.test_journal_properties import Post, Reverse, open_book, operations, run

# One change each, to the transaction :id of book :book; every one changes what is hashed.
CHANGES = {
    "date": "UPDATE transactions SET date = '1999-12-31' WHERE id = :id",
    "narration": "UPDATE transactions SET narration = narration || 'x' WHERE id = :id",
    "payee": "UPDATE transactions SET payee = COALESCE(payee, '') || 'x' WHERE id = :id",
    "created_by": (
        "UPDATE transactions SET created_by = COALESCE(created_by, '') || 'x' WHERE id = :id"
    ),
    "created_at": "UPDATE transactions SET created_at = '2001-01-01 00:00:00' WHERE id = :id",
    "units": "UPDATE postings SET units = units + 1 WHERE transaction_id = :id AND position = 0",
    "weight": "UPDATE postings SET weight = weight - 1 WHERE transaction_id = :id AND position = 0",
    "commodity": (
        "UPDATE postings SET commodity = CASE WHEN commodity = 'GOAT' THEN 'COW' ELSE 'GOAT' END"
        " WHERE transaction_id = :id AND position = 0"
    ),
    "account": (
        "UPDATE postings SET account_id = (SELECT min(a.id) FROM accounts a"
        " WHERE a.book_id = :book AND a.id <> postings.account_id)"
        " WHERE transaction_id = :id AND position = 0"
    ),
    "price": (
        "UPDATE postings SET price_commodity = 'CHICKEN', price_total = 7, price_per_unit = NULL"
        " WHERE transaction_id = :id AND position = 0"
    ),
    "tag": "INSERT INTO transaction_tags VALUES (:id, 'zz-tampered', :book)",
    "link": "INSERT INTO transaction_links VALUES (:id, 'zz-tampered', :book)",
    "meta": "INSERT INTO transaction_meta VALUES (:id, 'zz-tampered', 'x', :book)",
}
TABLES = ("transactions", "postings", "transaction_tags", "transaction_links", "transaction_meta")


def book_id_of(conn: Connection, code: str) -> int:
    return int(conn.execute(text("SELECT id FROM books WHERE code = :c"), {"c": code}).scalar_one())


def change_behind_the_journal(db: Database, sql: str, txn_id: int, book_id: int) -> None:
    def work(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in TABLES:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
        conn.execute(text(sql), {"id": txn_id, "book": book_id})

    db.write(work)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, pick=st.integers(0, 1_000), change=st.sampled_from(sorted(CHANGES)))
def test_the_chain_holds_and_any_single_change_is_named(
    db: Database, ops: list[Post | Reverse], pick: int, change: str
) -> None:
    book = open_book(db)
    model = run(db, book, ops)
    with db.read() as conn:
        book_id = book_id_of(conn, book)
        assert chain_differences(conn, book_id) == []
    if not model.posted:
        return
    target = sorted(p.id for p in model.posted)[pick % len(model.posted)]
    change_behind_the_journal(db, CHANGES[change], target, book_id)
    with db.read() as conn:
        [found] = chain_differences(conn, book_id)
    assert found.startswith(f"hash chain broken at transaction {target} ("), (change, found)
