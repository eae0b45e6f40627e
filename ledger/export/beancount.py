"""Beancount text of one book: a pure printer over the stored rows, streamed.

`export_book` reads the tables in keyset batches of `EXPORT_BATCH_SIZE` rows, so its memory
stays flat however large the book grows, and yields the text in chunks (one per batch).
The output loads in Beancount 3 with zero errors for every book the journal accepts, and the
balances Beancount computes from it equal the ledger's own (design invariant 9).

How the ledger's meaning is carried over, where Beancount's differs (each checked against
Beancount 3.2 itself):

- A `close` sorts after the transactions of its day, so `close` on the account's close_date
  accepts the postings dated that day and refuses later ones: exactly the journal's rule.
- Our balance assertion holds at the END of its date; Beancount's `balance` holds at the
  START of its date, so it is written dated one day later. Beancount checks a `balance`
  against the account AND its sub-accounts, so the sub-accounts' units up to that day are
  added, and it tolerates half a digit unless told otherwise, so `~ 0` makes it exact.
  An assertion Beancount cannot check (dated on or after the account's close, or in a
  currency the account's `open` does not list) is written as a comment.
- A reversal and its original share the link `^reversal-<original id>`, derived from
  `transactions.reverses_id` (rows are append-only: nothing is stored on the original).
- Strings escape `\\` and `"` only; newlines, carriage returns, tabs and Khmer are read back
  unchanged by Beancount's lexer.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
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

from ledger.core.amount import format_units, units_to_decimal
from ledger.core.errors import LedgerRejected, not_found
from ledger.store.driver import DriverStatement, stream_rows
from ledger.store.prices import book_prices
from ledger.store.tables import (
    accounts,
    balance_assertions,
    books,
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
# Significant digits of a rate derived from a total price (total / units).
PRICE_RATE_DIGITS = 12
# Commodities are declared on this date, or on the book's earliest open date if earlier.
COMMODITY_DATE_DEFAULT = datetime.date(1970, 1, 1)
REVERSAL_LINK_PREFIX = "reversal-"


# -- pure printing --------------------------------------------------------------------------


def escape_string(s: str) -> str:
    """The body of a Beancount string literal that reads back as exactly `s`."""
    return s.replace("\\", "\\\\").replace('"', '\\"')


def quote(s: str) -> str:
    return f'"{escape_string(s)}"'


def format_decimal(number: Decimal) -> str:
    """Plain positional text, never exponent notation ("1E-7" -> "0.0000001")."""
    return format(number, "f")


# The export prints from plain tuples, as the database driver returns them (no object per row:
# at a million postings that is most of the cost). Their columns, by position:
#
# A transaction row:
#    0  id                 int
#    1  date               str, ISO "YYYY-MM-DD" (printed as it is, never parsed)
#    2  payee              str | None
#    3  narration          str
#    4  reverses_id        int | None   the original, when this transaction is a reversal
#    5  created_by         str | None
#    6  reversed_by        int | None   the reversal, when this transaction has one
TransactionRow = tuple[int, str, str | None, str, int | None, str | None, int | None]
# A posting row:
#    0  transaction id     int
#    1  account            str
#    2  units              int          smallest units of the commodity
#    3  commodity          str
#    4  price_commodity    str | None
#    5  price_per_unit     str | None   exact decimal text, as stored
#    6  price_total        int | None   smallest units of price_commodity, positive
PostingRow = tuple[int, str, int, str, str | None, str | None, int | None]


def price_rate(posting: PostingRow, precisions: Mapping[str, int]) -> Decimal | None:
    """What one unit of the posting's commodity costs in its price commodity, if priced."""
    _txn_id, _account, units, commodity, price_commodity, per_unit, total = posting
    if price_commodity is None:
        return None
    if per_unit is not None:
        return Decimal(per_unit)
    assert total is not None, "a priced posting has a per-unit or a total price"
    assert units != 0
    with localcontext() as context:
        context.prec = PRICE_RATE_DIGITS
        rate = units_to_decimal(total, precisions[price_commodity]) / units_to_decimal(
            abs(units), precisions[commodity]
        )
    return rate.normalize()


def format_posting(posting: PostingRow, precisions: Mapping[str, int]) -> str:
    """The posting's line: account, units and any price (`@` per unit, `@@` in total)."""
    _txn_id, account, units, commodity, price_commodity, per_unit, total = posting
    text = f"  {account}  {format_units(units, precisions[commodity])} {commodity}"
    if price_commodity is None:
        return text + "\n"
    if per_unit is not None:
        return f"{text} @ {format_decimal(Decimal(per_unit))} {price_commodity}\n"
    assert total is not None
    return f"{text} @@ {format_units(total, precisions[price_commodity])} {price_commodity}\n"


def format_transaction(
    txn: TransactionRow,
    postings: Iterable[PostingRow],
    tags: Collection[str],
    links: Collection[str],
    meta: Collection[tuple[str, str]],
    precisions: Mapping[str, int],
) -> str:
    """One transaction as Beancount text, ending with a blank line.

    Tags, links and metadata may come in any order; they are printed sorted.
    """
    txn_id, date, payee, narration, reverses_id, created_by, reversed_by = txn
    if payee is None:
        text = f"{date} * {quote(narration)}"
    else:
        text = f"{date} * {quote(payee)} {quote(narration)}"
    if tags:
        text += "".join(f" #{tag}" for tag in sorted(set(tags)))
    if links or reverses_id is not None or reversed_by is not None:
        names = set(links)
        if reverses_id is not None:
            names.add(f"{REVERSAL_LINK_PREFIX}{reverses_id}")
        if reversed_by is not None:
            names.add(f"{REVERSAL_LINK_PREFIX}{txn_id}")
        text += "".join(f" ^{link}" for link in sorted(names))
    text += f'\n  id: "{txn_id}"\n'
    if created_by is not None:
        text += f"  created-by: {quote(created_by)}\n"
    if reverses_id is not None:
        text += f'  reverses: "{reverses_id}"\n'
    if meta:
        # Keys are valid Beancount keys already (ledger.core.transaction.META_KEY_RE).
        text += "".join(f"  {key}: {quote(value)}\n" for key, value in sorted(meta))
    return text + "".join([format_posting(posting, precisions) for posting in postings]) + "\n"


def format_price(date: str, commodity: str, rate: Decimal, price_commodity: str) -> str:
    return f"{date} price {commodity} {format_decimal(rate)} {price_commodity}\n"


def format_tolerance_options(precisions: Mapping[str, int]) -> str:
    """Half a smallest unit of tolerance for every commodity, as Beancount infers for decimals.

    Beancount reads `@@ total` as a per-unit price rounded to 28 digits, so the weight it
    recomputes is off by a hair (1e-26 PIG). It forgives that with a tolerance inferred from
    the digits after the point, but infers none from whole numbers: a transaction weighed
    only in riel or in head of livestock would fail. A one-unit error is still caught.
    """
    return "".join(
        f'option "inferred_tolerance_default" '
        f'"{code}:{format_decimal(Decimal(5).scaleb(-(precision + 1)))}"\n'
        for code, precision in sorted(precisions.items())
    )


def format_open(open_date: datetime.date, account: str, currencies: Sequence[str]) -> str:
    suffix = f" {','.join(currencies)}" if currencies else ""
    return f"{open_date.isoformat()} open {account}{suffix}\n"


def format_close(close_date: datetime.date, account: str) -> str:
    return f"{close_date.isoformat()} close {account}\n"


@dataclass(frozen=True, slots=True)
class ExportAssertion:
    """A stored balance assertion: `units` of `commodity` in `account` at the end of `date`."""

    account: str
    commodity: str
    date: datetime.date
    units: int
    close_date: datetime.date | None
    currencies: tuple[str, ...]
    sub_account_units: int | None  # the sub-accounts' units up to `date`, if they have any


def format_assertion(assertion: ExportAssertion, precisions: Mapping[str, int]) -> str:
    """A `balance` directive the next morning, or a comment when Beancount cannot check it."""
    precision = precisions[assertion.commodity]
    own = f"{format_units(assertion.units, precision)} {assertion.commodity}"
    where = f"{assertion.account} {own} at the end of {assertion.date.isoformat()}"
    if assertion.close_date is not None and assertion.date >= assertion.close_date:
        return (
            f"; balance assertion {where}: not checkable by Beancount, the account closed on"
            f" {assertion.close_date.isoformat()}\n"
        )
    if assertion.currencies and assertion.commodity not in assertion.currencies:
        return (
            f"; balance assertion {where}: not checkable by Beancount, the account's open"
            " directive does not list this currency\n"
        )
    if assertion.date == datetime.date.max:
        return f"; balance assertion {where}: no later day to check it on\n"
    next_day = assertion.date + datetime.timedelta(days=1)
    units = assertion.units + (assertion.sub_account_units or 0)
    # Without an explicit tolerance Beancount accepts half a digit either way: `~ 0` keeps the
    # check exact (with precision 0 the inferred tolerance is zero already).
    tolerance = " ~ 0" if precision > 0 else ""
    directive = (
        f"{next_day.isoformat()} balance {assertion.account}  "
        f"{format_units(units, precision)}{tolerance} {assertion.commodity}\n"
    )
    if assertion.sub_account_units is None:
        return directive
    note = f"; the account alone holds {own}; Beancount's balance includes its sub-accounts\n"
    return note + directive


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
        select(books.c.id, books.c.name, books.c.operating_currency).where(
            books.c.code == book_code
        )
    ).first()
    if row is None:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    return row


def _commodity_directives(conn: Connection, book_id: int) -> str:
    earliest = conn.execute(
        select(func.min(accounts.c.open_date)).where(accounts.c.book_id == book_id)
    ).scalar_one()
    date = min(COMMODITY_DATE_DEFAULT, earliest) if earliest else COMMODITY_DATE_DEFAULT
    lines = []
    for code, precision, name in conn.execute(
        select(commodities.c.code, commodities.c.precision, commodities.c.name).order_by(
            commodities.c.code
        )
    ):
        lines.append(f"{date.isoformat()} commodity {code}\n  precision: {precision}\n")
        if name:
            lines.append(f"  name: {quote(name)}\n")
    return "".join(lines)


def _open_directives(conn: Connection, book_id: int, batch_size: int) -> Iterator[str]:
    statement = select(accounts.c.open_date, accounts.c.name, accounts.c.currencies).where(
        accounts.c.book_id == book_id
    )
    for rows in _keyset_batches(conn, statement, accounts.c.open_date, accounts.c.name, batch_size):
        yield "".join(
            format_open(r.open_date, r.name, r.currencies.split() if r.currencies else ())
            for r in rows
        )


def _close_directives(conn: Connection, book_id: int, batch_size: int) -> Iterator[str]:
    statement = select(accounts.c.close_date, accounts.c.name).where(
        and_(accounts.c.book_id == book_id, accounts.c.close_date.is_not(None))
    )
    for rows in _keyset_batches(
        conn, statement, accounts.c.close_date, accounts.c.name, batch_size
    ):
        yield "".join(format_close(r.close_date, r.name) for r in rows)


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
    conn: Connection, book_id: int, precisions: Mapping[str, int], batch_size: int
) -> Iterator[str]:
    """Transactions in (date, id) order, each followed by the prices it is first to show;
    yielded in chunks of `batch_size` transactions."""
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
            commodity, price_commodity = row[3], row[4]
            if price_commodity is None or (commodity, price_commodity) in priced_today:
                continue
            rate = price_rate(row, precisions)
            assert rate is not None
            priced_today.add((commodity, price_commodity))
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
    conn: Connection, book_id: int, precisions: Mapping[str, int], batch_size: int
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
                    account=r.name,
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


# -- the export -------------------------------------------------------------------------------


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
    precisions = {
        code: precision
        for code, precision in conn.execute(select(commodities.c.code, commodities.c.precision))
    }
    yield (
        f"; Beancount export of the book {book_code} by livelihood-ledger.\n"
        f'option "title" {quote(book.name)}\n'
        f'option "operating_currency" "{book.operating_currency}"\n'
        f"{format_tolerance_options(precisions)}\n"
    )
    yield _commodity_directives(conn, book.id) + "\n"
    yield from _open_directives(conn, book.id, batch_size)
    yield "\n"
    yield from _price_directives(conn, book.id)
    yield from _transaction_entries(conn, book.id, precisions, batch_size)
    yield from _balance_directives(conn, book.id, precisions, batch_size)
    yield "\n"
    yield from _close_directives(conn, book.id, batch_size)


def _price_directives(conn: Connection, book_id: int) -> Iterator[str]:
    """The rates the ledger kept from exchanges: `2018-11-02 price USD 4110 KHR`."""
    lines = [
        f"{row.date.isoformat()} price {row.commodity} {format(row.rate, 'f')} {row.quote}\n"
        for row in book_prices(conn, book_id)
    ]
    if lines:
        yield "".join(lines) + "\n"
