"""What can be imported from a spreadsheet: each kind's columns (with their Khmer and English
headers), how a cell becomes a value, how a row is recognised as already recorded (its
natural key), and the service that records a new one.

Each row is recorded through the same service as the API's own route for it, so a row is
checked by exactly the rules a request would be.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import Connection, and_, select

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.core.transaction import Posting, Transaction
from ledger.households import members as people
from ledger.households import service as households
from ledger.households.rules import OPENING_ACCOUNT, HouseholdDraft, MemberDraft, PersonFacts
from ledger.intake.sheets import Cell
from ledger.savings import service as savings
from ledger.store import books, journal
from ledger.store.tables import (
    accounts,
    household_members,
    savings_members,
    training_participants,
    transaction_links,
)
from ledger.store.tables import books as book_table
from ledger.store.tables import (
    households as household_table,
)
from ledger.training import service as training

CellType = Literal["text", "whole_number", "date"]
Values = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header_km: str
    header_en: str
    type: CellType = "text"
    required: bool = True


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    # The row's natural key: what names it (twice in one file is a mistake).
    key: Callable[[Values], tuple[Any, ...]]
    # Whether the row is recorded already (a second import of it adds nothing).
    present: Callable[[Connection, Values], bool]
    # Record the row; raises LedgerRejected with the rules' errors.
    record: Callable[[Connection, Values, datetime.date, str | None], None]


# -- cells ------------------------------------------------------------------------------------


def _whole_number(cell: Cell) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2**53:
        return int(cell)
    if isinstance(cell, str) and cell.strip().lstrip("-").isdigit() and len(cell) < 19:
        return int(cell.strip())
    return None


def _date(cell: Cell, column: str) -> datetime.date | LedgerError:
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    if not isinstance(cell, bool) and (
        isinstance(cell, int | float) or _whole_number(cell) is not None
    ):
        # An Excel date serial (43408 for 4 November 2018): refused, never guessed (1900 or
        # 1904 date system, and a count typed into the wrong column looks the same).
        return invalid(
            "cell_date_as_number",
            "A date here is a number (a spreadsheet's date serial): format the cell as a date "
            "or write it as 2018-11-04.",
            column,
        )
    if isinstance(cell, str):
        try:
            return datetime.date.fromisoformat(cell.strip())
        except ValueError:
            pass
    return invalid("cell_not_a_date", "A date is written as 2018-11-04.", column)


def _text(cell: Cell, column: str) -> str | LedgerError:
    """Text as written; a whole number becomes its digits (a member number typed as 7)."""
    if isinstance(cell, str):
        return cell.strip()
    number = _whole_number(cell)
    if number is not None:
        return str(number)
    if isinstance(cell, float) and "e" not in repr(cell) and "n" not in repr(cell):
        return repr(cell)  # the shortest text that reads back as this number: 1234.56
    return invalid("cell_wrong_type", "This cell holds text; it holds something else.", column)


def cell_value(cell: Cell, column: Column) -> Any | LedgerError | None:
    """The cell as its column's value; None when empty; an error when it cannot be one."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        if column.required:
            return invalid("cell_required", "This cell may not be empty.", column.key)
        return None
    if isinstance(cell, str) and len(cell) > limits.IMPORT_CELL_LENGTH_MAX:
        return invalid(
            "cell_too_long",
            f"A cell holds at most {limits.IMPORT_CELL_LENGTH_MAX} characters.",
            column.key,
        )
    if column.type == "date":
        return _date(cell, column.key)
    if column.type == "whole_number":
        number = _whole_number(cell)
        if number is None:
            return invalid("cell_not_a_whole_number", "This cell holds a whole number.", column.key)
        return number
    return _text(cell, column.key)


# -- households -------------------------------------------------------------------------------

HOUSEHOLD_COLUMNS = (
    Column("case_code", "លេខករណី", "case_code"),
    Column("province", "ខេត្ត", "province"),
    Column("district", "ស្រុក", "district"),
    Column("commune", "ឃុំ", "commune"),
    Column("village", "ភូមិ", "village"),
    Column("head_sex", "ភេទមេគ្រួសារ", "head_sex"),
    Column("head_age_band", "អាយុមេគ្រួសារ", "head_age_band"),
    Column("members", "ចំនួនសមាជិក", "members", "whole_number"),
    Column("children", "ចំនួនកុមារ", "children", "whole_number"),
    Column("category", "ប្រភេទ", "category"),
    Column("referral_source", "ប្រភពបញ្ជូន", "referral_source", required=False),
    Column("consent_date", "ថ្ងៃយល់ព្រម", "consent_date", "date"),
)


def _household_present(conn: Connection, values: Values) -> bool:
    found = conn.execute(
        select(household_table.c.id).where(household_table.c.case_code == values["case_code"])
    ).first()
    return found is not None


def _record_household(
    conn: Connection, values: Values, today: datetime.date, user: str | None
) -> None:
    draft = HouseholdDraft(**{**values, "referral_source": values["referral_source"] or ""})
    households.register_household(conn, draft, today, user)


# -- savings-group members --------------------------------------------------------------------

# A person's sex and age: a birth year, or an age band when the year is unknown.
PERSON_COLUMNS = (
    Column("sex", "ភេទ", "sex"),
    Column("birth_year", "ឆ្នាំកំណើត", "birth_year", "whole_number", required=False),
    Column("age_band", "ក្រុមអាយុ", "age_band", required=False),
)


def _person(values: Values) -> PersonFacts:
    return PersonFacts(values.get("sex"), values.get("birth_year"), values.get("age_band"))


MEMBER_COLUMNS = (
    Column("group", "ក្រុមសន្សំ", "group"),
    Column("number", "លេខសមាជិក", "number"),
    Column("role", "តួនាទី", "role"),
    Column("joined_on", "ថ្ងៃចូលរួម", "joined_on", "date"),
    Column("case_code", "លេខករណី", "case_code", required=False),
    *(replace(c, required=False) for c in PERSON_COLUMNS),
)


def _member_present(conn: Connection, values: Values) -> bool:
    found = conn.execute(
        select(savings_members.c.id)
        .join(book_table, book_table.c.id == savings_members.c.book_id)
        .where(
            and_(book_table.c.code == values["group"], savings_members.c.number == values["number"])
        )
    ).first()
    return found is not None


def _record_member(
    conn: Connection, values: Values, today: datetime.date, user: str | None
) -> None:
    savings.add_member(
        conn,
        values["group"],
        values["number"],
        values["role"],
        values["joined_on"],
        values["case_code"],
        _person(values),
    )


# -- household members ------------------------------------------------------------------------

HOUSEHOLD_MEMBER_COLUMNS = (
    Column("case_code", "លេខករណី", "case_code"),
    Column("number", "លេខសមាជិក", "number", "whole_number"),
    Column("role", "តួនាទី", "role"),
    *PERSON_COLUMNS,
)


def _household_member_present(conn: Connection, values: Values) -> bool:
    if not 1 <= values["number"] <= limits.HOUSEHOLD_MEMBERS_MAX:
        return False
    found = conn.execute(
        select(household_members.c.id)
        .join(household_table, household_table.c.id == household_members.c.household_id)
        .where(
            and_(
                household_table.c.case_code == values["case_code"],
                household_members.c.number == values["number"],
            )
        )
    ).first()
    return found is not None


def _record_household_member(
    conn: Connection, values: Values, today: datetime.date, user: str | None
) -> None:
    household = households.get_household(conn, values["case_code"])
    draft = MemberDraft(values["role"], _person(values), values["number"])
    people.add_member(conn, household, draft, today, user)


# -- training participants --------------------------------------------------------------------

PARTICIPANT_COLUMNS = (
    Column("training", "លេខវគ្គបណ្តុះបណ្តាល", "training", "whole_number"),
    Column("case_code", "លេខករណី", "case_code"),
    Column("people", "ចំនួនអ្នកចូលរួម", "people", "whole_number"),
)


def _participant_present(conn: Connection, values: Values) -> bool:
    if not 1 <= values["training"] <= limits.ID_MAX:
        return False
    found = conn.execute(
        select(training_participants.c.people)
        .join(household_table, household_table.c.id == training_participants.c.household_id)
        .where(
            and_(
                training_participants.c.training_id == values["training"],
                household_table.c.case_code == values["case_code"],
            )
        )
    ).first()
    return found is not None


def _record_participant(
    conn: Connection, values: Values, today: datetime.date, user: str | None
) -> None:
    if not 1 <= values["training"] <= limits.ID_MAX:
        raise LedgerRejected([training.TRAINING_NOT_FOUND])
    training.add_participant(conn, values["training"], values["case_code"], values["people"], user)


# -- opening balances -------------------------------------------------------------------------

OPENING_COLUMNS = (
    Column("book", "សៀវភៅ", "book"),
    Column("account", "គណនី", "account"),
    Column("currency", "រូបិយប័ណ្ណ", "currency"),
    Column("amount", "ចំនួនទឹកប្រាក់", "amount"),
    Column("date", "កាលបរិច្ឆេទ", "date", "date"),
)
OPENING_TAG = "opening-balance"


def opening_link(values: Values) -> str:
    """The link naming one account's opening balance in one currency: its natural key."""
    digest = hashlib.sha256(f"{values['account']}\n{values['currency']}".encode()).hexdigest()
    return f"opening-{digest[:24]}"


def _opening_present(conn: Connection, values: Values) -> bool:
    found = conn.execute(
        select(transaction_links.c.transaction_id)
        .join(book_table, book_table.c.id == transaction_links.c.book_id)
        .where(
            and_(
                book_table.c.code == values["book"],
                transaction_links.c.link == opening_link(values),
            )
        )
    ).first()
    return found is not None


def _record_opening(
    conn: Connection, values: Values, today: datetime.date, user: str | None
) -> None:
    """The account's balance on the date, against Equity:Opening-Balances (opened on that date
    when the book has no such account yet)."""
    book = books.get_book(conn, values["book"])
    currency = values["currency"]
    units = books.parse_amount(conn, currency, values["amount"], "amount")
    has_opening = conn.execute(
        select(accounts.c.id).where(
            and_(accounts.c.book_id == book.id, accounts.c.name == OPENING_ACCOUNT)
        )
    ).first()
    if has_opening is None:
        books.open_account(conn, book.code, OPENING_ACCOUNT, values["date"])
    txn = Transaction(
        date=values["date"],
        narration=f"Opening balance of {values['account']}",
        postings=(
            Posting(values["account"], units, currency),
            Posting(OPENING_ACCOUNT, -units, currency),
        ),
        tags=(OPENING_TAG,),
        links=(opening_link(values),),
    )
    journal.post(conn, book.code, txn, created_by=user)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "households",
            HOUSEHOLD_COLUMNS,
            lambda v: (v["case_code"],),
            _household_present,
            _record_household,
        ),
        Kind(
            "household-members",
            HOUSEHOLD_MEMBER_COLUMNS,
            lambda v: (v["case_code"], v["number"]),
            _household_member_present,
            _record_household_member,
        ),
        Kind(
            "savings-members",
            MEMBER_COLUMNS,
            lambda v: (v["group"], v["number"]),
            _member_present,
            _record_member,
        ),
        Kind(
            "training-participants",
            PARTICIPANT_COLUMNS,
            lambda v: (v["training"], v["case_code"]),
            _participant_present,
            _record_participant,
        ),
        Kind(
            "opening-balances",
            OPENING_COLUMNS,
            lambda v: (v["book"], v["account"], v["currency"]),
            _opening_present,
            _record_opening,
        ),
    )
}
