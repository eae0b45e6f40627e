"""The indicator report as JSON: counts only, never a person. Money as decimal strings in the
award's currency."""

from __future__ import annotations

import datetime

import msgspec

from ledger.core.amount import format_units
from ledger.outcomes.indicators import GrantsGiven as StoredGrants
from ledger.outcomes.indicators import Indicators as StoredIndicators
from ledger.outcomes.indicators import Reach as StoredReach
from ledger.outcomes.indicators import Tally
from ledger.reports.indicators import tally_figures


class People(msgspec.Struct):
    """People by sex and age group (children: under 18 in the year counted)."""

    people: int
    female: int
    male: int
    other_sex: int
    sex_unknown: int
    children: int
    girls: int
    boys: int
    adults: int
    women: int
    men: int
    age_unknown: int

    @classmethod
    def of(cls, tally: Tally) -> People:
        return cls(**tally_figures(tally))


class Reached(msgspec.Struct):
    label: str  # "all", a province, or a quarter ("2018-Q4")
    households: int
    households_with_people: int
    declared_members: int  # of the households with no people recorded
    people: People

    @classmethod
    def of(cls, reach: StoredReach) -> Reached:
        return cls(
            reach.label,
            reach.households,
            reach.households_with_people,
            reach.declared_members,
            People.of(reach.people),
        )


class GrantsGiven(msgspec.Struct):
    currency: str
    grants: int
    households: int
    cash_disbursements: int
    cash_value: str
    in_kind_disbursements: int
    in_kind_value: str

    @classmethod
    def of(cls, given: StoredGrants) -> GrantsGiven:
        return cls(
            given.currency,
            given.grants,
            given.households,
            given.cash_disbursements,
            format_units(given.cash_units, given.precision),
            given.in_kind_disbursements,
            format_units(given.in_kind_units, given.precision),
        )


class TrainingFigures(msgspec.Struct):
    trainings: int
    households: int
    trainees: int
    trainees_named: People  # those recorded as people of their household
    certificates: int
    certified_people: int


class IncomeFigures(msgspec.Struct):
    households: int
    compared: int
    rose: int


class SavingsFigures(msgspec.Struct):
    groups: int
    members: int
    people: People


class Indicators(msgspec.Struct):
    start: datetime.date | None
    end: datetime.date
    province: str | None
    reached: Reached
    reached_by_province: list[Reached]
    reached_by_quarter: list[Reached]
    grants: list[GrantsGiven]
    training: TrainingFigures
    income: IncomeFigures
    savings: SavingsFigures

    @classmethod
    def of(cls, r: StoredIndicators) -> Indicators:
        t, s = r.training, r.savings
        return cls(
            start=r.start,
            end=r.end,
            province=r.province,
            reached=Reached.of(r.reached),
            reached_by_province=[Reached.of(x) for x in r.by_province],
            reached_by_quarter=[Reached.of(x) for x in r.by_quarter],
            grants=[GrantsGiven.of(g) for g in r.grants],
            training=TrainingFigures(
                t.trainings,
                t.households,
                t.trainees,
                People.of(t.named),
                t.certificates,
                t.certified_people,
            ),
            income=IncomeFigures(r.income.households, r.income.compared, r.income.rose),
            savings=SavingsFigures(s.groups, s.members, People.of(s.people)),
        )
