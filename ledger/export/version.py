"""A book's export version: a short digest that changes whenever its Beancount export would.

The Fava mount (`api/fava.py`) keeps each book's export on disk and writes it again only when
this digest changes, so a page view costs one small read, not an export.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, func, select

from ledger.store.tables import accounts, balance_assertions, books, prices


def book_version(conn: Connection, code: str) -> str | None:
    """The book's name, lock date and chain head (its last transaction), and the last of its
    accounts (with how many are closed), prices and balance assertions, digested; None for
    an unknown book."""
    book = conn.execute(
        select(books.c.id, books.c.name, books.c.chain_head, books.c.lock_date).where(
            books.c.code == code
        )
    ).first()
    if book is None:
        return None
    facts: list[object] = list(book)
    for table, extra in (
        (accounts, func.count(accounts.c.close_date)),
        (prices, func.count()),
        (balance_assertions, func.count()),
    ):
        row = conn.execute(
            select(func.max(table.c.id), extra).where(table.c.book_id == book.id)
        ).one()
        facts.extend(row)
    return hashlib.sha256(repr(facts).encode()).hexdigest()[:32]
