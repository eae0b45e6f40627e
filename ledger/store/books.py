"""Books, commodities, accounts and lock dates: the frame the journal posts into.

Each function takes an open `Connection` (the caller owns the transaction) and raises
`LedgerRejected` with errors as data when a request cannot be honoured.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Row,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.core.account import validate_account_name
from ledger.core.amount import Commodity, parse_units, validate_commodity
from ledger.core.book import validate_book
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, not_found, reject_if
from ledger.core.text import has_forbidden_character
from ledger.store import driver
from ledger.store.tables import accounts, balances, books, commodities, postings

PROVINCE_LENGTH_MAX = 100


@dataclass(frozen=True, slots=True)
class Book:
    id: int
    code: str
    name: str
    kind: str
    operating_currency: str
    lock_date: datetime.date | None
    created_at: datetime.datetime
    province: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    book_id: int
    name: str
    open_date: datetime.date
    close_date: datetime.date | None
    currencies: tuple[str, ...]
    non_negative: bool


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def utc_today() -> datetime.date:
    """Today's date in UTC: the default date of a request that names none."""
    return utc_now().date()


def insert_new(
    conn: Connection, table: Table, unique: list[str], values: dict[str, object]
) -> int | str | None:
    """Insert a row unless one with the same `unique` columns exists; its key, or None.

    The callers look first and report the conflict as data; this catches the race the look
    cannot: on PostgreSQL a second request that looked before the first committed would
    otherwise fail on the unique index with an IntegrityError (a 500) instead of a 409.
    """
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    key = next(iter(table.primary_key.columns))
    statement = upsert(table).values(**values).on_conflict_do_nothing(index_elements=unique)
    inserted: int | str | None = conn.execute(statement.returning(key)).scalar_one_or_none()
    return inserted


def rows_by_parent(
    conn: Connection,
    parent: Column[int],
    parent_ids: Iterable[int],
    *order_by: ColumnElement[Any],
) -> dict[int, list[Row[Any]]]:
    """The rows of `parent`'s table that belong to `parent_ids`, grouped by parent id (every
    id present, perhaps with no rows) in `order_by` order: one query for a page of parents,
    none for an empty page, where a query per parent would grow with the page (N+1)."""
    grouped: dict[int, list[Row[Any]]] = {parent_id: [] for parent_id in parent_ids}
    if grouped:
        statement = select(parent.table).where(parent.in_(sorted(grouped))).order_by(*order_by)
        for row in conn.execute(statement):
            grouped[row._mapping[parent]].append(row)
    return grouped


# -- commodities ---------------------------------------------------------------------------


def list_commodities(
    conn: Connection, after: str | None = None, limit: int | None = None
) -> list[Commodity]:
    """The commodities in code order: all of them, or one page (codes after `after`)."""
    statement = select(commodities).order_by(commodities.c.code).limit(limit)
    if after is not None:
        statement = statement.where(commodities.c.code > after)
    return [Commodity(r.code, r.precision, r.name) for r in conn.execute(statement)]


_COMMODITY_PRECISIONS = select(commodities.c.code, commodities.c.precision)
_PRECISIONS_OF = {
    n: _COMMODITY_PRECISIONS.where(commodities.c.code.in_(driver.in_list_binds("code", n)))
    for n in driver.IN_LIST_SIZES
}


def commodity_precisions(conn: Connection, codes: Collection[str] | None = None) -> dict[str, int]:
    """The precision of every commodity, or of those of `codes` that exist (read per request:
    another process may add one)."""
    if codes is None or len(codes) > driver.IN_LIST_SIZES[-1]:
        return dict(driver.fetch_all(conn, _COMMODITY_PRECISIONS))
    if not codes:
        return {}
    return dict(driver.execute(conn, *commodity_precisions_query(conn, codes)))


def commodity_precisions_query(
    conn: Connection, codes: Collection[str]
) -> tuple[str, tuple[Any, ...] | dict[str, Any]]:
    """The SQL and parameters of `commodity_precisions` of 1 to 64 `codes` (rows: code,
    precision), to send with other statements."""
    size, values = driver.in_list_values("code", sorted(codes))
    statement = driver.compiled(conn.dialect, _PRECISIONS_OF[size])
    return statement.sql, statement.parameters(values)


def parse_amount(conn: Connection, currency: str, text: str, field: str = "amount") -> int:
    """`text` in smallest units of a defined commodity; refused with a code otherwise."""
    precision = commodity_precisions(conn).get(currency)
    if precision is None:
        raise LedgerRejected(
            [invalid("commodity_unknown", "This commodity is not defined.", "currency")]
        )
    units = parse_units(text, precision, field)
    if isinstance(units, LedgerError):
        raise LedgerRejected([units])
    return units


def create_commodity(conn: Connection, commodity: Commodity) -> Commodity:
    reject_if(validate_commodity(commodity.code, commodity.precision, commodity.name))
    exists = conn.execute(
        select(commodities.c.code).where(commodities.c.code == commodity.code)
    ).first()
    if exists:
        raise LedgerRejected(
            [conflict("commodity_exists", "This commodity exists already.", "code")]
        )
    inserted = insert_new(
        conn,
        commodities,
        ["code"],
        {"code": commodity.code, "precision": commodity.precision, "name": commodity.name},
    )
    if inserted is None:
        raise LedgerRejected(
            [conflict("commodity_exists", "This commodity exists already.", "code")]
        )
    return commodity


# -- books ---------------------------------------------------------------------------------


def _book_from_row(row: Row[Any]) -> Book:
    return Book(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        operating_currency=row.operating_currency,
        lock_date=row.lock_date,
        created_at=row.created_at,
        province=row.province,
    )


def get_book(conn: Connection, code: str) -> Book:
    row = conn.execute(select(books).where(books.c.code == code)).first()
    if row is None:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    return _book_from_row(row)


_BOOK_SCOPE = select(books.c.id, books.c.province).where(books.c.code == bindparam("code"))


def find_book_scope(conn: Connection, code: str) -> str | None:
    """The province of an existing book, or None; raises nothing (the guard's question).

    Returns "" for a book with no province, so that None always means "no such book".
    """
    row = conn.execute(_BOOK_SCOPE, {"code": code}).first()
    if row is None:
        return None
    return row.province or ""


def list_books(conn: Connection) -> list[Book]:
    return [_book_from_row(r) for r in conn.execute(select(books).order_by(books.c.code))]


@dataclass(frozen=True, slots=True)
class BookScope:
    """The books a scoped user may see: those named, and those of the provinces named."""

    codes: frozenset[str]
    provinces: frozenset[str]


def book_page(
    conn: Connection, scope: BookScope | None, after: str | None, limit: int
) -> list[Book]:
    """One page of the books in code order (codes after `after`), of `scope` (None: all);
    one query."""
    statement = select(books).order_by(books.c.code).limit(limit)
    if after is not None:
        statement = statement.where(books.c.code > after)
    if scope is not None:
        named = books.c.code.in_(sorted(scope.codes))
        statement = statement.where(or_(named, books.c.province.in_(sorted(scope.provinces))))
    return [_book_from_row(r) for r in conn.execute(statement)]


def create_book(
    conn: Connection,
    code: str,
    name: str,
    kind: str,
    operating_currency: str,
    province: str | None = None,
) -> Book:
    """A new book. `province` is where its people live: it scopes officers' access."""
    errors = list(validate_book(code, name, kind))
    if province is not None:
        one_line = not has_forbidden_character(province, one_line=True)
        if not (province.strip() and len(province) <= PROVINCE_LENGTH_MAX and one_line):
            errors.append(
                invalid("province_invalid", "A province is one line of text.", "province")
            )
    if operating_currency not in commodity_precisions(conn):
        errors.append(
            invalid("commodity_unknown", "This commodity is not defined.", "operating_currency")
        )
    reject_if(errors)
    if conn.execute(select(books.c.id).where(books.c.code == code)).first():
        raise LedgerRejected([conflict("book_exists", "A book with this code exists.", "code")])
    inserted = insert_new(
        conn,
        books,
        ["code"],
        {
            "code": code,
            "name": name,
            "kind": kind,
            "operating_currency": operating_currency,
            "lock_date": None,
            "province": province,
            "created_at": utc_now(),
        },
    )
    if inserted is None:
        raise LedgerRejected([conflict("book_exists", "A book with this code exists.", "code")])
    return get_book(conn, code)


def set_lock_date(conn: Connection, book_code: str, lock_date: datetime.date) -> Book:
    """Move the book's lock date forward: nothing may be posted on or before it.

    The lock date never moves back: a closed period stays closed, so what an auditor has
    seen cannot change underneath them.
    """
    book = get_book(conn, book_code)
    backwards = LedgerRejected(
        [conflict("lock_date_backwards", "The lock date can only move forward.", "lock_date")]
    )
    if book.lock_date is not None and lock_date < book.lock_date:
        raise backwards
    # The condition is checked again by the UPDATE itself: on PostgreSQL a concurrent move
    # that committed after our read is seen there, and must not be undone.
    moved = conn.execute(
        update(books)
        .where(
            and_(
                books.c.id == book.id,
                or_(books.c.lock_date.is_(None), books.c.lock_date <= lock_date),
            )
        )
        .values(lock_date=lock_date)
    )
    if moved.rowcount != 1:
        raise backwards
    return get_book(conn, book_code)


# -- accounts ------------------------------------------------------------------------------


def _account_from_row(row: Row[Any]) -> Account:
    currencies: str = row.currencies
    return Account(
        id=row.id,
        book_id=row.book_id,
        name=row.name,
        open_date=row.open_date,
        close_date=row.close_date,
        currencies=tuple(currencies.split()) if currencies else (),
        non_negative=bool(row.non_negative),
    )


def list_accounts(
    conn: Connection, book_code: str, after: str | None = None, limit: int | None = None
) -> list[Account]:
    """The book's accounts in name order: all of them, or one page (names after `after`);
    two queries."""
    book = get_book(conn, book_code)
    statement = (
        select(accounts).where(accounts.c.book_id == book.id).order_by(accounts.c.name).limit(limit)
    )
    if after is not None:
        statement = statement.where(accounts.c.name > after)
    return [_account_from_row(r) for r in conn.execute(statement)]


def get_account(conn: Connection, book_code: str, account_id: int) -> Account:
    book = get_book(conn, book_code)
    row = conn.execute(
        select(accounts).where(and_(accounts.c.book_id == book.id, accounts.c.id == account_id))
    ).first()
    if row is None:
        raise LedgerRejected([not_found("account_not_found", "No such account in this book.")])
    return _account_from_row(row)


def open_account(
    conn: Connection,
    book_code: str,
    name: str,
    open_date: datetime.date,
    currencies: Sequence[str] = (),
    non_negative: bool = False,
) -> Account:
    book = get_book(conn, book_code)
    errors = []
    name_error = validate_account_name(name, "name")
    if name_error:
        errors.append(name_error)
    known = commodity_precisions(conn)
    for index, code in enumerate(currencies):
        if code not in known:
            errors.append(
                invalid(
                    "commodity_unknown", "This commodity is not defined.", f"currencies[{index}]"
                )
            )
    if len(set(currencies)) != len(currencies):
        errors.append(invalid("currencies_repeated", "A currency is listed twice.", "currencies"))
    if book.lock_date is not None and open_date <= book.lock_date:
        errors.append(
            conflict("period_locked", "The book is locked on or before this date.", "open_date")
        )
    reject_if(errors)
    taken = conn.execute(
        select(accounts.c.id).where(and_(accounts.c.book_id == book.id, accounts.c.name == name))
    ).first()
    if taken:
        raise LedgerRejected([conflict("account_exists", "This account is open already.", "name")])
    account_id = insert_new(
        conn,
        accounts,
        ["book_id", "name"],
        {
            "book_id": book.id,
            "name": name,
            "open_date": open_date,
            "close_date": None,
            "currencies": " ".join(currencies),
            "non_negative": non_negative,
            "created_at": utc_now(),
        },
    )
    if account_id is None:
        raise LedgerRejected([conflict("account_exists", "This account is open already.", "name")])
    return get_account(conn, book_code, int(account_id))


def find_account(conn: Connection, book_id: int, name: str) -> Account | None:
    row = conn.execute(
        select(accounts).where(and_(accounts.c.book_id == book_id, accounts.c.name == name))
    ).first()
    return None if row is None else _account_from_row(row)


def ensure_account(
    conn: Connection,
    book_code: str,
    name: str,
    open_date: datetime.date,
    currencies: Sequence[str] = (),
    non_negative: bool = False,
) -> Account:
    """The account named `name`, opened on `open_date` first if the book has none by that name.

    An account that exists already is returned as it is (its open date and currencies are
    its own: the journal refuses postings it does not accept).
    """
    book = get_book(conn, book_code)
    found = find_account(conn, book.id, name)
    if found is not None:
        return found
    return open_account(conn, book_code, name, open_date, currencies, non_negative)


def close_account(
    conn: Connection, book_code: str, account_id: int, close_date: datetime.date
) -> Account:
    """Close an empty account: nothing may be posted to it after `close_date`."""
    account = get_account(conn, book_code, account_id)
    # Exclusive before the checks below: a deposit in flight holds a post's lock on this row
    # (ledger.store.journal.lock_rows), so we read its balance only after it commits.
    conn.execute(select(accounts.c.id).where(accounts.c.id == account.id).with_for_update())
    account = get_account(conn, book_code, account_id)
    book = get_book(conn, book_code)
    closed_already = LedgerRejected([conflict("account_closed", "The account is closed already.")])
    if account.close_date is not None:
        raise closed_already
    if close_date < account.open_date:
        raise LedgerRejected(
            [invalid("close_before_open", "An account closes on or after it opens.", "date")]
        )
    if book.lock_date is not None and close_date <= book.lock_date:
        raise LedgerRejected(
            [conflict("period_locked", "The book is locked on or before this date.", "date")]
        )
    later = conn.execute(
        select(func.count())
        .select_from(postings)
        .where(and_(postings.c.account_id == account.id, postings.c.date > close_date))
    ).scalar_one()
    if later:
        raise LedgerRejected(
            [
                conflict(
                    "account_has_later_postings",
                    "The account has postings after this date.",
                    "date",
                )
            ]
        )
    nonzero = conn.execute(
        select(func.count())
        .select_from(balances)
        .where(and_(balances.c.account_id == account.id, balances.c.units != 0))
    ).scalar_one()
    if nonzero:
        raise LedgerRejected(
            [conflict("account_not_empty", "Only an account with a zero balance can be closed.")]
        )
    # Checked again by the UPDATE: on PostgreSQL a concurrent close that committed after our
    # read is seen there, and its date must not be overwritten.
    closed = conn.execute(
        update(accounts)
        .where(and_(accounts.c.id == account.id, accounts.c.close_date.is_(None)))
        .values(close_date=close_date)
    )
    if closed.rowcount != 1:
        raise closed_already
    return get_account(conn, book_code, account_id)
