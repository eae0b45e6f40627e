"""Pure rules of grants: statuses, approval, receipt numbers, and a disbursement as the two
transactions it posts (the organisation's book and the household's, linked)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from ledger.core.errors import LedgerError, conflict, forbidden
from ledger.core.transaction import Posting, Price, Transaction
from ledger.funds.rules import budget_expense
from ledger.households.rules import CASH_ACCOUNT, grants_income_account, holding_account

BusinessType = Literal[
    "chicken_raising",
    "pig_raising",
    "grocery",
    "tailoring",
    "motorbike_repair",
    "rice_trading",
    "other",
]
BUSINESS_TYPES: tuple[str, ...] = get_args(BusinessType)
Method = Literal["cash", "bank_transfer", "mobile_money", "in_kind"]
METHODS: tuple[str, ...] = get_args(Method)
Status = Literal["proposed", "approved", "disbursing", "fully_disbursed", "closed", "cancelled"]
STATUSES: tuple[str, ...] = get_args(Status)

TRANCHES_PER_GRANT_MAX = 12
PURPOSE_LENGTH_MAX = 1_000
REASON_LENGTH_MAX = 1_000
RECEIPT_NUMBER_MAX = 9_999
GRANT_TAG = "grant"


@dataclass(frozen=True, slots=True)
class Item:
    """Something given in kind: `quantity` whole units of `commodity` at `unit_cost` each
    (smallest units of the disbursement's currency)."""

    commodity: str
    quantity: int
    unit_cost: int

    @property
    def value(self) -> int:
        return self.quantity * self.unit_cost


def receipt_number(book_code: str, year: int, number: int) -> str:
    """Receipt numbers run per book and year without gaps: ORG-2018-0007."""
    assert 1 <= number <= RECEIPT_NUMBER_MAX
    return f"{book_code.upper()}-{year}-{number:04d}"


# The prefix of the link a disbursement's two transactions share. The store's table of
# reversal owners (`ledger.store.reversal_owners`) names it: a transaction carrying it is
# reversed through its grant, never alone.
DISBURSEMENT_LINK_PREFIX = "disbursement-"


def disbursement_link(receipt: str) -> str:
    """The link the organisation's and the household's transactions share."""
    return f"{DISBURSEMENT_LINK_PREFIX}{receipt}"


def approval_error(
    proposed_by: str, approver: str, committed: int, threshold: int
) -> LedgerError | None:
    """Maker-checker: above the award's threshold (what approval commits, in the award's
    currency) the proposer may not approve."""
    if committed > threshold and approver == proposed_by:
        return forbidden(
            "approval_needs_second_person",
            "Above the award's approval threshold, someone other than the proposer approves.",
        )
    return None


def status_after(approved_amount: int, disbursed: int) -> Status:
    """A grant's status from what has been paid of it (statuses before ending)."""
    assert 0 <= disbursed <= approved_amount
    if disbursed == 0:
        return "approved"
    if disbursed < approved_amount:
        return "disbursing"
    return "fully_disbursed"


def commitment_left(committed: int, award_paid: int) -> int:
    """What a grant still reserves on its budget line, in the award's currency: its commitment
    less what its payments consumed, never below nothing (a payment measured above the
    commitment, the rate having moved, took the difference from the line's remainder)."""
    return max(0, committed - award_paid)


def grant_units_paid(grant_currency: str, paid_currency: str, units: int, award_units: int) -> int:
    """How much of a grant a payment pays, in the grant's currency: the units paid when the
    payment is in the grant's currency; otherwise (a grant in the award's currency paid in
    another) the payment's measure in the award's currency."""
    return units if paid_currency == grant_currency else award_units


def payment_currency_error(
    grant_currency: str, award_currency: str, paid_currency: str
) -> LedgerError | None:
    """A grant in a currency other than the award's is paid in that currency (cash, or
    goods and head of livestock valued at their cost in it)."""
    if paid_currency == grant_currency or grant_currency == award_currency:
        return None
    return conflict(
        "grant_currency_mismatch",
        f"This grant is in {grant_currency}: pay it from an account in {grant_currency}.",
        "paid_from",
    )


def disbursable_error(status: str) -> LedgerError | None:
    """Why a grant in `status` cannot be paid now, or None."""
    if status in ("approved", "disbursing"):
        return None
    messages = {
        "proposed": ("grant_not_approved", "The grant has not been approved."),
        "cancelled": ("grant_cancelled", "The grant was cancelled."),
        "fully_disbursed": ("grant_fully_disbursed", "The grant has been paid in full."),
        "closed": ("grant_closed", "The grant is closed."),
    }
    code, message = messages[status]
    return conflict(code, message)


# Which status may move to which by a decision (disbursements move the others).
ENDINGS: dict[str, tuple[str, ...]] = {
    "cancelled": ("proposed", "approved", "disbursing"),
    "closed": ("fully_disbursed",),
}


def household_disbursement(
    date: datetime.date,
    award_code: str,
    grant_id: int,
    receipt: str,
    currency: str,
    units: int,
    items: tuple[Item, ...],
    currency_precision: int,
    commodity_precisions: dict[str, int],
    narration: str,
) -> Transaction:
    """What the household received, in its tracking book: cash, or head of livestock and
    goods at their cost (a per-unit price), as a grant from the award."""
    assert units > 0
    if items:
        assert sum(item.value for item in items) == units
        received = tuple(
            Posting(
                holding_account(item.commodity),
                item.quantity * 10 ** commodity_precisions[item.commodity],
                item.commodity,
                Price(currency, per_unit=Decimal(item.unit_cost).scaleb(-currency_precision)),
            )
            for item in items
        )
    else:
        received = (Posting(CASH_ACCOUNT, units, currency),)
    return Transaction(
        date=date,
        narration=narration,
        tags=(GRANT_TAG,),
        links=(disbursement_link(receipt),),
        meta=(("award", award_code), ("grant", str(grant_id)), ("receipt", receipt)),
        postings=(*received, Posting(grants_income_account(award_code), -units, currency)),
    )


@dataclass(frozen=True, slots=True)
class DisbursementFacts:
    """Everything a disbursement posts, settled by the service: what is paid (`units` of
    `currency`, or `items` worth that much), from where, on which award's budget line, and
    under which receipt."""

    date: datetime.date
    grant_id: int
    case_code: str
    business_type: str
    award_code: str
    budget_line: str
    expense_account: str
    paid_from: str
    currency: str
    units: int
    items: tuple[Item, ...]
    receipt: str
    narration: str | None = None


@dataclass(frozen=True, slots=True)
class DisbursementTransactions:
    """One disbursement in both books: the expense in the organisation's and what the
    household received in its own, sharing `link`."""

    organisation: Transaction
    household: Transaction
    link: str


def disbursement_narration(facts: DisbursementFacts) -> str:
    """The narration both books carry (and the receipt prints) when none is given."""
    if facts.narration:
        return facts.narration
    business = facts.business_type.replace("_", " ")
    return f"Grant {facts.grant_id} ({business}) to {facts.case_code}, receipt {facts.receipt}"


def disbursement_transactions(
    facts: DisbursementFacts, commodity_precisions: dict[str, int]
) -> DisbursementTransactions:
    """A grant paid in cash or in kind, as the two transactions it posts.

    The organisation's book: an expense on the budget line, paid from a bank or cash
    account. The household's tracking book: cash, or head of livestock and goods at their
    cost, received as a grant from the award. Both carry the grant tag and the receipt's link.
    """
    link = disbursement_link(facts.receipt)
    narration = disbursement_narration(facts)
    organisation = budget_expense(
        facts.date,
        facts.expense_account,
        facts.paid_from,
        facts.units,
        facts.currency,
        narration,
        None,
        facts.award_code,
        facts.budget_line,
        extra_meta=(
            ("grant", str(facts.grant_id)),
            ("case", facts.case_code),
            ("receipt", facts.receipt),
        ),
        tags=(GRANT_TAG,),
        links=(link,),
    )
    household = household_disbursement(
        facts.date,
        facts.award_code,
        facts.grant_id,
        facts.receipt,
        facts.currency,
        facts.units,
        facts.items,
        commodity_precisions[facts.currency],
        commodity_precisions,
        narration,
    )
    return DisbursementTransactions(organisation, household, link)
