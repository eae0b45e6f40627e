"""Grants against the stored books: propose, approve, cancel, close, disburse (cash or in
kind, posted in the organisation's book and the household's, linked), reverse, register.

Budget and award rules come from `ledger.funds.service` (one home for budget consumption);
every posting goes through `ledger.store.journal`. Every write returns the grant or the
disbursement as it now stands, built from what it wrote: nothing is read back.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.core import limits
from ledger.core.amount import parse_units
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    invalid,
    not_found,
    reject_if,
)
from ledger.core.text import validate_text
from ledger.core.transaction import Transaction
from ledger.funds import service as funds
from ledger.funds.rules import Conversion
from ledger.grants import rules
from ledger.grants.rules import DisbursementFacts, Item
from ledger.households import rules as household_rules
from ledger.households import service as households
from ledger.store import books, journal
from ledger.store.book_accounts import (
    account_named,
    ensure_accounts,
    only_currency,
    positive_amount,
)
from ledger.store.tables import (
    accounts,
    awards,
    budget_lines,
    budget_spends,
    commodities,
    disbursement_items,
    disbursements,
    grant_tranches,
    grants,
    receipt_sequences,
)
from ledger.store.tables import books as book_table
from ledger.store.tables import (
    households as household_table,
)

GRANT_NOT_FOUND = not_found("grant_not_found", "No grant has this id.", "grant")
DISBURSEMENT_NOT_FOUND = not_found(
    "disbursement_not_found", "The grant has no disbursement with this id.", "disbursement"
)


@dataclass(frozen=True, slots=True)
class TrancheDraft:
    planned_date: datetime.date
    amount: str


@dataclass(frozen=True, slots=True)
class Tranche:
    planned_date: datetime.date
    amount: int


@dataclass(frozen=True, slots=True)
class ItemDraft:
    commodity: str
    quantity: int | float
    unit_cost: str
    currency: str | None = None  # the unit cost's, when the client names it


@dataclass(frozen=True, slots=True)
class GrantDraft:
    """A proposed grant as a request gives it (amounts as decimal text)."""

    case_code: str
    award_code: str
    budget_line: str
    business_type: str
    approved_amount: str
    tranches: tuple[TrancheDraft, ...]
    purpose: str
    currency: str | None = None  # what the household receives; None: the award's currency


@dataclass(frozen=True, slots=True)
class DisbursementDraft:
    """A disbursement as a request gives it: cash (`amount`) or in kind (`items`)."""

    date: datetime.date
    method: str
    paid_from: str
    amount: str | None
    items: tuple[ItemDraft, ...]
    exchange_rate: str | None
    narration: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    book_code: str
    case_code: str
    province: str
    award_code: str
    budget_line: str
    business_type: str
    currency: str  # the grant's: what the household receives
    precision: int
    approved_amount: int  # in `currency`
    disbursed: int  # in `currency`, less reversals
    status: str
    purpose: str
    proposed_by: str
    proposed_at: datetime.datetime
    approved_by: str | None
    approved_at: datetime.datetime | None
    ended_by: str | None
    ended_at: datetime.datetime | None
    end_reason: str | None
    tranches: tuple[Tranche, ...]
    award_currency: str
    award_precision: int
    # What approval committed of the award's currency (once paid in full: what it spent),
    # the rate (units of `currency` for one of the award's) and how it was found.
    committed: int | None
    commitment_rate: Decimal | None
    commitment_rate_method: str | None
    award_paid: int  # what its payments consumed of the award's currency, less reversals

    @property
    def remaining(self) -> int:
        return self.approved_amount - self.disbursed

    @property
    def reserved(self) -> int:
        """What the grant still holds on its budget line, in the award's currency."""
        if self.status not in funds.RESERVING_STATUSES or self.committed is None:
            return 0
        return rules.commitment_left(self.committed, self.award_paid)


@dataclass(frozen=True, slots=True)
class Disbursement:
    id: int
    grant_id: int
    book_code: str
    receipt_number: str
    date: datetime.date
    method: str
    paid_from: str
    currency: str
    precision: int
    units: int
    award_units: int
    award_precision: int  # to show `award_units`, in the award's currency
    rate_method: str
    rate: Decimal | None
    items: tuple[Item, ...]
    org_transaction_id: int
    household_transaction_id: int
    reversed_at: datetime.datetime | None
    reversed_by: str | None
    created_by: str | None


# -- reading -----------------------------------------------------------------------------

_award_commodity = commodities.alias("award_commodity")
_GRANTS = (
    select(
        grants,
        household_table.c.case_code,
        household_table.c.province,
        awards.c.code.label("award_code"),
        awards.c.currency.label("award_currency"),
        budget_lines.c.code.label("line_code"),
        book_table.c.code.label("book_code"),
        commodities.c.precision,
        _award_commodity.c.precision.label("award_precision"),
    )
    .join(book_table, book_table.c.id == grants.c.book_id)
    .join(household_table, household_table.c.id == grants.c.household_id)
    .join(awards, awards.c.id == grants.c.award_id)
    .join(budget_lines, budget_lines.c.id == grants.c.budget_line_id)
    .join(commodities, commodities.c.code == grants.c.currency)
    .join(_award_commodity, _award_commodity.c.code == awards.c.currency)
)
# What a disbursement pays of its grant, in the grant's currency (`rules.grant_units_paid`).
_GRANT_UNITS_PAID = case(
    (disbursements.c.currency == grants.c.currency, disbursements.c.units),
    else_=disbursements.c.award_units,
)


def _paid_by_grant(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(paid in the grant's currency, consumed of the award's) per grant, less reversals."""
    if not ids:
        return {}
    rows = conn.execute(
        select(
            disbursements.c.grant_id,
            func.sum(_GRANT_UNITS_PAID),
            func.sum(disbursements.c.award_units),
        )
        .join(grants, grants.c.id == disbursements.c.grant_id)
        .where(and_(disbursements.c.grant_id.in_(ids), disbursements.c.reversed_at.is_(None)))
        .group_by(disbursements.c.grant_id)
    )
    return {grant_id: (int(paid), int(award)) for grant_id, paid, award in rows}


def _grants_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Grant]:
    """Grants with their tranches and what they have paid: two queries for all the rows.

    Run after the grants' rows are locked (a disbursement's lock), these read what the
    writers before it committed."""
    ids = sorted({row.id for row in rows})
    tranches = books.rows_by_parent(
        conn, grant_tranches.c.grant_id, ids, grant_tranches.c.grant_id, grant_tranches.c.position
    )
    paid = _paid_by_grant(conn, ids)
    return [
        Grant(
            id=row.id,
            book_code=row.book_code,
            case_code=row.case_code,
            province=row.province,
            award_code=row.award_code,
            budget_line=row.line_code,
            business_type=row.business_type,
            currency=row.currency,
            precision=row.precision,
            approved_amount=row.approved_amount,
            disbursed=paid.get(row.id, (0, 0))[0],
            status=row.status,
            purpose=row.purpose,
            proposed_by=row.proposed_by,
            proposed_at=row.proposed_at,
            approved_by=row.approved_by,
            approved_at=row.approved_at,
            ended_by=row.ended_by,
            ended_at=row.ended_at,
            end_reason=row.end_reason,
            tranches=tuple(Tranche(t.planned_date, t.amount) for t in tranches[row.id]),
            award_currency=row.award_currency,
            award_precision=row.award_precision,
            committed=row.committed_amount,
            commitment_rate=None if row.commitment_rate is None else Decimal(row.commitment_rate),
            commitment_rate_method=row.commitment_rate_method,
            award_paid=paid.get(row.id, (0, 0))[1],
        )
        for row in rows
    ]


def get_grant(conn: Connection, grant_id: int, *, lock: bool = False) -> Grant:
    """The grant; with `lock`, its row stays locked (PostgreSQL) until the database
    transaction ends, so two disbursements or decisions on one grant run one after the
    other."""
    statement = _GRANTS.where(grants.c.id == grant_id)
    if lock:
        statement = statement.with_for_update(of=grants)
    row = conn.execute(statement).first()
    if row is None:
        raise LedgerRejected([GRANT_NOT_FOUND])
    return _grants_from_rows(conn, [row])[0]


def grant_province(conn: Connection, grant_id: int) -> str | None:
    """The province of the grant's household (what scopes an officer), or None."""
    row = conn.execute(
        select(household_table.c.province)
        .join(grants, grants.c.household_id == household_table.c.id)
        .where(grants.c.id == grant_id)
    ).first()
    return None if row is None else str(row.province)


@dataclass(frozen=True, slots=True)
class GrantFilter:
    status: str | None = None
    award: str | None = None
    case_code: str | None = None
    province: str | None = None


def list_grants(
    conn: Connection,
    provinces: Collection[str] | None,
    where: GrantFilter,
    after_id: int | None = None,
    limit: int = limits.PAGE_SIZE_DEFAULT,
) -> list[Grant]:
    """The grant register in id order; `provinces` limits it to a scope (None: all).

    Three queries a page, however many grants it holds."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = _GRANTS.order_by(grants.c.id).limit(limit)
    if provinces is not None:
        statement = statement.where(household_table.c.province.in_(sorted(provinces)))
    if where.province is not None:
        statement = statement.where(household_table.c.province == where.province)
    if where.status is not None:
        statement = statement.where(grants.c.status == where.status)
    if where.award is not None:
        statement = statement.where(awards.c.code == where.award)
    if where.case_code is not None:
        statement = statement.where(household_table.c.case_code == where.case_code)
    if after_id is not None:
        statement = statement.where(grants.c.id > after_id)
    return _grants_from_rows(conn, conn.execute(statement).all())


# -- decisions ---------------------------------------------------------------------------


def _proposal_errors(draft: GrantDraft) -> list[LedgerError]:
    errors: list[LedgerError] = []
    if draft.business_type not in rules.BUSINESS_TYPES:
        errors.append(
            invalid(
                "business_type_invalid",
                f"business_type is one of {', '.join(rules.BUSINESS_TYPES)}.",
                "business_type",
            )
        )
    purpose_error = validate_text(draft.purpose, rules.PURPOSE_LENGTH_MAX, "purpose")
    if purpose_error is not None:
        errors.append(purpose_error)
    if len(draft.tranches) > rules.TRANCHES_PER_GRANT_MAX:
        errors.append(invalid("too_many_tranches", "Too many planned tranches.", "tranches"))
    return errors


def _planned_tranches(
    conn: Connection, award: funds.Award, draft: GrantDraft, currency: str, units: int
) -> tuple[Tranche, ...]:
    """The planned tranches in smallest units of the grant's currency: inside the award's
    dates, adding up to `units` (when there are any)."""
    planned = tuple(
        Tranche(
            t.planned_date,
            positive_amount(conn, currency, t.amount, f"tranches[{index}].amount"),
        )
        for index, t in enumerate(draft.tranches)
    )
    for index, tranche in enumerate(planned):
        funds.check_award_active(award, tranche.planned_date, f"tranches[{index}].planned_date")
    if planned and sum(t.amount for t in planned) != units:
        raise LedgerRejected(
            [
                invalid(
                    "tranches_do_not_add_up",
                    "The planned tranches add up to the approved amount.",
                    "tranches",
                )
            ]
        )
    return planned


def _grant_currency(award: funds.Award, draft: GrantDraft) -> str:
    """The currency the household receives: the award's unless the draft names another
    money (riel, baht, dollars; head of livestock are given at their cost in one of them)."""
    currency = draft.currency or award.currency
    if currency != award.currency and currency not in household_rules.MONEY:
        raise LedgerRejected(
            [
                invalid(
                    "currency_not_money",
                    f"currency is one of {', '.join(household_rules.MONEY)}.",
                    "currency",
                )
            ]
        )
    return currency


def _consent_error(household: households.Household, award: funds.Award) -> LedgerError | None:
    """A household that consented after the award ended could never be paid from it."""
    if household.consent_date <= award.end_date:
        return None
    return conflict(
        "consent_after_award_end",
        f"The household consented on {household.consent_date}, after the award ended on "
        f"{award.end_date}: it cannot be paid from this award.",
        "case_code",
    )


def _store_tranches(conn: Connection, grant_id: int, planned: Sequence[Tranche]) -> None:
    if planned:
        conn.execute(
            insert(grant_tranches),
            [
                {"grant_id": grant_id, "position": n}
                | {"planned_date": t.planned_date, "amount": t.amount}
                for n, t in enumerate(planned)
            ],
        )


def propose_grant(conn: Connection, draft: GrantDraft, proposed_by: str) -> Grant:
    """A proposed grant to a household on an award's budget line, in the currency the
    household receives (by default the award's).

    Planned tranches, when given, add up to the amount and fall inside the award's dates.
    Returns the grant as stored, built from what was written.
    """
    household = households.get_household(conn, draft.case_code)
    award = funds.get_award(conn, draft.award_code)
    line = award.line(draft.budget_line)
    reject_if(_proposal_errors(draft))
    reject_if(e for e in [_consent_error(household, award)] if e is not None)
    currency = _grant_currency(award, draft)
    units = positive_amount(conn, currency, draft.approved_amount, "approved_amount")
    planned = _planned_tranches(conn, award, draft, currency, units)
    now = books.utc_now()
    grant_id = conn.execute(
        insert(grants)
        .values(
            book_id=award.book_id,
            household_id=household.id,
            award_id=award.id,
            budget_line_id=line.id,
            business_type=draft.business_type,
            currency=currency,
            approved_amount=units,
            status="proposed",
            purpose=draft.purpose,
            proposed_by=proposed_by,
            proposed_at=now,
        )
        .returning(grants.c.id)
    ).scalar_one()
    _store_tranches(conn, grant_id, planned)
    return Grant(
        id=grant_id,
        book_code=award.book_code,
        case_code=household.case_code,
        province=household.province,
        award_code=award.code,
        budget_line=line.code,
        business_type=draft.business_type,
        currency=currency,
        precision=books.commodity_precisions(conn)[currency],
        approved_amount=units,
        disbursed=0,
        status="proposed",
        purpose=draft.purpose,
        proposed_by=proposed_by,
        proposed_at=now,
        approved_by=None,
        approved_at=None,
        ended_by=None,
        ended_at=None,
        end_reason=None,
        tranches=planned,
        award_currency=award.currency,
        award_precision=award.precision,
        committed=None,
        commitment_rate=None,
        commitment_rate_method=None,
        award_paid=0,
    )


def approve_grant(
    conn: Connection, grant_id: int, approver: str, exchange_rate: str | None = None
) -> Grant:
    """Approve a proposed grant: it then commits, on its budget line, its amount measured in
    the award's currency (`funds.commitment_for`: an explicit rate, else the weighted average
    of the award's exchanges into the grant's currency up to today)."""
    grant = get_grant(conn, grant_id, lock=True)
    if grant.status != "proposed":
        raise LedgerRejected(
            [conflict("grant_not_proposed", "Only a proposed grant can be approved.", "status")]
        )
    award = funds.get_award(conn, grant.award_code, lock=True)
    household = households.get_household(conn, grant.case_code)
    reject_if(e for e in [_consent_error(household, award)] if e is not None)
    today = books.utc_today()
    rate = funds.parse_rate(exchange_rate)
    commitment = funds.commitment_for(
        conn, award, grant.currency, grant.approved_amount, today, rate
    )
    reject_if(
        e
        for e in [
            rules.approval_error(
                grant.proposed_by, approver, commitment.award_units, award.approval_threshold
            )
        ]
        if e is not None
    )
    line = award.line(grant.budget_line)
    funds.check_line_room(conn, award, line, commitment.award_units, "approved_amount")
    now = books.utc_now()
    stored_rate = None if commitment.rate is None else str(commitment.rate)
    _set_status(
        conn,
        grant_id,
        "approved",
        approved_by=approver,
        approved_at=now,
        committed_amount=commitment.award_units,
        commitment_rate=stored_rate,
        commitment_rate_method=commitment.method,
    )
    return replace(
        grant,
        status="approved",
        approved_by=approver,
        approved_at=now,
        committed=commitment.award_units,
        commitment_rate=commitment.rate,
        commitment_rate_method=commitment.method,
    )


def end_grant(conn: Connection, grant_id: int, status: str, reason: str | None, by: str) -> Grant:
    """Cancel a grant (what it has not paid goes back to the budget line), or close a grant
    paid in full."""
    assert status in rules.ENDINGS
    grant = get_grant(conn, grant_id, lock=True)
    if grant.status not in rules.ENDINGS[status]:
        raise LedgerRejected(
            [
                conflict(
                    f"grant_not_{'cancellable' if status == 'cancelled' else 'closable'}",
                    f"A grant that is {grant.status} cannot be {status}.",
                    "status",
                )
            ]
        )
    if reason is not None:
        reject_if(e for e in [validate_text(reason, rules.REASON_LENGTH_MAX, "reason")] if e)
    if status == "cancelled" and not (reason or "").strip():
        raise LedgerRejected(
            [invalid("reason_required", "Say why the grant is cancelled.", "reason")]
        )
    now = books.utc_now()
    _set_status(conn, grant_id, status, ended_by=by, ended_at=now, end_reason=reason)
    return replace(grant, status=status, ended_by=by, ended_at=now, end_reason=reason)


def _set_status(conn: Connection, grant_id: int, status: str, **values: object) -> None:
    conn.execute(update(grants).where(grants.c.id == grant_id).values(status=status, **values))


# -- disbursements -----------------------------------------------------------------------


def _next_receipt_number(conn: Connection, book_id: int, book_code: str, year: int) -> str:
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        upsert(receipt_sequences)
        .values(book_id=book_id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["book_id", "year"],
            set_={"last_number": receipt_sequences.c.last_number + 1},
        )
        .returning(receipt_sequences.c.last_number)
    )
    number = int(conn.execute(statement).scalar_one())
    if number > rules.RECEIPT_NUMBER_MAX:
        raise LedgerRejected(
            [conflict("receipt_numbers_exhausted", "This year's receipt numbers are used up.")]
        )
    return rules.receipt_number(book_code, year, number)


def _positive_units(precision: int, text: str, field: str) -> int:
    """`text` in smallest units at `precision`, above zero (`positive_amount` without a
    look-up: the caller has the precision)."""
    units = parse_units(text, precision, field)
    if isinstance(units, LedgerError):
        raise LedgerRejected([units])
    if units <= 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "The amount must be positive.", field)]
        )
    return units


def _item_errors(
    draft: ItemDraft, field: str, currency: str, precisions: dict[str, int]
) -> list[LedgerError]:
    """What is wrong with an item's commodity, currency and quantity."""
    errors: list[LedgerError] = []
    if draft.commodity not in precisions:
        errors.append(
            invalid("commodity_unknown", "This commodity is not defined.", f"{field}.commodity")
        )
    if draft.commodity == currency:
        errors.append(
            invalid(
                "item_is_money", "Money is disbursed in cash, not as an item.", f"{field}.commodity"
            )
        )
    if draft.currency is not None and draft.currency != currency:
        errors.append(
            invalid(
                "item_currency_mismatch",
                "Items are valued in the currency of the account they are paid from.",
                f"{field}.currency",
            )
        )
    quantity = draft.quantity
    if isinstance(quantity, float) and not quantity.is_integer():
        errors.append(
            invalid(
                "quantity_fractional",
                "Items are counted in whole units (whole head of livestock).",
                f"{field}.quantity",
            )
        )
    elif (
        not 1 <= int(quantity) <= limits.POSTING_UNITS_ABS_MAX // 10**limits.COMMODITY_PRECISION_MAX
    ):
        errors.append(
            invalid(
                "quantity_invalid", "A quantity is a positive whole number.", f"{field}.quantity"
            )
        )
    return errors


def _parse_items(
    drafts: Sequence[ItemDraft], currency: str, precisions: dict[str, int]
) -> tuple[Item, ...]:
    """The items given in kind, valued in `currency` (the paid-from account's)."""
    if len(drafts) > limits.DISBURSEMENT_ITEMS_MAX:
        raise LedgerRejected([invalid("too_many_items", "Too many items.", "items")])
    errors: list[LedgerError] = []
    items: list[Item] = []
    for index, draft in enumerate(drafts):
        field = f"items[{index}]"
        found = _item_errors(draft, field, currency, precisions)
        errors.extend(found)
        if any(e.code.startswith("quantity_") for e in found):
            continue
        try:
            unit_cost = _positive_units(precisions[currency], draft.unit_cost, f"{field}.unit_cost")
        except LedgerRejected as rejected:
            errors.extend(rejected.errors)
            continue
        items.append(Item(draft.commodity, int(draft.quantity), unit_cost))
    reject_if(errors)
    if sum(item.value for item in items) > limits.POSTING_UNITS_ABS_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "amount_too_large", "The items are worth more than the ledger allows.", "items"
                )
            ]
        )
    return tuple(items)


@dataclass(frozen=True, slots=True)
class _Payee:
    """A grant ready to be paid, and where it is paid to and from."""

    grant: Grant
    award: funds.Award
    line: funds.BudgetLine
    household: households.Household


@dataclass(frozen=True, slots=True)
class _Payment:
    """What a disbursement pays: `units` of the paid-from account's currency (worth of
    `items` in kind), and their measure in the award's currency."""

    account: books.Account
    currency: str
    units: int
    items: tuple[Item, ...]
    conversion: Conversion
    precisions: dict[str, int]
    grant_units: int  # what it pays of the grant, in the grant's currency


def _payee(conn: Connection, grant_id: int, draft: DisbursementDraft) -> _Payee:
    """The grant (locked), its award (locked), line and household, once the grant may be
    paid on the draft's date by its method."""
    grant = get_grant(conn, grant_id, lock=True)
    reject_if(e for e in [rules.disbursable_error(grant.status)] if e is not None)
    award = funds.get_award(conn, grant.award_code, lock=True)
    line = award.line(grant.budget_line)
    household = households.get_household(conn, grant.case_code)
    if draft.method not in rules.METHODS:
        raise LedgerRejected(
            [invalid("method_invalid", f"method is one of {', '.join(rules.METHODS)}.", "method")]
        )
    if draft.date < household.consent_date:
        raise LedgerRejected(
            [invalid("date_before_consent", "A disbursement is dated after consent.", "date")]
        )
    funds.check_award_active(award, draft.date)
    if draft.narration is not None:
        limit = limits.DISBURSEMENT_NARRATION_LENGTH_MAX
        reject_if(e for e in [validate_text(draft.narration, limit, "narration")] if e)
    return _Payee(grant, award, line, household)


def _payment(conn: Connection, payee: _Payee, draft: DisbursementDraft) -> _Payment:
    """What the draft pays, in cash or in kind, measured in the award's currency and within
    what the grant has left."""
    award = payee.award
    account = account_named(conn, award.book_id, draft.paid_from, "paid_from")
    currency = only_currency(account, "paid_from")
    grant = payee.grant
    mismatch = rules.payment_currency_error(grant.currency, award.currency, currency)
    reject_if(e for e in [mismatch] if e is not None)
    precisions = books.commodity_precisions(conn)
    if draft.method == "in_kind":
        if draft.amount is not None or not draft.items:
            raise LedgerRejected(
                [invalid("in_kind_needs_items", "In kind, give items and no amount.", "items")]
            )
        given = _parse_items(draft.items, currency, precisions)
        units = sum(item.value for item in given)
    else:
        if draft.amount is None or draft.items:
            raise LedgerRejected(
                [invalid("cash_needs_amount", "In cash, give an amount and no items.", "amount")]
            )
        given = ()
        units = _positive_units(precisions[currency], draft.amount, "amount")
    rate = funds.parse_rate(draft.exchange_rate)
    conversion = funds.convert_to_award(conn, award, account.id, currency, units, draft.date, rate)
    grant_units = rules.grant_units_paid(grant.currency, currency, units, conversion.award_units)
    if grant_units > grant.remaining:
        raise LedgerRejected(
            [
                conflict(
                    "grant_amount_exceeded",
                    "This would pay more than the grant's approved amount.",
                    "amount",
                )
            ]
        )
    return _Payment(account, currency, units, given, conversion, precisions, grant_units)


def disburse(
    conn: Connection, grant_id: int, draft: DisbursementDraft, created_by: str | None
) -> Disbursement:
    """Pay (part of) an approved grant in cash or in kind.

    Posts the expense on the budget line in the organisation's book and what the household
    received in its tracking book, the two sharing a link; numbers the receipt. Refused when
    it would pay more than approved, more than the line has left, outside the award's dates,
    or from a cash box that would go below zero. Returns the disbursement as stored.
    """
    payee = _payee(conn, grant_id, draft)
    payment = _payment(conn, payee, draft)
    grant, award, line = payee.grant, payee.award, payee.line
    receipt = _next_receipt_number(conn, award.book_id, award.book_code, draft.date.year)
    facts = DisbursementFacts(
        date=draft.date,
        grant_id=grant.id,
        case_code=grant.case_code,
        business_type=grant.business_type,
        award_code=award.code,
        budget_line=line.code,
        expense_account=line.expense_account,
        paid_from=draft.paid_from,
        currency=payment.currency,
        units=payment.units,
        items=payment.items,
        receipt=receipt,
        narration=draft.narration,
    )
    posted = rules.disbursement_transactions(facts, payment.precisions)
    expense = funds.ExpenseDraft(
        date=draft.date,
        paid_from=draft.paid_from,
        units=payment.units,
        currency=payment.currency,
        narration=posted.organisation.narration,
        kind="grant",
        reserved=grant.reserved,
        conversion=payment.conversion,
    )
    spent = funds.spend_transaction(conn, award, line, posted.organisation, expense, created_by)
    household_txn_id = _post_to_household(conn, payee, posted.household, payment, created_by)
    disbursement = _store_disbursement(
        conn, payee, draft, payment, receipt, (spent.transaction_id, household_txn_id), created_by
    )
    status = rules.status_after(grant.approved_amount, grant.disbursed + payment.grant_units)
    if status == "fully_disbursed":
        # Paid in full: the commitment falls to what the grant actually spent.
        spent_in_award = grant.award_paid + payment.conversion.award_units
        _set_status(conn, grant.id, status, committed_amount=spent_in_award)
    else:
        _set_status(conn, grant.id, status)
    return disbursement


def _post_to_household(
    conn: Connection,
    payee: _Payee,
    txn: Transaction,
    payment: _Payment,
    created_by: str | None,
) -> int:
    """Post what the household received in its book, opening the accounts it needs (on the
    day of consent) first."""
    household = payee.household
    wanted = [(household_rules.grants_income_account(payee.award.code), ())] + [
        (household_rules.holding_account(item.commodity), (item.commodity,))
        for item in payment.items
    ]
    ensure_accounts(conn, household.book_code, wanted, household.consent_date)
    return journal.post(
        conn, household.book_code, txn, created_by=created_by, precisions=payment.precisions
    )


def _store_disbursement(
    conn: Connection,
    payee: _Payee,
    draft: DisbursementDraft,
    payment: _Payment,
    receipt: str,
    transaction_ids: tuple[int, int],
    created_by: str | None,
) -> Disbursement:
    """The disbursement's own record (and its items), as the API shows it."""
    org_transaction_id, household_transaction_id = transaction_ids
    disbursement_id = conn.execute(
        insert(disbursements)
        .values(
            grant_id=payee.grant.id,
            book_id=payee.award.book_id,
            receipt_number=receipt,
            date=draft.date,
            method=draft.method,
            paid_from_account_id=payment.account.id,
            currency=payment.currency,
            units=payment.units,
            award_units=payment.conversion.award_units,
            org_transaction_id=org_transaction_id,
            household_transaction_id=household_transaction_id,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(disbursements.c.id)
    ).scalar_one()
    if payment.items:
        conn.execute(
            insert(disbursement_items),
            [
                {
                    "disbursement_id": disbursement_id,
                    "position": n,
                    "commodity": item.commodity,
                    "quantity": item.quantity,
                    "unit_cost": item.unit_cost,
                }
                for n, item in enumerate(payment.items)
            ],
        )
    return Disbursement(
        id=disbursement_id,
        grant_id=payee.grant.id,
        book_code=payee.award.book_code,
        receipt_number=receipt,
        date=draft.date,
        method=draft.method,
        paid_from=payment.account.name,
        currency=payment.currency,
        precision=payment.precisions[payment.currency],
        units=payment.units,
        award_units=payment.conversion.award_units,
        award_precision=payee.award.precision,
        rate_method=payment.conversion.method,
        rate=payment.conversion.rate,
        items=payment.items,
        org_transaction_id=org_transaction_id,
        household_transaction_id=household_transaction_id,
        reversed_at=None,
        reversed_by=None,
        created_by=created_by,
    )


def reverse_disbursement(
    conn: Connection,
    grant_id: int,
    disbursement_id: int,
    date: datetime.date,
    reason: str | None,
    by: str,
) -> Disbursement:
    """Undo a disbursement in both books (once); the grant can then pay that amount again.
    Returns the disbursement, reversed."""
    grant = get_grant(conn, grant_id, lock=True)
    found = get_disbursement(conn, grant_id, disbursement_id)
    if found.reversed_at is not None:
        raise LedgerRejected(
            [conflict("already_reversed", "This disbursement has been reversed already.")]
        )
    if grant.status == "closed":
        raise LedgerRejected([conflict("grant_closed", "The grant is closed.")])
    if reason is not None:
        reject_if(e for e in [validate_text(reason, rules.REASON_LENGTH_MAX, "reason")] if e)
    award = funds.get_award(conn, grant.award_code, lock=True)
    household = households.get_household(conn, grant.case_code)
    text = f"Reversal of receipt {found.receipt_number}" + (f": {reason}" if reason else "")
    text = text[: limits.NARRATION_LENGTH_MAX]
    journal.reverse(conn, award.book_code, found.org_transaction_id, date, text, by)
    journal.reverse(conn, household.book_code, found.household_transaction_id, date, text, by)
    now = books.utc_now()
    conn.execute(
        update(disbursements)
        .where(disbursements.c.id == disbursement_id)
        .values(reversed_at=now, reversed_by=by)
    )
    if grant.status != "cancelled":
        undone = rules.grant_units_paid(
            grant.currency, found.currency, found.units, found.award_units
        )
        _set_status(
            conn, grant.id, rules.status_after(grant.approved_amount, grant.disbursed - undone)
        )
    return replace(found, reversed_at=now, reversed_by=by)


_award_currency = commodities.alias("award_currency")
_DISBURSEMENTS = (
    select(
        disbursements,
        accounts.c.name.label("paid_from"),
        budget_spends.c.rate,
        budget_spends.c.rate_method,
        book_table.c.code.label("book_code"),
        commodities.c.precision,
        _award_currency.c.precision.label("award_precision"),
    )
    .join(accounts, accounts.c.id == disbursements.c.paid_from_account_id)
    .join(budget_spends, budget_spends.c.transaction_id == disbursements.c.org_transaction_id)
    .join(book_table, book_table.c.id == disbursements.c.book_id)
    .join(commodities, commodities.c.code == disbursements.c.currency)
    .join(grants, grants.c.id == disbursements.c.grant_id)
    .join(_award_currency, _award_currency.c.code == grants.c.currency)
)


def _disbursements_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Disbursement]:
    """Disbursements with their items: one query for the items of all the rows."""
    items = books.rows_by_parent(
        conn,
        disbursement_items.c.disbursement_id,
        (row.id for row in rows),
        disbursement_items.c.disbursement_id,
        disbursement_items.c.position,
    )
    return [
        Disbursement(
            id=row.id,
            grant_id=row.grant_id,
            book_code=row.book_code,
            receipt_number=row.receipt_number,
            date=row.date,
            method=row.method,
            paid_from=row.paid_from,
            currency=row.currency,
            precision=row.precision,
            units=row.units,
            award_units=row.award_units,
            award_precision=row.award_precision,
            rate_method=row.rate_method,
            rate=None if row.rate is None else Decimal(row.rate),
            items=tuple(Item(r.commodity, r.quantity, r.unit_cost) for r in items[row.id]),
            org_transaction_id=row.org_transaction_id,
            household_transaction_id=row.household_transaction_id,
            reversed_at=row.reversed_at,
            reversed_by=row.reversed_by,
            created_by=row.created_by,
        )
        for row in rows
    ]


def get_disbursement(conn: Connection, grant_id: int, disbursement_id: int) -> Disbursement:
    row = conn.execute(
        _DISBURSEMENTS.where(
            and_(disbursements.c.id == disbursement_id, disbursements.c.grant_id == grant_id)
        )
    ).first()
    if row is None:
        raise LedgerRejected([DISBURSEMENT_NOT_FOUND])
    return _disbursements_from_rows(conn, [row])[0]


def list_disbursements(
    conn: Connection,
    grant_id: int,
    after_id: int | None = None,
    limit: int = limits.PAGE_SIZE_MAX,
) -> list[Disbursement]:
    """A page of a grant's disbursements in id order: `limit` of them after `after_id` (404
    for a grant that does not exist). Three queries a page, however many it holds."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    if conn.execute(select(grants.c.id).where(grants.c.id == grant_id)).first() is None:
        raise LedgerRejected([GRANT_NOT_FOUND])
    statement = (
        _DISBURSEMENTS.where(disbursements.c.grant_id == grant_id)
        .order_by(disbursements.c.id)
        .limit(limit)
    )
    if after_id is not None:
        statement = statement.where(disbursements.c.id > after_id)
    return _disbursements_from_rows(conn, conn.execute(statement).all())


@dataclass(frozen=True, slots=True)
class Reach:
    """Households that received a disbursement (not reversed) of an award's grants, and the
    people in them (household members as registered). Counts only: no case codes."""

    households: int
    people: int


def reached(
    conn: Connection, award_id: int, start: datetime.date | None, end: datetime.date
) -> Reach:
    """Households reached by the award's grants between `start` and `end` (from the first
    disbursement when `start` is None), each household counted once."""
    where = [
        grants.c.award_id == award_id,
        disbursements.c.reversed_at.is_(None),
        disbursements.c.date <= end,
    ]
    if start is not None:
        where.append(disbursements.c.date >= start)
    reached_ids = (
        select(grants.c.household_id)
        .join(disbursements, disbursements.c.grant_id == grants.c.id)
        .where(and_(*where))
        .distinct()
        .subquery()
    )
    count, people = conn.execute(
        select(func.count(), func.coalesce(func.sum(household_table.c.members), 0)).where(
            household_table.c.id.in_(select(reached_ids.c.household_id))
        )
    ).one()
    return Reach(int(count), int(people))
