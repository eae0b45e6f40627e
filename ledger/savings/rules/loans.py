"""Loans to members: interest by month begun, repayments, the schedule, arrears, write-offs."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.core.errors import LedgerError, invalid
from ledger.core.transaction import Posting, Transaction
from ledger.savings.rules.accounts import WRITE_OFFS, loan_account, round_to_unit

# Interest months charged on one loan: a limit on the loop, far beyond any real loan.
LOAN_MONTHS_CHARGED_MAX = 600


def add_months(date: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = date.month - 1 + months
    year, month = date.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class LoanTerms:
    principal: int
    disbursed_on: datetime.date
    interest_rate_monthly_percent: Decimal
    interest_method: str
    term_months: int
    cash_unit: int


@dataclass(frozen=True, slots=True)
class Payment:
    """Money applied to a loan on a date: interest first, then principal."""

    date: datetime.date
    interest: int
    principal: int


def _principal_paid_by(payments: Iterable[Payment], date: datetime.date) -> int:
    return sum(p.principal for p in payments if p.date <= date)


def months_started(terms: LoanTerms, on: datetime.date) -> int:
    """Interest months begun before `on`: each month, or part of one, after disbursement."""
    if on <= terms.disbursed_on:
        return 0
    months = 1
    while months < LOAN_MONTHS_CHARGED_MAX and add_months(terms.disbursed_on, months) < on:
        months += 1
    return months


def monthly_charge(terms: LoanTerms, principal_outstanding: int) -> int:
    """One month's interest: on the original principal (flat) or on what is still owed."""
    base = terms.principal if terms.interest_method == "flat" else principal_outstanding
    if base <= 0:
        return 0
    return round_to_unit(base * terms.interest_rate_monthly_percent / 100, terms.cash_unit)


def interest_charged(terms: LoanTerms, payments: Sequence[Payment], on: datetime.date) -> int:
    """Interest charged from disbursement to `on`: month k (k = 1, 2, ...) is charged once it
    has begun, on the principal still owed at the end of the day it began."""
    total = 0
    for k in range(1, months_started(terms, on) + 1):
        start = add_months(terms.disbursed_on, k - 1)
        outstanding = terms.principal - _principal_paid_by(payments, start)
        if outstanding <= 0:
            break
        total += monthly_charge(terms, outstanding)
    return total


@dataclass(frozen=True, slots=True)
class LoanState:
    principal_outstanding: int
    interest_due: int

    @property
    def owed(self) -> int:
        return self.principal_outstanding + self.interest_due


def loan_state(terms: LoanTerms, payments: Sequence[Payment], on: datetime.date) -> LoanState:
    """What is owed on `on`, given the payments made so far."""
    principal = terms.principal - sum(p.principal for p in payments)
    interest = interest_charged(terms, payments, on) - sum(p.interest for p in payments)
    return LoanState(principal, max(interest, 0))


def allocate_repayment(
    amount: int, owed: Sequence[tuple[int, LoanState]], field: str
) -> list[tuple[int, int, int]] | LedgerError:
    """Spread one member's repayment over their loans: all interest due first (oldest loan
    first), then principal, oldest loan first. (loan id, interest, principal) per loan paid;
    refused when `amount` is more than the member owes."""
    total = sum(state.owed for _, state in owed)
    if amount > total:
        return invalid(
            "repayment_exceeds_debt",
            f"The member owes {total} in principal and interest due, less than the repayment.",
            field,
        )
    left = amount
    paid: dict[int, list[int]] = {loan_id: [0, 0] for loan_id, _ in owed}
    for loan_id, state in owed:
        take = min(left, state.interest_due)
        paid[loan_id][0] += take
        left -= take
    for loan_id, state in owed:
        take = min(left, state.principal_outstanding)
        paid[loan_id][1] += take
        left -= take
    assert left == 0
    return [(loan_id, i, p) for loan_id, (i, p) in paid.items() if i or p]


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_on: datetime.date
    principal: int
    interest: int
    principal_after: int


def schedule(terms: LoanTerms) -> list[Installment]:
    """The planned repayments: equal principal each month (the last takes the remainder,
    earlier ones are rounded to the cash unit) and the month's interest by the method."""
    base = terms.principal // terms.term_months
    part = max((base // terms.cash_unit) * terms.cash_unit, 0)
    outstanding = terms.principal
    plan: list[Installment] = []
    for k in range(1, terms.term_months + 1):
        interest = monthly_charge(terms, outstanding)
        principal = outstanding if k == terms.term_months else min(part, outstanding)
        outstanding -= principal
        plan.append(
            Installment(k, add_months(terms.disbursed_on, k), principal, interest, outstanding)
        )
    return plan


def principal_due(terms: LoanTerms) -> list[tuple[datetime.date, int]]:
    """The principal part of `schedule(terms)`: (due date, principal) of each instalment,
    without the interest (what arrears are measured against)."""
    base = terms.principal // terms.term_months
    part = max((base // terms.cash_unit) * terms.cash_unit, 0)
    outstanding = terms.principal
    due = []
    for k in range(1, terms.term_months + 1):
        principal = outstanding if k == terms.term_months else min(part, outstanding)
        outstanding -= principal
        due.append((add_months(terms.disbursed_on, k), principal))
    return due


def days_in_arrears(terms: LoanTerms, payments: Sequence[Payment], on: datetime.date) -> int:
    """Days since the oldest scheduled principal that is still unpaid on `on` fell due."""
    paid = _principal_paid_by(payments, on)
    if paid >= terms.principal:
        return 0
    scheduled = 0
    for due_on, principal in principal_due(terms):
        scheduled += principal
        if due_on >= on:
            return 0
        if scheduled > paid:
            return (on - due_on).days
    return 0


def write_off_transaction(
    date: datetime.date, member: str, loan_id: int, principal: int, reason: str, currency: str
) -> Transaction:
    if principal <= 0:
        raise ValueError("a write-off moves a positive principal")
    return Transaction(
        date=date,
        narration=f"Loan {loan_id} of member {member} written off: {reason}",
        postings=(
            Posting(WRITE_OFFS, principal, currency),
            Posting(loan_account(member), -principal, currency),
        ),
        tags=("savings-write-off",),
        links=(f"loan-{loan_id}",),
        meta=(("member", member),),
    )
