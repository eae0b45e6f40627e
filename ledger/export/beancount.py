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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, bindparam, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from ledger.core.amount import format_units, units_to_decimal
from ledger.core.errors import LedgerRejected, not_found
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


@dataclass(frozen=True, slots=True)
class ExportPosting:
    account: str
    units: int
    commodity: str
    price_commodity: str | None = None
    price_per_unit: str | None = None  # exact decimal text, as stored
    price_total: int | None = None  # smallest units of price_commodity, positive


@dataclass(frozen=True, slots=True)
class ExportTransaction:
    id: int
    date: datetime.date
    narration: str
    postings: tuple[ExportPosting, ...]
    payee: str | None = None
    created_by: str | None = None
    reverses_id: int | None = None
    reversed: bool = False  # some later transaction reverses this one
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()


# -- pure printing --------------------------------------------------------------------------


def escape_string(s: str) -> str:
    """The body of a Beancount string literal that reads back as exactly `s`."""
    return s.replace("\\", "\\\\").replace('"', '\\"')


def quote(s: str) -> str:
    return f'"{escape_string(s)}"'


def format_decimal(number: Decimal) -> str:
    """Plain positional text, never exponent notation ("1E-7" -> "0.0000001")."""
    return format(number, "f")


def price_rate(posting: ExportPosting, precisions: Mapping[str, int]) -> Decimal | None:
    """What one unit of the posting's commodity costs in its price commodity, if priced."""
    if posting.price_commodity is None:
        return None
    if posting.price_per_unit is not None:
        return Decimal(posting.price_per_unit)
    assert posting.price_total is not None, "a priced posting has a per-unit or a total price"
    assert posting.units != 0
    with localcontext() as context:
        context.prec = PRICE_RATE_DIGITS
        total = units_to_decimal(posting.price_total, precisions[posting.price_commodity])
        rate = total / units_to_decimal(abs(posting.units), precisions[posting.commodity])
    return rate.normalize()


def format_posting(posting: ExportPosting, precisions: Mapping[str, int]) -> str:
    text = (
        f"  {posting.account}  "
        f"{format_units(posting.units, precisions[posting.commodity])} {posting.commodity}"
    )
    if posting.price_commodity is None:
        return text
    if posting.price_per_unit is not None:
        per_unit = format_decimal(Decimal(posting.price_per_unit))
        return f"{text} @ {per_unit} {posting.price_commodity}"
    assert posting.price_total is not None
    total = format_units(posting.price_total, precisions[posting.price_commodity])
    return f"{text} @@ {total} {posting.price_commodity}"


def format_transaction(txn: ExportTransaction, precisions: Mapping[str, int]) -> str:
    """One transaction as Beancount text, ending with a blank line."""
    words = [txn.date.isoformat(), "*"]
    if txn.payee is not None:
        words.append(quote(txn.payee))
    words.append(quote(txn.narration))
    words.extend(f"#{tag}" for tag in sorted(set(txn.tags)))
    links = set(txn.links)
    if txn.reverses_id is not None:
        links.add(f"{REVERSAL_LINK_PREFIX}{txn.reverses_id}")
    if txn.reversed:
        links.add(f"{REVERSAL_LINK_PREFIX}{txn.id}")
    words.extend(f"^{link}" for link in sorted(links))
    lines = [" ".join(words), f'  id: "{txn.id}"']
    if txn.created_by is not None:
        lines.append(f"  created-by: {quote(txn.created_by)}")
    if txn.reverses_id is not None:
        lines.append(f'  reverses: "{txn.reverses_id}"')
    # Keys are valid Beancount keys already (ledger.core.transaction.META_KEY_RE).
    lines.extend(f"  {key}: {quote(value)}" for key, value in sorted(txn.meta))
    lines.extend(format_posting(p, precisions) for p in txn.postings)
    lines.append("")
    return "\n".join(lines) + "\n"


def format_price(date: datetime.date, commodity: str, rate: Decimal, price_commodity: str) -> str:
    return f"{date.isoformat()} price {commodity} {format_decimal(rate)} {price_commodity}\n"


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


# Rows fetched per round trip by the streamed queries below (server-side cursor on
# PostgreSQL): bounds memory however large the book is.
STREAM_ROWS = 2_000

_reversal = transactions.alias("reversal")
# Every posting of the book with its transaction, in (date, id, position) order: one
# streamed query instead of a query per table per batch.
_POSTING_ROWS = (
    select(
        transactions.c.id,
        transactions.c.date,
        transactions.c.payee,
        transactions.c.narration,
        transactions.c.reverses_id,
        transactions.c.created_by,
        _reversal.c.id.label("reversed_by"),
        accounts.c.name,
        postings.c.units,
        postings.c.commodity,
        postings.c.price_commodity,
        postings.c.price_per_unit,
        postings.c.price_total,
    )
    .select_from(
        transactions.join(postings, postings.c.transaction_id == transactions.c.id)
        .join(accounts, accounts.c.id == postings.c.account_id)
        .outerjoin(_reversal, _reversal.c.reverses_id == transactions.c.id)
    )
    .where(transactions.c.book_id == bindparam("book_id"))
    .order_by(transactions.c.date, transactions.c.id, postings.c.position)
)


def _label_rows(table: Any, *columns: ColumnElement[Any]) -> Select[Any]:
    """(date, id, *columns) of a label table for one book, in the main stream's order."""
    return (
        select(transactions.c.date, transactions.c.id, *columns)
        .select_from(table.join(transactions, transactions.c.id == table.c.transaction_id))
        .where(transactions.c.book_id == bindparam("book_id"))
        .order_by(transactions.c.date, transactions.c.id, *columns)
    )


_TAG_ROWS = _label_rows(transaction_tags, transaction_tags.c.tag)
_LINK_ROWS = _label_rows(transaction_links, transaction_links.c.link)
_META_ROWS = _label_rows(transaction_meta, transaction_meta.c.key, transaction_meta.c.value)


class _OrderedLabels:
    """Walks one label stream alongside the transactions (both in (date, id) order).

    Rows are read by position, (date, id, *values): named access on a Row costs more than
    everything else the export does with it.
    """

    def __init__(self, rows: Iterator[Row[Any]]) -> None:
        self._rows = rows
        self._next: Row[Any] | None = next(rows, None)

    def take(self, date: datetime.date, transaction_id: int) -> list[tuple[Any, ...]]:
        taken: list[tuple[Any, ...]] = []
        while self._next is not None and (self._next[0], self._next[1]) <= (
            date,
            transaction_id,
        ):
            if self._next[1] == transaction_id:
                taken.append(tuple(self._next[2:]))
            self._next = next(self._rows, None)
        return taken


def _stream(conn: Connection, statement: Select[Any], book_id: int) -> Iterator[Row[Any]]:
    result = conn.execution_options(yield_per=STREAM_ROWS).execute(statement, {"book_id": book_id})
    return iter(result)


def _stored_transactions(conn: Connection, book_id: int) -> Iterator[ExportTransaction]:
    """Every transaction of the book in (date, id) order, with postings and labels."""
    tags = _OrderedLabels(_stream(conn, _TAG_ROWS, book_id))
    links = _OrderedLabels(_stream(conn, _LINK_ROWS, book_id))
    meta = _OrderedLabels(_stream(conn, _META_ROWS, book_id))
    head: tuple[Any, ...] | None = None  # the current transaction's columns
    found: list[ExportPosting] = []

    def finish(head: tuple[Any, ...], found: list[ExportPosting]) -> ExportTransaction:
        txn_id, date, payee, narration, reverses_id, created_by, reversed_by = head
        return ExportTransaction(
            id=txn_id,
            date=date,
            narration=narration,
            postings=tuple(found),
            payee=payee,
            created_by=created_by,
            reverses_id=reverses_id,
            reversed=reversed_by is not None,
            tags=tuple(tag for (tag,) in tags.take(date, txn_id)),
            links=tuple(link for (link,) in links.take(date, txn_id)),
            meta=tuple((key, value) for key, value in meta.take(date, txn_id)),
        )

    for row in _stream(conn, _POSTING_ROWS, book_id):
        (txn_id, date, payee, narration, reverses_id, created_by, reversed_by,
         name, units, commodity, price_commodity, price_per_unit, price_total) = row  # fmt: skip
        if head is None or txn_id != head[0]:
            if head is not None:
                yield finish(head, found)
            head = (txn_id, date, payee, narration, reverses_id, created_by, reversed_by)
            found = []
        found.append(
            ExportPosting(
                name,
                int(units),
                commodity,
                price_commodity,
                price_per_unit,
                None if price_total is None else int(price_total),
            )
        )
    if head is not None:
        yield finish(head, found)


def _transaction_entries(
    conn: Connection, book_id: int, precisions: Mapping[str, int], batch_size: int
) -> Iterator[str]:
    """Transactions in (date, id) order, each followed by the prices it is first to show;
    yielded in chunks of `batch_size` transactions."""
    # Prices are de-duplicated per (date, commodity, currency); transactions come in date
    # order, so remembering the current day's keys is enough (memory stays flat).
    price_day: datetime.date | None = None
    priced_today: set[tuple[str, str]] = set()
    chunk: list[str] = []
    in_chunk = 0
    for txn in _stored_transactions(conn, book_id):
        assert len(txn.postings) >= 2, "a stored transaction has at least two postings"
        chunk.append(format_transaction(txn, precisions))
        if txn.date != price_day:
            price_day, priced_today = txn.date, set()
        prices = []
        for posting in txn.postings:
            if posting.price_commodity is None:
                continue
            key = (posting.commodity, posting.price_commodity)
            if key in priced_today:
                continue
            rate = price_rate(posting, precisions)
            assert rate is not None
            priced_today.add(key)
            prices.append(format_price(txn.date, posting.commodity, rate, posting.price_commodity))
        if prices:
            chunk.extend(prices)
            chunk.append("\n")
        in_chunk += 1
        if in_chunk == batch_size:
            yield "".join(chunk)
            chunk, in_chunk = [], 0
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
