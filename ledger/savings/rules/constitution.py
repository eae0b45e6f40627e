"""The rules a group agreed on (its constitution), checked before the group is created."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from ledger.core.errors import LedgerError, invalid

InterestMethod = Literal["flat", "declining"]
INTEREST_METHODS: tuple[str, ...] = get_args(InterestMethod)
MeetingFrequency = Literal["weekly", "fortnightly", "monthly"]
MEETING_FREQUENCIES: tuple[str, ...] = get_args(MeetingFrequency)

SHARES_PER_MEETING_MAX = 20
INTEREST_RATE_MONTHLY_PERCENT_MAX = Decimal(20)
LOAN_SAVINGS_MULTIPLE_MAX = 10
LOAN_TERM_MONTHS_MAX = 36
RATE_RE = re.compile(r"(0|[1-9][0-9]{0,2})(\.[0-9]{1,4})?")


@dataclass(frozen=True, slots=True)
class Constitution:
    """The rules a group agreed on. Money in smallest units of the group's currency."""

    share_price: int
    shares_per_meeting_min: int
    shares_per_meeting_max: int
    social_fund_per_meeting: int
    interest_rate_monthly_percent: Decimal
    interest_method: str
    loan_savings_multiple: int
    loan_term_months_max: int
    fine_late: int
    fine_absent: int
    fine_other: int
    cash_unit: int
    lend_to_members_in_arrears: bool = False


def validate_constitution(c: Constitution) -> tuple[LedgerError, ...]:
    errors: list[LedgerError] = []
    if c.cash_unit <= 0:
        errors.append(invalid("cash_unit_invalid", "The cash unit is positive.", "cash_unit"))
    elif c.share_price <= 0 or c.share_price % c.cash_unit:
        errors.append(
            invalid(
                "share_price_invalid",
                "The share price is positive and a multiple of the cash unit.",
                "share_price",
            )
        )
    if not 0 <= c.shares_per_meeting_min <= c.shares_per_meeting_max <= SHARES_PER_MEETING_MAX:
        errors.append(
            invalid(
                "shares_per_meeting_invalid",
                f"0 <= shares_per_meeting_min <= shares_per_meeting_max <= "
                f"{SHARES_PER_MEETING_MAX}.",
                "shares_per_meeting_max",
            )
        )
    if c.shares_per_meeting_max < 1:
        errors.append(
            invalid(
                "shares_per_meeting_invalid",
                "Members may buy at least one share per meeting.",
                "shares_per_meeting_max",
            )
        )
    for field, value in (
        ("social_fund_per_meeting", c.social_fund_per_meeting),
        ("fine_late", c.fine_late),
        ("fine_absent", c.fine_absent),
        ("fine_other", c.fine_other),
    ):
        if value < 0:
            errors.append(invalid("amount_negative", "Amounts are zero or more.", field))
    if not 0 <= c.interest_rate_monthly_percent <= INTEREST_RATE_MONTHLY_PERCENT_MAX:
        errors.append(
            invalid(
                "interest_rate_invalid",
                f"Interest is 0 to {INTEREST_RATE_MONTHLY_PERCENT_MAX} percent a month.",
                "interest_rate_monthly_percent",
            )
        )
    if c.interest_method not in INTEREST_METHODS:
        errors.append(
            invalid(
                "interest_method_invalid",
                f"interest_method is one of {', '.join(INTEREST_METHODS)}.",
                "interest_method",
            )
        )
    if not 1 <= c.loan_savings_multiple <= LOAN_SAVINGS_MULTIPLE_MAX:
        errors.append(
            invalid(
                "loan_multiple_invalid",
                f"The largest loan is 1 to {LOAN_SAVINGS_MULTIPLE_MAX} times the savings.",
                "loan_savings_multiple",
            )
        )
    if not 1 <= c.loan_term_months_max <= LOAN_TERM_MONTHS_MAX:
        errors.append(
            invalid(
                "loan_term_invalid",
                f"The longest loan term is 1 to {LOAN_TERM_MONTHS_MAX} months.",
                "loan_term_months_max",
            )
        )
    return tuple(errors)


def parse_rate(text: str, field: str) -> Decimal | LedgerError:
    """A monthly interest rate in percent ("2", "2.5"): at most 4 decimals, no exponent."""
    if not RATE_RE.fullmatch(text):
        return invalid(
            "interest_rate_invalid",
            'A monthly rate in percent is a decimal string such as "2" or "2.5".',
            field,
        )
    return Decimal(text)
