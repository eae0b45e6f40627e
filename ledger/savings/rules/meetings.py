"""One member's part of a meeting, and an accepted cash difference, as transactions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, get_args

from ledger.core.transaction import Posting, Transaction
from ledger.savings.rules.accounts import (
    CASH,
    CASH_DIFFERENCES,
    FINES,
    INTEREST,
    SOCIAL_FUND,
    loan_account,
    savings_account,
)

Attendance = Literal["present", "absent", "represented"]
ATTENDANCES: tuple[str, ...] = get_args(Attendance)
# What counts as attending in the attendance rate (a member may send someone in their place).
ATTENDED: tuple[str, ...] = ("present", "represented")


@dataclass(frozen=True, slots=True)
class MemberFlows:
    """What one member paid in and took out at one meeting (all >= 0, smallest units)."""

    member: str
    shares: int = 0
    savings: int = 0  # shares x share price
    social_fund_paid: int = 0
    fines_paid: int = 0
    interest_paid: int = 0
    principal_repaid: int = 0
    loan_taken: int = 0
    grant_received: int = 0

    @property
    def cash_in(self) -> int:
        return (
            self.savings
            + self.social_fund_paid
            + self.fines_paid
            + self.interest_paid
            + self.principal_repaid
        )

    @property
    def cash_out(self) -> int:
        return self.loan_taken + self.grant_received


def meeting_transaction(
    date: datetime.date, meeting_link: str, flows: MemberFlows, currency: str
) -> Transaction | None:
    """One member's part of a meeting as one balanced transaction; None when nothing moved.

    Cash comes in for shares, the social fund, fines, interest and repayments, and goes out
    for a new loan or a social-fund grant; the member's savings and loan accounts and the
    group's social fund, fines and interest take the other side.
    """
    legs: list[tuple[str, int]] = [
        (CASH, flows.cash_in - flows.cash_out),
        (savings_account(flows.member), -flows.savings),
        (SOCIAL_FUND, flows.grant_received - flows.social_fund_paid),
        (FINES, -flows.fines_paid),
        (INTEREST, -flows.interest_paid),
        (loan_account(flows.member), flows.loan_taken - flows.principal_repaid),
    ]
    postings = tuple(Posting(account, units, currency) for account, units in legs if units)
    if not postings:
        return None
    parts = [f"{flows.shares} shares"] if flows.shares else []
    for label, units in (
        ("social fund", flows.social_fund_paid),
        ("fines", flows.fines_paid),
        ("interest", flows.interest_paid),
        ("repaid", flows.principal_repaid),
        ("loan", flows.loan_taken),
        ("grant", flows.grant_received),
    ):
        if units:
            parts.append(f"{label} {units}")
    return Transaction(
        date=date,
        narration=f"Meeting: member {flows.member}: {', '.join(parts)}",
        postings=postings,
        tags=("savings-meeting",),
        links=(meeting_link,),
        meta=(("member", flows.member),),
    )


def cash_difference_transaction(
    date: datetime.date, meeting_link: str, difference: int, reason: str, currency: str
) -> Transaction:
    """The counted cash less the book's cash (`difference`, non-zero) to Cash-Differences."""
    if difference == 0:
        raise ValueError("a cash difference is not zero")
    return Transaction(
        date=date,
        narration=f"Cash count differs from the book by {difference}: {reason}",
        postings=(
            Posting(CASH, difference, currency),
            Posting(CASH_DIFFERENCES, -difference, currency),
        ),
        tags=("savings-meeting", "cash-difference"),
        links=(meeting_link,),
    )
