"""The accounts of a book that areas pay from and into, looked up by name, and amounts parsed
for them: the book helpers every area that moves money shares (funds, grants, training).

They read and open accounts through `ledger.store.books`; nothing here posts.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from sqlalchemy import Connection, and_, select

from ledger.core.errors import LedgerRejected, invalid
from ledger.store import books
from ledger.store.tables import accounts


def positive_amount(conn: Connection, currency: str, text: str, field: str) -> int:
    """`text` in smallest units of `currency`, refused unless it is above zero."""
    units = books.parse_amount(conn, currency, text, field)
    if units <= 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "The amount must be positive.", field)]
        )
    return units


def account_named(conn: Connection, book_id: int, name: str, field: str) -> books.Account:
    """The open account that holds money here (a bank account, a cash box): an Assets one."""
    found = books.find_account(conn, book_id, name)
    if found is None:
        raise LedgerRejected([invalid("account_unknown", "No open account has this name.", field)])
    if not found.name.startswith("Assets:"):
        raise LedgerRejected(
            [
                invalid(
                    "account_not_asset",
                    "Money is received into, paid from and exchanged between Assets accounts.",
                    field,
                )
            ]
        )
    return found


def only_currency(account: books.Account, field: str) -> str:
    """The one currency an account holds (an exchange or payment names the account only)."""
    if len(account.currencies) != 1:
        raise LedgerRejected(
            [
                invalid(
                    "account_currency_ambiguous",
                    "This account must be opened for exactly one currency.",
                    field,
                )
            ]
        )
    return account.currencies[0]


def account_currency(conn: Connection, book_id: int, name: str, field: str) -> str:
    """The one currency of the money account `name` (see `account_named`, `only_currency`)."""
    return only_currency(account_named(conn, book_id, name, field), field)


def ensure_accounts(
    conn: Connection,
    book_code: str,
    wanted: Sequence[tuple[str, tuple[str, ...]]],
    open_date: datetime.date,
) -> None:
    """Open, on `open_date`, each of the `wanted` accounts (name, currencies) the book has no
    account by that name for yet; one look-up for all of them. An account that exists already
    is left as it is (the journal refuses postings it does not accept)."""
    book = books.get_book(conn, book_code)
    names = sorted({name for name, _ in wanted})
    found = set(
        conn.execute(
            select(accounts.c.name).where(
                and_(accounts.c.book_id == book.id, accounts.c.name.in_(names))
            )
        ).scalars()
    )
    for name, currencies in wanted:
        if name not in found:
            books.open_account(conn, book_code, name, open_date, currencies)
            found.add(name)
