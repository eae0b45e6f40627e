"""Savings groups across the programme: the SAVIX indicators of every group, each province and
the programme, as of any date (formulas in docs/ACCOUNTING.md, "Savings groups across the
programme").

The whole programme is read in a fixed number of statements, whatever the number of groups:
the groups and their cycle as of the date, the members, the attendance counted by the
database, the balances from the week-end checkpoints (`balance_checkpoints`) plus the
postings of at most three days, and the loans open on the date with their payments. One pass
in Python adds them up per group; a province and the programme are sums of their groups'
figures (ratios are recomputed from the sums, never averaged). Money is never added across
currencies: an aggregate is per (province, currency).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select

from ledger.savings import rules
from ledger.savings.rules import CASH, SOCIAL_FUND, LoanTerms, Payment
from ledger.store.checkpoints import week_of
from ledger.store.tables import (
    accounts,
    balance_checkpoints,
    balances,
    books,
    commodities,
    postings,
    savings_cycles,
    savings_groups,
    savings_loan_payments,
    savings_loans,
    savings_meeting_entries,
    savings_meetings,
    savings_members,
)

PAR_DAYS = 30
# The years a quarterly report may name.
YEAR_MIN = 2000
YEAR_MAX = 2100
DAYS_PER_YEAR = 365
SAVINGS_PREFIX = "Liabilities:Members:"
SAVINGS_SUFFIX = ":Savings"
RESULT_ACCOUNTS = frozenset(rules.RESULT_ACCOUNTS)


@dataclass(frozen=True, slots=True)
class Figures:
    """What adds up across groups (of one currency): a group's, a province's or the
    programme's. Money in the currency's smallest unit."""

    groups: int = 0
    members: int = 0  # on the date
    women: int = 0  # members on the date recorded as female
    sex_recorded: int = 0  # members on the date whose sex is recorded
    enrolled: int = 0  # members at any time in the cycle up to the date
    dropped_out: int = 0  # of those, left on or before the date
    attended: int = 0  # present or represented, in the cycle's meetings up to the date
    attendance_records: int = 0
    savings: int = 0
    loans_active: int = 0
    loans_outstanding: int = 0
    at_risk_30: int = 0  # principal of loans more than 30 days in arrears
    cash: int = 0
    social_fund: int = 0
    cycle_profit: int = 0
    profit_annualised: Fraction = Fraction(0)  # each group's profit x 365 / its cycle's days

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def assets(self) -> int:
        """The cash box and the loans outstanding (the social fund's cash included)."""
        return self.cash + self.loans_outstanding


@dataclass(frozen=True, slots=True)
class Ratios:
    women: Fraction | None
    attendance: Fraction | None
    dropout: Fraction | None
    savings_per_member: Fraction | None
    portfolio_at_risk_30: Fraction | None
    return_on_savings_annualised: Fraction | None
    return_on_assets_annualised: Fraction | None


def _share(numerator: int | Fraction, denominator: int) -> Fraction | None:
    return Fraction(numerator) / denominator if denominator > 0 else None


def ratios(f: Figures) -> Ratios:
    """The SAVIX ratios of `f`: None where the denominator is zero."""
    return Ratios(
        women=_share(f.women, f.sex_recorded),
        attendance=_share(f.attended, f.attendance_records),
        dropout=_share(f.dropped_out, f.enrolled),
        savings_per_member=_share(f.savings, f.members),
        portfolio_at_risk_30=_share(f.at_risk_30, f.loans_outstanding),
        return_on_savings_annualised=_share(f.profit_annualised, f.savings),
        return_on_assets_annualised=_share(f.profit_annualised, f.assets),
    )


@dataclass(frozen=True, slots=True)
class GroupSavix:
    code: str
    name: str
    province: str
    commune: str
    village: str
    formed_on: datetime.date
    currency: str
    precision: int
    cycle: int
    cycle_start: datetime.date
    figures: Figures


@dataclass(frozen=True, slots=True)
class AreaSavix:
    """A province's groups (`province` set) or the programme's (`province` None), in one
    currency."""

    province: str | None
    currency: str
    precision: int
    figures: Figures


@dataclass(frozen=True, slots=True)
class ProgrammeSavix:
    as_of: datetime.date
    groups: tuple[GroupSavix, ...]  # by province, then code
    provinces: tuple[AreaSavix, ...]  # by province, then currency
    programme: tuple[AreaSavix, ...]  # one per currency


@dataclass(frozen=True, slots=True)
class _Group:
    book_id: int
    code: str
    name: str
    province: str
    commune: str
    village: str
    formed_on: datetime.date
    currency: str
    precision: int
    cash_unit: int
    cycle_id: int
    cycle: int
    cycle_start: datetime.date


def _groups(
    conn: Connection, as_of: datetime.date, provinces: frozenset[str] | None
) -> dict[int, _Group]:
    """The groups whose first cycle began on or before `as_of` (within `provinces` when
    given), each with the cycle it was in on that date."""
    query = (
        select(
            books.c.id,
            books.c.code,
            books.c.name,
            books.c.province,
            savings_groups.c.commune,
            savings_groups.c.village,
            savings_groups.c.formed_on,
            books.c.operating_currency,
            commodities.c.precision,
            savings_groups.c.cash_unit,
            savings_cycles.c.id.label("cycle_id"),
            savings_cycles.c.number,
            savings_cycles.c.start_date,
        )
        .join(savings_groups, savings_groups.c.book_id == books.c.id)
        .join(commodities, commodities.c.code == books.c.operating_currency)
        .join(savings_cycles, savings_cycles.c.book_id == books.c.id)
        .where(savings_cycles.c.start_date <= as_of)
        .order_by(savings_cycles.c.start_date)
    )
    if provinces is not None:
        query = query.where(books.c.province.in_(sorted(provinces)))
    found: dict[int, _Group] = {}
    for r in conn.execute(query):
        # Ordered by start: the last cycle begun by the date wins.
        found[r.id] = _Group(r[0], r.code, r.name, r.province or "", *r[4:])
    return found


def _cycle_ids(groups: dict[int, _Group]) -> list[int]:
    return sorted(g.cycle_id for g in groups.values())


def _members(
    conn: Connection, groups: dict[int, _Group], as_of: datetime.date
) -> dict[int, Figures]:
    """Members on the date, enrolled in the cycle so far, and those who dropped out."""
    found: dict[int, Figures] = defaultdict(Figures)
    rows = conn.execute(
        select(
            savings_members.c.book_id,
            savings_members.c.left_on,
            *_sex_columns(),
        ).where(savings_members.c.joined_on <= as_of)
    )
    for book_id, left_on, *sex in rows:
        group = groups.get(book_id)
        if group is None or (left_on is not None and left_on <= group.cycle_start):
            continue
        active = left_on is None or left_on > as_of
        recorded, female = _sex_of(sex) if active else (0, 0)
        found[book_id] += Figures(
            members=int(active),
            women=female,
            sex_recorded=recorded,
            enrolled=1,
            dropped_out=int(not active),
        )
    return found


def _sex_columns() -> tuple[Any, ...]:
    """The member's sex, once the table records it (`savings_members.sex`)."""
    column = savings_members.c.get("sex")
    return () if column is None else (column,)


def _sex_of(sex: Sequence[Any]) -> tuple[int, int]:
    """(1 if the sex is recorded, 1 if female)."""
    if not sex or sex[0] is None or sex[0] == "":
        return 0, 0
    return 1, int(sex[0] == "female")


def _attendance(
    conn: Connection, groups: dict[int, _Group], as_of: datetime.date
) -> dict[int, Figures]:
    """Attendance records of each group's cycle up to the date, counted by the database."""
    present = func.sum(
        case((savings_meeting_entries.c.attendance.in_(("present", "represented")), 1), else_=0)
    )
    rows = conn.execute(
        select(savings_meetings.c.book_id, present, func.count())
        .join(
            savings_meeting_entries,
            savings_meeting_entries.c.meeting_id == savings_meetings.c.id,
        )
        .where(
            and_(
                savings_meetings.c.cycle_id.in_(bindparam("cycles", expanding=True)),
                savings_meetings.c.date <= as_of,
            )
        )
        .group_by(savings_meetings.c.book_id),
        {"cycles": _cycle_ids(groups)},
    )
    return {
        book_id: Figures(attended=int(attended or 0), attendance_records=int(records))
        for book_id, attended, records in rows
    }


_LAST_CHECKPOINT = (
    select(balance_checkpoints.c.units)
    .where(
        and_(
            balance_checkpoints.c.account_id == balances.c.account_id,
            balance_checkpoints.c.commodity == balances.c.commodity,
            balance_checkpoints.c.week < bindparam("before"),
        )
    )
    .order_by(balance_checkpoints.c.week.desc())
    .limit(1)
    .scalar_subquery()
)
_WANTED = or_(
    accounts.c.name.in_((CASH, SOCIAL_FUND, *sorted(RESULT_ACCOUNTS))),
    and_(accounts.c.name.startswith(SAVINGS_PREFIX), accounts.c.name.endswith(SAVINGS_SUFFIX)),
)
_SAVINGS_BOOKS = and_(books.c.kind == "savings_group", accounts.c.book_id == books.c.id)
# Every wanted account of every group's book: its last checkpoint before the date's week.
_CHECKPOINTS = (
    select(accounts.c.book_id, accounts.c.name, _LAST_CHECKPOINT)
    .select_from(balances)
    .join(accounts, accounts.c.id == balances.c.account_id)
    .join(books, _SAVINGS_BOOKS)
    .where(and_(balances.c.commodity == books.c.operating_currency, _WANTED))
)
# ... and the postings of the date's week up to the date (seeks on (book, date)).
_WEEK_POSTINGS = (
    select(accounts.c.book_id, accounts.c.name, func.sum(postings.c.units))
    .select_from(books)
    .join(postings, postings.c.book_id == books.c.id)
    .join(accounts, accounts.c.id == postings.c.account_id)
    .where(
        and_(
            books.c.kind == "savings_group",
            postings.c.date >= bindparam("first"),
            postings.c.date <= bindparam("last"),
            postings.c.commodity == books.c.operating_currency,
            _WANTED,
        )
    )
    .group_by(accounts.c.book_id, accounts.c.name)
)


def _balances(
    conn: Connection, groups: dict[int, _Group], as_of: datetime.date
) -> dict[int, Figures]:
    """Savings, cash, social fund and the cycle's profit of each group at the end of the day,
    from the ledger: week-end checkpoints plus the week's postings up to the date."""
    week = week_of(as_of)
    units: dict[tuple[int, str], int] = defaultdict(int)
    for book_id, name, value in conn.execute(_CHECKPOINTS, {"before": week}):
        units[(book_id, name)] += int(value or 0)
    days = {"first": week, "last": as_of}
    for book_id, name, value in conn.execute(_WEEK_POSTINGS, days):
        units[(book_id, name)] += int(value or 0)
    found: dict[int, Figures] = defaultdict(Figures)
    for (book_id, name), value in units.items():
        if book_id not in groups or value == 0:
            continue
        found[book_id] += _balance_figures(name, value)
    return found


def _balance_figures(name: str, units: int) -> Figures:
    if name == CASH:
        return Figures(cash=units)
    if name == SOCIAL_FUND:
        return Figures(social_fund=-units)
    if name in RESULT_ACCOUNTS:
        return Figures(cycle_profit=-units)
    return Figures(savings=-units)  # a member's savings account


_OPEN_ON = and_(
    savings_loans.c.disbursed_on <= bindparam("as_of"),
    or_(savings_loans.c.closed_on.is_(None), savings_loans.c.closed_on > bindparam("as_of")),
)
_OPEN_LOANS = select(
    savings_loans.c.id,
    savings_loans.c.book_id,
    savings_loans.c.principal,
    savings_loans.c.disbursed_on,
    savings_loans.c.interest_rate_monthly_percent,
    savings_loans.c.interest_method,
    savings_loans.c.term_months,
).where(_OPEN_ON)
_OPEN_LOAN_PAYMENTS = (
    select(
        savings_loan_payments.c.loan_id,
        savings_loan_payments.c.date,
        savings_loan_payments.c.interest,
        savings_loan_payments.c.principal,
    )
    .join(savings_loans, savings_loans.c.id == savings_loan_payments.c.loan_id)
    .where(and_(_OPEN_ON, savings_loan_payments.c.date <= bindparam("as_of")))
)


def _loans(conn: Connection, groups: dict[int, _Group], as_of: datetime.date) -> dict[int, Figures]:
    """Loans open at the end of the date: what they still owe in principal, and the part
    more than 30 days in arrears against each loan's schedule."""
    paid: dict[int, list[Payment]] = defaultdict(list)
    for loan_id, date, interest, principal in conn.execute(_OPEN_LOAN_PAYMENTS, {"as_of": as_of}):
        paid[loan_id].append(Payment(date, interest, principal))
    found: dict[int, Figures] = defaultdict(Figures)
    for r in conn.execute(_OPEN_LOANS, {"as_of": as_of}):
        group = groups.get(r.book_id)
        if group is None:
            continue
        terms = LoanTerms(
            principal=r.principal,
            disbursed_on=r.disbursed_on,
            interest_rate_monthly_percent=Decimal(r.interest_rate_monthly_percent),
            interest_method=r.interest_method,
            term_months=r.term_months,
            cash_unit=group.cash_unit,
        )
        payments = paid[r.id]
        outstanding = r.principal - sum(p.principal for p in payments)
        if outstanding <= 0:
            continue
        late = rules.days_in_arrears(terms, payments, as_of) > PAR_DAYS
        found[r.book_id] += Figures(
            loans_active=1, loans_outstanding=outstanding, at_risk_30=outstanding * late
        )
    return found


def _annualised(group: _Group, figures: Figures, as_of: datetime.date) -> Figures:
    days = (as_of - group.cycle_start).days + 1
    return replace(
        figures, groups=1, profit_annualised=Fraction(figures.cycle_profit * DAYS_PER_YEAR, days)
    )


def programme_savix(
    conn: Connection, as_of: datetime.date, provinces: frozenset[str] | None = None
) -> ProgrammeSavix:
    """The SAVIX indicators at the end of `as_of` of every group (within `provinces` when
    given), of each province and of the programme. Groups whose first cycle had not begun
    by then are not counted."""
    groups = _groups(conn, as_of, provinces)
    parts = (
        _members(conn, groups, as_of),
        _attendance(conn, groups, as_of),
        _balances(conn, groups, as_of),
        _loans(conn, groups, as_of),
    )
    rows = []
    for book_id, g in groups.items():
        total = sum((part.get(book_id, Figures()) for part in parts), Figures())
        rows.append(
            GroupSavix(
                code=g.code,
                name=g.name,
                province=g.province,
                commune=g.commune,
                village=g.village,
                formed_on=g.formed_on,
                currency=g.currency,
                precision=g.precision,
                cycle=g.cycle,
                cycle_start=g.cycle_start,
                figures=_annualised(g, total, as_of),
            )
        )
    rows.sort(key=lambda r: (r.province, r.code))
    return ProgrammeSavix(
        as_of=as_of,
        groups=tuple(rows),
        provinces=_areas(rows, by_province=True),
        programme=_areas(rows, by_province=False),
    )


def _areas(rows: Iterable[GroupSavix], *, by_province: bool) -> tuple[AreaSavix, ...]:
    sums: dict[tuple[str, str], Figures] = defaultdict(Figures)
    precision: dict[str, int] = {}
    for r in rows:
        sums[(r.province if by_province else "", r.currency)] += r.figures
        precision[r.currency] = r.precision
    return tuple(
        AreaSavix(province if by_province else None, currency, precision[currency], figures)
        for (province, currency), figures in sorted(sums.items())
    )


def quarter_end(year: int, quarter: int) -> datetime.date:
    """The last day of the quarter (1 to 4) of `year`."""
    if not 1 <= quarter <= 4:
        raise ValueError("a quarter is 1 to 4")
    following = datetime.date(year + quarter // 4, quarter % 4 * 3 + 1, 1)
    return following - datetime.timedelta(days=1)
