"""Trainings, follow-up visits, household income and outcome reports as the API shows them.

Amounts are decimal strings in the commodity's precision. Head counts and people are JSON
numbers: a fractional or negative one is refused with its own code (`head_count_fractional`,
`head_count_negative`, `people_fractional`), not by the decoder.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Annotated

import msgspec

from api.schemas import example, next_id_cursor
from api.schemas.grants import AccountName, Amount, Code, Line, Place, Text
from ledger.core import limits
from ledger.core.amount import format_units
from ledger.income import rules as income_rules
from ledger.income.rules import month_text
from ledger.income.service import IncomeDraft
from ledger.income.service import IncomeRecord as StoredIncome
from ledger.livestock import rules as livestock_rules
from ledger.livestock.follow_up import FollowUp as StoredFollowUp
from ledger.livestock.follow_up import FollowUpDraft, FollowUpIncomeDraft, IncomeLineDraft
from ledger.livestock.service import SpeciesDraft, VisitDraft
from ledger.livestock.service import Visit as StoredVisit
from ledger.outcomes.rules import GroupOutcome as StoredGroup
from ledger.outcomes.rules import Herd as StoredHerd
from ledger.outcomes.rules import HouseholdOutcome as StoredHouseholdOutcome
from ledger.outcomes.rules import ProgrammeOutcome as StoredProgramme
from ledger.outcomes.rules import Report
from ledger.outcomes.rules import TrainingOutcome as StoredTrainingOutcome
from ledger.reports.registers import percent_used
from ledger.training import rules as training_rules
from ledger.training.rules import Cost as StoredCost
from ledger.training.rules import CostDraft, TrainingDraft
from ledger.training.rules import Training as StoredTraining

Count = int | float
CaseCode = Annotated[str, msgspec.Meta(max_length=20, examples=["LA-001"])]
Short = Annotated[str, msgspec.Meta(max_length=40)]


# -- trainings --------------------------------------------------------------------------------


class TrainingCreate(msgspec.Struct, forbid_unknown_fields=True):
    topics: Annotated[list[Short], msgspec.Meta(max_length=len(training_rules.TOPICS))]
    title: Line
    start_date: datetime.date
    end_date: datetime.date
    province: Place
    place: Line
    trainer: Line
    award: Code
    budget_line: Code
    # Days a participant attends to complete it; every day when left out.
    completion_days_min: int | None = None

    def to_draft(self) -> TrainingDraft:
        return TrainingDraft(
            topics=tuple(self.topics),
            title=self.title,
            start_date=self.start_date,
            end_date=self.end_date,
            province=self.province,
            place=self.place,
            trainer=self.trainer,
            completion_days_min=self.completion_days_min,
        )


class ParticipantCreate(msgspec.Struct, forbid_unknown_fields=True):
    case_code: CaseCode
    # How many of its people take part; with `trainees`, their number (may be left out).
    people: Count | None = None
    # The people taking part, by their number under the case code (GET
    # /api/households/{case}/members): trainees as people, counted by sex and age.
    trainees: Annotated[
        list[Annotated[int, msgspec.Meta(ge=1, le=limits.HOUSEHOLD_MEMBERS_MAX)]],
        msgspec.Meta(max_length=limits.HOUSEHOLD_MEMBERS_MAX),
    ] = msgspec.field(default_factory=list)


class Present(msgspec.Struct, forbid_unknown_fields=True):
    case_code: CaseCode
    people: Count = 1


class AttendanceCreate(msgspec.Struct, forbid_unknown_fields=True):
    """One day's register: the households present (the others were absent)."""

    date: datetime.date
    present: Annotated[
        list[Present], msgspec.Meta(max_length=training_rules.PARTICIPANTS_PER_TRAINING_MAX)
    ]


class TrainingCostCreate(msgspec.Struct, forbid_unknown_fields=True):
    item: Short
    date: datetime.date
    paid_from: AccountName
    amount: Amount
    narration: Text | None = None
    payee: Line | None = None
    exchange_rate: Amount | None = None

    def to_draft(self) -> CostDraft:
        return CostDraft(
            item=self.item,
            date=self.date,
            paid_from=self.paid_from,
            amount=self.amount,
            narration=self.narration,
            payee=self.payee,
            exchange_rate=self.exchange_rate,
        )


class Participant(msgspec.Struct):
    case_code: str
    province: str
    people: int
    days_attended: list[datetime.date]
    completed: bool
    # Its trainees by their number under the case code (empty: counted as `people` only).
    trainees: list[int] = msgspec.field(default_factory=list)


class TrainingCost(msgspec.Struct):
    id: int
    item: str
    date: datetime.date
    currency: str
    amount: str
    award_amount: str
    transaction_id: int

    @classmethod
    def of(cls, cost: StoredCost) -> TrainingCost:
        return cls(
            id=cost.id,
            item=cost.item,
            date=cost.date,
            currency=cost.currency,
            amount=format_units(cost.units, cost.precision),
            award_amount=format_units(cost.award_units, cost.award_precision),
            transaction_id=cost.transaction_id,
        )


class Training(msgspec.Struct):
    id: int
    topics: list[str]
    title: str
    start_date: datetime.date
    end_date: datetime.date
    days: int
    province: str
    place: str
    trainer: str
    award: str
    budget_line: str
    completion_days_min: int
    households: int
    people: int
    completed: int
    cost: str  # in the award's currency
    currency: str
    participants: list[Participant]
    costs: list[TrainingCost]

    @classmethod
    def of(cls, t: StoredTraining) -> Training:
        return cls(
            id=t.id,
            topics=list(t.topics),
            title=t.title,
            start_date=t.start_date,
            end_date=t.end_date,
            days=len(t.days),
            province=t.province,
            place=t.place,
            trainer=t.trainer,
            award=t.award_code,
            budget_line=t.budget_line,
            completion_days_min=t.completion_days_min,
            households=len(t.participants),
            people=t.people,
            completed=len(t.completers),
            cost=format_units(t.cost_award_units, t.award_precision),
            currency=t.award_currency,
            participants=[
                Participant(
                    p.case_code,
                    p.province,
                    p.people,
                    list(p.days_attended),
                    p.completed,
                    list(p.trainees),
                )
                for p in t.participants
            ],
            costs=[TrainingCost.of(c) for c in t.costs],
        )


class TrainingPage(msgspec.Struct):
    items: list[Training]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredTraining], limit: int) -> TrainingPage:
        return cls([Training.of(t) for t in found], next_id_cursor(found, limit))


# -- follow-up visits -------------------------------------------------------------------------


class DeathIn(msgspec.Struct, forbid_unknown_fields=True):
    cause: Short
    head: Count


class SpeciesIn(msgspec.Struct, forbid_unknown_fields=True):
    """One species at a visit: head counted after the movements since the last visit."""

    species: Annotated[str, msgspec.Meta(max_length=24, examples=["PIG"])]
    counted: Count
    births: Count = 0
    deaths: Annotated[list[DeathIn], msgspec.Meta(max_length=len(livestock_rules.DEATH_CAUSES))] = (
        msgspec.field(default_factory=list)
    )
    bought: Count = 0
    bought_price: Amount | None = None  # total paid, in the visit's currency
    sold: Count = 0
    sold_price: Amount | None = None  # total received
    eaten: Count = 0
    passed_on: Count = 0
    # Why the count differs from the book, when it does.
    reason: Annotated[str, msgspec.Meta(max_length=livestock_rules.REASON_LENGTH_MAX)] | None = None

    def to_draft(self) -> SpeciesDraft:
        return SpeciesDraft(
            species=self.species,
            counted=self.counted,
            births=self.births,
            deaths=tuple((d.cause, d.head) for d in self.deaths),
            bought=self.bought,
            bought_price=self.bought_price,
            sold=self.sold,
            sold_price=self.sold_price,
            eaten=self.eaten,
            passed_on=self.passed_on,
            reason=self.reason,
        )


class VisitCreate(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    officer: Annotated[str, msgspec.Meta(max_length=livestock_rules.OFFICER_LENGTH_MAX)]
    species: Annotated[
        list[SpeciesIn], msgspec.Meta(max_length=livestock_rules.SPECIES_PER_VISIT_MAX)
    ]
    currency: Short = "KHR"
    feed_cost: Amount = "0"
    vet_cost: Amount = "0"
    note: Annotated[str, msgspec.Meta(max_length=livestock_rules.NOTE_LENGTH_MAX)] = ""

    def to_draft(self, case_code: str) -> VisitDraft:
        return VisitDraft(
            case_code=case_code,
            date=self.date,
            officer=self.officer,
            currency=self.currency,
            species=tuple(s.to_draft() for s in self.species),
            feed_cost=self.feed_cost,
            vet_cost=self.vet_cost,
            note=self.note,
        )


class Death(msgspec.Struct):
    cause: str
    head: int


class SpeciesOut(msgspec.Struct):
    species: str
    counted: int
    births: int
    deaths: list[Death]
    bought: int
    bought_price: str
    sold: int
    sold_price: str
    eaten: int
    passed_on: int
    expected: int  # what the book held after the movements
    adjustment: int  # counted - expected, posted with its reason
    reason: str | None
    transaction_id: int | None


class Visit(msgspec.Struct):
    id: int
    case_code: str
    book: str
    date: datetime.date
    officer: str
    currency: str
    feed_cost: str
    vet_cost: str
    note: str
    species: list[SpeciesOut]

    @classmethod
    def of(cls, v: StoredVisit) -> Visit:
        def money(units: int) -> str:
            return format_units(units, v.precision)

        return cls(
            id=v.id,
            case_code=v.case_code,
            book=v.book_code,
            date=v.date,
            officer=v.officer,
            currency=v.currency,
            feed_cost=money(v.feed_cost),
            vet_cost=money(v.vet_cost),
            note=v.note,
            species=[
                SpeciesOut(
                    species=line.count.species,
                    counted=line.count.counted,
                    births=line.count.births,
                    deaths=[Death(c, h) for c, h in line.count.deaths],
                    bought=line.count.bought,
                    bought_price=money(line.count.bought_price),
                    sold=line.count.sold,
                    sold_price=money(line.count.sold_price),
                    eaten=line.count.eaten,
                    passed_on=line.count.passed_on,
                    expected=line.expected,
                    adjustment=line.adjustment,
                    reason=line.count.adjustment_reason,
                    transaction_id=line.transaction_id,
                )
                for line in v.lines
            ],
        )


# -- household income ---------------------------------------------------------------------------


class IncomeCreate(msgspec.Struct, forbid_unknown_fields=True):
    month: Annotated[str, msgspec.Meta(max_length=7, examples=["2019-03"])]
    source: Short
    amount: Amount
    currency: Short = "KHR"
    baseline: bool = False

    def to_draft(self, case_code: str) -> IncomeDraft:
        return IncomeDraft(
            case_code=case_code,
            month=self.month,
            source=self.source,
            amount=self.amount,
            currency=self.currency,
            baseline=self.baseline,
        )


class Income(msgspec.Struct):
    id: int
    case_code: str
    month: str
    source: str
    amount: str
    currency: str
    baseline: bool
    transaction_id: int

    @classmethod
    def of(cls, r: StoredIncome) -> Income:
        return cls(
            id=r.id,
            case_code=r.case_code,
            month=month_text(r.month),
            source=r.source,
            amount=format_units(r.units, r.precision),
            currency=r.currency,
            baseline=r.baseline,
            transaction_id=r.transaction_id,
        )


# -- a whole follow-up visit: the herd and the month's income -------------------------------


class IncomeLineIn(msgspec.Struct, forbid_unknown_fields=True):
    source: Annotated[str, msgspec.Meta(max_length=40, examples=["crops"])]
    amount: Amount


class FollowUpIncomeIn(msgspec.Struct, forbid_unknown_fields=True):
    """The household's income for one month, by source, in the visit's currency."""

    month: Annotated[str, msgspec.Meta(max_length=7, examples=["2019-03"])]
    lines: Annotated[list[IncomeLineIn], msgspec.Meta(max_length=len(income_rules.SOURCES))]
    baseline: bool = False


class FollowUpCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A visit (`species` may be empty when `income` is given) and the month's income."""

    date: datetime.date
    officer: Annotated[str, msgspec.Meta(max_length=livestock_rules.OFFICER_LENGTH_MAX)]
    species: Annotated[
        list[SpeciesIn], msgspec.Meta(max_length=livestock_rules.SPECIES_PER_VISIT_MAX)
    ] = msgspec.field(default_factory=list)
    currency: Short = "KHR"
    feed_cost: Amount = "0"
    vet_cost: Amount = "0"
    note: Annotated[str, msgspec.Meta(max_length=livestock_rules.NOTE_LENGTH_MAX)] = ""
    income: FollowUpIncomeIn | None = None

    def to_draft(self, case_code: str) -> FollowUpDraft:
        visit = VisitDraft(
            case_code=case_code,
            date=self.date,
            officer=self.officer,
            currency=self.currency,
            species=tuple(s.to_draft() for s in self.species),
            feed_cost=self.feed_cost,
            vet_cost=self.vet_cost,
            note=self.note,
        )
        if self.income is None:
            return FollowUpDraft(visit)
        lines = tuple(IncomeLineDraft(line.source, line.amount) for line in self.income.lines)
        return FollowUpDraft(
            visit, FollowUpIncomeDraft(self.income.month, lines, self.income.baseline)
        )


class FollowUp(msgspec.Struct):
    visit: Visit
    income: list[Income]

    @classmethod
    def of(cls, found: StoredFollowUp) -> FollowUp:
        return cls(Visit.of(found.visit), [Income.of(r) for r in found.income])


# -- outcome reports ----------------------------------------------------------------------------


def _money(units: int | None, report: Report) -> str | None:
    return None if units is None else format_units(units, report.precision)


class HerdOut(msgspec.Struct):
    species: str
    opening: int
    entered: int
    deaths: int
    at_risk: int
    mortality_percent: str
    sold: int
    closing: int

    @classmethod
    def of(cls, herd: StoredHerd) -> HerdOut:
        return cls(
            species=herd.species,
            opening=herd.opening,
            entered=herd.entered,
            deaths=herd.deaths,
            at_risk=herd.at_risk,
            mortality_percent=percent_used(herd.deaths, herd.at_risk),
            sold=herd.sold,
            closing=herd.closing,
        )


class MonthOut(msgspec.Struct):
    month: str
    baseline: bool
    by_source: dict[str, str]
    total: str


class HouseholdOutcome(msgspec.Struct):
    case_code: str
    province: str
    currency: str
    conversion_method: str
    baseline_mean: str | None
    follow_up_mean: str | None
    change: str | None
    livestock_income: str
    months: list[MonthOut]
    herds: list[HerdOut]

    @classmethod
    def of(cls, o: StoredHouseholdOutcome, report: Report) -> HouseholdOutcome:
        def money(units: int) -> str:
            return format_units(units, report.precision)

        return cls(
            case_code=o.case_code,
            province=o.province,
            currency=report.currency,
            conversion_method=report.method,
            baseline_mean=_money(o.baseline_mean, report),
            follow_up_mean=_money(o.follow_up_mean, report),
            change=_money(o.change, report),
            livestock_income=money(o.livestock_income),
            months=[
                MonthOut(
                    month_text(m.month),
                    m.baseline,
                    {s: money(u) for s, u in sorted(m.by_source.items())},
                    money(m.total),
                )
                for m in o.months
            ],
            herds=[HerdOut.of(h) for h in o.herds],
        )


class GroupOut(msgspec.Struct):
    label: str
    households: int
    compared: int
    rose: int
    share_rose_percent: str
    median_change: str | None
    baseline_mean: str | None
    follow_up_mean: str | None
    livestock_income: str
    herds: list[HerdOut]

    @classmethod
    def of(cls, g: StoredGroup, report: Report) -> GroupOut:
        return cls(
            label=g.label,
            households=g.households,
            compared=g.compared,
            rose=g.rose,
            share_rose_percent=percent_used(g.rose, g.compared),
            median_change=_money(g.median_change, report),
            baseline_mean=_money(g.baseline_mean, report),
            follow_up_mean=_money(g.follow_up_mean, report),
            livestock_income=format_units(g.livestock_income, report.precision),
            herds=[HerdOut.of(h) for h in g.herds],
        )


class ProgrammeOutcome(msgspec.Struct):
    award: str | None
    province: str | None
    currency: str
    conversion_method: str
    overall: GroupOut
    provinces: list[GroupOut]

    @classmethod
    def of(cls, o: StoredProgramme) -> ProgrammeOutcome:
        return cls(
            award=o.award,
            province=o.province,
            currency=o.report.currency,
            conversion_method=o.report.method,
            overall=GroupOut.of(o.overall, o.report),
            provinces=[GroupOut.of(g, o.report) for g in o.provinces],
        )


class HerdMonth(msgspec.Struct):
    month: str
    head: dict[str, int]


class TrainingOutcome(msgspec.Struct):
    training: int
    title: str
    currency: str
    conversion_method: str
    households: int
    people: int
    completed: int
    completion_percent: str
    herd_by_month: list[HerdMonth]
    sales: str
    participants: GroupOut

    @classmethod
    def of(cls, o: StoredTrainingOutcome) -> TrainingOutcome:
        done, total = o.completion
        return cls(
            training=o.training.id,
            title=o.training.title,
            currency=o.report.currency,
            conversion_method=o.report.method,
            households=total,
            people=o.training.people,
            completed=done,
            completion_percent=percent_used(done, total),
            herd_by_month=[HerdMonth(month_text(m), head) for m, head in o.herd_by_month],
            sales=format_units(o.sales, o.report.precision),
            participants=GroupOut.of(o.group, o.report),
        )


EXAMPLE_TRAINING = {
    "topics": ["chicken_raising", "pig_raising"],
    "title": "Chicken and pig raising",
    "start_date": "2018-08-26",
    "end_date": "2018-08-28",
    "province": "Svay Rieng",
    "place": "Provincial Department of Agriculture, Svay Rieng",
    "trainer": "Provincial Department of Agriculture",
    "award": "CTIP-2018",
    "budget_line": "livestock-training",
}
EXAMPLE_PARTICIPANT = {"case_code": "DV-009", "people": 2}
EXAMPLE_ATTENDANCE = {
    "date": "2018-08-26",
    "present": [{"case_code": "DV-009", "people": 2}],
}
EXAMPLE_TRAINING_COST = {
    "item": "venue",
    "date": "2018-08-26",
    "paid_from": "Assets:Bank:Operating-USD",
    "amount": "90.00",
    "narration": "Meeting hall for three days",
    "payee": "Provincial Department of Agriculture, Svay Rieng",
}
TrainingBody = Annotated[TrainingCreate, example("Chicken and pig raising", EXAMPLE_TRAINING)]
ParticipantBody = Annotated[ParticipantCreate, example("Two people of DV-009", EXAMPLE_PARTICIPANT)]
AttendanceBody = Annotated[AttendanceCreate, example("The first day", EXAMPLE_ATTENDANCE)]
CostBody = Annotated[TrainingCostCreate, example("The venue, by bank", EXAMPLE_TRAINING_COST)]
EXAMPLE_VISIT = {
    "date": "2019-03-12",
    "officer": "dara.officer",
    "currency": "KHR",
    "feed_cost": "60000",
    "vet_cost": "15000",
    "species": [
        {
            "species": "PIG",
            "counted": 6,
            "births": 8,
            "deaths": [{"cause": "disease", "head": 1}],
            "sold": 3,
            "sold_price": "1500000",
        }
    ],
}
EXAMPLE_FOLLOW_UP = {
    **EXAMPLE_VISIT,
    "income": {
        "month": "2019-03",
        "lines": [
            {"source": "livestock", "amount": "1500000"},
            {"source": "crops", "amount": "350000"},
        ],
    },
}
EXAMPLE_INCOME = {
    "month": "2019-03",
    "source": "crops",
    "amount": "350000",
    "currency": "KHR",
    "baseline": False,
}
