"""Households against the stored books: register one (with its tracking book), read them."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, insert, select

from ledger.core import limits
from ledger.core.errors import LedgerRejected, conflict, not_found, reject_if
from ledger.households import rules
from ledger.households.rules import HouseholdDraft
from ledger.people.contacts import validate_case_code
from ledger.store import books
from ledger.store.tables import households

HOUSEHOLD_NOT_FOUND = not_found(
    "household_not_found", "No household has this case code.", "case_code"
)
# The tracking book counts in riel; grants in other currencies are kept in those.
HOUSEHOLD_BOOK_CURRENCY = "KHR"


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    case_code: str
    book_code: str
    book_id: int
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


def _household_from_row(row: Row[Any]) -> Household:
    return Household(
        id=row.id,
        case_code=row.case_code,
        book_code=rules.household_book_code(row.case_code),
        book_id=row.book_id,
        province=row.province,
        district=row.district,
        commune=row.commune,
        village=row.village,
        head_sex=row.head_sex,
        head_age_band=row.head_age_band,
        members=row.members,
        children=row.children,
        category=row.category,
        referral_source=row.referral_source,
        consent_date=row.consent_date,
        created_at=row.created_at,
    )


_CASE_CODE_EXISTS = conflict(
    "case_code_exists", "A household with this case code exists.", "case_code"
)


def _open_household_book(conn: Connection, draft: HouseholdDraft) -> books.Book:
    """The new household's tracking book with its cash and opening-balances accounts;
    refused when the case code is taken."""
    if conn.execute(
        select(households.c.id).where(households.c.case_code == draft.case_code)
    ).first():
        raise LedgerRejected([_CASE_CODE_EXISTS])
    book_code = rules.household_book_code(draft.case_code)
    try:
        book = books.create_book(
            conn,
            book_code,
            f"Household {draft.case_code}",
            "household",
            HOUSEHOLD_BOOK_CURRENCY,
            province=draft.province,
        )
    except LedgerRejected as rejected:
        if rejected.first.code == "book_exists":
            raise LedgerRejected([_CASE_CODE_EXISTS]) from None
        raise
    books.open_account(conn, book_code, rules.CASH_ACCOUNT, draft.consent_date)
    books.open_account(conn, book_code, rules.OPENING_ACCOUNT, draft.consent_date)
    return book


def register_household(
    conn: Connection, draft: HouseholdDraft, today: datetime.date, created_by: str | None
) -> Household:
    """Record a household and open its tracking book (named by case code, scoped to its
    province) with a cash account and an opening-balances account. Returns the household as
    stored."""
    case_error = validate_case_code(draft.case_code)
    reject_if([*([case_error] if case_error else []), *rules.validate_household(draft, today)])
    book = _open_household_book(conn, draft)
    book_code = book.code
    now = books.utc_now()
    # Every field of the draft is a column of the same name, stored as it is, and a field of
    # the household it becomes.
    described = asdict(draft)
    household_id = conn.execute(
        insert(households)
        .values(**described, book_id=book.id, created_at=now, created_by=created_by)
        .returning(households.c.id)
    ).scalar_one()
    return Household(
        id=household_id, book_code=book_code, book_id=book.id, created_at=now, **described
    )


def get_household(conn: Connection, case_code: str) -> Household:
    row = conn.execute(select(households).where(households.c.case_code == case_code)).first()
    if row is None:
        raise LedgerRejected([HOUSEHOLD_NOT_FOUND])
    return _household_from_row(row)


def get_household_by_id(conn: Connection, household_id: int) -> Household:
    row = conn.execute(select(households).where(households.c.id == household_id)).one()
    return _household_from_row(row)


def find_households(conn: Connection, where: ColumnElement[bool], limit: int) -> list[Household]:
    """Households matching `where` (a condition on the households table), by case code."""
    statement = select(households).where(where).order_by(households.c.case_code).limit(limit)
    return [_household_from_row(row) for row in conn.execute(statement)]


def province_of_household(conn: Connection, case_code: str) -> str | None:
    """The province of a registered household (what scopes an officer), or None."""
    row = conn.execute(
        select(households.c.province).where(households.c.case_code == case_code)
    ).first()
    return None if row is None else str(row.province)


def list_households(
    conn: Connection,
    provinces: Collection[str] | None,
    province: str | None = None,
    after_case_code: str | None = None,
    limit: int = limits.PAGE_SIZE_DEFAULT,
    case_code_contains: str | None = None,
) -> list[Household]:
    """Households in case-code order; `provinces` limits them to a scope (None: all), and
    `case_code_contains` to the case codes holding that text (any case)."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = select(households).order_by(households.c.case_code).limit(limit)
    if case_code_contains:
        text = case_code_contains.upper()
        statement = statement.where(households.c.case_code.contains(text, autoescape=True))
    if provinces is not None:
        statement = statement.where(households.c.province.in_(sorted(provinces)))
    if province is not None:
        statement = statement.where(households.c.province == province)
    if after_case_code is not None:
        statement = statement.where(households.c.case_code > after_case_code)
    return [_household_from_row(row) for row in conn.execute(statement)]
