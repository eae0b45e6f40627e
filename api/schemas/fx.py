"""The period-end revaluation of foreign cash and bank balances, as the API shows it."""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from ledger.core import limits
from ledger.core.amount import format_units
from ledger.funds.revaluation import Revaluation as StoredRevaluation

# Closing rates given with one revaluation: at most one per currency a book may hold.
RATES_MAX = 20


class ClosingRate(msgspec.Struct, forbid_unknown_fields=True):
    currency: Annotated[str, msgspec.Meta(max_length=24, examples=["KHR"])]
    rate: Annotated[
        str, msgspec.Meta(max_length=limits.AMOUNT_TEXT_LENGTH_MAX, examples=["4150"])
    ]  # units of `currency` for one unit of the book's currency


class RevaluationCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Revalue at the end of `date`; a currency without a rate here takes the last rate the
    book kept by then (its exchanges' prices)."""

    date: datetime.date
    rates: Annotated[list[ClosingRate], msgspec.Meta(max_length=RATES_MAX)] = []

    def rate_texts(self) -> dict[str, str]:
        return {r.currency: r.rate for r in self.rates}


class AccountRevaluation(msgspec.Struct):
    account: str
    currency: str
    balance: str  # in `currency`
    rate: str  # units of `currency` for one of the book's currency
    carrying: str  # the rest in the book's currency
    revalued: str
    realised: str  # gains (losses negative) since the previous revaluation
    unrealised: str


class Revaluation(msgspec.Struct):
    book: str
    date: datetime.date
    currency: str
    accounts: list[AccountRevaluation]
    transaction_ids: list[int]

    @classmethod
    def of(cls, r: StoredRevaluation) -> Revaluation:
        def money(units: int) -> str:
            return format_units(units, r.precision)

        return cls(
            book=r.book_code,
            date=r.date,
            currency=r.currency,
            accounts=[
                AccountRevaluation(
                    account=a.account,
                    currency=a.currency,
                    balance=format_units(a.units, a.precision),
                    rate=f"{a.rate.normalize():f}",
                    carrying=money(a.carrying),
                    revalued=money(a.revalued),
                    realised=money(a.realised),
                    unrealised=money(a.unrealised),
                )
                for a in r.accounts
            ],
            transaction_ids=list(r.transaction_ids),
        )


# The year end at 4,150 riel to the dollar (tests/api/test_fx_revaluation.py posts it).
EXAMPLE_REVALUATION = {"date": "2018-12-31", "rates": [{"currency": "KHR", "rate": "4150"}]}
