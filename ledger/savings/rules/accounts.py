"""A savings group's book: its accounts, the member accounts, and cash-unit rounding.

    Assets:Cash:Box                      the group's cash box (never below zero)
    Assets:Loans:<member>                what one member owes on loans (principal; at the
                                         share-out, also the interest then due)
    Liabilities:Members:<member>:Savings what the group owes one member for the shares they
                                         bought (shares x share price), until the share-out
    Equity:Social-Fund                   the social fund: stays with the group at a share-out
    Equity:Carried-Forward               what one cycle leaves to the next: the rounding
                                         remainder of the share-out and loans rolled over
    Income:Interest, Income:Fines        the cycle's earnings
    Expenses:Loan-Write-Offs             loans written off by the group's decision
    Expenses:Cash-Differences            accepted differences between the count and the book

Amounts are integers in the currency's smallest unit (riel). `cash_unit` is the smallest
amount handed over in cash (100 riel): interest charges are rounded to it and share-out
cash payouts rounded down to it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal, get_args

CASH = "Assets:Cash:Box"
SOCIAL_FUND = "Equity:Social-Fund"
CARRIED_FORWARD = "Equity:Carried-Forward"
INTEREST = "Income:Interest"
FINES = "Income:Fines"
WRITE_OFFS = "Expenses:Loan-Write-Offs"
CASH_DIFFERENCES = "Expenses:Cash-Differences"
# Opened with the group: (name, non_negative).
GROUP_ACCOUNTS: tuple[tuple[str, bool], ...] = (
    (CASH, True),
    (SOCIAL_FUND, False),
    (CARRIED_FORWARD, False),
    (INTEREST, False),
    (FINES, False),
    (WRITE_OFFS, False),
    (CASH_DIFFERENCES, False),
)
# Closed into Equity:Carried-Forward at each share-out.
RESULT_ACCOUNTS = (INTEREST, FINES, WRITE_OFFS, CASH_DIFFERENCES)

MemberRole = Literal["chair", "treasurer", "key_holder", "member"]
MEMBER_ROLES: tuple[str, ...] = get_args(MemberRole)

# Limits (a group has 15 to 30 members; leave room, but not unbounded).
MEMBERS_PER_GROUP_MAX = 60
# A reason given for a write-off or an accepted cash difference.
REASON_LENGTH_MAX = 500
MEMBER_NUMBER_RE = re.compile(r"[A-Z0-9][A-Za-z0-9-]{0,15}")


def savings_account(member: str) -> str:
    return f"Liabilities:Members:{member}:Savings"


def loan_account(member: str) -> str:
    return f"Assets:Loans:{member}"


def member_accounts(member: str) -> tuple[str, str]:
    return savings_account(member), loan_account(member)


def round_to_unit(value: Decimal, step: int) -> int:
    """`value` rounded half up to a multiple of `step`, the cash unit (interest charges)."""
    return int((value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step


def floor_to_unit(value: Fraction, step: int) -> int:
    """The largest multiple of `step` not above `value` (share-out payouts: `step` is the
    cash unit, or 1 for a whole smallest unit)."""
    return (value.numerator // (value.denominator * step)) * step
