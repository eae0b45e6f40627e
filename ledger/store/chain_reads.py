"""Reading the hash chains back (`ledger.store.chain`): for `verify` and the migration that
hashed the rows written before the chains existed.

A book's transactions and the audit trail are read in id order, `CHAIN_BATCH_ROWS` at a time
(memory stays flat however long the chain), and each stored row yields its id, its stored
hash and the content its hash covers, exactly as the post path hashed it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, select

from ledger.store.chain import (
    AUDIT_CHAIN_ID,
    AUDIT_FIELDS,
    AUDIT_VERSION,
    CHAIN_GENESIS,
    TRANSACTION_VERSION,
    PostingFacts,
    TransactionFields,
    link_hash,
    timestamp_text,
    transaction_hash,
)
from ledger.store.tables import (
    accounts,
    audit_chain,
    audit_events,
    books,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)

# Rows read per round trip while walking a chain.
CHAIN_BATCH_ROWS = 1_000


@dataclass(frozen=True, slots=True)
class StoredLink:
    """One row of a chain as stored: its id, its stored hash and what its hash covers (the
    canonical fields after the version and the previous hash)."""

    id: int
    stored_hash: str | None
    fields: tuple[Any, ...]
    version: str

    def expected_hash(self, previous: str) -> str:
        if self.version == TRANSACTION_VERSION:
            return transaction_hash(previous, cast(TransactionFields, self.fields))
        return link_hash([self.version, previous, *self.fields])


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first link that does not hold: the row whose stored hash is not the hash of its
    content and of the previous row's stored hash (None: the first row), or (`at_head`) a
    head that is not the last row's hash."""

    id: int | None
    previous_id: int | None
    at_head: bool = False


_TRANSACTIONS_AFTER = (
    select(
        transactions.c.id,
        transactions.c.date,
        transactions.c.payee,
        transactions.c.narration,
        transactions.c.reverses_id,
        transactions.c.created_at,
        transactions.c.created_by,
        transactions.c.chain_hash,
    )
    .where(
        and_(transactions.c.book_id == bindparam("book_id"), transactions.c.id > bindparam("after"))
    )
    .order_by(transactions.c.id)
    .limit(bindparam("rows"))
)
_POSTINGS_IN_RANGE = (
    select(
        postings.c.transaction_id,
        accounts.c.name,
        postings.c.commodity,
        postings.c.units,
        postings.c.price_commodity,
        postings.c.price_per_unit,
        postings.c.price_total,
        postings.c.weight_commodity,
        postings.c.weight,
    )
    .select_from(postings.outerjoin(accounts, accounts.c.id == postings.c.account_id))
    .where(
        and_(
            postings.c.book_id == bindparam("book_id"),
            postings.c.transaction_id.between(bindparam("first"), bindparam("last")),
        )
    )
    .order_by(postings.c.transaction_id, postings.c.position)
)


def _labels_in_range(table: Any, column: str) -> Any:
    return (
        select(table.c.transaction_id, table.c[column])
        .where(
            and_(
                table.c.book_id == bindparam("book_id"),
                table.c.transaction_id.between(bindparam("first"), bindparam("last")),
            )
        )
        .order_by(table.c.transaction_id, table.c[column])
    )


_TAGS_IN_RANGE = _labels_in_range(transaction_tags, "tag")
_LINKS_IN_RANGE = _labels_in_range(transaction_links, "link")
_META_IN_RANGE = (
    select(transaction_meta.c.transaction_id, transaction_meta.c.key, transaction_meta.c.value)
    .where(
        and_(
            transaction_meta.c.book_id == bindparam("book_id"),
            transaction_meta.c.transaction_id.between(bindparam("first"), bindparam("last")),
        )
    )
    .order_by(transaction_meta.c.transaction_id, transaction_meta.c.key)
)


def _by_transaction(
    conn: Connection, statement: Any, values: dict[str, Any]
) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(statement, values):
        grouped[row[0]].append(tuple(row[1:]) if len(row) > 2 else row[1])
    return grouped


def transaction_links_of(conn: Connection, book_id: int) -> Iterator[StoredLink]:
    """The book's transactions in id order, each with its stored hash and hashed content."""
    after = 0
    while True:
        rows = conn.execute(
            _TRANSACTIONS_AFTER, {"book_id": book_id, "after": after, "rows": CHAIN_BATCH_ROWS}
        ).all()
        if not rows:
            return
        values = {"book_id": book_id, "first": rows[0].id, "last": rows[-1].id}
        posted = _by_transaction(conn, _POSTINGS_IN_RANGE, values)
        tags = _by_transaction(conn, _TAGS_IN_RANGE, values)
        links = _by_transaction(conn, _LINKS_IN_RANGE, values)
        meta = _by_transaction(conn, _META_IN_RANGE, values)
        for row in rows:
            facts: list[PostingFacts] = posted.get(row.id, [])
            fields = (
                book_id,
                _date_text(row.date),
                row.payee,
                row.narration,
                row.reverses_id,
                timestamp_text(row.created_at),
                row.created_by,
                facts,
                sorted(tags.get(row.id, [])),
                sorted(links.get(row.id, [])),
                sorted(meta.get(row.id, [])),
            )
            yield StoredLink(row.id, row.chain_hash, fields, TRANSACTION_VERSION)
        after = rows[-1].id


def _date_text(value: datetime.date) -> str:
    return value.isoformat()


_EVENTS_AFTER = (
    select(
        audit_events.c.id,
        audit_events.c.at,
        *(audit_events.c[name] for name in AUDIT_FIELDS),
        audit_events.c.chain_hash,
    )
    .where(audit_events.c.id > bindparam("after"))
    .order_by(audit_events.c.id)
    .limit(bindparam("rows"))
)


def audit_links_of(conn: Connection) -> Iterator[StoredLink]:
    """The audit trail in id order, each event with its stored hash and hashed content."""
    after = 0
    while True:
        rows = conn.execute(_EVENTS_AFTER, {"after": after, "rows": CHAIN_BATCH_ROWS}).all()
        if not rows:
            return
        for row in rows:
            fields = (timestamp_text(row.at), *row[2:-1])
            yield StoredLink(row.id, row.chain_hash, fields, AUDIT_VERSION)
        after = rows[-1].id


def first_break(links: Iterator[StoredLink], head: str | None) -> ChainBreak | None:
    """The first link whose stored hash is not what its content and the previous stored hash
    give; else a `head` (None: no head recorded) that is not the last stored hash."""
    previous_hash = CHAIN_GENESIS
    previous_id: int | None = None
    for link in links:
        if link.stored_hash != link.expected_hash(previous_hash):
            return ChainBreak(id=link.id, previous_id=previous_id)
        previous_hash, previous_id = link.stored_hash, link.id
    last = None if previous_id is None else previous_hash
    if head != last:
        return ChainBreak(id=None, previous_id=previous_id, at_head=True)
    return None


_BOOK_HEAD = select(books.c.chain_head).where(books.c.id == bindparam("book_id"))
_AUDIT_HEAD = select(audit_chain.c.head_hash).where(audit_chain.c.id == AUDIT_CHAIN_ID)


def book_head(conn: Connection, book_id: int) -> str | None:
    head = conn.execute(_BOOK_HEAD, {"book_id": book_id}).scalar_one_or_none()
    return None if head is None else str(head)


def audit_head(conn: Connection) -> str | None:
    """The recorded head of the audit trail; None before the first event, as 64 zeros when an
    earlier version's PostgreSQL writer created the row and rolled back."""
    head = conn.execute(_AUDIT_HEAD).scalar_one_or_none()
    return None if head is None or head == CHAIN_GENESIS else str(head)
