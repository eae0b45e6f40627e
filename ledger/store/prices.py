"""Rates the ledger has observed (currency exchanges), exported as Beancount `price`
directives. Append-only: the first rate recorded for a day and pair is the day's rate."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.core.amount import price_within_limits
from ledger.store.tables import prices


@dataclass(frozen=True, slots=True)
class PriceRow:
    date: datetime.date
    commodity: str
    quote: str
    rate: Decimal  # units of `quote` for one unit of `commodity`


def record_price(
    conn: Connection,
    book_id: int,
    date: datetime.date,
    commodity: str,
    quote: str,
    rate: Decimal,
) -> None:
    """Keep the rate of `commodity` in `quote` on `date` unless one is kept already."""
    if not price_within_limits(rate):
        raise ValueError("a recorded price is positive and within the price limits")
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        upsert(prices)
        .values(book_id=book_id, date=date, commodity=commodity, quote=quote, rate=str(rate))
        .on_conflict_do_nothing(index_elements=["book_id", "date", "commodity", "quote"])
    )


def book_prices(conn: Connection, book_id: int) -> Iterator[PriceRow]:
    """The book's prices in date order."""
    rows = conn.execute(
        select(prices.c.date, prices.c.commodity, prices.c.quote, prices.c.rate)
        .where(prices.c.book_id == book_id)
        .order_by(prices.c.date, prices.c.commodity, prices.c.quote)
    )
    for row in rows:
        yield PriceRow(row.date, row.commodity, row.quote, Decimal(row.rate))
