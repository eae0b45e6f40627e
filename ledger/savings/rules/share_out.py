"""The share-out at the end of a cycle: each member's part of the fund, their debt settled
from it, and the closing entries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ledger.core.errors import LedgerError, conflict
from ledger.core.transaction import Posting, Transaction
from ledger.savings.rules.accounts import (
    CARRIED_FORWARD,
    CASH,
    INTEREST,
    RESULT_ACCOUNTS,
    floor_to_unit,
    loan_account,
    savings_account,
)

# Members per share-out transaction: 2 postings each and 1 cash posting stay under 64.
MEMBERS_PER_TRANSACTION_MAX = 30


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


def _settle(cash_available: int, positions: Sequence[MemberPosition]) -> tuple[Fraction, set[str]]:
    """The value of one share, and the members whose debt is more than their part (they
    settle what their part covers): repeated until no one changes side."""
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
    return value, unsettled


def _share_out_line(
    p: MemberPosition, value: Fraction, unsettled: bool, cash_unit: int
) -> ShareOutLine:
    exact = p.shares * value
    if unsettled:
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
    return ShareOutLine(
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
    value, unsettled = _settle(cash_available, positions)
    lines = tuple(_share_out_line(p, value, p.member in unsettled, cash_unit) for p in positions)
    result = ShareOut(
        cash_available=cash_available,
        fund=value * total_shares,
        total_shares=total_shares,
        value_per_share=value,
        lines=lines,
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
