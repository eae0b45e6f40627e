"""The read side: balances (current and as of a date) and transaction listings.

Current balances come from the `balances` table, so they cost the same however large the
book grows. A balance as of a date comes from the week-end checkpoints
(`ledger.store.checkpoints`): the nearest checkpoint and at most three days of postings,
whatever the date and however long the book.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, or_, select

from ledger.core import limits
from ledger.core.errors import LedgerRejected, invalid
from ledger.store import checkpoints
from ledger.store.books import get_book
from ledger.store.journal_reads import StoredTransaction, load_transactions
from ledger.store.tables import (
    accounts,
    balances,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)


@dataclass(frozen=True, slots=True)
class BalanceRow:
    account: str
    commodity: str
    units: int


# Statements are built once (they are dialect-free values); SQLAlchemy caches their compiled
# form per dialect.
_CURRENT_TRIAL_BALANCE = (
    select(accounts.c.name, balances.c.commodity, balances.c.units)
    .join(accounts, accounts.c.id == balances.c.account_id)
    .where(and_(balances.c.book_id == bindparam("book_id"), balances.c.units != 0))
)
_ACCOUNT_NAMES = select(accounts.c.id, accounts.c.name).where(
    accounts.c.book_id == bindparam("book_id")
)
_ACCOUNT_BALANCES = select(balances.c.commodity, balances.c.units).where(
    and_(
        balances.c.book_id == bindparam("book_id"), balances.c.account_id == bindparam("account_id")
    )
)


def trial_balance(
    conn: Connection, book_code: str, as_of: datetime.date | None = None
) -> list[BalanceRow]:
    """Every (account, commodity) with a non-zero balance, by account name then commodity.

    With `as_of`, the balance at the end of that day.
    """
    book = get_book(conn, book_code)
    if as_of is None:
        # Sorted here, not in SQL: PostgreSQL's collation may order names differently.
        current = [
            BalanceRow(name, commodity, units)
            for name, commodity, units in conn.execute(_CURRENT_TRIAL_BALANCE, {"book_id": book.id})
        ]
        current.sort(key=lambda r: (r.account, r.commodity))
        return current
    totals = checkpoints.book_units_as_of(conn, book.id, as_of)
    parameters = {"book_id": book.id}
    names: dict[int, str] = dict(conn.execute(_ACCOUNT_NAMES, parameters).tuples().all())
    rows = [
        BalanceRow(names[account_id], commodity, units)
        for (account_id, commodity), units in totals.items()
        if units != 0
    ]
    rows.sort(key=lambda r: (r.account, r.commodity))
    return rows


def account_balance(
    conn: Connection, book_code: str, account_id: int, as_of: datetime.date | None = None
) -> dict[str, int]:
    """One account's balance per commodity (current, or at the end of `as_of`)."""
    book = get_book(conn, book_code)
    if as_of is not None:
        totals = checkpoints.account_units_as_of(conn, book.id, account_id, as_of)
        return {c: u for c, u in sorted(totals.items()) if u != 0}
    parameters = {"book_id": book.id, "account_id": account_id}
    current = conn.execute(_ACCOUNT_BALANCES, parameters).tuples()
    return {c: u for c, u in sorted(current) if u != 0}


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    account: str | None = None
    tag: str | None = None
    link: str | None = None
    meta_key: str | None = None
    meta_value: str | None = None
    text: str | None = None  # within the narration or the payee (any case)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[StoredTransaction]
    next_cursor: str | None


def encode_cursor(date: datetime.date, transaction_id: int) -> str:
    return base64.urlsafe_b64encode(f"{date.isoformat()}|{transaction_id}".encode()).decode()


# A cursor never names an id an INTEGER column cannot hold (PostgreSQL would refuse it).
TRANSACTION_ID_MAX = limits.ID_MAX


def decode_cursor(cursor: str) -> tuple[datetime.date, int]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        date_text, id_text = text.split("|")
        transaction_id = int(id_text)
        if not 0 <= transaction_id <= TRANSACTION_ID_MAX:
            raise ValueError("transaction id out of range")
        return datetime.date.fromisoformat(date_text), transaction_id
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise LedgerRejected(
            [invalid("cursor_invalid", "The cursor is not one this API returned.", "cursor")]
        ) from error


def _label_conditions(where: TransactionFilter) -> list[Any]:
    """The filters on a transaction's tags, links, metadata and text."""
    t = transactions
    conditions: list[Any] = []
    if where.tag is not None:
        conditions.append(
            exists().where(
                and_(
                    transaction_tags.c.transaction_id == t.c.id, transaction_tags.c.tag == where.tag
                )
            )
        )
    if where.link is not None:
        conditions.append(
            exists().where(
                and_(
                    transaction_links.c.transaction_id == t.c.id,
                    transaction_links.c.link == where.link,
                )
            )
        )
    if where.meta_key is not None:
        meta_match = [
            transaction_meta.c.transaction_id == t.c.id,
            transaction_meta.c.key == where.meta_key,
        ]
        if where.meta_value is not None:
            meta_match.append(transaction_meta.c.value == where.meta_value)
        conditions.append(exists().where(and_(*meta_match)))
    if where.text:
        text = where.text[: limits.NARRATION_LENGTH_MAX]
        conditions.append(
            or_(
                t.c.narration.icontains(text, autoescape=True),
                t.c.payee.icontains(text, autoescape=True),
            )
        )
    return conditions


def list_transactions(
    conn: Connection,
    book_code: str,
    where: TransactionFilter,
    cursor: str | None = None,
    limit: int = limits.PAGE_SIZE_DEFAULT,
) -> Page:
    """Transactions in (date, id) order, filtered; keyset-paginated with an opaque cursor."""
    if not 1 <= limit <= limits.PAGE_SIZE_MAX:
        raise LedgerRejected(
            [invalid("limit_invalid", f"limit is between 1 and {limits.PAGE_SIZE_MAX}.", "limit")]
        )
    book = get_book(conn, book_code)
    t = transactions
    conditions = [t.c.book_id == book.id]
    if where.date_from is not None:
        conditions.append(t.c.date >= where.date_from)
    if where.date_to is not None:
        conditions.append(t.c.date <= where.date_to)
    if where.account is not None:
        conditions.append(
            exists(
                select(postings.c.id)
                .join(accounts, accounts.c.id == postings.c.account_id)
                .where(and_(postings.c.transaction_id == t.c.id, accounts.c.name == where.account))
            )
        )
    conditions.extend(_label_conditions(where))
    if cursor is not None:
        after_date, after_id = decode_cursor(cursor)
        conditions.append(
            or_(t.c.date > after_date, and_(t.c.date == after_date, t.c.id > after_id))
        )
    rows = conn.execute(
        select(t.c.id, t.c.date)
        .where(and_(*conditions))
        .order_by(t.c.date, t.c.id)
        .limit(limit + 1)
    ).all()
    page_rows = rows[:limit]
    items = load_transactions(conn, book.id, [r.id for r in page_rows])
    next_cursor = encode_cursor(page_rows[-1].date, page_rows[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
