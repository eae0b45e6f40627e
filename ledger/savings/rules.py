"""Savings groups' accounting as pure functions over plain values: no database here.

A group keeps its own book (the money is the members', never the NGO's). The accounts:

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

Member savings are liabilities because the group must pay them back; the profit (interest and
fines less write-offs and cash differences, plus what the previous cycle carried forward) is
equity until the share-out gives it to the members in proportion to their shares.

Amounts are integers in the currency's smallest unit (riel). `cash_unit` is the smallest
amount handed over in cash (100 riel): interest charges are rounded to it and share-out
cash payouts rounded down to it.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal, get_args

from ledger.core.errors import LedgerError, conflict, invalid
from ledger.core.transaction import Posting, Transaction

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

InterestMethod = Literal["flat", "declining"]
INTEREST_METHODS: tuple[str, ...] = get_args(InterestMethod)
MeetingFrequency = Literal["weekly", "fortnightly", "monthly"]
MEETING_FREQUENCIES: tuple[str, ...] = get_args(MeetingFrequency)
MemberRole = Literal["chair", "treasurer", "key_holder", "member"]
MEMBER_ROLES: tuple[str, ...] = get_args(MemberRole)
Attendance = Literal["present", "absent", "represented"]
ATTENDANCES: tuple[str, ...] = get_args(Attendance)

# Limits (a group has 15 to 30 members; leave room, but not unbounded).
MEMBERS_PER_GROUP_MAX = 60
SHARES_PER_MEETING_MAX = 20
INTEREST_RATE_MONTHLY_PERCENT_MAX = Decimal(20)
LOAN_SAVINGS_MULTIPLE_MAX = 10
LOAN_TERM_MONTHS_MAX = 36
# Interest months charged on one loan: a limit on the loop, far beyond any real loan.
LOAN_MONTHS_CHARGED_MAX = 600
# Members per share-out transaction: 2 postings each and 1 cash posting stay under 64.
MEMBERS_PER_TRANSACTION_MAX = 30
REASON_LENGTH_MAX = 500
MEMBER_NUMBER_RE = re.compile(r"[A-Z0-9][A-Za-z0-9-]{0,15}")
RATE_RE = re.compile(r"(0|[1-9][0-9]{0,2})(\.[0-9]{1,4})?")


def savings_account(member: str) -> str:
    return f"Liabilities:Members:{member}:Savings"


def loan_account(member: str) -> str:
    return f"Assets:Loans:{member}"


def member_accounts(member: str) -> tuple[str, str]:
    return savings_account(member), loan_account(member)


# -- the constitution ------------------------------------------------------------------------


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


def round_to_unit(value: Decimal, unit: int) -> int:
    """`value` rounded half up to a multiple of `unit` (interest charges)."""
    return int((value / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * unit


def floor_to_unit(value: Fraction, unit: int) -> int:
    """The largest multiple of `unit` not above `value` (share-out payouts)."""
    return (value.numerator // (value.denominator * unit)) * unit


# -- one member's part of a meeting ----------------------------------------------------------


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


# -- loans -----------------------------------------------------------------------------------


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


def days_in_arrears(terms: LoanTerms, payments: Sequence[Payment], on: datetime.date) -> int:
    """Days since the oldest scheduled principal that is still unpaid on `on` fell due."""
    paid = _principal_paid_by(payments, on)
    if paid >= terms.principal:
        return 0
    scheduled = 0
    for installment in schedule(terms):
        scheduled += installment.principal
        if installment.due_on >= on:
            return 0
        if scheduled > paid:
            return (on - installment.due_on).days
    return 0


# -- the share-out ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberPosition:
    """One member at the share-out: shares bought this cycle, savings, what they owe."""

    member: str
    shares: int
    savings: int
    interest_due: int = 0
    principal_outstanding: int = 0

    @property
    def debt(self) -> int:
        return self.interest_due + self.principal_outstanding


@dataclass(frozen=True, slots=True)
class ShareOutLine:
    member: str
    shares: int
    savings: int
    interest_due: int  # interest owed at the share-out (charged to the loan first)
    share_value: int  # shares x value per share, less under one cash unit: payout + debt paid
    profit: int  # share_value - savings
    interest_deducted: int
    principal_deducted: int
    payout: int  # cash handed over: share_value - loan deducted
    loan_carried: int  # debt left as a loan into the next cycle

    @property
    def loan_deducted(self) -> int:
        return self.interest_deducted + self.principal_deducted


@dataclass(frozen=True, slots=True)
class ShareOut:
    """The share-out of one cycle. `value_per_share` is exact (a fraction of a riel)."""

    cash_available: int  # the cash box less the social fund
    fund: Fraction  # cash available + the debts settled from shares = value x shares
    total_shares: int
    value_per_share: Fraction
    lines: tuple[ShareOutLine, ...]

    @property
    def fund_units(self) -> int:
        """The fund in whole smallest units (it is a fraction when a debt rolls over)."""
        return self.fund.numerator // self.fund.denominator

    def value_per_share_text(self, precision: int, places: int) -> str:
        """The value of one share in the currency (not its smallest unit), truncated."""
        return fraction_text(self.value_per_share / 10**precision, places)

    @property
    def payouts(self) -> int:
        return sum(line.payout for line in self.lines)

    @property
    def carried_forward(self) -> int:
        """Cash left in the box for the next cycle (besides the social fund)."""
        return self.cash_available - self.payouts

    @property
    def loans_carried_forward(self) -> int:
        return sum(line.loan_carried for line in self.lines)


def check_positions(
    positions: Sequence[MemberPosition],
    share_price: int,
    loan_balances: Mapping[str, int],
) -> tuple[LedgerError, ...]:
    """Does the book agree with the group's records before its money is shared out? Each
    member's savings must be their shares x the share price, and each loan account must
    hold the principal the loan records say is owed. A difference (a transaction posted
    by hand to a member's account, say) is refused rather than shared out wrongly."""
    errors: list[LedgerError] = []
    for p in positions:
        if p.savings != p.shares * share_price:
            errors.append(
                conflict(
                    "share_out_savings_mismatch",
                    f"Member {p.member}: the book holds {p.savings} in savings, but "
                    f"{p.shares} shares at {share_price} are {p.shares * share_price}; "
                    "correct the book before the share-out.",
                    "members",
                )
            )
        if loan_balances.get(p.member, 0) != p.principal_outstanding:
            errors.append(
                conflict(
                    "share_out_loans_mismatch",
                    f"Member {p.member}: the loan account holds "
                    f"{loan_balances.get(p.member, 0)}, the loans say "
                    f"{p.principal_outstanding} is owed; correct the book before the share-out.",
                    "members",
                )
            )
    return tuple(errors)


def _value_per_share(
    cash_available: int, positions: Sequence[MemberPosition], unsettled: set[str]
) -> Fraction:
    settled_debt = sum(p.debt for p in positions if p.member not in unsettled)
    settled_shares = sum(p.shares for p in positions if p.member not in unsettled)
    return Fraction(cash_available + settled_debt, settled_shares)


def compute_share_out(
    cash_available: int, positions: Sequence[MemberPosition], cash_unit: int
) -> ShareOut | LedgerError:
    """Share the fund out in proportion to shares, settling each member's debt from their part.

    The fund is everything the group holds besides the social fund: the cash available and
    what members owe. One share is worth fund / total shares. A member whose debt is more than
    their part settles what their part covers and keeps the rest as a loan into the next cycle;
    that rest is not cash the group can share now, so the fund counts only what is settled:
    value = (cash + debts of members who can settle them) / (shares of those members). That
    can make another member's debt exceed their part, so it is repeated until no one changes
    side (the value only falls, and a member with shares and a debt below the value stays).

    The cash each member takes home (their part less their debt) is rounded down to the cash
    unit, so each part is within one cash unit of shares x value; the remainder stays in the
    box as carried forward. Payouts never exceed the cash available.
    """
    if cash_unit <= 0:
        raise ValueError("cash_unit is positive")
    if cash_available < 0:
        return conflict(
            "share_out_cash_short",
            "The cash box holds less than the social fund: count and correct it first.",
        )
    if any(p.shares < 0 or p.savings < 0 or p.debt < 0 for p in positions):
        raise ValueError("shares, savings and debts are never negative")
    total_shares = sum(p.shares for p in positions)
    if total_shares == 0:
        return conflict("share_out_no_shares", "No member holds a share in this cycle.")
    unsettled = {p.member for p in positions if p.shares == 0 and p.debt > 0}
    value = _value_per_share(cash_available, positions, unsettled)
    for _ in range(len(positions) + 1):
        newly = {
            p.member for p in positions if p.member not in unsettled and p.debt > p.shares * value
        }
        if not newly:
            break
        unsettled |= newly
        value = _value_per_share(cash_available, positions, unsettled)
    lines = []
    for p in positions:
        exact = p.shares * value
        if p.member in unsettled:
            # The whole part (to the riel) goes to the debt; no cash changes hands.
            share_value = floor_to_unit(exact, 1)
            interest = min(p.interest_due, share_value)
            principal = share_value - interest
            payout = 0
        else:
            # The debt is settled in full from the exact part; the cash handed over is
            # rounded down to the cash unit.
            interest, principal = p.interest_due, p.principal_outstanding
            payout = floor_to_unit(exact - p.debt, cash_unit)
            share_value = payout + p.debt
        lines.append(
            ShareOutLine(
                member=p.member,
                shares=p.shares,
                savings=p.savings,
                interest_due=p.interest_due,
                share_value=share_value,
                profit=share_value - p.savings,
                interest_deducted=interest,
                principal_deducted=principal,
                payout=payout,
                loan_carried=p.debt - interest - principal,
            )
        )
    result = ShareOut(
        cash_available=cash_available,
        fund=value * total_shares,
        total_shares=total_shares,
        value_per_share=value,
        lines=tuple(lines),
    )
    # The guarantees a family relies on, checked on every share-out (not only in tests).
    if result.carried_forward < 0:
        raise RuntimeError("a share-out would pay out more cash than the box holds")
    return result


def share_out_transactions(
    date: datetime.date,
    cycle_number: int,
    currency: str,
    result_balances: Mapping[str, int],
    share_out: ShareOut,
    members_with_accounts: Iterable[str],
) -> list[Transaction]:
    """The closing entries of a cycle, in order:

    1. the interest due on each loan is charged to it (so the loan account holds the debt);
    2. the cycle's income and expenses close into Equity:Carried-Forward;
    3. each member's profit (share value less savings) moves from there to their savings;
    4. each member's savings are paid out: their loan settled, the rest in cash.

    `result_balances` are the current balances of the income and expense accounts (ledger
    signs: income negative). Steps 3 and 4 are split into transactions of at most
    `MEMBERS_PER_TRANSACTION_MAX` members. Equity:Carried-Forward ends holding the cash
    remainder and the loans rolled into the next cycle.
    """
    known = set(members_with_accounts)
    lines = [line for line in share_out.lines if line.member in known]
    assert len(lines) == len(share_out.lines), "every member in the share-out has accounts"
    link = f"share-out-{cycle_number}"
    tags = ("savings-share-out",)

    def txn(narration: str, legs: Sequence[tuple[str, int]]) -> Transaction | None:
        postings = tuple(Posting(account, units, currency) for account, units in legs if units)
        if len(postings) < 2:
            return None
        return Transaction(date, narration, postings, tags=tags, links=(link,))

    drafts: list[Transaction | None] = []
    accrued = [(line.member, line.interest_due) for line in lines]
    interest_total = sum(units for _, units in accrued)
    drafts.append(
        txn(
            f"Share-out of cycle {cycle_number}: interest due on loans",
            [(loan_account(m), units) for m, units in accrued] + [(INTEREST, -interest_total)],
        )
    )
    closing = [
        (account, -result_balances.get(account, 0) + (interest_total if account == INTEREST else 0))
        for account in RESULT_ACCOUNTS
    ]
    drafts.append(
        txn(
            f"Share-out of cycle {cycle_number}: close income and expenses",
            [*closing, (CARRIED_FORWARD, -sum(units for _, units in closing))],
        )
    )
    for start in range(0, len(lines), MEMBERS_PER_TRANSACTION_MAX):
        part = lines[start : start + MEMBERS_PER_TRANSACTION_MAX]
        profit = [(savings_account(line.member), -line.profit) for line in part]
        drafts.append(
            txn(
                f"Share-out of cycle {cycle_number}: profit to members' savings",
                [*profit, (CARRIED_FORWARD, sum(line.profit for line in part))],
            )
        )
    for start in range(0, len(lines), MEMBERS_PER_TRANSACTION_MAX):
        part = lines[start : start + MEMBERS_PER_TRANSACTION_MAX]
        legs: list[tuple[str, int]] = []
        for line in part:
            legs.append((savings_account(line.member), line.share_value))
            legs.append((loan_account(line.member), -line.loan_deducted))
        legs.append((CASH, -sum(line.payout for line in part)))
        drafts.append(txn(f"Share-out of cycle {cycle_number}: payouts", legs))
    return [d for d in drafts if d is not None]


def fraction_text(value: Fraction, places: int) -> str:
    """`value` as decimal text with `places` digits, truncated toward zero (never rounded up:
    a value per share shown must not promise more than the exact one)."""
    scaled = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 and scaled else ""
    whole, fraction = divmod(scaled, 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"
