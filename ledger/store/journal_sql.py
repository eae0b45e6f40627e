"""The journal's SQL: the statements of the post path and the driver-level writes.

`ledger.store.journal` decides what to post and checks it; this module reads what a post
needs (the book and its accounts in one query, the row locks) and writes the rows it is
given, in as few statements as the data allows. It checks no rule of the ledger (only that
the book exists).

The hot path keeps the statements per call few: one query for the book and its accounts, one
INSERT for the transactions, one executemany for the postings, one upsert for the balances
touched and the read-back. Statements are built once at import from the Core tables (they
are dialect-free values) and run on the database driver (`ledger.store.driver`): through a
SQLAlchemy `Connection`, each cost several times SQLite's own work for it. Values are
converted by the dialect's own bind processors, so the stored text is exactly what Core
would store. PostgreSQL inserts keep Core (its `insertmanyvalues` batching is efficient).
Nothing read from the database is cached across calls: books, lock dates and accounts
change, and another process may change them.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ReturningInsert

from ledger.core.errors import LedgerRejected, not_found
from ledger.core.transaction import Transaction, weight
from ledger.store import driver
from ledger.store.books import utc_now
from ledger.store.tables import (
    accounts,
    balance_assertions,
    balances,
    books,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)


@dataclass(frozen=True, slots=True)
class AccountForPosting:
    """What the journal checks of an account before posting to it."""

    id: int
    open_date: datetime.date
    close_date: datetime.date | None
    currencies: tuple[str, ...]
    non_negative: bool
    asserted_until: datetime.date | None


@dataclass(frozen=True, slots=True)
class BookForPosting:
    """What the journal checks of a book before posting into it."""

    id: int
    lock_date: datetime.date | None
    chain_head: str | None  # the hash of its last transaction (ledger.store.chain)


# -- reading what a post checks --------------------------------------------------------------------

_ASSERTED_UNTIL = (
    select(func.max(balance_assertions.c.date))
    .where(balance_assertions.c.account_id == accounts.c.id)
    .scalar_subquery()
)
_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.name,
    accounts.c.open_date,
    accounts.c.close_date,
    accounts.c.currencies,
    accounts.c.non_negative,
    _ASSERTED_UNTIL.label("asserted_until"),
)
_ACCOUNT_BY_NAME = select(*_ACCOUNT_COLUMNS).where(
    and_(accounts.c.book_id == bindparam("book_id"), accounts.c.name == bindparam("name"))
)


def book_and_accounts_statement(names_n: int) -> Select[Any]:
    """The book and `names_n` accounts named in one round trip: one row per account found, or
    one row with NULL account columns when none is (and no row when the book does not exist).
    Columns: book id, lock date, chain head, then `_ACCOUNT_COLUMNS` in their order."""
    return (
        select(books.c.id, books.c.lock_date, books.c.chain_head, *_ACCOUNT_COLUMNS)
        .select_from(
            books.outerjoin(
                accounts,
                and_(
                    accounts.c.book_id == books.c.id,
                    accounts.c.name.in_(driver.in_list_binds("name", names_n)),
                ),
            )
        )
        .where(books.c.code == bindparam("code"))
    )


_BOOK_AND_ACCOUNTS = {n: book_and_accounts_statement(n) for n in driver.IN_LIST_SIZES}
_NAMES_PER_QUERY_MAX = driver.IN_LIST_SIZES[-1]
_BOOK_BY_CODE = select(books.c.id, books.c.lock_date, books.c.chain_head).where(
    books.c.code == bindparam("code")
)
_LOCK_ROWS = (
    select(books.c.id, accounts.c.id)
    .select_from(books.join(accounts, accounts.c.book_id == books.c.id))
    .where(
        and_(
            books.c.code == bindparam("code"),
            accounts.c.name.in_(bindparam("names", expanding=True)),
        )
    )
    .order_by(accounts.c.id)
)
# A post's lock: FOR NO KEY UPDATE, exclusive among posts (one chain of hashes per book needs
# one order of writes) but not against the foreign-key checks of rows that refer to the book.
LOCK_FOR_POSTING = _LOCK_ROWS.with_for_update(key_share=True)
LOCK_FOR_UPDATE = _LOCK_ROWS.with_for_update()
_MAX_TRANSACTION_ID = select(func.coalesce(func.max(transactions.c.id), 0))


def book_for_posting(conn: Connection, book_code: str) -> BookForPosting:
    row = conn.execute(_BOOK_BY_CODE, {"code": book_code}).first()
    if row is None:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    return BookForPosting(id=row.id, lock_date=row.lock_date, chain_head=row.chain_head)


def _account_from_columns(columns: Sequence[Any]) -> AccountForPosting:
    """An account from the driver's values of `_ACCOUNT_COLUMNS` (name excepted)."""
    account_id, _name, open_date, close_date, currencies, non_negative, asserted_until = columns
    return AccountForPosting(
        id=account_id,
        open_date=_date(open_date),
        close_date=_date_or_none(close_date),
        currencies=tuple(currencies.split()) if currencies else (),
        non_negative=bool(non_negative),
        asserted_until=_date_or_none(asserted_until),
    )


def account_for_posting(conn: Connection, book_id: int, name: str) -> AccountForPosting | None:
    rows = driver.fetch_all(conn, _ACCOUNT_BY_NAME, {"book_id": book_id, "name": name})
    return _account_from_columns(rows[0]) if rows else None


def book_and_accounts(
    conn: Connection, book_code: str, names: Sequence[str]
) -> tuple[BookForPosting, dict[str, AccountForPosting]]:
    """The book and the named accounts it has, in one query per 64 names."""
    assert names, "a post names accounts"
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(names), _NAMES_PER_QUERY_MAX):
        part = names[start : start + _NAMES_PER_QUERY_MAX]
        rows += driver.execute(conn, *book_and_accounts_query(conn, book_code, part))
    return book_and_accounts_rows(rows)


def book_and_accounts_query(
    conn: Connection, book_code: str, names: Sequence[str]
) -> tuple[str, tuple[Any, ...] | dict[str, Any]]:
    """The SQL and parameters of the read of the book and (at most 64) named accounts."""
    size, values = driver.in_list_values("name", names)
    values["code"] = book_code
    statement = driver.compiled(conn.dialect, _BOOK_AND_ACCOUNTS[size])
    return statement.sql, statement.parameters(values)


def book_and_accounts_rows(
    rows: Sequence[Sequence[Any]],
) -> tuple[BookForPosting, dict[str, AccountForPosting]]:
    """The book and the accounts found, from the rows of `book_and_accounts_query`."""
    if not rows:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    book = BookForPosting(id=rows[0][0], lock_date=_date_or_none(rows[0][1]), chain_head=rows[0][2])
    found: dict[str, AccountForPosting] = {}
    for row in rows:
        if row[3] is not None:  # an account (NULLs: the book has none of these names)
            found[row[4]] = _account_from_columns(row[3:])
    return book, found


def _date(value: datetime.date | str) -> datetime.date:
    """A date column as the driver gives it: a date (PostgreSQL) or ISO text (SQLite)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _date_or_none(value: datetime.date | str | None) -> datetime.date | None:
    return None if value is None else _date(value)


# -- SQLite: plain tuples to the driver --------------------------------------------------------
#
# Rows go to the driver's executemany without a None in them: Python's sqlite3 module binds a
# None through its adapter registry (a tuple, a dict lookup and attribute lookups on the class,
# ~0.6 us each), which costs more than SQLite's own work for the column. Each insert is
# compiled once per shape, naming only the columns the rows have values for (in the table's
# order), the others take their default, NULL. The posting shapes serve PostgreSQL too.

_POSTING_KEYS = (
    "transaction_id",
    "book_id",
    "account_id",
    "date",
    "position",
    "commodity",
    "units",
)
_UNPRICED = (*_POSTING_KEYS, "weight_commodity", "weight")
_PER_UNIT_PRICED = (
    *_POSTING_KEYS,
    "price_commodity",
    "price_per_unit",
    "weight_commodity",
    "weight",
)
_TOTAL_PRICED = (*_POSTING_KEYS, "price_commodity", "price_total", "weight_commodity", "weight")


@dataclass(frozen=True, slots=True)
class _SqliteValues:
    """The SQLite dialect's converters for the journal's date and timestamp columns."""

    date_text: Callable[[Any], str]
    datetime_text: Callable[[Any], str]


_sqlite_values: _SqliteValues | None = None
# INSERT text per (table, columns named, RETURNING id), compiled on first use.
_sqlite_inserts: dict[tuple[str, tuple[str, ...], bool], str] = {}


def _compile_positional(conn: Connection, statement: ClauseElement, columns: Sequence[str]) -> str:
    compiled = statement.compile(dialect=conn.dialect)
    assert isinstance(compiled, SQLCompiler)
    if tuple(compiled.positiontup or ()) != tuple(columns):
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup} for {columns}")
    return str(compiled)


def _sqlite(conn: Connection) -> _SqliteValues:
    """Made once per process: it depends only on the tables and the SQLite dialect."""
    global _sqlite_values
    if _sqlite_values is None:
        _sqlite_values = _SqliteValues(
            date_text=driver.driver_value(conn.dialect, transactions.c.date),
            datetime_text=driver.driver_value(conn.dialect, transactions.c.created_at),
        )
    return _sqlite_values


def _sqlite_insert(
    conn: Connection, table: Table, columns: tuple[str, ...], *, returning_id: bool = False
) -> str:
    """INSERT of `columns` (parameters in that order); the table's other columns are NULL."""
    key = (table.name, columns, returning_id)
    sql = _sqlite_inserts.get(key)
    if sql is None:
        statement: Any = insert(table).values({c: bindparam(c) for c in columns})
        if returning_id:
            statement = statement.returning(table.c.id)
        sql = _sqlite_inserts[key] = _compile_positional(conn, statement, columns)
    return sql


def _date_texts(
    conn: Connection, txns: Sequence[Transaction]
) -> Mapping[datetime.date, datetime.date | str]:
    """What the driver is given for each date: SQLite's text (converted once per day)."""
    days = {txn.date for txn in txns}
    if conn.dialect.name != "sqlite":
        return {d: d for d in days}
    date_text = _sqlite(conn).date_text
    return {d: date_text(d) for d in days}


def insert_transactions(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    created_by: str | None,
    reverses_id: int | None,
    now: datetime.datetime,
    hashes: Sequence[str],
) -> list[int]:
    """Insert the transaction rows (`hashes`: their `chain_hash`, in order) and their labels."""
    rows = (conn, book_id, txns, created_by, reverses_id, now, hashes)
    if conn.dialect.name == "sqlite":
        ids = _insert_transaction_rows_sqlite(*rows)
    else:
        ids = _insert_transaction_rows_core(*rows)
    assert len(ids) == len(txns)
    _insert_labels(conn, book_id, ids, txns)
    return ids


def _insert_transaction_rows_sqlite(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    created_by: str | None,
    reverses_id: int | None,
    now: datetime.datetime,
    hashes: Sequence[str],
) -> list[int]:
    created_at = _sqlite(conn).datetime_text(now)
    days = _date_texts(conn, txns)
    # Columns after the narration, in the table's order, naming only those with a value.
    tail = tuple(
        (name, value)
        for name, value in (
            ("reverses_id", reverses_id),
            ("created_at", created_at),
            ("created_by", created_by),
        )
        if value is not None
    )
    tail_columns = tuple(name for name, _ in tail)
    tail_values = tuple(value for _, value in tail)
    if len(txns) == 1:
        txn = txns[0]
        if txn.payee is None:
            columns = ("book_id", "date", "narration", *tail_columns, "chain_hash")
            row = (book_id, days[txn.date], txn.narration, *tail_values, hashes[0])
        else:
            columns = ("book_id", "date", "payee", "narration", *tail_columns, "chain_hash")
            row = (book_id, days[txn.date], txn.payee, txn.narration, *tail_values, hashes[0])
        sql = _sqlite_insert(conn, transactions, columns, returning_id=True)
        [(txn_id,)] = driver.execute(conn, sql, row)
        return [int(txn_id)]
    # The write transaction holds SQLite's single write lock from here to COMMIT (and a stale
    # snapshot cannot take it), so the ids after the current maximum are ours alone.
    [(max_id,)] = driver.fetch_all(conn, _MAX_TRANSACTION_ID)
    first_id = int(max_id) + 1
    without_payee: list[tuple[object, ...]] = []
    with_payee: list[tuple[object, ...]] = []
    for txn_id, txn, link in zip(range(first_id, first_id + len(txns)), txns, hashes, strict=True):
        day = days[txn.date]
        if txn.payee is None:
            without_payee.append((txn_id, book_id, day, txn.narration, *tail_values, link))
        else:
            with_payee.append((txn_id, book_id, day, txn.payee, txn.narration, *tail_values, link))
    for shape, rows in (
        (("id", "book_id", "date", "narration", *tail_columns, "chain_hash"), without_payee),
        (("id", "book_id", "date", "payee", "narration", *tail_columns, "chain_hash"), with_payee),
    ):
        if rows:
            driver.execute_many(conn, _sqlite_insert(conn, transactions, shape), rows)
    return list(range(first_id, first_id + len(txns)))


def _insert_transaction_rows_core(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    created_by: str | None,
    reverses_id: int | None,
    now: datetime.datetime,
    hashes: Sequence[str],
) -> list[int]:
    rows = [
        {
            "book_id": book_id,
            "date": txn.date,
            "payee": txn.payee,
            "narration": txn.narration,
            "reverses_id": reverses_id,
            "created_at": now,
            "created_by": created_by,
            "chain_hash": link,
        }
        for txn, link in zip(txns, hashes, strict=True)
    ]
    if len(rows) == 1:
        result = conn.execute(insert(transactions).returning(transactions.c.id), rows[0])
        return [int(result.scalar_one())]
    result = conn.execute(
        insert(transactions).returning(transactions.c.id, sort_by_parameter_order=True), rows
    )
    ids = [int(i) for i in result.scalars()]
    # The chain runs in id order: the hashes were made in the order given.
    if any(later <= earlier for earlier, later in itertools.pairwise(ids)):
        raise RuntimeError(f"transaction ids not ascending in the order posted: {ids}")
    return ids


def _insert_labels(
    conn: Connection, book_id: int, ids: Sequence[int], txns: Sequence[Transaction]
) -> None:
    labels = [
        (
            transaction_tags,
            "tag",
            [(i, t) for i, txn in zip(ids, txns, strict=True) for t in set(txn.tags)],
        ),
        (
            transaction_links,
            "link",
            [(i, k) for i, txn in zip(ids, txns, strict=True) for k in set(txn.links)],
        ),
    ]
    for table, column, pairs in labels:
        if pairs:
            conn.execute(
                insert(table),
                [{"transaction_id": i, column: v, "book_id": book_id} for i, v in pairs],
            )
    meta_rows = [
        {"transaction_id": i, "key": k, "value": v, "book_id": book_id}
        for i, txn in zip(ids, txns, strict=True)
        for k, v in dict(txn.meta).items()
    ]
    if meta_rows:
        conn.execute(insert(transaction_meta), meta_rows)


def insert_postings(
    conn: Connection,
    book_id: int,
    ids: Sequence[int],
    txns: Sequence[Transaction],
    found: Mapping[str, AccountForPosting],
    precisions: Mapping[str, int],
) -> dict[tuple[int, str], int]:
    """Insert every posting; return the change in balance per (account id, commodity)."""
    shapes, deltas = posting_rows(conn, book_id, ids, txns, found, precisions)
    for shape, rows in shapes.items():
        if not rows:
            continue
        if conn.dialect.name == "sqlite":
            driver.execute_many(conn, _sqlite_insert(conn, postings, shape), rows)
        else:
            conn.execute(insert(postings), [dict(zip(shape, r, strict=True)) for r in rows])
    return deltas


# Every column of a posting but its transaction's id, in the table's order.
POSTING_COLUMNS = (
    "book_id",
    "account_id",
    "date",
    "position",
    "commodity",
    "units",
    "price_commodity",
    "price_per_unit",
    "price_total",
    "weight_commodity",
    "weight",
)


def posting_rows(
    conn: Connection,
    book_id: int,
    ids: Sequence[int],
    txns: Sequence[Transaction],
    found: Mapping[str, AccountForPosting],
    precisions: Mapping[str, int],
) -> tuple[dict[tuple[str, ...], list[tuple[object, ...]]], dict[tuple[int, str], int]]:
    """The posting rows per shape (the columns named), and the change in balance per
    (account id, commodity)."""
    days = _date_texts(conn, txns)
    account_ids = {name: account.id for name, account in found.items()}
    unpriced: list[tuple[object, ...]] = []
    per_unit_priced: list[tuple[object, ...]] = []
    total_priced: list[tuple[object, ...]] = []
    deltas: dict[tuple[int, str], int] = {}
    for txn_id, txn in zip(ids, txns, strict=True):
        day = days[txn.date]
        for position, posting in enumerate(txn.postings):
            account_id = account_ids[posting.account]
            commodity = posting.commodity
            units = posting.units
            price = posting.price
            if price is None:
                unpriced.append(
                    (txn_id, book_id, account_id, day, position, commodity, units, commodity, units)
                )
            else:
                weighed = weight(posting, precisions)
                assert weighed is not None
                keys = (txn_id, book_id, account_id, day, position, commodity, units)
                if price.per_unit is not None:
                    per_unit = format(price.per_unit, "f")
                    per_unit_priced.append((*keys, price.commodity, per_unit, *weighed))
                else:
                    total_priced.append((*keys, price.commodity, price.total, *weighed))
            key = (account_id, commodity)
            deltas[key] = deltas.get(key, 0) + units
    shapes = {_UNPRICED: unpriced, _PER_UNIT_PRICED: per_unit_priced, _TOTAL_PRICED: total_priced}
    return shapes, deltas


def balance_upsert_statement(dialect_name: str, rows: int) -> ReturningInsert[Any]:
    """Upsert `rows` balance rows in one statement, returning each row's new units."""
    upsert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    statement = upsert(balances).values(
        [
            {
                "account_id": bindparam(f"account_id_{i}"),
                "commodity": bindparam(f"commodity_{i}"),
                "book_id": bindparam(f"book_id_{i}"),
                "units": bindparam(f"units_{i}"),
            }
            for i in range(rows)
        ]
    )
    return statement.on_conflict_do_update(
        index_elements=[balances.c.account_id, balances.c.commodity],
        set_={"units": balances.c.units + statement.excluded.units},
    ).returning(balances.c.account_id, balances.c.commodity, balances.c.units)


# Balance rows per upsert statement: far inside SQLite's 32,766 parameters.
_UPSERT_ROWS_MAX = 256
# Built (and on SQLite compiled) once per dialect and row count.
_balance_upserts: dict[tuple[str, int], ReturningInsert[Any]] = {}
_sqlite_balance_upserts: dict[int, str] = {}


def upsert_balances(
    conn: Connection, book_id: int, changes: Sequence[tuple[tuple[int, str], int]]
) -> dict[tuple[int, str], int]:
    """Add each delta to its balance row (created if missing); the new units per key.

    One statement per `_UPSERT_ROWS_MAX` rows. Rows are written in the order given (sorted by
    the caller), so row locks on PostgreSQL are taken in that order.
    """
    dialect_name = conn.dialect.name
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(changes), _UPSERT_ROWS_MAX):
        part = changes[start : start + _UPSERT_ROWS_MAX]
        key = (dialect_name, len(part))
        statement = _balance_upserts.get(key)
        if statement is None:
            statement = _balance_upserts[key] = balance_upsert_statement(dialect_name, len(part))
        if dialect_name == "sqlite":
            sql = _sqlite_balance_upserts.get(len(part))
            if sql is None:
                names = [
                    f"{column}_{i}"
                    for i in range(len(part))
                    for column in ("account_id", "commodity", "book_id", "units")
                ]
                sql = _compile_positional(conn, statement, names)
                _sqlite_balance_upserts[len(part)] = sql
            flat = [v for (a, c), d in part for v in (a, c, book_id, d)]
            result: Any = driver.execute(conn, sql, tuple(flat))
        else:
            parameters: dict[str, Any] = {}
            for i, ((account_id, commodity), delta) in enumerate(part):
                parameters[f"account_id_{i}"] = account_id
                parameters[f"commodity_{i}"] = commodity
                parameters[f"book_id_{i}"] = book_id
                parameters[f"units_{i}"] = delta
            result = conn.execute(statement, parameters)
        for account_id, commodity, units in result:
            found[(account_id, commodity)] = int(units)
    return found


# -- the read-back and balance assertions ----------------------------------------------------------

# The read-back of `journal.check_stored_balanced`: the first (transaction, commodity) whose
# stored weights do not sum to zero, among a range of transaction ids.
UNBALANCED_IN_RANGE = (
    select(postings.c.transaction_id, postings.c.weight_commodity, func.sum(postings.c.weight))
    .where(postings.c.transaction_id.between(bindparam("first_id"), bindparam("last_id")))
    .group_by(postings.c.transaction_id, postings.c.weight_commodity)
    .having(func.sum(postings.c.weight) != 0)
    .limit(1)
)


_ASSERTION_ID = select(balance_assertions.c.id).where(
    and_(
        balance_assertions.c.account_id == bindparam("account_id"),
        balance_assertions.c.commodity == bindparam("commodity"),
        balance_assertions.c.date == bindparam("date"),
    )
)


def record_balance_assertion(
    conn: Connection,
    book_id: int,
    account_id: int,
    commodity: str,
    date: datetime.date,
    units: int,
) -> int:
    """The id of the balance assertion of (account, commodity, date): the one recorded
    already, or a new row. The caller has checked `units` against the ledger."""
    duplicate = conn.execute(
        _ASSERTION_ID, {"account_id": account_id, "commodity": commodity, "date": date}
    ).first()
    if duplicate:
        return int(duplicate.id)
    result = conn.execute(
        insert(balance_assertions)
        .values(
            book_id=book_id,
            account_id=account_id,
            commodity=commodity,
            date=date,
            units=units,
            created_at=utc_now(),
        )
        .returning(balance_assertions.c.id)
    )
    return int(result.scalar_one())
