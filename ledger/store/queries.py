"""The read side: balances (current and as of a date) and transaction listings.

Current balances come from the `balances` table, so they cost the same however large the
book grows. A balance as of a past date is the current balance less the postings dated after
it, or the sum of the postings up to it when that reads fewer postings (judged by the book's
first and last posting dates): recent dates (the common question) and early ones stay cheap,
and a date in the middle of a long book reads about half of its postings.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, exists, func, or_, select

from ledger.core import limits
from ledger.core.errors import LedgerRejected, invalid
from ledger.store.books import get_book
from ledger.store.journal_reads import StoredTransaction, load_transactions
from ledger.store.tables import (
    accounts,
    balances,
    commodities,
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
_BOOK_BALANCES = select(balances.c.account_id, balances.c.commodity, balances.c.units).where(
    balances.c.book_id == bindparam("book_id")
)
_ACCOUNT_NAMES = select(accounts.c.id, accounts.c.name).where(
    accounts.c.book_id == bindparam("book_id")
)
# First and last posting dates of a book: two index probes on (book_id, date).
_POSTING_DATE_SPAN = select(
    select(func.min(postings.c.date))
    .where(postings.c.book_id == bindparam("book_id"))
    .scalar_subquery(),
    select(func.max(postings.c.date))
    .where(postings.c.book_id == bindparam("book_id"))
    .scalar_subquery(),
)
_BOOK_POSTINGS_UP_TO = (
    select(postings.c.account_id, postings.c.commodity, func.sum(postings.c.units))
    .where(and_(postings.c.book_id == bindparam("book_id"), postings.c.date <= bindparam("as_of")))
    .group_by(postings.c.account_id, postings.c.commodity)
)
_BOOK_POSTINGS_AFTER = (
    select(postings.c.account_id, postings.c.commodity, func.sum(postings.c.units))
    .where(and_(postings.c.book_id == bindparam("book_id"), postings.c.date > bindparam("as_of")))
    .group_by(postings.c.account_id, postings.c.commodity)
)
_ACCOUNT_BALANCES = select(balances.c.commodity, balances.c.units).where(
    and_(
        balances.c.book_id == bindparam("book_id"), balances.c.account_id == bindparam("account_id")
    )
)
# Naming every commodity lets the (account, commodity, date) index seek straight to the date
# range of each commodity instead of reading all of the account's postings. The account must
# be one of the book's (an account's postings are all in its book): asked as a constant EXISTS
# rather than as `postings.book_id = ?`, which would lead SQLite to the (book, date) index and
# so to every posting of the book in the date range.
_ALL_COMMODITIES = select(commodities.c.code).scalar_subquery()
_ACCOUNT_IN_BOOK = exists().where(
    and_(
        accounts.c.id == bindparam("account_id"),
        accounts.c.book_id == bindparam("book_id"),
    )
)
_ACCOUNT_POSTINGS_UP_TO = (
    select(postings.c.commodity, func.sum(postings.c.units))
    .where(
        and_(
            _ACCOUNT_IN_BOOK,
            postings.c.account_id == bindparam("account_id"),
            postings.c.commodity.in_(_ALL_COMMODITIES),
            postings.c.date <= bindparam("as_of"),
        )
    )
    .group_by(postings.c.commodity)
)
_ACCOUNT_POSTINGS_AFTER = (
    select(postings.c.commodity, func.sum(postings.c.units))
    .where(
        and_(
            _ACCOUNT_IN_BOOK,
            postings.c.account_id == bindparam("account_id"),
            postings.c.commodity.in_(_ALL_COMMODITIES),
            postings.c.date > bindparam("as_of"),
        )
    )
    .group_by(postings.c.commodity)
)


def _count_forward(conn: Connection, book_id: int, as_of: datetime.date) -> bool:
    """True when summing the postings up to `as_of` reads fewer of them than subtracting the
    postings after it from the current balances (judged by the book's first and last dates).
    """
    first, last = conn.execute(_POSTING_DATE_SPAN, {"book_id": book_id}).one()
    if first is None or as_of >= last:
        return False
    return bool(as_of - first < last - as_of)


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
    totals: dict[tuple[int, str], int] = defaultdict(int)
    parameters = {"book_id": book.id, "as_of": as_of}
    if _count_forward(conn, book.id, as_of):
        for account_id, commodity, units in conn.execute(_BOOK_POSTINGS_UP_TO, parameters):
            totals[(account_id, commodity)] += int(units)
    else:
        for account_id, commodity, units in conn.execute(_BOOK_BALANCES, parameters):
            totals[(account_id, commodity)] += units
        for account_id, commodity, units in conn.execute(_BOOK_POSTINGS_AFTER, parameters):
            totals[(account_id, commodity)] -= int(units)
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
    totals: dict[str, int] = defaultdict(int)
    parameters = {"book_id": book.id, "account_id": account_id, "as_of": as_of}
    if as_of is not None and _count_forward(conn, book.id, as_of):
        for commodity, units in conn.execute(_ACCOUNT_POSTINGS_UP_TO, parameters):
            totals[commodity] += int(units)
        return {c: u for c, u in sorted(totals.items()) if u != 0}
    for commodity, units in conn.execute(_ACCOUNT_BALANCES, parameters):
        totals[commodity] += units
    if as_of is not None:
        for commodity, units in conn.execute(_ACCOUNT_POSTINGS_AFTER, parameters):
            totals[commodity] -= int(units)
    return {c: u for c, u in sorted(totals.items()) if u != 0}


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    account: str | None = None
    tag: str | None = None
    link: str | None = None
    meta_key: str | None = None
    meta_value: str | None = None


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
