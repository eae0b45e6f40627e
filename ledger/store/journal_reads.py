"""The journal's reads: a stored transaction as it was posted, and an account's units on a day.

Reading back is three statements whatever the number of transactions (`load_transactions`):
reversals, the API's responses and the query pages build on it. Posting lives in
`ledger.store.journal`; its statements and driver-level writes in `ledger.store.journal_sql`.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Text,
    and_,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)

from ledger.core.errors import LedgerRejected, not_found
from ledger.core.transaction import Posting, Price, Transaction
from ledger.store.books import get_book
from ledger.store.checkpoints import units_as_of
from ledger.store.tables import (
    accounts,
    books,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    """A transaction as stored: ids, the reversal links and who posted it, and when."""

    id: int
    book_id: int
    txn: Transaction
    reverses_id: int | None
    reversed_by: int | None
    created_at: datetime.datetime
    created_by: str | None


def load_transaction(conn: Connection, book_code: str, transaction_id: int) -> StoredTransaction:
    """One transaction of the book (`transaction_not_found` when the book has no such one)."""
    rows = conn.execute(
        _TRANSACTION_IN_BOOK, {"code": book_code, "transaction_id": transaction_id}
    ).all()
    if not rows:
        get_book(conn, book_code)  # book_not_found comes first, as the caller would expect
        raise LedgerRejected(
            [not_found("transaction_not_found", "No such transaction in this book.")]
        )
    return _assemble(conn, rows)[0]


def load_transactions(
    conn: Connection, book_id: int, ids: Sequence[int]
) -> list[StoredTransaction]:
    """The transactions with these ids in this book, in the order of `ids`."""
    if not ids:
        return []
    rows = conn.execute(_TRANSACTIONS_BY_ID, {"book_id": book_id, "ids": list(ids)}).all()
    if not rows:
        return []
    loaded = {stored.id: stored for stored in _assemble(conn, rows)}
    return [loaded[i] for i in ids if i in loaded]


# Reading back is three statements whatever the number of transactions: their rows (with the
# id of any reversal), their postings, and their tags, links and metadata in one UNION ALL.
# The statements are built once; SQLAlchemy caches their compiled form per dialect.
_REVERSAL = transactions.alias("reversal")
_TRANSACTION_ROWS = select(transactions, _REVERSAL.c.id.label("reversed_by")).outerjoin(
    _REVERSAL, _REVERSAL.c.reverses_id == transactions.c.id
)
_TRANSACTIONS_BY_ID = _TRANSACTION_ROWS.where(
    and_(
        transactions.c.book_id == bindparam("book_id"),
        transactions.c.id.in_(bindparam("ids", expanding=True)),
    )
)
_TRANSACTION_IN_BOOK = _TRANSACTION_ROWS.join(books, books.c.id == transactions.c.book_id).where(
    and_(books.c.code == bindparam("code"), transactions.c.id == bindparam("transaction_id"))
)
_POSTINGS_OF = (
    select(
        postings.c.transaction_id,
        accounts.c.name,
        postings.c.units,
        postings.c.commodity,
        postings.c.price_commodity,
        postings.c.price_per_unit,
        postings.c.price_total,
    )
    .join(accounts, accounts.c.id == postings.c.account_id)
    .where(postings.c.transaction_id.in_(bindparam("ids", expanding=True)))
    .order_by(postings.c.transaction_id, postings.c.position)
)
_LABELS_OF = union_all(
    select(
        literal_column("1").label("kind"),
        transaction_tags.c.transaction_id,
        transaction_tags.c.tag.label("label"),
        cast(null(), Text).label("value"),
    ).where(transaction_tags.c.transaction_id.in_(bindparam("ids", expanding=True))),
    select(
        literal_column("2"),
        transaction_links.c.transaction_id,
        transaction_links.c.link,
        cast(null(), Text),
    ).where(transaction_links.c.transaction_id.in_(bindparam("ids", expanding=True))),
    select(
        literal_column("3"),
        transaction_meta.c.transaction_id,
        transaction_meta.c.key,
        transaction_meta.c.value,
    ).where(transaction_meta.c.transaction_id.in_(bindparam("ids", expanding=True))),
).order_by("kind", "transaction_id", "label")
_TAG, _LINK, _META = 1, 2, 3


def _assemble(conn: Connection, rows: Sequence[Row[Any]]) -> list[StoredTransaction]:
    """StoredTransactions for these transaction rows, in their order."""
    present = [r.id for r in rows]
    by_txn: dict[int, list[Posting]] = defaultdict(list)
    for p in conn.execute(_POSTINGS_OF, {"ids": present}):
        by_txn[p.transaction_id].append(Posting(p.name, p.units, p.commodity, _price_from_row(p)))
    tags: dict[int, list[str]] = defaultdict(list)
    links: dict[int, list[str]] = defaultdict(list)
    meta: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for kind, txn_id, label, value in conn.execute(_LABELS_OF, {"ids": present}):
        if kind == _TAG:
            tags[txn_id].append(label)
        elif kind == _LINK:
            links[txn_id].append(label)
        else:
            meta[txn_id].append((label, value))
    return [
        StoredTransaction(
            id=r.id,
            book_id=r.book_id,
            txn=Transaction(
                date=r.date,
                narration=r.narration,
                payee=r.payee,
                tags=tuple(sorted(tags.get(r.id, ()))),
                links=tuple(sorted(links.get(r.id, ()))),
                meta=tuple(sorted(meta.get(r.id, ()))),
                postings=tuple(by_txn[r.id]),
            ),
            reverses_id=r.reverses_id,
            reversed_by=r.reversed_by,
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in rows
    ]


def _price_from_row(row: Row[Any]) -> Price | None:
    commodity = row.price_commodity
    if commodity is None:
        return None
    per_unit = row.price_per_unit
    if per_unit is not None:
        return Price(commodity, per_unit=Decimal(per_unit))
    return Price(commodity, total=row.price_total)


def balance_units_through(
    conn: Connection, account_id: int, commodity: str, date: datetime.date
) -> int:
    """The units of `commodity` posted to the account up to and including `date` (from the
    week-end checkpoints: a seek and at most three days of postings)."""
    return units_as_of(conn, account_id, commodity, date)
