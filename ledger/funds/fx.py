"""Exchange gains and losses on foreign cash and bank balances. Pure: no database here.

A riel or baht account of a book kept in dollars is **carried at its weighted-average dollar
cost** (docs/ACCOUNTING.md, "Exchange gains and losses"): every exchange into it adds the
riel received and the dollars given; money leaving it takes out its share of the carrying
value, `carrying x units leaving / units held`, rounded half to even to the cent (all of it
when the account is emptied, so nothing is left over).

- **Realised**: money leaving is measured in dollars somewhere else: the dollars an exchange
  back gave, or what a spend counted against its budget line (the conversion method). The
  difference, `measured - carrying share`, is a realised gain (a loss when negative). Money
  leaving with no measure of its own (a count difference, an expense with no award) leaves
  at its carrying share: no difference.
- **Unrealised**: at a period end the balance is revalued at the closing rate:
  `units / closing rate` (rounded to the cent) less the carrying value. The revaluation is
  reversed the next day, so the carrying value (and every later realised figure) stays
  historical.

The invariant (tested over random exchanges and spends): the dollars exchanged into the
account = its carrying value + the dollars measured for what left it - the realised gains;
and the carrying value + the unrealised difference = the balance at the closing rate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ledger.core.transaction import Posting, Transaction

REALISED_GAIN = "Income:FX:Realised"
REALISED_LOSS = "Expenses:FX:Realised"
UNREALISED_GAIN = "Income:FX:Unrealised"
UNREALISED_LOSS = "Expenses:FX:Unrealised"
# The other side of every FX line: the books keep riel in riel, so the dollar difference is
# not a movement of any money account (see docs/ACCOUNTING.md).
TRANSLATION = "Equity:FX:Translation"
FX_ACCOUNTS = (REALISED_GAIN, REALISED_LOSS, UNREALISED_GAIN, UNREALISED_LOSS, TRANSLATION)
REALISED_TAG = "fx-realised"
REVALUATION_TAG = "fx-revaluation"
REVERSAL_TAG = "fx-revaluation-reversal"


@dataclass(frozen=True, slots=True)
class Movement:
    """Money into (`units` > 0) or out of (`units` < 0) a foreign account, in its smallest
    units; `measured` is its value in the book's currency where something else measured it
    (dollars given or received by an exchange, the budget's measure of a spend), else None."""

    units: int
    measured: int | None = None


@dataclass(frozen=True, slots=True)
class Carried:
    """An account's balance and its carrying value after some movements, and the realised
    gains (negative: losses) of the money that left it."""

    units: int = 0
    carrying: int = 0  # smallest units of the book's currency
    realised: int = 0

    def move(self, movement: Movement) -> Carried:
        units = movement.units
        if units >= 0:
            if movement.measured is not None:
                added = movement.measured
            elif self.units > 0:
                added = round(Fraction(self.carrying * units, self.units))
            else:
                added = 0
            return Carried(self.units + units, self.carrying + added, self.realised)
        leaving = -units
        share = (
            self.carrying
            if leaving >= self.units
            else round(Fraction(self.carrying * leaving, self.units))
        )
        measured = share if movement.measured is None else movement.measured
        return Carried(
            self.units - leaving, self.carrying - share, self.realised + measured - share
        )


def carry(movements: list[Movement], start: Carried | None = None) -> Carried:
    state = Carried() if start is None else start
    for movement in movements:
        state = state.move(movement)
    return state


def revalued(units: int, precision: int, book_precision: int, rate: Decimal) -> int:
    """`units` of the foreign currency in the book's currency at `rate` (foreign units for
    one unit of the book's currency: 4150 riel to the dollar), rounded half to even."""
    assert rate > 0
    numerator, denominator = rate.as_integer_ratio()
    return round(Fraction(units * 10**book_precision * denominator, 10**precision * numerator))


def gain_or_loss(amount: int, gain_account: str, loss_account: str) -> str:
    """The account of a difference: a gain (`amount` > 0) or a loss."""
    return gain_account if amount > 0 else loss_account


def fx_transaction(
    date: datetime.date,
    narration: str,
    amount: int,
    currency: str,
    line: str,
    tag: str,
    meta: tuple[tuple[str, str], ...],
) -> Transaction:
    """A gain (`amount` > 0) or loss (< 0) on `line`, against the translation account (a
    reversal passes the original's line and the opposite amount)."""
    assert amount != 0
    return Transaction(
        date=date,
        narration=narration,
        tags=(tag,),
        meta=meta,
        postings=(Posting(line, -amount, currency), Posting(TRANSLATION, amount, currency)),
    )
