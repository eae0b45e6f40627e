"""Beancount text from the ledger's rows and values: a pure printer, no SQL.

`ledger.export.beancount` streams a book's rows out of the database and hands them to these
functions, which return text and never read anything. The output loads in Beancount 3 with
zero errors for every book the journal accepts.

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
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from ledger.core.amount import format_units, units_to_decimal

# Significant digits of a rate derived from a total price (total / units).
PRICE_RATE_DIGITS = 12
# Decimal places of a daily budget rate: over three years the rounding stays below 1e-9.
BUDGET_RATE_PLACES = 12
# Commodities are declared on this date, or on the book's earliest open date if earlier.
COMMODITY_DATE_DEFAULT = datetime.date(1970, 1, 1)
REVERSAL_LINK_PREFIX = "reversal-"


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


def one_direction(commodity: str, rate: Decimal, quote_commodity: str) -> tuple[str, Decimal, str]:
    """A price written in one direction only: the one whose rate is at least 1
    (`price USD 4110 KHR`, never also `price KHR 0.000243309 USD`). Beancount and Fava derive
    the inverse themselves; both directions only clutter Fava's commodities page."""
    if rate >= 1:
        return commodity, rate, quote_commodity
    with localcontext() as context:
        context.prec = PRICE_RATE_DIGITS
        return quote_commodity, (1 / rate).normalize(), commodity


def posting_price(
    posting: PostingRow, precisions: Mapping[str, int]
) -> tuple[str, Decimal, str] | None:
    """The price a priced posting shows, in one direction (`one_direction`). A total price
    is inverted exactly from its two amounts: 3288000 KHR @@ 800.00 USD gives USD 4110 KHR."""
    _txn_id, _account, units, commodity, price_commodity, _per_unit, total = posting
    rate = price_rate(posting, precisions)
    if rate is None or price_commodity is None:
        return None
    if rate >= 1 or total is None:
        return one_direction(commodity, rate, price_commodity)
    with localcontext() as context:
        context.prec = PRICE_RATE_DIGITS
        inverse = units_to_decimal(abs(units), precisions[commodity]) / units_to_decimal(
            total, precisions[price_commodity]
        )
    return price_commodity, inverse.normalize(), commodity


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


def format_header(
    book_code: str, title: str, operating_currency: str, precisions: Mapping[str, int]
) -> str:
    """The file's first lines: where it comes from, its options, a blank line."""
    return (
        f"; Beancount export of the book {book_code} by livelihood-ledger.\n"
        f'option "title" {quote(title)}\n'
        f'option "operating_currency" "{operating_currency}"\n'
        f"{format_tolerance_options(precisions)}\n"
    )


def format_commodity(date: datetime.date, code: str, precision: int, name: str | None) -> str:
    """A commodity's declaration, with its precision and (if it has one) its name."""
    text = f"{date.isoformat()} commodity {code}\n  precision: {precision}\n"
    return text + f"  name: {quote(name)}\n" if name else text


@dataclass(frozen=True, slots=True)
class BudgetSpan:
    """One award budget line: `units` of `currency` to spend on `account` from `start` to
    `end` (both included)."""

    award: str
    line: str
    account: str
    currency: str
    units: int
    precision: int
    start: datetime.date
    end: datetime.date


def format_budgets(spans: Iterable[BudgetSpan]) -> str:
    """Fava's `custom "budget"` directives for award budget lines.

    Fava's budgets are rates per period (`2018-07-01 custom "budget" Expenses:X "daily"
    5.47 USD`); each holds from its date until the account's next one. A line is spread evenly
    over its award's days (as amended: the revised amount over the award's dates, an extension
    included): from its first day the account's daily rate rises by amount / days,
    and the day after its last day it falls again (to 0 when nothing else is budgeted there).
    Fava's budget for the award's dates is then the line's amount (to a hair below the
    smallest unit), and for part of them the share of its days. Lines of several awards on one
    account add up day by day.
    """
    by_account: dict[tuple[str, str], list[BudgetSpan]] = {}
    for span in spans:
        by_account.setdefault((span.account, span.currency), []).append(span)
    entries: list[tuple[datetime.date, str]] = []
    quantum = Decimal(1).scaleb(-BUDGET_RATE_PLACES)
    for (account, currency), found in sorted(by_account.items()):
        days = sorted(
            {s.start for s in found} | {s.end + datetime.timedelta(days=1) for s in found}
        )
        for day in days:
            active = [s for s in found if s.start <= day <= s.end]
            rate = sum(
                (Fraction(s.units, 10**s.precision * ((s.end - s.start).days + 1)) for s in active),
                Fraction(0),
            )
            with localcontext() as context:
                context.prec = 60
                number = (Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(quantum)
            lines = ", ".join(f"{s.award}/{s.line}" for s in active) or "none"
            entries.append(
                (
                    day,
                    f'{day.isoformat()} custom "budget" {account} "daily" '
                    f"{format_decimal(number.normalize() if number else Decimal(0))} {currency}\n"
                    f"  budget-lines: {quote(lines)}\n",
                )
            )
    return "".join(text for _day, text in sorted(entries, key=lambda e: e[0]))
