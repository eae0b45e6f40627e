"""The programme's indicators for a period, as donors count them: people reached by sex and
age group (children under 18, adults), by province and by quarter; grants given in cash and
in kind and their value; trainees and certificates; households whose income rose against
their baseline; savings groups and their members.

Only counts leave this module: people are tallied by sex and age group, never listed (no
case code, birth year or sex of anyone reaches a report). Who is counted where:

- reached: the households whose consent date falls in the period, and the people recorded
  under their case codes (age on the consent date's year: the year of birth less that year;
  the age band when the birth year is unknown);
- grants: disbursements dated in the period and not reversed, valued in the award's currency
  (cash: every method but in kind);
- trainees: participants of trainings that start in the period; a participant named its
  trainees (tallied by sex and age in the training's year) or gave a count only; a
  certificate per household that completed;
- income: every household in the report's provinces with a baseline and income after
  support (to date, as the outcomes report counts them);
- savings: the groups formed by the period's end and their members on that day.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from ledger.core.errors import LedgerRejected, invalid
from ledger.households.rules import PersonFacts, age_group
from ledger.outcomes.service import programme_outcome
from ledger.store.tables import (
    awards,
    books,
    commodities,
    disbursements,
    grants,
    household_members,
    savings_groups,
    savings_members,
    training_attendance,
    training_participants,
    training_trainees,
    trainings,
)
from ledger.store.tables import households as household_table

SEXES = ("female", "male", "other", "unknown")
AGE_GROUPS = ("child", "adult", "unknown")
EARLIEST = datetime.date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class Tally:
    """People counted by (sex, age group); a sex or age not recorded counts as unknown."""

    cells: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, people: Iterable[tuple[PersonFacts, int]]) -> Tally:
        """People, each with the year their age is taken in."""
        counted: Counter[tuple[str, str]] = Counter()
        for person, year in people:
            counted[(person.sex or "unknown", age_group(person, year))] += 1
        return cls(dict(counted))

    def count(self, sex: str | None = None, age: str | None = None) -> int:
        return sum(
            n
            for (s, a), n in self.cells.items()
            if (sex is None or s == sex) and (age is None or a == age)
        )

    @property
    def total(self) -> int:
        return self.count()

    def __add__(self, other: Tally) -> Tally:
        return Tally(dict(Counter(self.cells) + Counter(other.cells)))


@dataclass(frozen=True, slots=True)
class Reach:
    label: str  # "all", a province, or a quarter ("2018-Q4")
    households: int
    households_with_people: int
    # Members declared by the households with no people recorded (not broken down).
    declared_members: int
    people: Tally


@dataclass(frozen=True, slots=True)
class GrantsGiven:
    """Disbursements of one currency (the awards'), cash and in kind."""

    currency: str
    precision: int
    grants: int
    households: int
    cash_disbursements: int
    cash_units: int
    in_kind_disbursements: int
    in_kind_units: int


@dataclass(frozen=True, slots=True)
class TrainingFigures:
    trainings: int
    households: int
    trainees: int  # every participant's people, named or counted
    named: Tally  # the trainees named as people of their household
    certificates: int  # households that completed
    certified_people: int


@dataclass(frozen=True, slots=True)
class IncomeFigures:
    households: int
    compared: int  # with a baseline and income after support
    rose: int


@dataclass(frozen=True, slots=True)
class SavingsFigures:
    groups: int
    members: int
    people: Tally


@dataclass(frozen=True, slots=True)
class Indicators:
    start: datetime.date | None
    end: datetime.date
    province: str | None
    reached: Reach
    by_province: tuple[Reach, ...]
    by_quarter: tuple[Reach, ...]
    grants: tuple[GrantsGiven, ...]
    training: TrainingFigures
    income: IncomeFigures
    savings: SavingsFigures


def quarter(date: datetime.date) -> str:
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


def _provinces(
    column: ColumnElement[str], scope: Collection[str] | None, province: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if province is not None:
        where.append(column == province)
    if scope is not None:
        where.append(column.in_(sorted(scope)))
    return where


def _reach(
    label: str, rows: list[tuple[int, str, datetime.date, int, PersonFacts | None]]
) -> Reach:
    """`rows`: (household id, province, consent date, declared members, a person or None)."""
    with_people = {r[0] for r in rows if r[4] is not None}
    declared = {r[0]: r[3] for r in rows if r[0] not in with_people}
    return Reach(
        label=label,
        households=len({r[0] for r in rows}),
        households_with_people=len(with_people),
        declared_members=sum(declared.values()),
        people=Tally.of((r[4], r[2].year) for r in rows if r[4] is not None),
    )


def _reached(
    conn: Connection, where: list[ColumnElement[bool]]
) -> tuple[Reach, tuple[Reach, ...], tuple[Reach, ...]]:
    h, m = household_table, household_members
    statement = (
        select(h.c.id, h.c.province, h.c.consent_date, h.c.members, m.c.sex, m.c.birth_year,
               m.c.age_band)
        .outerjoin(m, m.c.household_id == h.c.id)
        .where(and_(*where))
    )  # fmt: skip
    rows = [
        (r.id, r.province, r.consent_date, r.members,
         None if r.sex is None else PersonFacts(r.sex, r.birth_year, r.age_band))
        for r in conn.execute(statement)
    ]  # fmt: skip
    by_province: dict[str, list[tuple[int, str, datetime.date, int, PersonFacts | None]]]
    by_province, by_quarter = defaultdict(list), defaultdict(list)
    for row in rows:
        by_province[row[1]].append(row)
        by_quarter[quarter(row[2])].append(row)
    return (
        _reach("all", rows),
        tuple(_reach(name, group) for name, group in sorted(by_province.items())),
        tuple(_reach(name, group) for name, group in sorted(by_quarter.items())),
    )


def _grants_given(
    conn: Connection, start: datetime.date, end: datetime.date, where: list[ColumnElement[bool]]
) -> tuple[GrantsGiven, ...]:
    d = disbursements
    in_kind = d.c.method == "in_kind"
    statement = (
        select(
            awards.c.currency,
            commodities.c.precision,
            func.count(func.distinct(grants.c.id)).label("grants"),
            func.count(func.distinct(grants.c.household_id)).label("households"),
            func.count().filter(~in_kind).label("cash"),
            func.coalesce(func.sum(d.c.award_units).filter(~in_kind), 0).label("cash_units"),
            func.count().filter(in_kind).label("kind"),
            func.coalesce(func.sum(d.c.award_units).filter(in_kind), 0).label("kind_units"),
        )
        .select_from(d)
        .join(grants, grants.c.id == d.c.grant_id)
        .join(awards, awards.c.id == grants.c.award_id)
        .join(commodities, commodities.c.code == awards.c.currency)
        .join(household_table, household_table.c.id == grants.c.household_id)
        .where(and_(d.c.reversed_at.is_(None), d.c.date >= start, d.c.date <= end, *where))
        .group_by(awards.c.currency, commodities.c.precision)
        .order_by(awards.c.currency)
    )
    return tuple(
        GrantsGiven(r.currency, r.precision, r.grants, r.households, int(r.cash or 0),
                    int(r.cash_units), int(r.kind or 0), int(r.kind_units))
        for r in conn.execute(statement)
    )  # fmt: skip


def _training(
    conn: Connection, start: datetime.date, end: datetime.date, where: list[ColumnElement[bool]]
) -> TrainingFigures:
    p, t = training_participants, trainings
    in_period = and_(t.c.start_date >= start, t.c.start_date <= end, *where)
    days = (
        select(func.count())
        .where(and_(training_attendance.c.training_id == p.c.training_id,
                    training_attendance.c.household_id == p.c.household_id))
        .scalar_subquery()
    )  # fmt: skip
    rows = conn.execute(
        select(p.c.training_id, p.c.household_id, p.c.people, t.c.completion_days_min,
               days.label("days"))
        .join(t, t.c.id == p.c.training_id)
        .join(household_table, household_table.c.id == p.c.household_id)
        .where(in_period)
    ).all()  # fmt: skip
    named = conn.execute(
        select(household_members.c.sex, household_members.c.birth_year,
               household_members.c.age_band, t.c.start_date)
        .select_from(training_trainees)
        .join(household_members, household_members.c.id == training_trainees.c.member_id)
        .join(t, t.c.id == training_trainees.c.training_id)
        .join(household_table, household_table.c.id == training_trainees.c.household_id)
        .where(in_period)
    ).all()  # fmt: skip
    completed = [r for r in rows if r.days >= r.completion_days_min]
    return TrainingFigures(
        trainings=len({r.training_id for r in rows}),
        households=len({r.household_id for r in rows}),
        trainees=sum(r.people for r in rows),
        named=Tally.of(
            (PersonFacts(r.sex, r.birth_year, r.age_band), r.start_date.year) for r in named
        ),
        certificates=len(completed),
        certified_people=sum(r.people for r in completed),
    )


def _savings(
    conn: Connection, end: datetime.date, scope: Collection[str] | None, province: str | None
) -> SavingsFigures:
    where = [savings_groups.c.formed_on <= end, *_provinces(books.c.province, scope, province)]
    groups = select(savings_groups.c.book_id).join(books, books.c.id == savings_groups.c.book_id)
    group_ids = [r.book_id for r in conn.execute(groups.where(and_(*where)))]
    m = savings_members
    active = and_(
        m.c.book_id.in_(group_ids),
        m.c.joined_on <= end,
        or_(m.c.left_on.is_(None), m.c.left_on > end),
    )
    people = [
        PersonFacts(r.sex, r.birth_year, r.age_band)
        for r in conn.execute(select(m.c.sex, m.c.birth_year, m.c.age_band).where(active))
    ]
    return SavingsFigures(len(group_ids), len(people), Tally.of((p, end.year) for p in people))


def build_indicators(
    conn: Connection,
    scope: Collection[str] | None,
    today: datetime.date,
    province: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Indicators:
    """The indicators of the period `start` to `end` (both included; by default from the
    first record to `today`), in `province` and within `scope` (None: every province)."""
    end = end or today
    if start is not None and end < start:
        raise LedgerRejected(
            [invalid("report_period_invalid", "The period ends on or after it starts.", "end")]
        )
    first = start or EARLIEST
    where = _provinces(household_table.c.province, scope, province)
    consent = [household_table.c.consent_date >= first, household_table.c.consent_date <= end]
    reached, by_province, by_quarter = _reached(conn, [*consent, *where])
    outcome = programme_outcome(conn, scope, None, province, None).overall
    return Indicators(
        start=start,
        end=end,
        province=province,
        reached=reached,
        by_province=by_province,
        by_quarter=by_quarter,
        grants=_grants_given(conn, first, end, where),
        training=_training(conn, first, end, where),
        income=IncomeFigures(outcome.households, outcome.compared, outcome.rose),
        savings=_savings(conn, end, scope, province),
    )
