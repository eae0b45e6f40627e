"""Exchange gains and losses against the stored books: the period-end revaluation.

`revalue` walks each foreign bank or cash account of an organisation's book through the
movements of its postings (`ledger.funds.fx`), then posts, per account:

- the realised gain or loss of the money that left it since the previous revaluation;
- the unrealised difference of its balance at the closing rate, and the reversal of that
  difference the next day.

Runs inside the caller's database transaction and returns what it posted.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, and_, func, or_, select

from ledger.core.amount import format_units, parse_price
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid
from ledger.funds import fx
from ledger.store import books, journal
from ledger.store.prices import book_prices
from ledger.store.tables import (
    accounts,
    awards,
    budget_spends,
    exchanges,
    postings,
    transaction_tags,
    transactions,
)

MONEY_ROOTS = ("Assets:Bank:", "Assets:Cash:")


@dataclass(frozen=True, slots=True)
class AccountRevaluation:
    """One foreign account at a revaluation (amounts in smallest units)."""

    account: str
    currency: str
    precision: int
    units: int  # held at the end of the date
    carrying: int  # its weighted-average cost in the book's currency
    rate: Decimal  # the closing rate: units of `currency` for one of the book's
    revalued: int  # `units` at `rate`
    realised: int  # gains (losses negative) since the previous revaluation
    unrealised: int  # revalued - carrying


@dataclass(frozen=True, slots=True)
class Revaluation:
    book_code: str
    date: datetime.date
    currency: str
    precision: int
    accounts: tuple[AccountRevaluation, ...]
    transaction_ids: tuple[int, ...]


def last_revaluation(conn: Connection, book_id: int) -> datetime.date | None:
    """The date of the book's last revaluation that posted anything. One that posted nothing
    found no difference, so counting its days again in the next one adds nothing."""
    found: datetime.date | None = conn.execute(
        select(func.max(transactions.c.date))
        .join(transaction_tags, transaction_tags.c.transaction_id == transactions.c.id)
        .where(
            and_(
                transactions.c.book_id == book_id,
                transaction_tags.c.tag.in_((fx.REVALUATION_TAG, fx.REALISED_TAG)),
            )
        )
    ).scalar_one()
    return found


def _foreign_accounts(
    conn: Connection, book: books.Book, date: datetime.date
) -> list[tuple[int, str, str]]:
    """(account id, name, currency) of every bank and cash account holding a currency other
    than the book's up to `date`, in name order."""
    rows = conn.execute(
        select(accounts.c.id, accounts.c.name, postings.c.commodity)
        .join(postings, postings.c.account_id == accounts.c.id)
        .where(
            and_(
                accounts.c.book_id == book.id,
                or_(*(accounts.c.name.startswith(root) for root in MONEY_ROOTS)),
                postings.c.commodity != book.operating_currency,
                postings.c.date <= date,
            )
        )
        .group_by(accounts.c.id, accounts.c.name, postings.c.commodity)
        .order_by(accounts.c.name, postings.c.commodity)
    )
    return [(r.id, r.name, r.commodity) for r in rows]


def _movements(
    conn: Connection, book: books.Book, account_id: int, currency: str, date: datetime.date
) -> list[tuple[datetime.date, fx.Movement]]:
    """The account's postings in `currency` up to `date`, each with its measure in the
    book's currency: the other side of an exchange with it, or a spend's budget measure."""
    own = book.operating_currency
    rows = conn.execute(
        select(postings.c.transaction_id, postings.c.date, postings.c.units)
        .where(
            and_(
                postings.c.account_id == account_id,
                postings.c.commodity == currency,
                postings.c.date <= date,
            )
        )
        .order_by(postings.c.date, postings.c.transaction_id, postings.c.position)
    ).all()
    ids = [r.transaction_id for r in rows]
    measured: dict[int, int] = {}
    for e in conn.execute(select(exchanges).where(exchanges.c.transaction_id.in_(ids))):
        if e.to_account_id == account_id and e.from_commodity == own:
            measured[e.transaction_id] = int(e.from_units)
        elif e.from_account_id == account_id and e.to_commodity == own:
            measured[e.transaction_id] = int(e.to_units)
    spends = conn.execute(
        select(budget_spends.c.transaction_id, budget_spends.c.award_units)
        .join(awards, awards.c.id == budget_spends.c.award_id)
        .where(and_(budget_spends.c.transaction_id.in_(ids), awards.c.currency == own))
    )
    for transaction_id, award_units in spends:
        measured[transaction_id] = int(award_units)
    return [
        (
            r.date,
            fx.Movement(int(r.units), measured.get(r.transaction_id)),
        )
        for r in rows
    ]


def _closing_rate(
    conn: Connection, book: books.Book, currency: str, date: datetime.date
) -> Decimal | None:
    """The last rate kept on or before `date` (units of `currency` for one of the book's)."""
    rate: Decimal | None = None
    for row in book_prices(conn, book.id):
        if row.date > date:
            break
        if (row.commodity, row.quote) == (book.operating_currency, currency):
            rate = row.rate
        elif (row.commodity, row.quote) == (currency, book.operating_currency):
            rate = 1 / row.rate
    return rate


def _parse_rates(
    conn: Connection, book: books.Book, rates: Mapping[str, str]
) -> dict[str, Decimal]:
    precisions = books.commodity_precisions(conn)
    errors: list[LedgerError] = []
    parsed: dict[str, Decimal] = {}
    for currency, text in rates.items():
        field = f"rates.{currency}"
        if currency not in precisions or currency == book.operating_currency:
            errors.append(
                invalid(
                    "fx_rate_currency_invalid",
                    f"A closing rate is for a known currency other than {book.operating_currency}.",
                    field,
                )
            )
            continue
        rate = parse_price(text, field)
        if isinstance(rate, LedgerError):
            errors.append(rate)
        else:
            parsed[currency] = rate
    if errors:
        raise LedgerRejected(errors)
    return parsed


def _check_book(conn: Connection, book_code: str, date: datetime.date) -> books.Book:
    book = books.get_book(conn, book_code)
    if book.kind != "organisation":
        raise LedgerRejected(
            [
                invalid(
                    "book_not_organisation", "Revaluations are of an organisation's book.", "book"
                )
            ]
        )
    last = last_revaluation(conn, book.id)
    if last is not None and date <= last:
        raise LedgerRejected(
            [
                conflict(
                    "fx_revaluation_not_after_previous",
                    f"The book was revalued on {last.isoformat()}; a revaluation comes after it.",
                    "date",
                )
            ]
        )
    return book


def revalue(
    conn: Connection,
    book_code: str,
    date: datetime.date,
    rates: Mapping[str, str],
    created_by: str | None,
) -> Revaluation:
    """Revalue every foreign bank and cash account of the book at the end of `date`."""
    book = _check_book(conn, book_code, date)
    explicit = _parse_rates(conn, book, rates)
    last = last_revaluation(conn, book.id)
    precisions = books.commodity_precisions(conn)
    own_precision = precisions[book.operating_currency]
    found: list[AccountRevaluation] = []
    for account_id, name, currency in _foreign_accounts(conn, book, date):
        moves = _movements(conn, book, account_id, currency, date)
        before = fx.carry([m for day, m in moves if last is not None and day <= last])
        after = fx.carry([m for day, m in moves if last is None or day > last], before)
        rate = explicit.get(currency) or _closing_rate(conn, book, currency, date)
        if rate is None:
            raise LedgerRejected(
                [
                    invalid(
                        "exchange_rate_required",
                        f"No {book.operating_currency}-{currency} rate is kept by this date: "
                        f"give rates.{currency} ({currency} per {book.operating_currency}).",
                        f"rates.{currency}",
                    )
                ]
            )
        value = fx.revalued(after.units, precisions[currency], own_precision, rate)
        found.append(
            AccountRevaluation(
                account=name,
                currency=currency,
                precision=precisions[currency],
                units=after.units,
                carrying=after.carrying,
                rate=rate,
                revalued=value,
                realised=after.realised - before.realised,
                unrealised=value - after.carrying,
            )
        )
    ids = _post(conn, book, date, found, created_by)
    return Revaluation(book.code, date, book.operating_currency, own_precision, tuple(found), ids)


def _post(
    conn: Connection,
    book: books.Book,
    date: datetime.date,
    found: list[AccountRevaluation],
    created_by: str | None,
) -> tuple[int, ...]:
    """The realised and unrealised lines of each account, and the reversals of the latter
    the next day; a zero difference posts nothing."""
    currency = book.operating_currency
    next_day = date + datetime.timedelta(days=1)
    for name in fx.FX_ACCOUNTS:
        books.ensure_account(conn, book.code, name, date, (currency,))
    ids: list[int] = []
    for a in found:
        meta = (("account", a.account), ("rate", str(a.rate)))
        closing = f"{a.rate.normalize():f} {a.currency}/{currency}"
        posts = []
        if a.realised:
            line = fx.gain_or_loss(a.realised, fx.REALISED_GAIN, fx.REALISED_LOSS)
            posts.append(fx.fx_transaction(
                date, f"Realised exchange difference on {a.account} up to {date.isoformat()}",
                a.realised, currency, line, fx.REALISED_TAG, meta,
            ))  # fmt: skip
        if a.unrealised:
            line = fx.gain_or_loss(a.unrealised, fx.UNREALISED_GAIN, fx.UNREALISED_LOSS)
            posts.append(fx.fx_transaction(
                date, f"Revaluation of {a.account} at {closing}: "
                f"{format_units(a.units, a.precision)} {a.currency}",
                a.unrealised, currency, line, fx.REVALUATION_TAG, meta,
            ))  # fmt: skip
            posts.append(fx.fx_transaction(
                next_day, f"Reversal of the revaluation of {a.account} on {date.isoformat()}",
                -a.unrealised, currency, line, fx.REVERSAL_TAG, meta,
            ))  # fmt: skip
        ids.extend(journal.post(conn, book.code, t, created_by=created_by) for t in posts)
    return tuple(ids)


@dataclass(frozen=True, slots=True)
class FxTotals:
    """The book's exchange gains (losses negative) in its currency, for the donor report."""

    realised_in_period: int
    realised_to_date: int
    unrealised_at_end: int  # the last revaluation's difference, if it is dated on the end


def fx_totals(
    conn: Connection, book_id: int, currency: str, start: datetime.date, end: datetime.date
) -> FxTotals:
    def credited(names: tuple[str, ...], first: datetime.date | None) -> int:
        where = [
            accounts.c.book_id == book_id,
            accounts.c.name.in_(names),
            postings.c.commodity == currency,
            postings.c.date <= end,
        ]
        if first is not None:
            where.append(postings.c.date >= first)
        total = conn.execute(
            select(func.coalesce(func.sum(postings.c.units), 0))
            .select_from(postings.join(accounts, accounts.c.id == postings.c.account_id))
            .where(and_(*where))
        ).scalar_one()
        return -int(total)

    realised = (fx.REALISED_GAIN, fx.REALISED_LOSS)
    return FxTotals(
        realised_in_period=credited(realised, start),
        realised_to_date=credited(realised, None),
        unrealised_at_end=credited((fx.UNREALISED_GAIN, fx.UNREALISED_LOSS), None),
    )
