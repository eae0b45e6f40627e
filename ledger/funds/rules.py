"""Pure posting rules and conversions for donor funds. No database here.

Recognition policy (docs/ACCOUNTING.md): restricted income on receipt. A fund receipt credits
the award's restricted income account when the money arrives; spending is an expense on the
budget line's account; what is left of the award is its income less its expenses.

Budget consumption is measured in the award's currency. An expense paid in another currency
is converted at the weighted average rate of the exchanges that put award-currency money into
the account it was paid from, up to its date (or at an explicit rate given with it).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Literal

from ledger.core import limits
from ledger.core.amount import units_to_decimal
from ledger.core.errors import LedgerError, invalid
from ledger.core.text import validate_text
from ledger.core.transaction import Posting, Price, Transaction

# An award code is a valid account-name component, link and metadata value: `CTIP-2018`.
AWARD_CODE_RE = re.compile(r"[A-Z0-9][A-Za-z0-9-]{0,39}")
# A budget line code: `livelihood-grants`, `training`.
BUDGET_LINE_CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
DONOR_LENGTH_MAX = 200
BUDGET_LINE_NAME_LENGTH_MAX = 200
BUDGET_LINES_PER_AWARD_MAX = 50
# Significant digits of a rate shown on reports (the conversion itself is exact).
RATE_DIGITS = 10

RateMethod = Literal["same_currency", "average_exchange", "explicit"]


@dataclass(frozen=True, slots=True)
class Conversion:
    """An amount measured in the award's currency, and how it was measured."""

    award_units: int
    method: RateMethod
    rate: Decimal | None  # units of the paid currency for one unit of the award's


# Stated on every report of budget against actual (docs/ACCOUNTING.md explains it).
CONVERSION_METHOD = (
    "Expenses in another currency are converted into the award's currency at the weighted "
    "average rate of the exchanges from the award's currency into the account they were paid "
    "from, up to the day of the expense, or at the explicit rate given with the expense."
)


def validate_award_code(code: str) -> LedgerError | None:
    if AWARD_CODE_RE.fullmatch(code):
        return None
    return invalid(
        "award_code_invalid",
        "An award code has 1 to 40 letters, digits and hyphens and starts with a capital "
        "letter or digit (e.g. CTIP-2018).",
        "code",
    )


def validate_budget_line_code(code: str, field: str) -> LedgerError | None:
    if BUDGET_LINE_CODE_RE.fullmatch(code):
        return None
    return invalid(
        "budget_line_code_invalid",
        "A budget line code has 1 to 40 lowercase letters, digits and hyphens.",
        field,
    )


def validate_one_line(value: str, length_max: int, field: str, code: str) -> LedgerError | None:
    """A required one-line label (a donor, a budget line's name)."""
    error = validate_text(value, length_max, field)
    if error is not None:
        return error
    if not value.strip() or "\n" in value or "\r" in value:
        return invalid(code, f"{field} is one non-empty line of text.", field)
    return None


def rate_between(
    local_units: int, local_precision: int, award_units: int, award_precision: int
) -> Decimal:
    """Units of the local currency for one unit of the award's: 410000 KHR / 100.00 USD = 4100."""
    assert local_units > 0
    assert award_units > 0
    with localcontext() as context:
        context.prec = RATE_DIGITS
        return +(
            units_to_decimal(local_units, local_precision)
            / units_to_decimal(award_units, award_precision)
        )


def _round_half_even(value: Fraction) -> int:
    return round(value)  # Fraction rounds half to even, exactly


def convert_at_average(
    units: int,
    local_precision: int,
    award_precision: int,
    exchanged_local_units: int,
    exchanged_award_units: int,
) -> Conversion:
    """`units` of local currency in the award's, at the weighted average rate of exchanges
    that gave `exchanged_local_units` for `exchanged_award_units` (both totals, positive)."""
    assert exchanged_local_units > 0
    assert exchanged_award_units > 0
    award_units = _round_half_even(Fraction(units * exchanged_award_units, exchanged_local_units))
    rate = rate_between(
        exchanged_local_units, local_precision, exchanged_award_units, award_precision
    )
    return Conversion(award_units, "average_exchange", rate)


def convert_at_rate(
    units: int, local_precision: int, award_precision: int, rate: Decimal
) -> Conversion:
    """`units` of local currency in the award's at `rate` (local per one award unit)."""
    assert rate > 0
    numerator, denominator = rate.as_integer_ratio()
    value = Fraction(units * 10**award_precision * denominator, 10**local_precision * numerator)
    return Conversion(_round_half_even(value), "explicit", rate)


def same_currency(units: int) -> Conversion:
    return Conversion(units, "same_currency", None)


def _award_meta(award_code: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("award", award_code), *extra)


def fund_receipt(
    date: datetime.date,
    award_code: str,
    donor: str,
    bank_account: str,
    income_account: str,
    units: int,
    currency: str,
    narration: str,
    reference: str | None,
) -> Transaction:
    """Money from the donor arrives in the bank: restricted income on receipt."""
    assert units > 0
    meta = _award_meta(award_code, *((("reference", reference),) if reference else ()))
    return Transaction(
        date=date,
        payee=donor[: limits.PAYEE_LENGTH_MAX],
        narration=narration,
        tags=("fund-receipt",),
        meta=meta,
        postings=(
            Posting(bank_account, units, currency),
            Posting(income_account, -units, currency),
        ),
    )


def exchange(
    date: datetime.date,
    from_account: str,
    from_units: int,
    from_commodity: str,
    to_account: str,
    to_units: int,
    to_commodity: str,
    narration: str,
    link: str,
) -> Transaction:
    """Sell `from_units` at the bank for `to_units` of cash: the cash carries a total price,
    so the transaction balances exactly whatever the rate (Beancount `@@`)."""
    assert from_units > 0
    assert to_units > 0
    assert from_commodity != to_commodity
    return Transaction(
        date=date,
        narration=narration,
        tags=("exchange",),
        links=(link,),
        postings=(
            Posting(from_account, -from_units, from_commodity),
            Posting(to_account, to_units, to_commodity, Price(from_commodity, total=from_units)),
        ),
    )


def budget_expense(
    date: datetime.date,
    expense_account: str,
    paid_from: str,
    units: int,
    currency: str,
    narration: str,
    payee: str | None,
    award_code: str,
    budget_line_code: str,
    extra_meta: tuple[tuple[str, str], ...] = (),
    tags: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
) -> Transaction:
    """An expense on a budget line, paid from a bank or cash account."""
    assert units > 0
    return Transaction(
        date=date,
        payee=payee,
        narration=narration,
        tags=tags,
        links=links,
        meta=_award_meta(award_code, ("budget-line", budget_line_code), *extra_meta),
        postings=(
            Posting(expense_account, units, currency),
            Posting(paid_from, -units, currency),
        ),
    )
