"""Savings groups and their members: create a group (its book, accounts, constitution and
first cycle), add a member, record that one leaves; and what every savings write shares:
the group's lock and the amounts a client sends."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Connection, and_, func, insert, select, update

from ledger.core.amount import parse_units
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, reject_if
from ledger.core.text import has_forbidden_character
from ledger.households.rules import NOT_RECORDED, PersonFacts, person_errors
from ledger.people.contacts import validate_case_code
from ledger.savings import rules
from ledger.savings.queries import (
    PLACE_LENGTH_MAX,
    Group,
    Member,
    constitution_columns,
    get_group,
    group_member,
    group_members,
)
from ledger.savings.rules import MEETING_FREQUENCIES, MEMBER_ROLES, Constitution
from ledger.store import books
from ledger.store.books import utc_now, utc_today
from ledger.store.tables import (
    savings_cycles,
    savings_groups,
    savings_meeting_entries,
    savings_meetings,
    savings_members,
)

# The smallest amount handed over in cash, per currency (smallest units): 100 riel.
CASH_UNIT_DEFAULT = {"KHR": 100}


@dataclass(frozen=True, slots=True)
class ConstitutionDraft:
    """The constitution as a client sends it: amounts are decimal strings."""

    share_price: str
    shares_per_meeting_min: int
    shares_per_meeting_max: int
    social_fund_per_meeting: str
    interest_rate_monthly_percent: str
    interest_method: str
    loan_savings_multiple: int
    loan_term_months_max: int
    fine_late: str = "0"
    fine_absent: str = "0"
    fine_other: str = "0"
    cash_unit: str | None = None
    lend_to_members_in_arrears: bool = False


@dataclass(frozen=True, slots=True)
class GroupDraft:
    code: str
    name: str
    village: str
    commune: str
    province: str
    formed_on: datetime.date
    currency: str
    meeting_frequency: str
    constitution: ConstitutionDraft
    cycle_start: datetime.date
    cycle_planned_end: datetime.date


def lock_group(conn: Connection, code: str) -> Group:
    """The group, locked for this write: a group's writes (meetings, members, loans, the
    share-out) run one after another, so each sees what the one before it committed and two
    phones recording the same meeting get a 409, never a unique-index error. SQLite writes
    are serialised already."""
    return get_group(conn, code, for_update=True)


def parse_amount(text: str, precision: int, field: str, errors: list[LedgerError]) -> int:
    """Non-negative smallest units, or 0 with the reason appended to `errors`."""
    units = parse_units(text, precision, field)
    if isinstance(units, LedgerError):
        errors.append(units)
        return 0
    if units < 0:
        errors.append(invalid("amount_negative", "Amounts here are zero or more.", field))
        return 0
    return units


def _one_line(value: str, field: str, code: str, errors: list[LedgerError]) -> None:
    if (
        not value.strip()
        or len(value) > PLACE_LENGTH_MAX
        or has_forbidden_character(value, one_line=True)
    ):
        errors.append(invalid(code, f"One line of 1 to {PLACE_LENGTH_MAX} characters.", field))


def _constitution(
    draft: ConstitutionDraft, precision: int, currency: str, errors: list[LedgerError]
) -> Constitution:
    rate = rules.parse_rate(draft.interest_rate_monthly_percent, "interest_rate_monthly_percent")
    if isinstance(rate, LedgerError):
        errors.append(rate)
        rate = Decimal(0)
    if draft.cash_unit is None:
        cash_unit = CASH_UNIT_DEFAULT.get(currency, 1)
    else:
        cash_unit = parse_amount(draft.cash_unit, precision, "cash_unit", errors)
    return Constitution(
        share_price=parse_amount(draft.share_price, precision, "share_price", errors),
        shares_per_meeting_min=draft.shares_per_meeting_min,
        shares_per_meeting_max=draft.shares_per_meeting_max,
        social_fund_per_meeting=parse_amount(
            draft.social_fund_per_meeting, precision, "social_fund_per_meeting", errors
        ),
        interest_rate_monthly_percent=rate,
        interest_method=draft.interest_method,
        loan_savings_multiple=draft.loan_savings_multiple,
        loan_term_months_max=draft.loan_term_months_max,
        fine_late=parse_amount(draft.fine_late, precision, "fine_late", errors),
        fine_absent=parse_amount(draft.fine_absent, precision, "fine_absent", errors),
        fine_other=parse_amount(draft.fine_other, precision, "fine_other", errors),
        cash_unit=cash_unit,
        lend_to_members_in_arrears=draft.lend_to_members_in_arrears,
    )


def _check_group(draft: GroupDraft, errors: list[LedgerError]) -> None:
    """The group's own fields (the book checks its code, name, currency and province)."""
    _one_line(draft.village, "village", "village_invalid", errors)
    _one_line(draft.commune, "commune", "commune_invalid", errors)
    if draft.meeting_frequency not in MEETING_FREQUENCIES:
        errors.append(
            invalid(
                "meeting_frequency_invalid",
                f"meeting_frequency is one of {', '.join(MEETING_FREQUENCIES)}.",
                "meeting_frequency",
            )
        )
    if draft.cycle_start < draft.formed_on:
        errors.append(
            invalid(
                "cycle_before_formed",
                "The first cycle starts on or after the group forms.",
                "cycle_start",
            )
        )
    if draft.cycle_planned_end <= draft.cycle_start:
        errors.append(
            invalid("cycle_end_invalid", "A cycle ends after it starts.", "cycle_planned_end")
        )


def create_group(conn: Connection, draft: GroupDraft) -> Group:
    """A new group: its book, the group's accounts, its constitution and its first cycle."""
    errors: list[LedgerError] = []
    precision = books.commodity_precisions(conn).get(draft.currency)
    constitution = _constitution(draft.constitution, precision or 0, draft.currency, errors)
    if precision is not None:
        errors.extend(rules.validate_constitution(constitution))
    _check_group(draft, errors)
    # The book's own checks (code, name, currency, province) come with the rest.
    try:
        book = books.create_book(
            conn, draft.code, draft.name, "savings_group", draft.currency, draft.province
        )
    except LedgerRejected as rejected:
        raise LedgerRejected([*rejected.errors, *errors]) from None
    reject_if(errors)
    # create_book refuses a currency without a precision.
    assert precision is not None
    for name, non_negative in rules.GROUP_ACCOUNTS:
        books.open_account(conn, book.code, name, draft.formed_on, [draft.currency], non_negative)
    created_at = utc_now()
    conn.execute(
        insert(savings_groups).values(
            book_id=book.id,
            village=draft.village,
            commune=draft.commune,
            formed_on=draft.formed_on,
            meeting_frequency=draft.meeting_frequency,
            **constitution_columns(constitution),
            created_at=created_at,
        )
    )
    conn.execute(
        insert(savings_cycles).values(
            book_id=book.id,
            number=1,
            start_date=draft.cycle_start,
            planned_end_date=draft.cycle_planned_end,
            status="open",
        )
    )
    return Group(
        book_id=book.id,
        code=book.code,
        name=book.name,
        village=draft.village,
        commune=draft.commune,
        province=book.province or "",
        formed_on=draft.formed_on,
        currency=book.operating_currency,
        precision=precision,
        meeting_frequency=draft.meeting_frequency,
        constitution=constitution,
        created_at=created_at,
    )


def _check_member(
    group: Group, number: str, role: str, joined_on: datetime.date, case_code: str | None
) -> None:
    errors: list[LedgerError] = []
    if not rules.MEMBER_NUMBER_RE.fullmatch(number):
        errors.append(
            invalid(
                "member_number_invalid",
                "A member number has 1 to 16 letters, digits and hyphens and starts with a"
                " capital or a digit (e.g. M01).",
                "number",
            )
        )
    if role not in MEMBER_ROLES:
        errors.append(
            invalid("member_role_invalid", f"role is one of {', '.join(MEMBER_ROLES)}.", "role")
        )
    if case_code is not None:
        case_error = validate_case_code(case_code)
        if case_error:
            errors.append(case_error)
    if joined_on < group.formed_on:
        errors.append(
            invalid(
                "member_joined_before_formed", "Members join once the group is formed.", "joined_on"
            )
        )
    reject_if(errors)


def add_member(
    conn: Connection,
    code: str,
    number: str,
    role: str,
    joined_on: datetime.date,
    case_code: str | None = None,
    person: PersonFacts = NOT_RECORDED,
) -> Member:
    """A new member and their savings and loan accounts, open from the day they join; their
    sex and birth year or age band when `person` says them."""
    reject_if(person_errors(person, utc_today().year, required=False))
    group = lock_group(conn, code)
    _check_member(group, number, role, joined_on, case_code)
    members = group_members(conn, group)
    if any(m.number == number for m in members):
        raise LedgerRejected([conflict("member_exists", "This member number is taken.", "number")])
    if len(members) >= rules.MEMBERS_PER_GROUP_MAX:
        raise LedgerRejected(
            [
                conflict(
                    "member_limit_reached",
                    f"A group has at most {rules.MEMBERS_PER_GROUP_MAX} members.",
                )
            ]
        )
    for account in rules.member_accounts(number):
        books.open_account(conn, code, account, joined_on, [group.currency])
    member_id = conn.execute(
        insert(savings_members)
        .values(
            book_id=group.book_id,
            number=number,
            case_code=case_code,
            role=role,
            joined_on=joined_on,
            left_on=None,
            created_at=utc_now(),
            sex=person.sex,
            birth_year=person.birth_year,
            age_band=person.age_band,
        )
        .returning(savings_members.c.id)
    ).scalar_one()
    return Member(
        id=int(member_id),
        number=number,
        case_code=case_code,
        role=role,
        joined_on=joined_on,
        left_on=None,
        person=person,
    )


def describe_member(conn: Connection, code: str, number: str, person: PersonFacts) -> Member:
    """Record (or correct) a member's sex and birth year or age band; None unsays one."""
    reject_if(person_errors(person, utc_today().year, required=False))
    group = lock_group(conn, code)
    member = group_member(conn, group, number)
    conn.execute(
        update(savings_members)
        .where(and_(savings_members.c.id == member.id, savings_members.c.book_id == group.book_id))
        .values(sex=person.sex, birth_year=person.birth_year, age_band=person.age_band)
    )
    return replace(member, person=person)


def member_leaves(conn: Connection, code: str, number: str, left_on: datetime.date) -> Member:
    """From `left_on`, the member takes part in no meeting; their savings wait for the
    share-out and any loan stays theirs to repay."""
    group = lock_group(conn, code)
    member = group_member(conn, group, number)
    if member.left_on is not None:
        raise LedgerRejected([conflict("member_left", "This member has left already.")])
    if left_on < member.joined_on:
        raise LedgerRejected(
            [invalid("left_before_joined", "A member leaves on or after joining.", "date")]
        )
    last = _last_meeting_entry_date(conn, member)
    if last is not None and left_on <= last:
        raise LedgerRejected(
            [
                conflict(
                    "left_before_last_meeting",
                    "The member took part in a meeting on or after this date.",
                    "date",
                )
            ]
        )
    conn.execute(
        update(savings_members)
        .where(and_(savings_members.c.id == member.id, savings_members.c.book_id == group.book_id))
        .values(left_on=left_on)
    )
    return replace(member, left_on=left_on)


def _last_meeting_entry_date(conn: Connection, member: Member) -> datetime.date | None:
    last: datetime.date | None = conn.execute(
        select(func.max(savings_meetings.c.date))
        .join(
            savings_meeting_entries, savings_meeting_entries.c.meeting_id == savings_meetings.c.id
        )
        .where(savings_meeting_entries.c.member_id == member.id)
    ).scalar_one()
    return last
