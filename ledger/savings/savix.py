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
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
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
# Per group (book id): the integer figures as they are counted.
Tally = defaultdict[int, Counter[str]]


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
        return Figures(*(getattr(self, n) + getattr(other, n) for n in _FIELD_NAMES))

    @property
    def assets(self) -> int:
        """The cash box and the loans outstanding (the social fund's cash included)."""
        return self.cash + self.loans_outstanding


_FIELD_NAMES = tuple(f.name for f in fields(Figures))


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


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _members(
    conn: Connection, groups: dict[int, _Group], as_of: datetime.date, found: Tally
) -> None:
    """Members on the date, enrolled in the cycle so far, and those who dropped out, counted
    by the database per group."""
    m = savings_members.c
    cycle = savings_cycles.c
    in_cycle = or_(m.left_on.is_(None), m.left_on > cycle.start_date)
    active = or_(m.left_on.is_(None), m.left_on > as_of)
    sex = m.get("sex")  # recorded once the people helper's migration adds it
    women = _count(and_(active, sex == "female")) if sex is not None else func.sum(0)
    recorded = _count(and_(active, sex.is_not(None))) if sex is not None else func.sum(0)
    rows = conn.execute(
        select(m.book_id, _count(active), women, recorded, func.count(), _count(~active))
        .join(savings_cycles, cycle.book_id == m.book_id)
        .where(
            and_(
                cycle.id.in_(bindparam("cycles", expanding=True)),
                m.joined_on <= as_of,
                in_cycle,
            )
        )
        .group_by(m.book_id),
        {"cycles": _cycle_ids(groups)},
    )
    for book_id, *counts in rows:
        tally = found[book_id]
        for field, value in zip(_MEMBER_FIELDS, counts, strict=True):
            tally[field] += int(value or 0)


_MEMBER_FIELDS = ("members", "women", "sex_recorded", "enrolled", "dropped_out")


def _attendance(
    conn: Connection, groups: dict[int, _Group], as_of: datetime.date, found: Tally
) -> None:
    """Attendance in each group's cycle up to the date, from the counts each meeting keeps."""
    rows = conn.execute(
        select(
            savings_meetings.c.book_id,
            func.sum(savings_meetings.c.attended),
            func.sum(savings_meetings.c.attendance_records),
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
    for book_id, attended, records in rows:
        found[book_id]["attended"] += int(attended or 0)
        found[book_id]["attendance_records"] += int(records)


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
_IS_SAVINGS = and_(
    accounts.c.name.startswith(SAVINGS_PREFIX), accounts.c.name.endswith(SAVINGS_SUFFIX)
)
# (field, sign, which accounts): what the book's balances say, in the group's currency.
_BALANCE_FIELDS: tuple[tuple[str, int, Any], ...] = (
    ("cash", 1, accounts.c.name == CASH),
    ("social_fund", -1, accounts.c.name == SOCIAL_FUND),
    ("cycle_profit", -1, accounts.c.name.in_(sorted(RESULT_ACCOUNTS))),
    ("savings", -1, _IS_SAVINGS),
)
_WANTED = or_(*(which for _, _, which in _BALANCE_FIELDS))


def _per_book(units: Any) -> Any:
    """One row per book: each field's units summed over its accounts."""
    return [func.sum(case((which, units), else_=0)) for _, _, which in _BALANCE_FIELDS]


# Every wanted account of every group's book: its last checkpoint before the date's week.
_CHECKPOINTS = (
    select(accounts.c.book_id, *_per_book(_LAST_CHECKPOINT))
    .select_from(balances)
    .join(accounts, accounts.c.id == balances.c.account_id)
    .join(books, and_(books.c.kind == "savings_group", accounts.c.book_id == books.c.id))
    .where(and_(balances.c.commodity == books.c.operating_currency, _WANTED))
    .group_by(accounts.c.book_id)
)
# ... and the postings of the date's week up to the date (seeks on (book, date)).
_WEEK_POSTINGS = (
    select(accounts.c.book_id, *_per_book(postings.c.units))
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
    .group_by(accounts.c.book_id)
)


def _balances(
    conn: Connection, groups: dict[int, _Group], as_of: datetime.date, found: Tally
) -> None:
    """Savings, cash, social fund and the cycle's profit of each group at the end of the day,
    from the ledger: week-end checkpoints plus the week's postings up to the date."""
    week = week_of(as_of)
    for statement, parameters in (
        (_CHECKPOINTS, {"before": week}),
        (_WEEK_POSTINGS, {"first": week, "last": as_of}),
    ):
        for book_id, *units in conn.execute(statement, parameters):
            if book_id not in groups:
                continue
            tally = found[book_id]
            for (field, sign, _), value in zip(_BALANCE_FIELDS, units, strict=True):
                tally[field] += sign * int(value or 0)


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


def _loans(conn: Connection, groups: dict[int, _Group], as_of: datetime.date, found: Tally) -> None:
    """Loans open at the end of the date: what they still owe in principal, and the part
    more than 30 days in arrears against each loan's schedule."""
    paid: dict[int, list[Payment]] = defaultdict(list)
    for loan_id, date, interest, principal in conn.execute(_OPEN_LOAN_PAYMENTS, {"as_of": as_of}):
        paid[loan_id].append(Payment(date, interest, principal))
    for r in conn.execute(_OPEN_LOANS, {"as_of": as_of}):
        group = groups.get(r.book_id)
        payments = paid[r.id]
        outstanding = r.principal - sum(p.principal for p in payments)
        if group is None or outstanding <= 0:
            continue
        tally = found[r.book_id]
        tally["loans_active"] += 1
        tally["loans_outstanding"] += outstanding
        if _at_risk(r, group, payments, as_of):
            tally["at_risk_30"] += outstanding


def _at_risk(loan: Any, group: _Group, payments: list[Payment], as_of: datetime.date) -> bool:
    """More than 30 days in arrears against the loan's schedule."""
    if (as_of - loan.disbursed_on).days <= PAR_DAYS + 28:
        # The first instalment falls due a month (28 days or more) after disbursement.
        return False
    terms = LoanTerms(
        principal=loan.principal,
        disbursed_on=loan.disbursed_on,
        interest_rate_monthly_percent=Decimal(loan.interest_rate_monthly_percent),
        interest_method=loan.interest_method,
        term_months=loan.term_months,
        cash_unit=group.cash_unit,
    )
    return rules.days_in_arrears(terms, payments, as_of) > PAR_DAYS


def _figures(group: _Group, tally: Counter[str], as_of: datetime.date) -> Figures:
    days = (as_of - group.cycle_start).days + 1
    profit = Fraction(tally["cycle_profit"] * DAYS_PER_YEAR, days)
    return Figures(groups=1, profit_annualised=profit, **tally)


def programme_savix(
    conn: Connection, as_of: datetime.date, provinces: frozenset[str] | None = None
) -> ProgrammeSavix:
    """The SAVIX indicators at the end of `as_of` of every group (within `provinces` when
    given), of each province and of the programme. Groups whose first cycle had not begun
    by then are not counted."""
    groups = _groups(conn, as_of, provinces)
    tallies: Tally = defaultdict(Counter)
    for part in (_members, _attendance, _balances, _loans):
        part(conn, groups, as_of, tallies)
    rows = []
    for book_id, g in groups.items():
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
                figures=_figures(g, tallies[book_id], as_of),
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
