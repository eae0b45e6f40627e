"""Household income records against the stored books: post one, refuse a second baseline for
a household and month, list them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, insert, literal, select, tuple_

from ledger.core import limits
from ledger.core.amount import parse_units
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid
from ledger.households import service as households
from ledger.households.records import check_record_date, lock_household, money_currency
from ledger.households.service import Household
from ledger.income import rules
from ledger.store import books, journal
from ledger.store.tables import household_income
from ledger.store.tables import households as household_table


@dataclass(frozen=True, slots=True)
class IncomeRecord:
    id: int
    case_code: str
    month: datetime.date
    source: str
    currency: str
    precision: int
    units: int
    baseline: bool
    transaction_id: int


BASELINE_EXISTS = conflict(
    "baseline_exists", "This household has a baseline for this month already.", "month"
)


@dataclass(frozen=True, slots=True)
class IncomeDraft:
    """A month's income from one source as the officer reported it."""

    case_code: str
    month: str  # YYYY-MM
    source: str
    amount: str
    currency: str = "KHR"
    baseline: bool = False


def record_income(
    conn: Connection, draft: IncomeDraft, today: datetime.date, created_by: str | None
) -> IncomeRecord:
    """Post a month's income from one source in the household's book and keep the record.
    Returns the record as it was stored."""
    household = households.get_household(conn, draft.case_code)
    lock_household(conn, household)
    month, units, precision = _checked(conn, household, draft, today)
    if draft.baseline and _has_baseline(conn, household, month):
        raise LedgerRejected([BASELINE_EXISTS])
    txn = rules.income_record(
        household.case_code, month, draft.source, units, draft.currency, draft.baseline
    )
    for account in (rules.income_account(draft.source), rules.MEMORANDUM_ACCOUNT):
        books.ensure_account(conn, household.book_code, account, household.consent_date)
    transaction_id = journal.post(conn, household.book_code, txn, created_by=created_by)
    record_id: int = conn.execute(
        insert(household_income)
        .values(
            household_id=household.id,
            book_id=household.book_id,
            month=month,
            source=draft.source,
            currency=draft.currency,
            units=units,
            baseline=draft.baseline,
            baseline_month=month if draft.baseline else None,
            transaction_id=transaction_id,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(household_income.c.id)
    ).scalar_one()
    return IncomeRecord(
        record_id,
        household.case_code,
        month,
        draft.source,
        draft.currency,
        precision,
        units,
        draft.baseline,
        transaction_id,
    )


def _checked(
    conn: Connection, household: Household, draft: IncomeDraft, today: datetime.date
) -> tuple[datetime.date, int, int]:
    """The record's month, its amount in smallest units and the currency's precision; refused
    unless the month lies between the household's consent and today."""
    month = rules.parse_month(draft.month)
    if isinstance(month, LedgerError):
        raise LedgerRejected([month])
    if draft.source not in rules.SOURCES:
        raise LedgerRejected(
            [invalid("source_invalid", f"source is one of {', '.join(rules.SOURCES)}.", "source")]
        )
    precision = money_currency(conn, draft.currency)
    units = parse_units(draft.amount, precision, "amount")
    if isinstance(units, LedgerError):
        raise LedgerRejected([units])
    if units <= 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "The amount must be positive.", "amount")]
        )
    # The month has begun, and it ends on or after the household's consent.
    check_record_date(household, max(month, household.consent_date), today, "month")
    check_record_date(household, rules.month_end(month), datetime.date.max, "month")
    return month, units, precision


def _has_baseline(conn: Connection, household: Household, month: datetime.date) -> bool:
    found = conn.execute(
        select(household_income.c.id).where(
            and_(
                household_income.c.household_id == household.id,
                household_income.c.baseline_month == month,
            )
        )
    ).first()
    return found is not None


def list_income(
    conn: Connection,
    household_ids: Sequence[int],
    *,
    limit: int = limits.PAGE_SIZE_MAX,
    after: tuple[datetime.date, int] | None = None,
) -> list[IncomeRecord]:
    """The income records of these households in (month, id) order, after that (month, id):
    one page of `limit`. Two queries."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = (
        select(household_income, household_table.c.case_code)
        .join(household_table, household_table.c.id == household_income.c.household_id)
        .where(household_income.c.household_id.in_(list(household_ids)))
        .order_by(household_income.c.month, household_income.c.id)
        .limit(limit)
    )
    if after is not None:
        key = tuple_(household_income.c.month, household_income.c.id)
        statement = statement.where(key > tuple_(*map(literal, after)))
    precisions = books.commodity_precisions(conn)
    return [
        IncomeRecord(
            r.id,
            r.case_code,
            r.month,
            r.source,
            r.currency,
            precisions[r.currency],
            r.units,
            r.baseline,
            r.transaction_id,
        )
        for r in conn.execute(statement)
    ]
