"""Posting rule and periods of household income records. Pure.

A record posts, in the household's tracking book, on the last day of its month:

    2019-03-31 * "Income of LA-001, 2019-03: crops" #income
      case: "LA-001"
      source: "crops"
      Equity:Memorandum:Household-Income    350000 KHR
      Income:Household:Crops               -350000 KHR

The income is a memorandum: what the household says it earned that month, not cash anyone
holds (it was spent or kept at home, and the ledger does not count it). So the record never
posts into `Assets:Cash`, where an auditor would read it as money the household still holds;
its other side is `MEMORANDUM_ACCOUNT`, and the household's balance sheet nets to nothing.

A baseline record (before support) carries the tag `#baseline` as well.
"""

from __future__ import annotations

import calendar
import datetime
import re
from typing import Literal, get_args

from ledger.core.errors import LedgerError, invalid
from ledger.core.transaction import Posting, Transaction

Source = Literal["livestock", "crops", "small_business", "wages", "remittances", "other"]
SOURCES: tuple[str, ...] = get_args(Source)
INCOME_ROOT = "Income:Household"
INCOME_TAG = "income"
BASELINE_TAG = "baseline"
# The other side of an income record: income noted, not held (see the module's docstring).
MEMORANDUM_ACCOUNT = "Equity:Memorandum:Household-Income"
MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


def income_account(source: str) -> str:
    """small_business -> Income:Household:Small-Business."""
    return f"{INCOME_ROOT}:{source.replace('_', ' ').title().replace(' ', '-')}"


def parse_month(text: str, field: str = "month") -> datetime.date | LedgerError:
    """ "2019-03" -> 2019-03-01."""
    match = MONTH_RE.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        return invalid("month_invalid", "A month is written YYYY-MM (2019-03).", field)
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def month_text(month: datetime.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def income_record(
    case_code: str,
    month: datetime.date,
    source: str,
    units: int,
    currency: str,
    baseline: bool,
) -> Transaction:
    """A month's income from one source, as a memorandum (never as cash held)."""
    assert source in SOURCES
    assert units > 0
    kind = "baseline income" if baseline else "income"
    return Transaction(
        date=month_end(month),
        narration=f"{kind.capitalize()} of {case_code}, {month_text(month)}: "
        f"{source.replace('_', ' ')}",
        tags=(INCOME_TAG, BASELINE_TAG) if baseline else (INCOME_TAG,),
        meta=(("case", case_code), ("source", source)),
        postings=(
            Posting(MEMORANDUM_ACCOUNT, units, currency),
            Posting(income_account(source), -units, currency),
        ),
    )
