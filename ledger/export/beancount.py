"""The Beancount export of one book: its rows streamed out of the database, printed.

`export_book` reads the tables in keyset batches of `EXPORT_BATCH_SIZE` rows, and the
transactions through the driver's streaming cursor, so its memory stays flat however large
the book grows, and yields the text in chunks (one per batch). The text itself comes from the
pure printer, `ledger.export.beancount_printer`, which says how the ledger's meaning is
carried over. The balances Beancount computes from the output equal the ledger's own (design
invariant 9).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from ledger.core.errors import LedgerRejected, not_found
from ledger.export.beancount_printer import (
    COMMODITY_DATE_DEFAULT,
    BudgetSpan,
    ExportAssertion,
    PostingRow,
    format_assertion,
    format_budgets,
    format_close,
    format_commodity,
    format_header,
    format_open,
    format_price,
    format_transaction,
    one_direction,
    posting_price,
)
from ledger.store.driver import DriverStatement, stream_rows
from ledger.store.prices import book_prices
from ledger.store.tables import (
    accounts,
    awards,
    balance_assertions,
    books,
    budget_lines,
    commodities,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)

# Rows read per query: bounds memory, and each batch's text is one yielded chunk.
EXPORT_BATCH_SIZE = 1_000
EXPORT_BATCH_SIZE_MAX = 10_000


# -- reading rows in keyset batches -----------------------------------------------------------


def _keyset_batches(
    conn: Connection,
    statement: Select[Any],
    first: ColumnElement[Any],
    second: ColumnElement[Any],
    batch_size: int,
) -> Iterator[Sequence[Row[Any]]]:
    """The rows of `statement` ordered by (first, second), which must be unique, in batches."""
    after: tuple[Any, Any] | None = None
    while True:
        query = statement
        if after is not None:
            # A row-value comparison: both dialects range-scan an index on (.., first, second).
            query = query.where(tuple_(first, second) > tuple_(*after))
        rows = conn.execute(query.order_by(first, second).limit(batch_size)).all()
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1]._mapping
        after = (last[first], last[second])


def _book_row(conn: Connection, book_code: str) -> Row[Any]:
    row = conn.execute(
        select(books.c.id, books.c.name, books.c.operating_currency, books.c.kind).where(
            books.c.code == book_code
        )
    ).first()
    if row is None:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    return row


def _commodity_directives(conn: Connection, *book_ids: int) -> str:
    earliest = conn.execute(
        select(func.min(accounts.c.open_date)).where(accounts.c.book_id.in_(book_ids))
    ).scalar_one()
    date = min(COMMODITY_DATE_DEFAULT, earliest) if earliest else COMMODITY_DATE_DEFAULT
    return "".join(
        format_commodity(date, code, precision, name)
        for code, precision, name in conn.execute(
            select(commodities.c.code, commodities.c.precision, commodities.c.name).order_by(
                commodities.c.code
            )
        )
    )


# Renames a book's accounts in the organisation's combined file (`book_accounts_renamed`).
Rename = Callable[[str], str]


def _same(name: str) -> str:
    return name


def _open_directives(
    conn: Connection, book_id: int, batch_size: int, rename: Rename = _same
) -> Iterator[str]:
    statement = select(accounts.c.open_date, accounts.c.name, accounts.c.currencies).where(
        accounts.c.book_id == book_id
    )
    for rows in _keyset_batches(conn, statement, accounts.c.open_date, accounts.c.name, batch_size):
        yield "".join(
            format_open(r.open_date, rename(r.name), r.currencies.split() if r.currencies else ())
            for r in rows
        )


def _close_directives(
    conn: Connection, book_id: int, batch_size: int, rename: Rename = _same
) -> Iterator[str]:
    statement = select(accounts.c.close_date, accounts.c.name).where(
        and_(accounts.c.book_id == book_id, accounts.c.close_date.is_not(None))
    )
    for rows in _keyset_batches(
        conn, statement, accounts.c.close_date, accounts.c.name, batch_size
    ):
        yield "".join(format_close(r.close_date, rename(r.name)) for r in rows)


# -- the transactions: driver rows streamed in (date, id) order ------------------------------
#
# The export's hot path. One query streams the book's transactions (`TransactionRow`) in
# (date, id) order, one its postings (`PostingRow`) in the same order and by position within a
# transaction (postings carry their transaction's date and book), and three more the tags,
# links and metadata, walked alongside. Rows are the driver's own tuples, read through a
# server-side cursor on PostgreSQL (`ledger.store.driver.stream_rows`): no SQLAlchemy result
# processing and no object per row, and dates stay ISO text (SQLite stores them so; PostgreSQL
# is asked for `to_char(date, 'YYYY-MM-DD')`).

_reversal = transactions.alias("reversal")


class ExportStreamsMismatchError(RuntimeError):
    """Postings streamed out of step with their transactions: stored rows disagree, a bug."""


def _date_text(column: ColumnElement[Any], dialect: Dialect) -> ColumnElement[Any]:
    """`column` (a Date) as ISO text: SQLite stores it so, PostgreSQL formats it."""
    if dialect.name == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM-DD'"))
    return column


def _transaction_rows(dialect: Dialect) -> Select[Any]:
    """Every transaction of the book as a `TransactionRow`, in (date, id) order."""
    return (
        select(
            transactions.c.id,
            _date_text(transactions.c.date, dialect),
            transactions.c.payee,
            transactions.c.narration,
            transactions.c.reverses_id,
            transactions.c.created_by,
            _reversal.c.id,
        )
        .select_from(
            transactions.outerjoin(_reversal, _reversal.c.reverses_id == transactions.c.id)
        )
        .where(transactions.c.book_id == bindparam("book_id"))
        .order_by(transactions.c.date, transactions.c.id)
    )


def _posting_rows() -> Select[Any]:
    """Every posting of the book as a `PostingRow`, in (date, transaction id, position) order."""
    return (
        select(
            postings.c.transaction_id,
            accounts.c.name,
            postings.c.units,
            postings.c.commodity,
            postings.c.price_commodity,
            postings.c.price_per_unit,
            postings.c.price_total,
        )
        .select_from(postings.join(accounts, accounts.c.id == postings.c.account_id))
        .where(postings.c.book_id == bindparam("book_id"))
        .order_by(postings.c.date, postings.c.transaction_id, postings.c.position)
    )


def _label_rows(dialect: Dialect, table: Any, *columns: ColumnElement[Any]) -> Select[Any]:
    """(date, transaction id, *columns) of a label table for one book, in (date, id) order."""
    return (
        select(_date_text(transactions.c.date, dialect), transactions.c.id, *columns)
        .select_from(table.join(transactions, transactions.c.id == table.c.transaction_id))
        .where(transactions.c.book_id == bindparam("book_id"))
        .order_by(transactions.c.date, transactions.c.id)
    )


@dataclass(frozen=True, slots=True)
class _ExportStatements:
    transactions: DriverStatement
    postings: DriverStatement
    tags: DriverStatement
    links: DriverStatement
    meta: DriverStatement


# Compiled once per dialect: they depend only on the tables.
_export_statements: dict[str, _ExportStatements] = {}


def _statements(dialect: Dialect) -> _ExportStatements:
    statements = _export_statements.get(dialect.name)
    if statements is None:
        meta = _label_rows(
            dialect, transaction_meta, transaction_meta.c.key, transaction_meta.c.value
        )
        statements = _export_statements[dialect.name] = _ExportStatements(
            transactions=DriverStatement.compile(dialect, _transaction_rows(dialect)),
            postings=DriverStatement.compile(dialect, _posting_rows()),
            tags=DriverStatement.compile(
                dialect, _label_rows(dialect, transaction_tags, transaction_tags.c.tag)
            ),
            links=DriverStatement.compile(
                dialect, _label_rows(dialect, transaction_links, transaction_links.c.link)
            ),
            meta=DriverStatement.compile(dialect, meta),
        )
    return statements


class _Labels:
    """One label stream, (date, id, *values) rows, walked alongside the transactions.

    Both streams are in (date, id) order, so the labels of a transaction are the rows at the
    head of this stream when the transaction comes; `value` picks what to return of each.
    """

    __slots__ = ("_head", "_rows", "_value")

    def __init__(self, rows: Iterator[tuple[Any, ...]], value: Callable[[Any], Any]) -> None:
        self._rows = rows
        self._value = value
        self._head: tuple[Any, ...] | None = next(rows, None)

    def take(self, date: str, transaction_id: int) -> Sequence[Any]:
        head = self._head
        # Most transactions have no labels: the head belongs to a later day, or none is left.
        if head is None or head[0] > date:
            return ()
        taken = []
        while head is not None and (head[0], head[1]) <= (date, transaction_id):
            if head[1] == transaction_id:
                taken.append(self._value(head))
            head = next(self._rows, None)
        self._head = head
        return taken


def _transaction_entries(
    conn: Connection,
    book_id: int,
    precisions: Mapping[str, int],
    batch_size: int,
    kept_prices: frozenset[tuple[str, str, str]] = frozenset(),
    rename: Rename | None = None,
) -> Iterator[str]:
    """Transactions in (date, id) order, each followed by the prices it is first to show
    (in one direction, and none the book's kept prices show that day already: `kept_prices`
    holds (date, commodity, quote) as `_price_directives` prints them); yielded in chunks of
    `batch_size` transactions."""
    statements = _statements(conn.dialect)
    values = {"book_id": book_id}
    tags = _Labels(stream_rows(conn, statements.tags, values), itemgetter(2))
    links = _Labels(stream_rows(conn, statements.links, values), itemgetter(2))
    meta = _Labels(stream_rows(conn, statements.meta, values), itemgetter(2, 3))
    by_transaction = groupby(stream_rows(conn, statements.postings, values), itemgetter(0))
    # Prices are de-duplicated per (date, commodity, currency); transactions come in date
    # order, so remembering the current day's keys is enough (memory stays flat).
    price_day: str | None = None
    priced_today: set[tuple[str, str]] = set()
    chunk: list[str] = []
    in_chunk = 0
    for txn in stream_rows(conn, statements.transactions, values):
        txn_id, date = txn[0], txn[1]
        posting_txn_id, group = next(by_transaction, (None, None))
        rows: list[PostingRow] = list(group or ())
        if rename is not None:
            rows = [(r[0], rename(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]
        if posting_txn_id != txn_id or len(rows) < 2:
            raise ExportStreamsMismatchError(
                f"transaction {txn_id}: {len(rows)} postings streamed for {posting_txn_id}"
            )
        chunk.append(
            format_transaction(
                txn,
                rows,
                tags.take(date, txn_id),
                links.take(date, txn_id),
                meta.take(date, txn_id),
                precisions,
            )
        )
        if date != price_day:
            price_day, priced_today = date, set()
        prices = []
        for row in rows:
            if row[4] is None:
                continue
            priced = posting_price(row, precisions)
            assert priced is not None
            commodity, rate, price_commodity = priced
            pair = (commodity, price_commodity)
            if pair in priced_today or (date, *pair) in kept_prices:
                continue
            priced_today.add(pair)
            prices.append(format_price(date, commodity, rate, price_commodity))
        if prices:
            chunk.extend(prices)
            chunk.append("\n")
        in_chunk += 1
        if in_chunk == batch_size:
            yield "".join(chunk)
            chunk, in_chunk = [], 0
    leftover, _ = next(by_transaction, (None, None))
    if leftover is not None:
        raise ExportStreamsMismatchError(f"postings of transaction {leftover} left over")
    if chunk:
        yield "".join(chunk)


def _sub_account_units(
    conn: Connection, book_id: int, account: str, commodity: str, date: datetime.date
) -> int | None:
    """Units of `commodity` in the sub-accounts of `account` up to `date`; None without any."""
    total = conn.execute(
        select(func.sum(postings.c.units))
        .select_from(postings.join(accounts, accounts.c.id == postings.c.account_id))
        .where(
            and_(
                accounts.c.book_id == book_id,
                accounts.c.name.startswith(account + ":", autoescape=True),
                postings.c.commodity == commodity,
                postings.c.date <= date,
            )
        )
    ).scalar_one()
    return None if total is None else int(total)


def _balance_directives(
    conn: Connection,
    book_id: int,
    precisions: Mapping[str, int],
    batch_size: int,
    rename: Rename = _same,
) -> Iterator[str]:
    statement = (
        select(
            balance_assertions.c.id,
            balance_assertions.c.date,
            balance_assertions.c.commodity,
            balance_assertions.c.units,
            accounts.c.name,
            accounts.c.close_date,
            accounts.c.currencies,
        )
        .join(accounts, accounts.c.id == balance_assertions.c.account_id)
        .where(balance_assertions.c.book_id == book_id)
    )
    for rows in _keyset_batches(
        conn, statement, balance_assertions.c.date, balance_assertions.c.id, batch_size
    ):
        yield "".join(
            format_assertion(
                ExportAssertion(
                    account=rename(r.name),
                    commodity=r.commodity,
                    date=r.date,
                    units=int(r.units),
                    close_date=r.close_date,
                    currencies=tuple(r.currencies.split()) if r.currencies else (),
                    sub_account_units=_sub_account_units(
                        conn, book_id, r.name, r.commodity, r.date
                    ),
                ),
                precisions,
            )
            for r in rows
        )


def _budget_spans(
    conn: Connection, book_id: int, precisions: Mapping[str, int]
) -> list[BudgetSpan]:
    """Every budget line of the book's awards, for Fava's budget view."""
    rows = conn.execute(
        select(
            awards.c.code.label("award"),
            budget_lines.c.code,
            budget_lines.c.expense_account,
            awards.c.currency,
            budget_lines.c.amount,
            awards.c.start_date,
            awards.c.end_date,
        )
        .join(awards, awards.c.id == budget_lines.c.award_id)
        .where(awards.c.book_id == book_id)
        .order_by(awards.c.code, budget_lines.c.code)
    )
    return [
        BudgetSpan(
            r.award,
            r.code,
            r.expense_account,
            r.currency,
            int(r.amount),
            precisions[r.currency],
            r.start_date,
            r.end_date,
        )
        for r in rows
    ]


# -- the export -------------------------------------------------------------------------------


def _precisions(conn: Connection) -> dict[str, int]:
    return {
        code: precision
        for code, precision in conn.execute(select(commodities.c.code, commodities.c.precision))
    }


def export_book(
    conn: Connection, book_code: str, *, batch_size: int = EXPORT_BATCH_SIZE
) -> Iterator[str]:
    """The Beancount text of one book, in chunks; memory stays flat in the size of the book.

    Run it inside one read transaction so that the chunks come from one state of the book.
    Raises `LedgerRejected` (book_not_found) before yielding anything for an unknown book.
    """
    if not 1 <= batch_size <= EXPORT_BATCH_SIZE_MAX:
        raise ValueError(f"batch_size is between 1 and {EXPORT_BATCH_SIZE_MAX}")
    book = _book_row(conn, book_code)
    precisions = _precisions(conn)
    yield format_header(book_code, book.name, book.operating_currency, precisions)
    yield _commodity_directives(conn, book.id) + "\n"
    yield from _book_entries(conn, book.id, precisions, batch_size, _same)


def _book_entries(
    conn: Connection,
    book_id: int,
    precisions: Mapping[str, int],
    batch_size: int,
    rename: Rename,
) -> Iterator[str]:
    """Everything of one book after the header and the commodities, its accounts renamed."""
    yield from _open_directives(conn, book_id, batch_size, rename)
    yield "\n"
    spans = [
        replace(s, account=rename(s.account)) for s in _budget_spans(conn, book_id, precisions)
    ]
    budgets = format_budgets(spans)
    if budgets:
        yield budgets + "\n"
    kept = [(*one_direction(row.commodity, row.rate, row.quote), row.date)
            for row in book_prices(conn, book_id)]  # fmt: skip
    if kept:
        yield "".join(format_price(d.isoformat(), c, r, q) for c, r, q, d in kept) + "\n"
    kept_pairs = frozenset((d.isoformat(), c, q) for c, _r, q, d in kept)
    yield from _transaction_entries(
        conn, book_id, precisions, batch_size, kept_pairs, None if rename is _same else rename
    )
    yield from _balance_directives(conn, book_id, precisions, batch_size, rename)
    yield "\n"
    yield from _close_directives(conn, book_id, batch_size, rename)


def book_accounts_renamed(book_code: str) -> Rename:
    """How a book's accounts are named in the organisation's combined file: the book's code,
    in capitals, after the root (`Assets:Cash` of `hh-dv-009` is `Assets:HH-DV-009:Cash`), so
    that the books' accounts never merge, and each stays under its own root (a savings
    group's savings are still its liabilities, a household's income still income)."""
    component = book_code.upper()

    def rename(name: str) -> str:
        root, _, rest = name.partition(":")
        return f"{root}:{component}:{rest}" if rest else f"{root}:{component}"

    return rename


def export_organisation(
    conn: Connection, title: str, book_codes: Sequence[str], *, batch_size: int = EXPORT_BATCH_SIZE
) -> Iterator[str]:
    """One Beancount file of several books (those a user may see), for Fava.

    The first organisation book keeps its accounts' names, so its budget lines show in
    Fava's budget view as they are; every other book's accounts carry the book's code
    (`book_accounts_renamed`). Each book's part is exactly its own export (the same
    transactions, prices, budgets, balance assertions), so Beancount's balances of the
    file are the books' balances, account by renamed account. A household's or a savings
    group's book is a memorandum: its money is not the organisation's, which the accounts'
    names say.
    """
    if not 1 <= batch_size <= EXPORT_BATCH_SIZE_MAX:
        raise ValueError(f"batch_size is between 1 and {EXPORT_BATCH_SIZE_MAX}")
    rows = [_book_row(conn, code) for code in book_codes]
    kinds = [
        conn.execute(select(books.c.kind).where(books.c.id == r.id)).scalar_one() for r in rows
    ]
    main = next((i for i, kind in enumerate(kinds) if kind == "organisation"), None)
    precisions = _precisions(conn)
    currency = rows[main].operating_currency if main is not None else "USD"
    yield format_header("organisation", title, currency, precisions)
    yield _commodity_directives(conn, *(r.id for r in rows)) + "\n"
    for index, (code, row) in enumerate(zip(book_codes, rows, strict=True)):
        yield f"; ---- book {code} ({kinds[index]}): {row.name}\n"
        rename = _same if index == main else book_accounts_renamed(code)
        yield from _book_entries(conn, row.id, precisions, batch_size, rename)
