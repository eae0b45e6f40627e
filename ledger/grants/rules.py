"""Pure rules of grants: statuses, approval, disbursement postings, receipt numbers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from ledger.core.errors import LedgerError, conflict, forbidden
from ledger.core.transaction import Posting, Price, Transaction
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


def disbursement_link(receipt: str) -> str:
    """The link the organisation's and the household's transactions share."""
    return f"disbursement-{receipt}"


def approval_error(
    proposed_by: str, approver: str, approved_amount: int, threshold: int
) -> LedgerError | None:
    """Maker-checker: above the award's threshold the proposer may not approve."""
    if approved_amount > threshold and approver == proposed_by:
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
