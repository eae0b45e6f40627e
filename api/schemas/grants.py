"""Donor awards, exchanges, households, grants and disbursements as the API shows them.

Amounts are decimal strings in the commodity's precision, never JSON numbers (head counts
of items given in kind are whole numbers).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Annotated

import msgspec

from api.schemas import example, examples, next_id_cursor
from ledger.core import limits
from ledger.core.amount import format_units
from ledger.funds import rules as fund_rules
from ledger.funds.amendments import Revision as StoredRevision
from ledger.funds.service import Award as StoredAward
from ledger.funds.service import (
    AwardDraft,
    BudgetExpenseDraft,
    BudgetLineDraft,
    ExchangeDraft,
    ExchangeRecord,
    FundsReceived,
    Spent,
)
from ledger.funds.service import BudgetReport as StoredBudgetReport
from ledger.grants import rules as grant_rules
from ledger.grants.service import Disbursement as StoredDisbursement
from ledger.grants.service import DisbursementDraft, GrantDraft, ItemDraft, TrancheDraft
from ledger.grants.service import Grant as StoredGrant
from ledger.households.rules import HouseholdDraft
from ledger.households.service import Household as StoredHousehold
from ledger.reports.registers import percent_used

Amount = Annotated[
    str, msgspec.Meta(max_length=limits.AMOUNT_TEXT_LENGTH_MAX, examples=["2500.00"])
]
Code = Annotated[str, msgspec.Meta(max_length=40)]
Line = Annotated[str, msgspec.Meta(max_length=200)]
Place = Annotated[str, msgspec.Meta(max_length=100)]
AccountName = Annotated[str, msgspec.Meta(max_length=limits.ACCOUNT_NAME_LENGTH_MAX)]
Text = Annotated[str, msgspec.Meta(max_length=limits.NARRATION_LENGTH_MAX)]


# -- awards ---------------------------------------------------------------------------------


class BudgetLineCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=40, examples=["livelihood-grants"])]
    name: Line
    amount: Amount
    expense_account: Annotated[
        str,
        msgspec.Meta(
            max_length=limits.ACCOUNT_NAME_LENGTH_MAX,
            examples=["Expenses:Grants:Livelihood:CTIP-2018"],
        ),
    ]

    def to_draft(self) -> BudgetLineDraft:
        return BudgetLineDraft(self.code, self.name, self.amount, self.expense_account)


class AwardCreate(msgspec.Struct, forbid_unknown_fields=True):
    book: Code
    code: Annotated[str, msgspec.Meta(max_length=40, examples=["CTIP-2018"])]
    donor: Line
    currency: Code
    amount: Amount
    start_date: datetime.date
    end_date: datetime.date
    income_account: AccountName
    approval_threshold: Amount = "0"
    budget_lines: Annotated[
        list[BudgetLineCreate], msgspec.Meta(max_length=fund_rules.BUDGET_LINES_PER_AWARD_MAX)
    ] = msgspec.field(default_factory=list)

    def to_draft(self) -> AwardDraft:
        return AwardDraft(
            book_code=self.book,
            code=self.code,
            donor=self.donor,
            currency=self.currency,
            amount=self.amount,
            start_date=self.start_date,
            end_date=self.end_date,
            approval_threshold=self.approval_threshold,
            income_account=self.income_account,
            lines=tuple(line.to_draft() for line in self.budget_lines),
        )


class BudgetLine(msgspec.Struct):
    code: str
    name: str
    amount: str
    expense_account: str


class Award(msgspec.Struct):
    code: str
    book: str
    donor: str
    currency: str
    amount: str
    start_date: datetime.date
    end_date: datetime.date
    approval_threshold: str
    income_account: str
    budget_lines: list[BudgetLine]

    @classmethod
    def of(cls, award: StoredAward) -> Award:
        def money(units: int) -> str:
            return format_units(units, award.precision)

        return cls(
            code=award.code,
            book=award.book_code,
            donor=award.donor,
            currency=award.currency,
            amount=money(award.amount),
            start_date=award.start_date,
            end_date=award.end_date,
            approval_threshold=money(award.approval_threshold),
            income_account=award.income_account,
            budget_lines=[
                BudgetLine(line.code, line.name, money(line.amount), line.expense_account)
                for line in award.lines
            ],
        )


class AwardPage(msgspec.Struct):
    items: list[Award]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredAward], limit: int) -> AwardPage:
        return cls([Award.of(a) for a in found], next_id_cursor(found, limit))


class FundReceiptCreate(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    bank_account: AccountName
    amount: Amount
    narration: Text | None = None
    reference: Text | None = None


class BudgetExpenseCreate(msgspec.Struct, forbid_unknown_fields=True):
    """An expense on a budget line paid from a bank or cash account (transport, venue...)."""

    date: datetime.date
    budget_line: Code
    paid_from: AccountName
    amount: Amount
    narration: Text
    payee: Line | None = None
    exchange_rate: Amount | None = None

    def to_draft(self) -> BudgetExpenseDraft:
        return BudgetExpenseDraft(
            date=self.date,
            budget_line=self.budget_line,
            paid_from=self.paid_from,
            amount=self.amount,
            narration=self.narration,
            payee=self.payee,
            exchange_rate=self.exchange_rate,
        )


class Posted(msgspec.Struct):
    """What a write posted: the transaction's id in its book, and its measure in the award's
    currency with the conversion used."""

    book: str
    transaction_id: int
    award_amount: str | None = None
    rate_method: str | None = None
    rate: str | None = None

    @classmethod
    def of_receipt(cls, received: FundsReceived) -> Posted:
        return cls(received.book_code, received.transaction_id)

    @classmethod
    def of_expense(cls, spent: Spent) -> Posted:
        conversion = spent.conversion
        return cls(
            spent.book_code,
            spent.transaction_id,
            format_units(conversion.award_units, spent.award_precision),
            conversion.method,
            None if conversion.rate is None else format(conversion.rate, "f"),
        )


class BudgetLineReport(msgspec.Struct):
    code: str
    name: str
    budget: str  # as revised by the approved amendments
    actual: str
    committed: str
    remaining: str
    percent_used: str
    in_kind: str
    original_budget: str | None = None  # before any amendment


class AmendmentSummary(msgspec.Struct):
    """One amendment in the budget report's history (`GET .../amendments` has all of it)."""

    id: int
    status: str
    effective_date: datetime.date
    reason: str
    amount_before: str
    amount_after: str
    end_date_before: datetime.date
    end_date_after: datetime.date
    lines: dict[str, list[str]]  # line code: [before, after]
    proposed_by: str
    approved_by: str | None


class BudgetReport(msgspec.Struct):
    award: str
    donor: str
    currency: str
    as_of: datetime.date | None
    amount: str
    received: str
    budget: str
    actual: str
    committed: str
    remaining: str
    conversion_method: str
    lines: list[BudgetLineReport]
    # Original (before any amendment) and revised figures, and the amendment history.
    original_amount: str | None = None
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    original_end_date: datetime.date | None = None
    amendments: list[AmendmentSummary] = msgspec.field(default_factory=list)

    @classmethod
    def of(
        cls,
        report: StoredBudgetReport,
        conversion_method: str,
        revision: StoredRevision | None = None,
    ) -> BudgetReport:
        award = report.award

        def money(units: int) -> str:
            return format_units(units, award.precision)

        made = cls._figures(report, conversion_method, money)
        if revision is None:
            return made
        for line in made.lines:
            line.original_budget = money(revision.original_lines.get(line.code, 0))
        made.original_amount = money(revision.original_amount)
        made.start_date = award.start_date
        made.end_date = award.end_date
        made.original_end_date = revision.original_end_date
        made.amendments = [
            AmendmentSummary(
                id=a.id,
                status=a.status,
                effective_date=a.effective_date,
                reason=a.reason,
                amount_before=money(a.amount_before),
                amount_after=money(a.amount_after),
                end_date_before=a.end_date_before,
                end_date_after=a.end_date_after,
                lines={x.code: [money(x.before), money(x.after)] for x in a.lines},
                proposed_by=a.proposed_by,
                approved_by=a.approved_by,
            )
            for a in revision.amendments
        ]
        return made

    @classmethod
    def _figures(
        cls, report: StoredBudgetReport, conversion_method: str, money: Callable[[int], str]
    ) -> BudgetReport:
        award = report.award

        return cls(
            award=award.code,
            donor=award.donor,
            currency=award.currency,
            as_of=report.as_of,
            amount=money(award.amount),
            received=money(report.received),
            budget=money(report.budget),
            actual=money(report.actual),
            committed=money(report.committed),
            remaining=money(report.budget - report.actual - report.committed),
            conversion_method=conversion_method,
            lines=[
                BudgetLineReport(
                    code=use.line.code,
                    name=use.line.name,
                    budget=money(use.line.amount),
                    actual=money(use.actual),
                    committed=money(use.committed),
                    remaining=money(use.remaining),
                    percent_used=percent_used(use.actual, use.line.amount),
                    in_kind=money(use.in_kind),
                )
                for use in report.lines
            ],
        )


# -- exchanges -------------------------------------------------------------------------------


class ExchangeCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Give both amounts, or one of them and the rate (units received per unit given)."""

    book: Code
    date: datetime.date
    from_account: AccountName
    to_account: AccountName
    from_amount: Amount | None = None
    to_amount: Amount | None = None
    rate: Amount | None = None
    narration: Text | None = None

    def to_draft(self) -> ExchangeDraft:
        return ExchangeDraft(
            book_code=self.book,
            date=self.date,
            from_account=self.from_account,
            to_account=self.to_account,
            from_amount=self.from_amount,
            to_amount=self.to_amount,
            rate=self.rate,
            narration=self.narration,
        )


class Exchange(msgspec.Struct):
    id: int
    transaction_id: int
    date: datetime.date
    from_account: str
    from_currency: str
    from_amount: str
    to_account: str
    to_currency: str
    to_amount: str
    rate: str

    @classmethod
    def of(cls, record: ExchangeRecord) -> Exchange:
        return cls(
            id=record.id,
            transaction_id=record.transaction_id,
            date=record.date,
            from_account=record.from_account,
            from_currency=record.from_currency,
            from_amount=format_units(record.from_units, record.from_precision),
            to_account=record.to_account,
            to_currency=record.to_currency,
            to_amount=format_units(record.to_units, record.to_precision),
            rate=format(record.rate, "f"),
        )


class ExchangePage(msgspec.Struct):
    items: list[Exchange]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[ExchangeRecord], limit: int) -> ExchangePage:
        return cls([Exchange.of(r) for r in found], next_id_cursor(found, limit))


# -- households ------------------------------------------------------------------------------


class HouseholdCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A household by case code; names and phones go to /api/contacts, never here."""

    case_code: Annotated[str, msgspec.Meta(max_length=20, examples=["DV-009"])]
    province: Place
    district: Place
    commune: Place
    village: Place
    head_sex: Annotated[str, msgspec.Meta(max_length=10, examples=["female"])]
    head_age_band: Annotated[str, msgspec.Meta(max_length=10, examples=["35-49"])]
    members: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    children: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    category: Annotated[str, msgspec.Meta(max_length=40, examples=["trafficking_survivor"])]
    consent_date: datetime.date
    referral_source: Line = ""

    def to_draft(self) -> HouseholdDraft:
        return HouseholdDraft(
            case_code=self.case_code,
            province=self.province,
            district=self.district,
            commune=self.commune,
            village=self.village,
            head_sex=self.head_sex,
            head_age_band=self.head_age_band,
            members=self.members,
            children=self.children,
            category=self.category,
            referral_source=self.referral_source,
            consent_date=self.consent_date,
        )


class Household(msgspec.Struct):
    case_code: str
    book: str
    province: str
    district: str
    commune: str
    village: str
    head_sex: str
    head_age_band: str
    members: int
    children: int
    category: str
    referral_source: str
    consent_date: datetime.date
    created_at: datetime.datetime

    @classmethod
    def of(cls, household: StoredHousehold) -> Household:
        return cls(
            case_code=household.case_code,
            book=household.book_code,
            province=household.province,
            district=household.district,
            commune=household.commune,
            village=household.village,
            head_sex=household.head_sex,
            head_age_band=household.head_age_band,
            members=household.members,
            children=household.children,
            category=household.category,
            referral_source=household.referral_source,
            consent_date=household.consent_date,
            created_at=household.created_at,
        )


# -- grants ------------------------------------------------------------------------------------


class TrancheIn(msgspec.Struct, forbid_unknown_fields=True):
    planned_date: datetime.date
    amount: Amount


class GrantCreate(msgspec.Struct, forbid_unknown_fields=True):
    case_code: Annotated[str, msgspec.Meta(max_length=20, examples=["DV-009"])]
    award: Code
    budget_line: Code
    business_type: Annotated[str, msgspec.Meta(max_length=40, examples=["pig_raising"])]
    approved_amount: Amount
    tranches: Annotated[
        list[TrancheIn], msgspec.Meta(max_length=grant_rules.TRANCHES_PER_GRANT_MAX)
    ] = msgspec.field(default_factory=list)
    purpose: Annotated[str, msgspec.Meta(max_length=grant_rules.PURPOSE_LENGTH_MAX)] = ""
    # What the household receives (KHR, THB, USD; head of livestock at their cost in it).
    # Absent: the award's currency. The amount and tranches are in it.
    currency: Annotated[str, msgspec.Meta(max_length=24, examples=["KHR"])] | None = None

    def to_draft(self) -> GrantDraft:
        return GrantDraft(
            case_code=self.case_code,
            award_code=self.award,
            budget_line=self.budget_line,
            business_type=self.business_type,
            approved_amount=self.approved_amount,
            tranches=tuple(TrancheDraft(t.planned_date, t.amount) for t in self.tranches),
            purpose=self.purpose,
            currency=self.currency,
        )


class GrantApprove(msgspec.Struct, forbid_unknown_fields=True):
    """For a grant in another currency than the award's: the rate of its commitment (units of
    the grant's currency for one of the award's). Absent: the weighted average rate of the
    award's exchanges into the grant's currency up to today."""

    exchange_rate: Amount | None = None


class GrantEnd(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=grant_rules.REASON_LENGTH_MAX)] | None = None


class Tranche(msgspec.Struct):
    planned_date: datetime.date
    amount: str


class Grant(msgspec.Struct):
    id: int
    case_code: str
    province: str
    award: str
    budget_line: str
    business_type: str
    currency: str
    approved_amount: str
    disbursed: str
    remaining: str
    status: str
    purpose: str
    proposed_by: str
    proposed_at: datetime.datetime
    approved_by: str | None
    approved_at: datetime.datetime | None
    ended_by: str | None
    ended_at: datetime.datetime | None
    end_reason: str | None
    tranches: list[Tranche]
    # What approval committed of the award's currency (paid in full: what it spent), at
    # which rate (grant currency per award currency) and by which method; null until approved.
    award_currency: str
    committed: str | None
    commitment_rate: str | None
    commitment_rate_method: str | None
    award_disbursed: str  # what its payments consumed of the award's currency
    reserved: str  # what it still holds on its budget line, in the award's currency

    @classmethod
    def of(cls, grant: StoredGrant) -> Grant:
        def money(units: int) -> str:
            return format_units(units, grant.precision)

        def award_money(units: int) -> str:
            return format_units(units, grant.award_precision)

        return cls(
            id=grant.id,
            case_code=grant.case_code,
            province=grant.province,
            award=grant.award_code,
            budget_line=grant.budget_line,
            business_type=grant.business_type,
            currency=grant.currency,
            approved_amount=money(grant.approved_amount),
            disbursed=money(grant.disbursed),
            remaining=money(grant.remaining),
            status=grant.status,
            purpose=grant.purpose,
            proposed_by=grant.proposed_by,
            proposed_at=grant.proposed_at,
            approved_by=grant.approved_by,
            approved_at=grant.approved_at,
            ended_by=grant.ended_by,
            ended_at=grant.ended_at,
            end_reason=grant.end_reason,
            tranches=[Tranche(t.planned_date, money(t.amount)) for t in grant.tranches],
            award_currency=grant.award_currency,
            committed=None if grant.committed is None else award_money(grant.committed),
            commitment_rate=(
                None if grant.commitment_rate is None else format(grant.commitment_rate, "f")
            ),
            commitment_rate_method=grant.commitment_rate_method,
            award_disbursed=award_money(grant.award_paid),
            reserved=award_money(grant.reserved),
        )


class HouseholdPage(msgspec.Struct):
    items: list[Household]
    next_cursor: str | None


class GrantPage(msgspec.Struct):
    items: list[Grant]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredGrant], limit: int) -> GrantPage:
        return cls([Grant.of(g) for g in found], next_id_cursor(found, limit))


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    commodity: Annotated[str, msgspec.Meta(max_length=24, examples=["PIG"])]
    # A whole number; a fractional head count is refused with `quantity_fractional`.
    quantity: int | float
    unit_cost: Amount
    # The currency of `unit_cost`: the paid-from account's (say it, or leave it out).
    currency: Annotated[str, msgspec.Meta(max_length=24)] | None = None


class DisbursementCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Cash (`amount`) or in kind (`items`), paid from a bank or cash account."""

    date: datetime.date
    method: Annotated[str, msgspec.Meta(max_length=20, examples=["in_kind"])]
    paid_from: AccountName
    amount: Amount | None = None
    items: Annotated[list[ItemIn], msgspec.Meta(max_length=limits.DISBURSEMENT_ITEMS_MAX)] = (
        msgspec.field(default_factory=list)
    )
    exchange_rate: Amount | None = None
    # Printed on the receipt.
    narration: (
        Annotated[str, msgspec.Meta(max_length=limits.DISBURSEMENT_NARRATION_LENGTH_MAX)] | None
    ) = None

    def to_draft(self) -> DisbursementDraft:
        return DisbursementDraft(
            date=self.date,
            method=self.method,
            paid_from=self.paid_from,
            amount=self.amount,
            items=tuple(
                ItemDraft(i.commodity, i.quantity, i.unit_cost, i.currency) for i in self.items
            ),
            exchange_rate=self.exchange_rate,
            narration=self.narration,
        )


class DisbursementReverse(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date | None = None
    reason: Annotated[str, msgspec.Meta(max_length=grant_rules.REASON_LENGTH_MAX)] | None = None


class ItemOut(msgspec.Struct):
    commodity: str
    quantity: int
    unit_cost: str
    value: str


class Disbursement(msgspec.Struct):
    id: int
    grant_id: int
    receipt_number: str
    date: datetime.date
    method: str
    paid_from: str
    currency: str
    amount: str
    items: list[ItemOut]
    award_amount: str
    rate_method: str
    rate: str | None
    org_transaction_id: int
    household_transaction_id: int
    reversed_at: datetime.datetime | None
    reversed_by: str | None

    @classmethod
    def of(cls, found: StoredDisbursement) -> Disbursement:
        def money(units: int) -> str:
            return format_units(units, found.precision)

        return cls(
            id=found.id,
            grant_id=found.grant_id,
            receipt_number=found.receipt_number,
            date=found.date,
            method=found.method,
            paid_from=found.paid_from,
            currency=found.currency,
            amount=money(found.units),
            items=[
                ItemOut(i.commodity, i.quantity, money(i.unit_cost), money(i.value))
                for i in found.items
            ],
            award_amount=format_units(found.award_units, found.award_precision),
            rate_method=found.rate_method,
            rate=None if found.rate is None else format(found.rate, "f"),
            org_transaction_id=found.org_transaction_id,
            household_transaction_id=found.household_transaction_id,
            reversed_at=found.reversed_at,
            reversed_by=found.reversed_by,
        )


class DisbursementPage(msgspec.Struct):
    items: list[Disbursement]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredDisbursement], limit: int) -> DisbursementPage:
        return cls([Disbursement.of(d) for d in found], next_id_cursor(found, limit))


EXAMPLE_AWARD = {
    "book": "org",
    "code": "CTIP-2018",
    "donor": "USAID / Winrock International (CTIP)",
    "currency": "USD",
    "amount": "60000.00",
    "start_date": "2018-07-01",
    "end_date": "2019-06-30",
    "income_account": "Income:Restricted:CTIP-2018",
    "approval_threshold": "250.00",
    "budget_lines": [
        {
            "code": "livelihood-grants",
            "name": "Small-business grants to returnee households",
            "amount": "20000.00",
            "expense_account": "Expenses:Grants:Livelihood:CTIP-2018",
        },
        {
            "code": "livestock-training",
            "name": "Chicken and pig raising training",
            "amount": "6000.00",
            "expense_account": "Expenses:Training:Livestock:CTIP-2018",
        },
    ],
}
EXAMPLE_BUDGET_LINE = {
    "code": "transport",
    "name": "Transport home of returnees",
    "amount": "500.00",
    "expense_account": "Expenses:Reintegration:Transport:CTIP-2018",
}
EXAMPLE_FUND_RECEIPT = {
    "date": "2018-07-02",
    "bank_account": "Assets:Bank:Operating-USD",
    "amount": "30000.00",
    "narration": "CTIP sub-award, first tranche",
    "reference": "WI-CTIP-2018-001",
}
EXAMPLE_EXPENSE = {
    "date": "2018-11-04",
    "budget_line": "transport",
    "paid_from": "Assets:Cash:Bavet-KHR",
    "amount": "120000",
    "narration": "Transport home for 33 returnees from Long An",
    "exchange_rate": "4100",
}
EXAMPLE_EXCHANGE = {
    "book": "org",
    "date": "2018-11-02",
    "from_account": "Assets:Bank:Operating-USD",
    "to_account": "Assets:Cash:Bavet-KHR",
    "from_amount": "800.00",
    "rate": "4110",
}
EXAMPLE_HOUSEHOLD = {
    "case_code": "DV-009",
    "province": "Svay Rieng",
    "district": "Bavet",
    "commune": "Bavet",
    "village": "Prey Kokir",
    "head_sex": "female",
    "head_age_band": "35-49",
    "members": 5,
    "children": 4,
    "category": "trafficking_survivor",
    "referral_source": "Bavet transit centre",
    "consent_date": "2018-11-04",
}
EXAMPLE_GRANT = {
    "case_code": "DV-009",
    "award": "CTIP-2018",
    "budget_line": "livelihood-grants",
    "business_type": "pig_raising",
    "approved_amount": "300.00",
    "tranches": [
        {"planned_date": "2018-11-20", "amount": "150.00"},
        {"planned_date": "2019-01-20", "amount": "150.00"},
    ],
    "purpose": "Two piglets and feed for pig raising at home",
}
EXAMPLE_APPROVE = {"exchange_rate": "4110"}
EXAMPLE_CANCEL = {"reason": "The household moved back to Thailand before the first tranche"}
EXAMPLE_CLOSE = {"reason": "Both tranches paid; pigs seen at the follow-up visit"}
EXAMPLE_REVERSE = {"date": "2018-11-21", "reason": "Receipt made out to the wrong household"}
EXAMPLE_IN_KIND = {
    "date": "2018-11-20",
    "method": "in_kind",
    "paid_from": "Assets:Cash:Bavet-KHR",
    "items": [{"commodity": "PIG", "quantity": 2, "unit_cost": "300000", "currency": "KHR"}],
}
EXAMPLE_CASH = {
    "date": "2019-01-20",
    "method": "cash",
    "paid_from": "Assets:Cash:Bavet-KHR",
    "amount": "616500",
}

# The request bodies with their examples, as the controllers declare them.
AwardBody = Annotated[AwardCreate, example("USAID CTIP", EXAMPLE_AWARD)]
BudgetLineBody = Annotated[BudgetLineCreate, example("Transport home", EXAMPLE_BUDGET_LINE)]
FundReceiptBody = Annotated[FundReceiptCreate, example("First tranche", EXAMPLE_FUND_RECEIPT)]
ExpenseBody = Annotated[BudgetExpenseCreate, example("Transport in riel", EXAMPLE_EXPENSE)]
ExchangeBody = Annotated[ExchangeCreate, example("Dollars into riel", EXAMPLE_EXCHANGE)]
GrantBody = Annotated[GrantCreate, example("Pig raising", EXAMPLE_GRANT)]
ApproveBody = Annotated[
    GrantApprove | None, example("A riel grant at 4,110 riel to the dollar", EXAMPLE_APPROVE)
]
CancelBody = Annotated[GrantEnd, example("Moved away", EXAMPLE_CANCEL)]
CloseBody = Annotated[GrantEnd | None, example("Paid in full", EXAMPLE_CLOSE)]
DisburseBody = Annotated[
    DisbursementCreate,
    examples(("Two pigs, in kind", EXAMPLE_IN_KIND), ("Cash in riel", EXAMPLE_CASH)),
]
ReverseBody = Annotated[DisbursementReverse | None, example("Wrong household", EXAMPLE_REVERSE)]
