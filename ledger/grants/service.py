"""Grants against the stored books: propose, approve, cancel, close, disburse (cash or in
kind, posted in the organisation's book and the household's, linked), reverse, register.

Budget and award rules come from `ledger.funds.service` (one home for budget consumption);
every posting goes through `ledger.store.journal`.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.core import limits
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    invalid,
    not_found,
    reject_if,
)
from ledger.core.text import validate_text
from ledger.funds import service as funds
from ledger.grants import rules
from ledger.grants.rules import Item
from ledger.households import rules as household_rules
from ledger.households import service as households
from ledger.store import books, journal
from ledger.store.tables import (
    accounts,
    awards,
    budget_lines,
    budget_spends,
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
class Grant:
    id: int
    book_code: str
    case_code: str
    province: str
    award_code: str
    budget_line: str
    business_type: str
    currency: str
    precision: int
    approved_amount: int
    disbursed: int  # in the award's currency, less reversals
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

    @property
    def remaining(self) -> int:
        return self.approved_amount - self.disbursed


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
    rate_method: str
    rate: Decimal | None
    items: tuple[Item, ...]
    org_transaction_id: int
    household_transaction_id: int
    reversed_at: datetime.datetime | None
    reversed_by: str | None
    created_by: str | None


# -- reading -----------------------------------------------------------------------------

_GRANTS = (
    select(
        grants,
        household_table.c.case_code,
        household_table.c.province,
        awards.c.code.label("award_code"),
        budget_lines.c.code.label("line_code"),
        book_table.c.code.label("book_code"),
    )
    .join(book_table, book_table.c.id == grants.c.book_id)
    .join(household_table, household_table.c.id == grants.c.household_id)
    .join(awards, awards.c.id == grants.c.award_id)
    .join(budget_lines, budget_lines.c.id == grants.c.budget_line_id)
)


def _disbursed(conn: Connection, grant_id: int) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(disbursements.c.award_units), 0)).where(
            and_(disbursements.c.grant_id == grant_id, disbursements.c.reversed_at.is_(None))
        )
    ).scalar_one()
    return int(total)


def _grant_from_row(conn: Connection, row: object) -> Grant:
    grant_id: int = row.id  # type: ignore[attr-defined]
    currency: str = row.currency  # type: ignore[attr-defined]
    tranche_rows = conn.execute(
        select(grant_tranches.c.planned_date, grant_tranches.c.amount)
        .where(grant_tranches.c.grant_id == grant_id)
        .order_by(grant_tranches.c.position)
    )
    return Grant(
        id=grant_id,
        book_code=row.book_code,  # type: ignore[attr-defined]
        case_code=row.case_code,  # type: ignore[attr-defined]
        province=row.province,  # type: ignore[attr-defined]
        award_code=row.award_code,  # type: ignore[attr-defined]
        budget_line=row.line_code,  # type: ignore[attr-defined]
        business_type=row.business_type,  # type: ignore[attr-defined]
        currency=currency,
        precision=books.commodity_precisions(conn)[currency],
        approved_amount=row.approved_amount,  # type: ignore[attr-defined]
        disbursed=_disbursed(conn, grant_id),
        status=row.status,  # type: ignore[attr-defined]
        purpose=row.purpose,  # type: ignore[attr-defined]
        proposed_by=row.proposed_by,  # type: ignore[attr-defined]
        proposed_at=row.proposed_at,  # type: ignore[attr-defined]
        approved_by=row.approved_by,  # type: ignore[attr-defined]
        approved_at=row.approved_at,  # type: ignore[attr-defined]
        ended_by=row.ended_by,  # type: ignore[attr-defined]
        ended_at=row.ended_at,  # type: ignore[attr-defined]
        end_reason=row.end_reason,  # type: ignore[attr-defined]
        tranches=tuple(Tranche(r.planned_date, r.amount) for r in tranche_rows),
    )


def get_grant(conn: Connection, grant_id: int, *, lock: bool = False) -> Grant:
    """The grant; with `lock`, its row stays locked (PostgreSQL) until the unit of work ends,
    so two disbursements or decisions on one grant run one after the other."""
    statement = _GRANTS.where(grants.c.id == grant_id)
    if lock:
        statement = statement.with_for_update(of=grants)
    row = conn.execute(statement).first()
    if row is None:
        raise LedgerRejected([GRANT_NOT_FOUND])
    return _grant_from_row(conn, row)


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
    """The grant register in id order; `provinces` limits it to a scope (None: all)."""
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
    return [_grant_from_row(conn, row) for row in conn.execute(statement).all()]


# -- decisions ---------------------------------------------------------------------------


def propose_grant(
    conn: Connection,
    case_code: str,
    award_code: str,
    budget_line_code: str,
    business_type: str,
    approved_amount: str,
    tranches: Sequence[TrancheDraft],
    purpose: str,
    proposed_by: str,
) -> Grant:
    """A proposed grant to a household on an award's budget line, in the award's currency.

    Planned tranches, when given, add up to the amount and fall inside the award's dates.
    """
    household = households.get_household(conn, case_code)
    award = funds.get_award(conn, award_code)
    line = award.line(budget_line_code)
    errors: list[LedgerError] = []
    if business_type not in rules.BUSINESS_TYPES:
        errors.append(
            invalid(
                "business_type_invalid",
                f"business_type is one of {', '.join(rules.BUSINESS_TYPES)}.",
                "business_type",
            )
        )
    purpose_error = validate_text(purpose, rules.PURPOSE_LENGTH_MAX, "purpose")
    if purpose_error is not None:
        errors.append(purpose_error)
    if len(tranches) > rules.TRANCHES_PER_GRANT_MAX:
        errors.append(invalid("too_many_tranches", "Too many planned tranches.", "tranches"))
    reject_if(errors)
    units = funds.positive_amount(conn, award.currency, approved_amount, "approved_amount")
    planned = [
        Tranche(
            t.planned_date,
            funds.positive_amount(conn, award.currency, t.amount, f"tranches[{index}].amount"),
        )
        for index, t in enumerate(tranches)
    ]
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
    grant_id = conn.execute(
        insert(grants)
        .values(
            book_id=award.book_id,
            household_id=household.id,
            award_id=award.id,
            budget_line_id=line.id,
            business_type=business_type,
            currency=award.currency,
            approved_amount=units,
            status="proposed",
            purpose=purpose,
            proposed_by=proposed_by,
            proposed_at=books.utc_now(),
        )
        .returning(grants.c.id)
    ).scalar_one()
    if planned:
        conn.execute(
            insert(grant_tranches),
            [
                {
                    "grant_id": grant_id,
                    "position": n,
                    "planned_date": t.planned_date,
                    "amount": t.amount,
                }
                for n, t in enumerate(planned)
            ],
        )
    return get_grant(conn, grant_id)


def approve_grant(conn: Connection, grant_id: int, approver: str) -> Grant:
    """Approve a proposed grant: it then reserves its amount on the budget line."""
    grant = get_grant(conn, grant_id, lock=True)
    if grant.status != "proposed":
        raise LedgerRejected(
            [conflict("grant_not_proposed", "Only a proposed grant can be approved.", "status")]
        )
    award = funds.get_award(conn, grant.award_code, lock=True)
    reject_if(
        e
        for e in [
            rules.approval_error(
                grant.proposed_by, approver, grant.approved_amount, award.approval_threshold
            )
        ]
        if e is not None
    )
    line = award.line(grant.budget_line)
    funds.check_line_room(conn, award, line, grant.approved_amount, "approved_amount")
    _set_status(conn, grant_id, "approved", approved_by=approver, approved_at=books.utc_now())
    return get_grant(conn, grant_id)


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
    _set_status(conn, grant_id, status, ended_by=by, ended_at=books.utc_now(), end_reason=reason)
    return get_grant(conn, grant_id)


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


def _parse_items(conn: Connection, drafts: Sequence[ItemDraft], currency: str) -> tuple[Item, ...]:
    precisions = books.commodity_precisions(conn)
    errors: list[LedgerError] = []
    items: list[Item] = []
    if len(drafts) > limits.DISBURSEMENT_ITEMS_MAX:
        raise LedgerRejected([invalid("too_many_items", "Too many items.", "items")])
    for index, draft in enumerate(drafts):
        field = f"items[{index}]"
        if draft.commodity not in precisions:
            errors.append(
                invalid("commodity_unknown", "This commodity is not defined.", f"{field}.commodity")
            )
        if draft.commodity == currency:
            errors.append(
                invalid(
                    "item_is_money",
                    "Money is disbursed in cash, not as an item.",
                    f"{field}.commodity",
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
            continue
        whole = int(quantity)
        if not 1 <= whole <= limits.POSTING_UNITS_ABS_MAX // 10**limits.COMMODITY_PRECISION_MAX:
            errors.append(
                invalid(
                    "quantity_invalid",
                    "A quantity is a positive whole number.",
                    f"{field}.quantity",
                )
            )
            continue
        try:
            unit_cost = funds.positive_amount(conn, currency, draft.unit_cost, f"{field}.unit_cost")
        except LedgerRejected as rejected:
            errors.extend(rejected.errors)
            continue
        items.append(Item(draft.commodity, whole, unit_cost))
    reject_if(errors)
    total = sum(item.value for item in items)
    if total > limits.POSTING_UNITS_ABS_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "amount_too_large", "The items are worth more than the ledger allows.", "items"
                )
            ]
        )
    return tuple(items)


def disburse(
    conn: Connection,
    grant_id: int,
    date: datetime.date,
    method: str,
    paid_from: str,
    amount: str | None,
    items: Sequence[ItemDraft],
    exchange_rate: str | None,
    narration: str | None,
    created_by: str | None,
) -> Disbursement:
    """Pay (part of) an approved grant in cash or in kind.

    Posts the expense on the budget line in the organisation's book and what the household
    received in its tracking book, the two sharing a link; numbers the receipt. Refused when
    it would pay more than approved, more than the line has left, outside the award's dates,
    or from a cash box that would go below zero.
    """
    grant = get_grant(conn, grant_id, lock=True)
    reject_if(e for e in [rules.disbursable_error(grant.status)] if e is not None)
    award = funds.get_award(conn, grant.award_code, lock=True)
    line = award.line(grant.budget_line)
    household = households.get_household(conn, grant.case_code)
    if method not in rules.METHODS:
        raise LedgerRejected(
            [invalid("method_invalid", f"method is one of {', '.join(rules.METHODS)}.", "method")]
        )
    if date < household.consent_date:
        raise LedgerRejected(
            [invalid("date_before_consent", "A disbursement is dated after consent.", "date")]
        )
    funds.check_award_active(award, date)
    if narration is not None:
        reject_if(
            e
            for e in [
                validate_text(narration, limits.DISBURSEMENT_NARRATION_LENGTH_MAX, "narration")
            ]
            if e
        )
    account = funds.account_named(conn, award.book_id, paid_from, "paid_from")
    currency = funds.account_currency(conn, award.book_id, paid_from, "paid_from")
    if method == "in_kind":
        if amount is not None or not items:
            raise LedgerRejected(
                [invalid("in_kind_needs_items", "In kind, give items and no amount.", "items")]
            )
        given = _parse_items(conn, items, currency)
        units = sum(item.value for item in given)
    else:
        if amount is None or items:
            raise LedgerRejected(
                [invalid("cash_needs_amount", "In cash, give an amount and no items.", "amount")]
            )
        given = ()
        units = funds.positive_amount(conn, currency, amount, "amount")
    conversion = funds.convert_to_award(
        conn, award, account.id, currency, units, date, funds.parse_rate(exchange_rate)
    )
    if conversion.award_units > grant.remaining:
        raise LedgerRejected(
            [
                conflict(
                    "grant_amount_exceeded",
                    "This would pay more than the grant's approved amount.",
                    "amount",
                )
            ]
        )
    receipt = _next_receipt_number(conn, award.book_id, award.book_code, date.year)
    link = rules.disbursement_link(receipt)
    text = narration or (
        f"Grant {grant.id} ({grant.business_type.replace('_', ' ')}) to {grant.case_code}, "
        f"receipt {receipt}"
    )
    spent = funds.spend(
        conn,
        award,
        line,
        date,
        paid_from,
        units,
        currency,
        text,
        None,
        "grant",
        None,
        created_by,
        extra_meta=(("grant", str(grant.id)), ("case", grant.case_code), ("receipt", receipt)),
        tags=(rules.GRANT_TAG,),
        links=(link,),
        reserved=grant.remaining,
        conversion=conversion,
    )
    household_txn_id = _post_to_household(
        conn,
        household,
        award.code,
        grant.id,
        receipt,
        date,
        currency,
        units,
        given,
        text,
        created_by,
    )
    disbursement_id = conn.execute(
        insert(disbursements)
        .values(
            grant_id=grant.id,
            book_id=award.book_id,
            receipt_number=receipt,
            date=date,
            method=method,
            paid_from_account_id=account.id,
            currency=currency,
            units=units,
            award_units=conversion.award_units,
            org_transaction_id=spent.transaction_id,
            household_transaction_id=household_txn_id,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(disbursements.c.id)
    ).scalar_one()
    if given:
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
                for n, item in enumerate(given)
            ],
        )
    _set_status(
        conn,
        grant.id,
        rules.status_after(grant.approved_amount, grant.disbursed + conversion.award_units),
    )
    return get_disbursement(conn, grant.id, disbursement_id)


def _post_to_household(
    conn: Connection,
    household: households.Household,
    award_code: str,
    grant_id: int,
    receipt: str,
    date: datetime.date,
    currency: str,
    units: int,
    items: tuple[Item, ...],
    narration: str,
    created_by: str | None,
) -> int:
    precisions = books.commodity_precisions(conn)
    opened = household.consent_date
    books.ensure_account(
        conn, household.book_code, household_rules.grants_income_account(award_code), opened
    )
    for item in items:
        books.ensure_account(
            conn,
            household.book_code,
            household_rules.holding_account(item.commodity),
            opened,
            [item.commodity],
        )
    txn = rules.household_disbursement(
        date,
        award_code,
        grant_id,
        receipt,
        currency,
        units,
        items,
        precisions[currency],
        precisions,
        narration,
    )
    return journal.post(
        conn, household.book_code, txn, created_by=created_by, precisions=precisions
    )


def reverse_disbursement(
    conn: Connection,
    grant_id: int,
    disbursement_id: int,
    date: datetime.date,
    reason: str | None,
    by: str,
) -> Disbursement:
    """Undo a disbursement in both books (once); the grant can then pay that amount again."""
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
    conn.execute(
        update(disbursements)
        .where(disbursements.c.id == disbursement_id)
        .values(reversed_at=books.utc_now(), reversed_by=by)
    )
    if grant.status != "cancelled":
        _set_status(
            conn,
            grant.id,
            rules.status_after(grant.approved_amount, grant.disbursed - found.award_units),
        )
    return get_disbursement(conn, grant_id, disbursement_id)


_DISBURSEMENTS = (
    select(
        disbursements,
        accounts.c.name.label("paid_from"),
        budget_spends.c.rate,
        budget_spends.c.rate_method,
    )
    .join(accounts, accounts.c.id == disbursements.c.paid_from_account_id)
    .join(budget_spends, budget_spends.c.transaction_id == disbursements.c.org_transaction_id)
)


def _disbursement_from_row(conn: Connection, row: object, book_code: str) -> Disbursement:
    disbursement_id: int = row.id  # type: ignore[attr-defined]
    currency: str = row.currency  # type: ignore[attr-defined]
    item_rows = conn.execute(
        select(disbursement_items)
        .where(disbursement_items.c.disbursement_id == disbursement_id)
        .order_by(disbursement_items.c.position)
    )
    rate: str | None = row.rate  # type: ignore[attr-defined]
    return Disbursement(
        id=disbursement_id,
        grant_id=row.grant_id,  # type: ignore[attr-defined]
        book_code=book_code,
        receipt_number=row.receipt_number,  # type: ignore[attr-defined]
        date=row.date,  # type: ignore[attr-defined]
        method=row.method,  # type: ignore[attr-defined]
        paid_from=row.paid_from,  # type: ignore[attr-defined]
        currency=currency,
        precision=books.commodity_precisions(conn)[currency],
        units=row.units,  # type: ignore[attr-defined]
        award_units=row.award_units,  # type: ignore[attr-defined]
        rate_method=row.rate_method,  # type: ignore[attr-defined]
        rate=None if rate is None else Decimal(rate),
        items=tuple(Item(r.commodity, r.quantity, r.unit_cost) for r in item_rows),
        org_transaction_id=row.org_transaction_id,  # type: ignore[attr-defined]
        household_transaction_id=row.household_transaction_id,  # type: ignore[attr-defined]
        reversed_at=row.reversed_at,  # type: ignore[attr-defined]
        reversed_by=row.reversed_by,  # type: ignore[attr-defined]
        created_by=row.created_by,  # type: ignore[attr-defined]
    )


def get_disbursement(conn: Connection, grant_id: int, disbursement_id: int) -> Disbursement:
    row = conn.execute(
        _DISBURSEMENTS.where(
            and_(disbursements.c.id == disbursement_id, disbursements.c.grant_id == grant_id)
        )
    ).first()
    if row is None:
        raise LedgerRejected([DISBURSEMENT_NOT_FOUND])
    return _disbursement_from_row(conn, row, get_grant(conn, grant_id).book_code)


def list_disbursements(conn: Connection, grant_id: int) -> list[Disbursement]:
    grant = get_grant(conn, grant_id)
    rows = conn.execute(
        _DISBURSEMENTS.where(disbursements.c.grant_id == grant_id).order_by(disbursements.c.id)
    ).all()
    return [_disbursement_from_row(conn, row, grant.book_code) for row in rows]


def check_reversible_in_journal(conn: Connection, transaction_id: int) -> None:
    """A disbursement's transactions are reversed together, through the grant (both books,
    and the grant's own record); refuse reversing one of them alone."""
    found = conn.execute(
        select(disbursements.c.grant_id, disbursements.c.id).where(
            (disbursements.c.org_transaction_id == transaction_id)
            | (disbursements.c.household_transaction_id == transaction_id)
        )
    ).first()
    if found is not None:
        raise LedgerRejected(
            [
                conflict(
                    "reverse_through_grant",
                    f"This is a grant disbursement: reverse it with POST /api/grants/"
                    f"{found.grant_id}/disbursements/{found.id}/reverse.",
                )
            ]
        )


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
