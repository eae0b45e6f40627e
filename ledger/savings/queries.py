"""Savings groups, the read side: a group's constitution, members, cycles, meetings and
loans as stored, the share-out a cycle would give (or gave), and the group's indicators.

Nothing here writes; `ledger.savings.service` does. The printed documents (`ledger.reports`)
read through this module only.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)

from ledger.core import limits
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    not_found,
    reject_if,
)
from ledger.households.rules import NOT_RECORDED, PersonFacts
from ledger.savings import rules
from ledger.savings.rules import (
    CASH,
    SOCIAL_FUND,
    Constitution,
    LoanState,
    LoanTerms,
    Payment,
)
from ledger.store.books import utc_today
from ledger.store.tables import (
    accounts,
    balances,
    commodities,
    postings,
    savings_cycles,
    savings_groups,
    savings_loan_payments,
    savings_loans,
    savings_meeting_entries,
    savings_meetings,
    savings_members,
    savings_share_out_lines,
    savings_share_outs,
)
from ledger.store.tables import (
    books as books_table,
)

# Village and commune names: one line each.
PLACE_LENGTH_MAX = 100
GROUP_NOT_FOUND = not_found("group_not_found", "No savings group has this code.", "book")


@dataclass(frozen=True, slots=True)
class Group:
    book_id: int
    code: str
    name: str
    village: str
    commune: str
    province: str
    formed_on: datetime.date
    currency: str
    precision: int
    meeting_frequency: str
    constitution: Constitution
    created_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    number: str
    case_code: str | None
    role: str
    joined_on: datetime.date
    left_on: datetime.date | None
    # Sex and birth year, or an age band (None where not recorded): counted, never listed.
    person: PersonFacts = NOT_RECORDED


@dataclass(frozen=True, slots=True)
class Cycle:
    id: int
    number: int
    start_date: datetime.date
    planned_end_date: datetime.date
    status: str
    shared_out_on: datetime.date | None


@dataclass(frozen=True, slots=True)
class MeetingEntry:
    member: str
    attendance: str
    shares: int
    social_fund_paid: int
    fines_paid: int
    interest_paid: int
    principal_repaid: int
    loan_taken: int
    grant_received: int


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    cycle: int
    number: int  # within its cycle
    date: datetime.date
    cash_counted: int
    cash_difference: int
    cash_difference_reason: str | None
    entries: tuple[MeetingEntry, ...]
    precision: int  # of the group's currency: what the amounts above are shown with
    loan_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Loan:
    id: int
    member: str
    cycle: int
    disbursed_on: datetime.date
    principal: int
    interest_rate_monthly_percent: Decimal
    interest_method: str
    term_months: int
    status: str
    closed_on: datetime.date | None
    rolled_from_id: int | None
    payments: tuple[Payment, ...]
    terms: LoanTerms
    as_of: datetime.date
    state: LoanState
    days_in_arrears: int
    precision: int  # of the group's currency


def _group_from_row(row: Row[Any]) -> Group:
    return Group(
        book_id=row.book_id,
        code=row.code,
        name=row.name,
        village=row.village,
        commune=row.commune,
        province=row.province or "",
        formed_on=row.formed_on,
        currency=row.operating_currency,
        precision=row.precision,
        meeting_frequency=row.meeting_frequency,
        constitution=_constitution_from_row(row),
        created_at=row.created_at,
    )


def constitution_columns(c: Constitution) -> dict[str, object]:
    """The constitution as the `savings_groups` columns hold it (the rate as exact text)."""
    columns = dataclasses.asdict(c)
    columns["interest_rate_monthly_percent"] = str(c.interest_rate_monthly_percent)
    return columns


def _constitution_from_row(row: Row[Any]) -> Constitution:
    stored = {f.name: getattr(row, f.name) for f in dataclasses.fields(Constitution)}
    stored["interest_rate_monthly_percent"] = Decimal(row.interest_rate_monthly_percent)
    stored["lend_to_members_in_arrears"] = bool(row.lend_to_members_in_arrears)
    return Constitution(**stored)


def _groups_query() -> Select[Any]:
    """The groups with their books and the precision of their currency, in one read."""
    book = books_table
    return (
        select(
            savings_groups,
            book.c.code,
            book.c.name,
            book.c.province,
            book.c.operating_currency,
            commodities.c.precision,
        )
        .join(book, book.c.id == savings_groups.c.book_id)
        .join(commodities, commodities.c.code == book.c.operating_currency)
    )


def get_group(conn: Connection, code: str, *, for_update: bool = False) -> Group:
    """The group; with `for_update`, its row locked until the transaction ends (PostgreSQL;
    SQLite serialises writes already)."""
    query = _groups_query().where(books_table.c.code == code)
    if for_update:
        query = query.with_for_update(of=savings_groups)
    row = conn.execute(query).first()
    if row is None:
        raise LedgerRejected([GROUP_NOT_FOUND])
    return _group_from_row(row)


def list_groups(conn: Connection) -> list[Group]:
    rows = conn.execute(_groups_query().order_by(books_table.c.code))
    return [_group_from_row(r) for r in rows]


def groups_page(
    conn: Connection,
    provinces: Collection[str] | None,
    books: Collection[str],
    after: str | None,
    limit: int,
) -> list[Group]:
    """One page of the groups in code order, after the code `after`. `provinces` None: every
    group; otherwise only the groups of these provinces or named in `books`. One query."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = _groups_query().order_by(books_table.c.code).limit(limit)
    if provinces is not None:
        statement = statement.where(
            or_(
                books_table.c.province.in_(sorted(provinces)),
                books_table.c.code.in_(sorted(books)),
            )
        )
    if after is not None:
        statement = statement.where(books_table.c.code > after)
    return [_group_from_row(r) for r in conn.execute(statement)]


def _member_from_row(row: Row[Any]) -> Member:
    person = PersonFacts(row.sex, row.birth_year, row.age_band)
    return Member(row.id, row.number, row.case_code, row.role, row.joined_on, row.left_on, person)


def list_members(conn: Connection, code: str) -> list[Member]:
    return group_members(conn, get_group(conn, code))


def group_members(conn: Connection, group: Group) -> list[Member]:
    """The group's members, by number."""
    rows = conn.execute(
        select(savings_members)
        .where(savings_members.c.book_id == group.book_id)
        .order_by(savings_members.c.number)
    )
    return [_member_from_row(r) for r in rows]


def _page_by_number(
    conn: Connection, table: Table, book_id: int, after: str | int | None, limit: int
) -> Sequence[Row[Any]]:
    """One page of a group's rows (members or cycles) in `number` order, after `after`."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = (
        select(table).where(table.c.book_id == book_id).order_by(table.c.number).limit(limit)
    )
    if after is not None:
        statement = statement.where(table.c.number > after)
    return conn.execute(statement).all()


def members_page(conn: Connection, code: str, after: str | None, limit: int) -> list[Member]:
    """One page of the group's members by number, after the number `after`. Two queries."""
    rows = _page_by_number(conn, savings_members, get_group(conn, code).book_id, after, limit)
    return [_member_from_row(r) for r in rows]


def get_member(conn: Connection, code: str, number: str) -> Member:
    return group_member(conn, get_group(conn, code), number)


def group_member(conn: Connection, group: Group, number: str) -> Member:
    row = conn.execute(
        select(savings_members).where(
            and_(savings_members.c.book_id == group.book_id, savings_members.c.number == number)
        )
    ).first()
    if row is None:
        raise LedgerRejected([not_found("member_not_found", "No such member in this group.")])
    return _member_from_row(row)


def _cycle_from_row(row: Row[Any]) -> Cycle:
    return Cycle(
        row.id, row.number, row.start_date, row.planned_end_date, row.status, row.shared_out_on
    )


def list_cycles(
    conn: Connection, code: str, after: int | None = None, limit: int = limits.PAGE_SIZE_MAX
) -> list[Cycle]:
    """One page of the group's cycles by number, after the number `after`. Two queries."""
    rows = _page_by_number(conn, savings_cycles, get_group(conn, code).book_id, after, limit)
    return [_cycle_from_row(r) for r in rows]


def get_cycle(conn: Connection, group: Group, number: int) -> Cycle:
    row = conn.execute(
        select(savings_cycles).where(
            and_(savings_cycles.c.book_id == group.book_id, savings_cycles.c.number == number)
        )
    ).first()
    if row is None:
        raise LedgerRejected([not_found("cycle_not_found", "No such cycle in this group.")])
    return _cycle_from_row(row)


def open_cycle(conn: Connection, group: Group) -> Cycle:
    row = conn.execute(
        select(savings_cycles).where(
            and_(savings_cycles.c.book_id == group.book_id, savings_cycles.c.status == "open")
        )
    ).first()
    assert row is not None, "a group always has one open cycle"
    return _cycle_from_row(row)


def last_meeting_date(conn: Connection, group: Group) -> datetime.date | None:
    last: datetime.date | None = conn.execute(
        select(func.max(savings_meetings.c.date)).where(savings_meetings.c.book_id == group.book_id)
    ).scalar_one()
    return last


def balances_as_of(conn: Connection, group: Group, as_of: datetime.date) -> dict[str, int]:
    """Every account's balance in the group's currency at the end of `as_of`, by name."""
    rows = conn.execute(
        select(accounts.c.name, func.coalesce(func.sum(postings.c.units), 0))
        .join(postings, postings.c.account_id == accounts.c.id)
        .where(
            and_(
                postings.c.book_id == group.book_id,
                postings.c.commodity == group.currency,
                postings.c.date <= as_of,
            )
        )
        .group_by(accounts.c.name)
    )
    return {name: int(units) for name, units in rows}


def current_balances(conn: Connection, group: Group) -> dict[str, int]:
    rows = conn.execute(
        select(accounts.c.name, balances.c.units)
        .join(balances, balances.c.account_id == accounts.c.id)
        .where(and_(balances.c.book_id == group.book_id, balances.c.commodity == group.currency))
    )
    return {name: int(units) for name, units in rows}


def group_loans(
    conn: Connection,
    group: Group,
    as_of: datetime.date,
    *,
    active_only: bool = False,
    loan_id: int | None = None,
    after: tuple[datetime.date, int] | None = None,
    limit: int | None = None,
) -> list[Loan]:
    """The group's loans in (disbursement date, id) order; with `after` and `limit`, one page
    of them after that (date, id). Two queries."""
    where = [savings_loans.c.book_id == group.book_id]
    if active_only:
        where.append(savings_loans.c.status == "active")
    if loan_id is not None:
        where.append(savings_loans.c.id == loan_id)
    if after is not None:
        where.append(
            tuple_(savings_loans.c.disbursed_on, savings_loans.c.id) > tuple_(*map(literal, after))
        )
    rows = conn.execute(
        select(
            savings_loans,
            savings_members.c.number.label("member_number"),
            savings_cycles.c.number.label("cycle_number"),
        )
        .join(savings_members, savings_members.c.id == savings_loans.c.member_id)
        .join(savings_cycles, savings_cycles.c.id == savings_loans.c.cycle_id)
        .where(and_(*where))
        .order_by(savings_loans.c.disbursed_on, savings_loans.c.id)
        .limit(limit)
    ).all()
    paid: dict[int, list[Payment]] = defaultdict(list)
    if rows:
        for p in conn.execute(
            select(savings_loan_payments)
            .where(savings_loan_payments.c.loan_id.in_([r.id for r in rows]))
            .order_by(savings_loan_payments.c.date, savings_loan_payments.c.id)
        ):
            paid[p.loan_id].append(Payment(p.date, p.interest, p.principal))
    return [_loan_from_row(r, group, tuple(paid[r.id]), as_of) for r in rows]


def _loan_from_row(
    r: Row[Any], group: Group, paid: tuple[Payment, ...], as_of: datetime.date
) -> Loan:
    terms = LoanTerms(
        principal=r.principal,
        disbursed_on=r.disbursed_on,
        interest_rate_monthly_percent=Decimal(r.interest_rate_monthly_percent),
        interest_method=r.interest_method,
        term_months=r.term_months,
        cash_unit=group.constitution.cash_unit,
    )
    payments = tuple(p for p in paid if p.date <= as_of)
    state, arrears = _loan_state(terms, payments, as_of, r.status)
    return Loan(
        id=r.id,
        member=r.member_number,
        cycle=r.cycle_number,
        disbursed_on=r.disbursed_on,
        principal=r.principal,
        interest_rate_monthly_percent=terms.interest_rate_monthly_percent,
        interest_method=r.interest_method,
        term_months=r.term_months,
        status=r.status,
        closed_on=r.closed_on,
        rolled_from_id=r.rolled_from_id,
        payments=payments,
        terms=terms,
        as_of=as_of,
        state=state,
        days_in_arrears=arrears,
        precision=group.precision,
    )


def _loan_state(
    terms: LoanTerms, payments: tuple[Payment, ...], as_of: datetime.date, status: str
) -> tuple[LoanState, int]:
    """What is owed on `as_of`, and the days in arrears: a closed loan owes no interest."""
    state = rules.loan_state(terms, payments, as_of)
    if status != "active":
        return LoanState(state.principal_outstanding, 0), 0
    return state, rules.days_in_arrears(terms, payments, as_of)


def closed_loan(loan: Loan, status: str, closed_on: datetime.date, last: Payment) -> Loan:
    """`loan` (read as of `closed_on`) as a read shows it once closed by its `last` payment."""
    payments = (*loan.payments, last)
    state, arrears = _loan_state(loan.terms, payments, loan.as_of, status)
    return dataclasses.replace(
        loan,
        status=status,
        closed_on=closed_on,
        payments=payments,
        state=state,
        days_in_arrears=arrears,
    )


def list_loans(
    conn: Connection, code: str, as_of: datetime.date | None = None, active_only: bool = False
) -> list[Loan]:
    group = get_group(conn, code)
    return group_loans(conn, group, as_of or utc_today(), active_only=active_only)


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """Which loans a page lists: as they stood on `as_of` (None: today), active ones only."""

    as_of: datetime.date | None = None
    active_only: bool = False


def loans_page(
    conn: Connection,
    code: str,
    where: LoanFilter,
    after: tuple[datetime.date, int] | None,
    limit: int,
) -> list[Loan]:
    """One page of the group's loans in (disbursement date, id) order. Three queries."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    group = get_group(conn, code)
    on = where.as_of or utc_today()
    return group_loans(conn, group, on, active_only=where.active_only, after=after, limit=limit)


def get_loan(conn: Connection, code: str, loan_id: int, as_of: datetime.date | None = None) -> Loan:
    return group_loan(conn, get_group(conn, code), loan_id, as_of or utc_today())


def group_loan(conn: Connection, group: Group, loan_id: int, as_of: datetime.date) -> Loan:
    found = group_loans(conn, group, as_of, loan_id=loan_id)
    if not found:
        raise LedgerRejected([not_found("loan_not_found", "No such loan in this group.")])
    return found[0]


_ENTRY_COLUMNS = (
    savings_meeting_entries.c.meeting_id,
    savings_members.c.number,
    savings_meeting_entries.c.attendance,
    savings_meeting_entries.c.shares,
    savings_meeting_entries.c.social_fund_paid,
    savings_meeting_entries.c.fines_paid,
    savings_meeting_entries.c.interest_paid,
    savings_meeting_entries.c.principal_repaid,
    savings_meeting_entries.c.loan_taken,
    savings_meeting_entries.c.grant_received,
)


def _meetings(
    conn: Connection,
    group: Group,
    where: ColumnElement[bool],
    limit: int | None = None,
) -> list[Meeting]:
    """The group's meetings `where` says, in date order (at most `limit`), each numbered
    within its cycle. Two queries."""
    earlier = savings_meetings.alias("earlier")
    number = (
        select(func.count(earlier.c.id))
        .where(
            earlier.c.book_id == savings_meetings.c.book_id,
            earlier.c.cycle_id == savings_meetings.c.cycle_id,
            earlier.c.date <= savings_meetings.c.date,
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            savings_meetings,
            savings_cycles.c.number.label("cycle_number"),
            number.label("number_in_cycle"),
        )
        .join(savings_cycles, savings_cycles.c.id == savings_meetings.c.cycle_id)
        .where(and_(savings_meetings.c.book_id == group.book_id, where))
        .order_by(savings_meetings.c.date, savings_meetings.c.id)
        .limit(limit)
    ).all()
    entries: dict[int, list[MeetingEntry]] = defaultdict(list)
    if rows:
        for e in conn.execute(
            select(*_ENTRY_COLUMNS)
            .join(savings_members, savings_members.c.id == savings_meeting_entries.c.member_id)
            .where(savings_meeting_entries.c.meeting_id.in_([r.id for r in rows]))
            .order_by(savings_members.c.number)
        ):
            entries[e.meeting_id].append(MeetingEntry(*e[1:]))
    meetings = []
    for r in rows:
        meetings.append(
            Meeting(
                id=r.id,
                cycle=r.cycle_number,
                number=int(r.number_in_cycle),
                date=r.date,
                cash_counted=r.cash_counted,
                cash_difference=r.cash_difference,
                cash_difference_reason=r.cash_difference_reason,
                entries=tuple(entries[r.id]),
                precision=group.precision,
            )
        )
    return meetings


def list_meetings(conn: Connection, code: str, cycle_number: int | None = None) -> list[Meeting]:
    group = get_group(conn, code)
    if cycle_number is None:
        return _meetings(conn, group, true())
    cycle = get_cycle(conn, group, cycle_number)
    return _meetings(conn, group, savings_meetings.c.cycle_id == cycle.id)


def meetings_page(
    conn: Connection,
    code: str,
    cycle_number: int | None,
    after: tuple[datetime.date, int] | None,
    limit: int,
) -> list[Meeting]:
    """One page of the group's meetings (of one cycle, or all) in (date, id) order, after
    that (date, id). At most four queries."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    group = get_group(conn, code)
    where: list[ColumnElement[bool]] = []
    if cycle_number is not None:
        where.append(savings_meetings.c.cycle_id == get_cycle(conn, group, cycle_number).id)
    if after is not None:
        where.append(
            tuple_(savings_meetings.c.date, savings_meetings.c.id) > tuple_(*map(literal, after))
        )
    return _meetings(conn, group, and_(true(), *where), limit)


@dataclass(frozen=True, slots=True)
class MeetingDates:
    """Where a new meeting stands: the group's last meeting, and how many its cycle held."""

    last: datetime.date | None
    held_in_cycle: int


def meeting_dates(conn: Connection, group: Group, cycle: Cycle) -> MeetingDates:
    in_cycle = case((savings_meetings.c.cycle_id == cycle.id, savings_meetings.c.id))
    last, held = conn.execute(
        select(func.max(savings_meetings.c.date), func.count(in_cycle)).where(
            savings_meetings.c.book_id == group.book_id
        )
    ).one()
    return MeetingDates(last, int(held))


@dataclass(frozen=True, slots=True)
class ShareOutView:
    """A share-out as previewed or as executed, with what the group's books said."""

    cycle: int
    date: datetime.date
    executed: bool
    currency: str
    precision: int
    cash_unit: int
    cash_held: int
    social_fund: int
    result: rules.ShareOut
    interest_income: int  # the cycle's interest, including what the share-out settles
    fines_income: int
    write_offs: int
    cash_differences: int
    carried_in: int  # what the previous cycle carried forward


def _positions(
    conn: Connection, group: Group, cycle: Cycle, date: datetime.date, bal: dict[str, int]
) -> list[rules.MemberPosition]:
    shares = dict(
        conn.execute(
            select(savings_members.c.number, func.sum(savings_meeting_entries.c.shares))
            .join(savings_members, savings_members.c.id == savings_meeting_entries.c.member_id)
            .join(savings_meetings, savings_meetings.c.id == savings_meeting_entries.c.meeting_id)
            .where(and_(savings_meetings.c.cycle_id == cycle.id, savings_meetings.c.date <= date))
            .group_by(savings_members.c.number)
        )
        .tuples()
        .all()
    )
    interest: dict[str, int] = defaultdict(int)
    principal: dict[str, int] = defaultdict(int)
    for loan in group_loans(conn, group, date, active_only=True):
        interest[loan.member] += loan.state.interest_due
        principal[loan.member] += loan.state.principal_outstanding
    positions = []
    for member in group_members(conn, group):
        n = member.number
        position = rules.MemberPosition(
            member=n,
            shares=int(shares.get(n, 0)),
            savings=-bal.get(rules.savings_account(n), 0),
            interest_due=interest[n],
            principal_outstanding=principal[n],
        )
        loan_balance = bal.get(rules.loan_account(n), 0)
        if position.shares or position.savings or position.debt or loan_balance:
            positions.append(position)
    return positions


def _share_out_date(conn: Connection, group: Group, cycle: Cycle) -> datetime.date:
    """The default date of a share-out: the planned end, or the day after the last meeting."""
    last = last_meeting_date(conn, group)
    after_last = last + datetime.timedelta(days=1) if last else cycle.start_date
    return max(cycle.planned_end_date, after_last)


def preview_share_out(
    conn: Connection, code: str, cycle_number: int, date: datetime.date | None = None
) -> ShareOutView:
    """What a share-out on `date` would pay each member; for a cycle already shared out,
    what it paid."""
    group = get_group(conn, code)
    cycle = get_cycle(conn, group, cycle_number)
    if cycle.status == "shared_out":
        return _stored_share_out(conn, group, cycle)
    on = date or _share_out_date(conn, group, cycle)
    return share_out_view(conn, group, cycle, on, balances_as_of(conn, group, on))


def share_out_view(
    conn: Connection, group: Group, cycle: Cycle, on: datetime.date, bal: dict[str, int]
) -> ShareOutView:
    """What a share-out of the open `cycle` on `on` would pay each member, given the book's
    balances at the end of that day (`balances_as_of`)."""
    positions = _positions(conn, group, cycle, on, bal)
    loan_balances = {p.member: bal.get(rules.loan_account(p.member), 0) for p in positions}
    reject_if(rules.check_positions(positions, group.constitution.share_price, loan_balances))
    social = -bal.get(SOCIAL_FUND, 0)
    computed = rules.compute_share_out(
        bal.get(CASH, 0) - social, positions, group.constitution.cash_unit
    )
    if isinstance(computed, LedgerError):
        raise LedgerRejected([computed])
    return ShareOutView(
        cycle=cycle.number,
        date=on,
        executed=False,
        currency=group.currency,
        precision=group.precision,
        cash_unit=group.constitution.cash_unit,
        cash_held=bal.get(CASH, 0),
        social_fund=social,
        result=computed,
        interest_income=-bal.get(rules.INTEREST, 0)
        + sum(line.interest_due for line in computed.lines),
        fines_income=-bal.get(rules.FINES, 0),
        write_offs=bal.get(rules.WRITE_OFFS, 0),
        cash_differences=bal.get(rules.CASH_DIFFERENCES, 0),
        carried_in=-bal.get(rules.CARRIED_FORWARD, 0),
    )


def _stored_share_out(conn: Connection, group: Group, cycle: Cycle) -> ShareOutView:
    row = conn.execute(
        select(savings_share_outs).where(savings_share_outs.c.cycle_id == cycle.id)
    ).one()
    numerator, denominator = row.value_per_share.split("/")
    value = Fraction(int(numerator), int(denominator))
    lines = tuple(
        rules.ShareOutLine(
            member=r.number,
            shares=r.shares,
            savings=r.savings,
            interest_due=r.interest_due,
            share_value=r.share_value,
            profit=r.profit,
            interest_deducted=r.interest_deducted,
            principal_deducted=r.principal_deducted,
            payout=r.payout,
            loan_carried=r.loan_carried,
        )
        for r in conn.execute(
            select(savings_share_out_lines, savings_members.c.number)
            .join(savings_members, savings_members.c.id == savings_share_out_lines.c.member_id)
            .where(savings_share_out_lines.c.share_out_id == row.id)
            .order_by(savings_members.c.number)
        )
    )
    result = rules.ShareOut(
        cash_available=row.cash_available,
        fund=value * row.total_shares,
        total_shares=row.total_shares,
        value_per_share=value,
        lines=lines,
    )
    return ShareOutView(
        cycle=cycle.number,
        date=row.date,
        executed=True,
        currency=group.currency,
        precision=group.precision,
        cash_unit=group.constitution.cash_unit,
        cash_held=row.cash_available + row.social_fund,
        social_fund=row.social_fund,
        result=result,
        interest_income=row.interest_income,
        fines_income=row.fines_income,
        write_offs=row.write_offs,
        cash_differences=row.cash_differences,
        carried_in=row.carried_in,
    )


@dataclass(frozen=True, slots=True)
class Indicators:
    as_of: datetime.date
    cycle: int
    currency: str
    precision: int
    members_active: int
    savings: int
    loans_outstanding: int
    loans_active: int
    cash_held: int
    social_fund: int
    loan_fund_utilisation: Fraction | None
    portfolio_at_risk_30: Fraction | None
    attendance_rate: Fraction | None
    cycle_profit: int
    return_on_savings_annualised: Fraction | None
    cash_differences: int
    meetings_with_cash_difference: int


PAR_DAYS = 30
DAYS_PER_YEAR = 365


def indicators(conn: Connection, code: str, as_of: datetime.date | None = None) -> Indicators:
    """The group's health at the end of `as_of` (formulas in docs/ACCOUNTING.md)."""
    group = get_group(conn, code)
    cycle = open_cycle(conn, group)
    on = as_of or max(last_meeting_date(conn, group) or cycle.start_date, cycle.start_date)
    bal = balances_as_of(conn, group, on)
    members = group_members(conn, group)
    active = [m for m in members if m.joined_on <= on and (m.left_on is None or m.left_on > on)]
    savings = sum(-bal.get(rules.savings_account(m.number), 0) for m in members)
    loans = group_loans(conn, group, on, active_only=True)
    outstanding = sum(loan.state.principal_outstanding for loan in loans)
    at_risk = sum(
        loan.state.principal_outstanding for loan in loans if loan.days_in_arrears > PAR_DAYS
    )
    cash = bal.get(CASH, 0)
    social = -bal.get(SOCIAL_FUND, 0)
    lendable = outstanding + cash - social
    attendance = conn.execute(
        select(savings_meeting_entries.c.attendance, func.count())
        .join(savings_meetings, savings_meetings.c.id == savings_meeting_entries.c.meeting_id)
        .where(and_(savings_meetings.c.cycle_id == cycle.id, savings_meetings.c.date <= on))
        .group_by(savings_meeting_entries.c.attendance)
    ).all()
    counts = {a: int(n) for a, n in attendance}
    recorded = sum(counts.values())
    profit = -sum(bal.get(a, 0) for a in rules.RESULT_ACCOUNTS)
    days = (on - cycle.start_date).days + 1
    differences = conn.execute(
        select(func.count()).where(
            and_(
                savings_meetings.c.cycle_id == cycle.id,
                savings_meetings.c.date <= on,
                savings_meetings.c.cash_difference != 0,
            )
        )
    ).scalar_one()
    return Indicators(
        as_of=on,
        cycle=cycle.number,
        currency=group.currency,
        precision=group.precision,
        members_active=len(active),
        savings=savings,
        loans_outstanding=outstanding,
        loans_active=len(loans),
        cash_held=cash,
        social_fund=social,
        loan_fund_utilisation=Fraction(outstanding, lendable) if lendable > 0 else None,
        portfolio_at_risk_30=Fraction(at_risk, outstanding) if outstanding else None,
        attendance_rate=(
            Fraction(counts.get("present", 0) + counts.get("represented", 0), recorded)
            if recorded
            else None
        ),
        cycle_profit=profit,
        return_on_savings_annualised=(
            Fraction(profit, savings) * Fraction(DAYS_PER_YEAR, days)
            if savings > 0 and days > 0
            else None
        ),
        cash_differences=bal.get(rules.CASH_DIFFERENCES, 0),
        meetings_with_cash_difference=int(differences),
    )
