"""Contact details of a household, keyed by its case code (e.g. DV-009)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.core.errors import LedgerError, LedgerRejected, invalid, not_found, reject_if
from ledger.core.text import validate_text
from ledger.store.books import utc_now
from ledger.store.tables import contacts, households

CASE_CODE_RE = re.compile(r"[A-Z]{1,6}-[0-9]{1,6}")
NAME_LENGTH_MAX = 200
PHONE_RE = re.compile(r"\+?[0-9 ()-]{0,40}")
ADDRESS_LENGTH_MAX = 1_000
PROVINCE_LENGTH_MAX = 100
# One answer for a household that does not exist and one outside the caller's scope.
HOUSEHOLD_NOT_FOUND = not_found(
    "household_not_found", "No household has this case code.", "case_code"
)


@dataclass(frozen=True, slots=True)
class Contact:
    case_code: str
    province: str
    name: str
    phone: str
    address: str
    updated_at: datetime.datetime
    updated_by: str | None


def validate_case_code(case_code: str) -> LedgerError | None:
    if CASE_CODE_RE.fullmatch(case_code):
        return None
    return invalid("case_code_invalid", "A case code looks like DV-009.", "case_code")


def province_of(conn: Connection, case_code: str) -> str | None:
    """The province on file for a case code (what scopes an officer's access), or None."""
    row = conn.execute(select(contacts.c.province).where(contacts.c.case_code == case_code)).first()
    return None if row is None else str(row.province)


def household_province(conn: Connection, case_code: str) -> str | None:
    """The province of the registered household `case_code`, or None: a contact belongs to a
    household, and the household's province (never a request's) scopes who may write it."""
    row = conn.execute(
        select(households.c.province).where(households.c.case_code == case_code)
    ).first()
    return None if row is None else str(row.province)


def get_contact(conn: Connection, case_code: str) -> Contact:
    row = conn.execute(select(contacts).where(contacts.c.case_code == case_code)).first()
    if row is None:
        raise LedgerRejected([not_found("contact_not_found", "No contact details for this case.")])
    return Contact(
        case_code=row.case_code,
        province=row.province,
        name=row.name,
        phone=row.phone,
        address=row.address,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def put_contact(
    conn: Connection,
    case_code: str,
    province: str,
    name: str,
    phone: str,
    address: str,
    updated_by: str | None,
) -> Contact:
    """Create or replace the contact details of one registered household, in its province;
    returns them as stored."""
    errors: list[LedgerError] = []
    case_error = validate_case_code(case_code)
    if case_error:
        errors.append(case_error)
    for field, value, length_max in (
        ("province", province, PROVINCE_LENGTH_MAX),
        ("name", name, NAME_LENGTH_MAX),
        ("address", address, ADDRESS_LENGTH_MAX),
    ):
        text_error = validate_text(value, length_max, field)
        if text_error:
            errors.append(text_error)
    if not province.strip():
        errors.append(invalid("province_invalid", "A province is required.", "province"))
    if not name.strip():
        errors.append(invalid("name_invalid", "A name is required.", "name"))
    if not PHONE_RE.fullmatch(phone):
        errors.append(
            invalid("phone_invalid", "A phone number has digits, spaces, + ( ) -.", "phone")
        )
    reject_if(errors)
    registered = household_province(conn, case_code)
    if registered is None:
        raise LedgerRejected([HOUSEHOLD_NOT_FOUND])
    if province != registered:
        raise LedgerRejected(
            [
                invalid(
                    "contact_province_mismatch",
                    "A contact's province is its household's province.",
                    "province",
                )
            ]
        )
    updated_at = utc_now()
    values = {
        "province": province,
        "name": name,
        "phone": phone,
        "address": address,
        "updated_at": updated_at,
        "updated_by": updated_by,
    }
    # One atomic upsert: two first saves of a case code at once cannot collide on its key.
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = upsert(contacts).values(case_code=case_code, **values)
    conn.execute(
        statement.on_conflict_do_update(index_elements=[contacts.c.case_code], set_=values)
    )
    return Contact(case_code, province, name, phone, address, updated_at, updated_by)
