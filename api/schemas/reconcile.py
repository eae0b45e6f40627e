"""Bank statements, matches, reconciliations, cash counts, the period close and the donor
report as the API shows them. Amounts are decimal strings in the account's currency."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Annotated

import msgspec

from api.cursors import dated_cursor
from api.schemas import next_id_cursor
from api.schemas.amendments import Amendment
from ledger.core import limits
from ledger.core.amount import format_units
from ledger.demo.statements import ACLEDA_LIKE, as_json
from ledger.reconcile import rules
from ledger.reconcile import service as stored
from ledger.reconcile.rules import ColumnMapping as StoredMapping
from ledger.reconcile.rules import Proposal as StoredProposal
from ledger.reports.donor_report import DonorReport as StoredDonorReport

Amount = Annotated[
    str, msgspec.Meta(max_length=limits.AMOUNT_TEXT_LENGTH_MAX, examples=["3998.00"])
]
Heading = Annotated[str, msgspec.Meta(max_length=100)]
AccountName = Annotated[str, msgspec.Meta(max_length=limits.ACCOUNT_NAME_LENGTH_MAX)]
Narration = Annotated[str, msgspec.Meta(max_length=limits.NARRATION_LENGTH_MAX)]
# Ids are INTEGER columns: a larger one names nothing (and PostgreSQL refuses to compare it).
Id = Annotated[int, msgspec.Meta(ge=-limits.ID_MAX, le=limits.ID_MAX)]
Ids = Annotated[list[Id], msgspec.Meta(max_length=rules.MATCH_SIDE_MAX)]

# A statement of 5 MiB of CSV travels inside JSON (quotes and backslashes escaped): the
# route accepts a body of up to 6 MiB, the statement itself is checked against 5 MiB.
STATEMENT_REQUEST_BYTES_MAX = 6 * 1024 * 1024

EXAMPLE_ACLEDA_MAPPING = as_json(ACLEDA_LIKE)
# The README walk-through's November (steps 23 to 27; tests/api/test_readme.py posts them).
EXAMPLE_STATEMENT = {
    "file_name": "acleda-2018-11.csv",
    "mapping": EXAMPLE_ACLEDA_MAPPING,
    "csv": "ACLEDA Bank Plc.\n...\nDate,Description,Reference,Debit,Credit,Balance\n"
    '02/07/2018,Incoming transfer,TT180702-001,,"5,000.00","5,000.00"\n',
}
EXAMPLE_MATCH = {"line_ids": [1], "posting_ids": [1], "proposed": True}
EXAMPLE_REJECTION = {"line_ids": [2], "posting_ids": [3]}
EXAMPLE_RECONCILIATION = {"date": "2018-11-30", "adjustment_account": "Expenses:Bank-Charges"}
EXAMPLE_CASH_COUNT = {"date": "2018-11-30", "amount": "0"}
EXAMPLE_PERIOD_CLOSE = {"date": "2018-11-30"}


class ColumnMapping(msgspec.Struct, forbid_unknown_fields=True):
    """Which column holds what, by heading. Give `amount`, or `debit` and `credit`."""

    date: Heading
    description: Heading
    date_format: Annotated[str, msgspec.Meta(max_length=20, examples=["DD/MM/YYYY"])] = "YYYY-MM-DD"
    reference: Heading | None = None
    amount: Heading | None = None
    debit: Heading | None = None
    credit: Heading | None = None
    balance: Heading | None = None
    currency: Heading | None = None
    header_row: Annotated[int, msgspec.Meta(ge=0, le=rules.STATEMENT_HEADER_ROW_MAX)] = 0

    def to_rules(self) -> StoredMapping:
        return StoredMapping(
            date=self.date,
            description=self.description,
            date_format=self.date_format,
            reference=self.reference,
            amount=self.amount,
            debit=self.debit,
            credit=self.credit,
            balance=self.balance,
            currency=self.currency,
            header_row=self.header_row,
        )


class StatementImportCreate(msgspec.Struct, forbid_unknown_fields=True):
    """The bank's CSV export as text, and how to read it."""

    csv: str
    mapping: ColumnMapping
    file_name: Annotated[str, msgspec.Meta(max_length=stored.FILE_NAME_LENGTH_MAX)] = ""


class StatementImport(msgspec.Struct):
    id: int
    account: str
    currency: str
    first_date: datetime.date
    last_date: datetime.date
    lines_read: int
    lines_added: int  # lines stored already (re-imported, overlapping) are not added again
    closing_balance: str | None

    @classmethod
    def of(cls, found: stored.StatementImport) -> StatementImport:
        return cls(
            id=found.id,
            account=found.account,
            currency=found.currency,
            first_date=found.first_date,
            last_date=found.last_date,
            lines_read=found.lines_read,
            lines_added=found.lines_added,
            closing_balance=None
            if found.closing_balance is None
            else format_units(found.closing_balance, found.precision),
        )


class StatementImportPage(msgspec.Struct):
    items: list[StatementImport]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[stored.StatementImport], limit: int) -> StatementImportPage:
        return cls([StatementImport.of(i) for i in found], next_id_cursor(found, limit))


class StatementLine(msgspec.Struct):
    id: int
    date: datetime.date
    description: str
    reference: str
    amount: str
    balance: str | None


class AccountPosting(msgspec.Struct):
    id: int
    transaction_id: int
    date: datetime.date
    narration: str
    payee: str | None
    amount: str


class Unmatched(msgspec.Struct):
    account: str
    currency: str
    lines: list[StatementLine]
    postings: list[AccountPosting]

    @classmethod
    def of(cls, found: stored.Unmatched) -> Unmatched:
        def money(units: int) -> str:
            return format_units(units, found.precision)

        return cls(
            account=found.account.name,
            currency=found.currency,
            lines=[
                StatementLine(
                    line.id,
                    line.date,
                    line.description,
                    line.reference,
                    money(line.units),
                    None if line.balance is None else money(line.balance),
                )
                for line in found.lines
            ],
            postings=[
                AccountPosting(p.id, p.transaction_id, p.date, p.narration, p.payee, money(p.units))
                for p in found.postings
            ],
        )


class Proposal(msgspec.Struct):
    line_ids: list[int]
    posting_ids: list[int]
    amount: str
    score: str  # 0 to 1: date closeness and text similarity
    kind: str  # one_to_one, one_line_to_many, many_lines_to_one


class Proposals(msgspec.Struct):
    account: str
    currency: str
    window_days: int
    proposals: list[Proposal]
    lines_unmatched: int
    postings_unmatched: int

    @classmethod
    def of(
        cls, found: stored.Unmatched, proposals: list[StoredProposal], window_days: int
    ) -> Proposals:
        units = {line.id: line.units for line in found.lines}
        return cls(
            account=found.account.name,
            currency=found.currency,
            window_days=window_days,
            proposals=[
                Proposal(
                    list(p.line_ids),
                    list(p.posting_ids),
                    format_units(sum(units[i] for i in p.line_ids), found.precision),
                    f"{p.score:.2f}",
                    p.kind,
                )
                for p in proposals
            ],
            lines_unmatched=len(found.lines),
            postings_unmatched=len(found.postings),
        )


class MatchCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Lines and postings that are the same money: one to one, one line to several
    postings, or several lines to one posting. `proposed`: accepting a proposal."""

    line_ids: Ids
    posting_ids: Ids
    proposed: bool = False


class Match(msgspec.Struct):
    id: int
    how: str
    line_ids: list[int]
    posting_ids: list[int]

    @classmethod
    def of(cls, found: stored.Match) -> Match:
        return cls(found.id, found.how, list(found.line_ids), list(found.posting_ids))


class RejectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    line_ids: Ids
    posting_ids: Ids


class Rejection(msgspec.Struct):
    pairs: int


class ReconciliationClose(msgspec.Struct, forbid_unknown_fields=True):
    """Close at the end of `date`. Without `closing_balance`, the bank's running balance on
    the last statement line up to `date`. A difference is refused unless an
    `adjustment_account` is named to explain it (bank charges, interest)."""

    date: datetime.date
    closing_balance: Amount | None = None
    adjustment_account: AccountName | None = None
    adjustment_narration: Narration | None = None

    def to_draft(self) -> stored.StatementCloseDraft:
        return stored.StatementCloseDraft(
            self.date, self.closing_balance, self.adjustment_account, self.adjustment_narration
        )


class CashCountCreate(msgspec.Struct, forbid_unknown_fields=True):
    """The cash counted in a box at the end of `date`."""

    date: datetime.date
    amount: Amount
    adjustment_account: AccountName | None = None
    adjustment_narration: Narration | None = None

    def to_draft(self) -> stored.CashCountDraft:
        return stored.CashCountDraft(
            self.date, self.amount, self.adjustment_account, self.adjustment_narration
        )


class Reconciliation(msgspec.Struct):
    id: int
    account: str
    kind: str
    date: datetime.date
    currency: str
    counted: str
    ledger_before: str
    difference: str
    adjustment_transaction_id: int | None
    lines_unmatched: int

    @classmethod
    def of(cls, found: stored.Reconciliation) -> Reconciliation:
        def money(units: int) -> str:
            return format_units(units, found.precision)

        return cls(
            id=found.id,
            account=found.account,
            kind=found.kind,
            date=found.date,
            currency=found.currency,
            counted=money(found.counted_units),
            ledger_before=money(found.ledger_units),
            difference=money(found.difference),
            adjustment_transaction_id=found.adjustment_transaction_id,
            lines_unmatched=found.lines_unmatched,
        )


class ReconciliationPage(msgspec.Struct):
    """Reconciliations in date order, then id: the cursor names the last one's date and id."""

    items: list[Reconciliation]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[stored.Reconciliation], limit: int) -> ReconciliationPage:
        last = found[-1] if len(found) == limit else None
        next_cursor = None if last is None else dated_cursor(last.date, last.id)
        return cls([Reconciliation.of(r) for r in found], next_cursor)


class PeriodClose(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date


# -- the donor report ------------------------------------------------------------------------


class DonorBudgetLine(msgspec.Struct):
    code: str
    name: str
    budget: str
    actual_in_period: str
    actual_to_date: str
    remaining: str
    percent_used: str
    in_kind_to_date: str
    original_budget: str | None = None  # before the award's amendments


class Reach(msgspec.Struct):
    households: int
    people: int


class BankOrCash(msgspec.Struct):
    account: str
    currency: str
    ledger_balance: str
    reconciled_on: datetime.date | None
    reconciled_by: str | None  # 'statement', 'cash_count' or 'balance_assertion'
    counted: str | None
    lines_unmatched: int


class DonorReport(msgspec.Struct):
    award: str
    donor: str
    currency: str
    start: datetime.date
    end: datetime.date
    conversion_method: str
    received_in_period: str
    received_to_date: str
    budget: str
    actual_in_period: str
    actual_to_date: str
    remaining: str
    percent_used: str
    in_kind_to_date: str
    reached_in_period: Reach
    reached_to_date: Reach
    lines: list[DonorBudgetLine]
    bank_and_cash: list[BankOrCash]
    fx_realised_in_period: str  # exchange gains (losses negative) of the award's book
    fx_realised_to_date: str
    fx_unrealised_at_end: str
    # Before the award's approved amendments (null: never amended), and those amendments.
    original_amount: str | None = None
    original_end_date: datetime.date | None = None
    amendments: list[Amendment] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, r: StoredDonorReport) -> DonorReport:
        made = cls._figures(r)
        if r.original_amount is not None:
            made.original_amount = r.money(r.original_amount)
        made.original_end_date = r.original_end
        made.amendments = Amendment.all_of(r.amendments)
        for line, kept in zip(made.lines, r.lines, strict=True):
            if kept.original_budget is not None:
                line.original_budget = r.money(kept.original_budget)
        return made

    @classmethod
    def _figures(cls, r: StoredDonorReport) -> DonorReport:
        money = r.money
        return cls(
            award=r.award,
            donor=r.donor,
            currency=r.currency,
            start=r.start,
            end=r.end,
            conversion_method=r.conversion_method,
            received_in_period=money(r.received_in_period),
            received_to_date=money(r.received_to_date),
            budget=money(r.budget),
            actual_in_period=money(r.actual_in_period),
            actual_to_date=money(r.actual_to_date),
            remaining=money(r.remaining),
            percent_used=r.percent_used,
            in_kind_to_date=money(r.in_kind_to_date),
            reached_in_period=Reach(r.households_in_period, r.people_in_period),
            reached_to_date=Reach(r.households_to_date, r.people_to_date),
            lines=[
                DonorBudgetLine(
                    code=line.code,
                    name=line.name,
                    budget=money(line.budget),
                    actual_in_period=money(line.actual_in_period),
                    actual_to_date=money(line.actual_to_date),
                    remaining=money(line.remaining),
                    percent_used=line.percent_used,
                    in_kind_to_date=money(line.in_kind_to_date),
                )
                for line in r.lines
            ],
            bank_and_cash=[
                BankOrCash(
                    account=a.account,
                    currency=a.currency,
                    ledger_balance=format_units(a.ledger_units, a.precision),
                    reconciled_on=a.reconciled_on,
                    reconciled_by=a.kind,
                    counted=None
                    if a.counted_units is None
                    else format_units(a.counted_units, a.precision),
                    lines_unmatched=a.lines_unmatched,
                )
                for a in r.bank_and_cash
            ],
            fx_realised_in_period=money(r.fx.realised_in_period),
            fx_realised_to_date=money(r.fx.realised_to_date),
            fx_unrealised_at_end=money(r.fx.unrealised_at_end),
        )
