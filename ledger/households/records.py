"""What every record about a household shares (a follow-up visit, an income record): the lock
that queues the writes about one household, the days its records may fall on, and the money
currencies they are kept in.

Public to the other areas (docs/ARCHITECTURE.md): livestock and income write such records.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Connection, select

from ledger.core.errors import LedgerRejected, invalid
from ledger.households.rules import MONEY
from ledger.households.service import Household
from ledger.store import books
from ledger.store.tables import households as household_table


def lock_household(conn: Connection, household: Household) -> None:
    """Writes about one household queue here (PostgreSQL), so checks against its book and its
    records (the last visit, a baseline) cannot race."""
    conn.execute(
        select(household_table.c.id).where(household_table.c.id == household.id).with_for_update()
    )


def money_currency(conn: Connection, currency: str, field: str = "currency") -> int:
    """The precision of a money currency; unknown or livestock commodities are refused."""
    precision = books.commodity_precisions(conn).get(currency)
    if precision is None:
        raise LedgerRejected(
            [invalid("commodity_unknown", "This commodity is not defined.", field)]
        )
    if currency not in MONEY:
        raise LedgerRejected(
            [invalid("currency_not_money", f"{field} is one of {', '.join(MONEY)}.", field)]
        )
    return precision


def check_record_date(
    household: Household, date: datetime.date, today: datetime.date, field: str
) -> None:
    """A household's record falls between its consent and today."""
    if date > today:
        raise LedgerRejected([invalid("date_in_future", "This date has not come yet.", field)])
    if date < household.consent_date:
        raise LedgerRejected(
            [
                invalid(
                    "date_before_consent",
                    "The household's records start on its consent date.",
                    field,
                )
            ]
        )
