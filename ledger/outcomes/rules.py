"""The formulas of the outcome reports, and the conversion into one currency. Pure.

docs/ACCOUNTING.md, "Training and outcomes", states each one; the tests compute them by hand.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ledger.core.errors import LedgerError, invalid
from ledger.training.rules import Training


@dataclass(frozen=True, slots=True)
class Exchanged:
    """One currency exchange: `given` units of one currency for `received` of another."""

    date: datetime.date
    given_currency: str
    given_units: int
    received_currency: str
    received_units: int


class Rates:
    """Weighted average rates of the exchanges recorded up to a day, in either direction;
    through a third currency when two were never exchanged with each other."""

    def __init__(self, exchanges: Iterable[Exchanged]) -> None:
        self._exchanges = sorted(exchanges, key=lambda e: e.date)

    def _direct(self, source: str, target: str, date: datetime.date) -> Fraction | None:
        source_total = target_total = 0
        for e in self._exchanges:
            if e.date > date:
                break
            if (e.given_currency, e.received_currency) == (source, target):
                source_total += e.given_units
                target_total += e.received_units
            elif (e.given_currency, e.received_currency) == (target, source):
                source_total += e.received_units
                target_total += e.given_units
        if not source_total:
            return None
        return Fraction(target_total, source_total)

    def rate(self, source: str, target: str, date: datetime.date) -> Fraction | None:
        """Smallest units of `target` for one smallest unit of `source` on `date`, or None."""
        if source == target:
            return Fraction(1)
        direct = self._direct(source, target, date)
        if direct is not None:
            return direct
        pivots = sorted(
            {e.given_currency for e in self._exchanges}
            | {e.received_currency for e in self._exchanges}
        )
        for pivot in pivots:
            if pivot in (source, target):
                continue
            first = self._direct(source, pivot, date)
            second = self._direct(pivot, target, date)
            if first is not None and second is not None:
                return first * second
        return None


def convert(
    units: int, source: str, target: str, date: datetime.date, rates: Rates
) -> int | LedgerError:
    """`units` of `source` in smallest units of `target`, rounded half to even once."""
    rate = rates.rate(source, target, date)
    if rate is None:
        return invalid(
            "exchange_rate_required",
            f"No exchange between {source} and {target} was recorded by {date}: the report "
            "cannot convert into one currency.",
            "currency",
        )
    return round(units * rate)


def mortality(deaths: int, opening: int, entered: int) -> tuple[int, int]:
    """(deaths, head at risk): the head held at the start plus every head that entered the
    herd during the period (births, purchases, grants, counted in excess)."""
    return deaths, opening + entered


def mean(values: Sequence[int]) -> Fraction:
    assert values
    return Fraction(sum(values), len(values))


def income_change(baseline: Sequence[int], follow_up: Sequence[int]) -> int | None:
    """Mean monthly income after support less mean monthly income of the baseline months,
    in smallest units (rounded half to even); None without both."""
    if not baseline or not follow_up:
        return None
    return round(mean(follow_up) - mean(baseline))


def median(values: Sequence[int]) -> int | None:
    """The middle value; of an even count, the mean of the two middle ones (half to even)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round(Fraction(ordered[middle - 1] + ordered[middle], 2))


def herd_by_month(
    counts: Iterable[tuple[str, datetime.date, str, int]],
) -> dict[datetime.date, dict[str, int]]:
    """Herd size at each month with a visit: (household, visit date, species, counted) ->
    month -> species -> head, each household's latest count carried forward."""
    latest: dict[tuple[str, str], int] = {}
    by_month: dict[datetime.date, dict[str, int]] = {}
    ordered = sorted(counts, key=lambda c: c[1])
    months = sorted({date.replace(day=1) for _, date, _, _ in ordered})
    index = 0
    for month in months:
        while index < len(ordered) and ordered[index][1].replace(day=1) <= month:
            household, _, species, counted = ordered[index]
            latest[(household, species)] = counted
            index += 1
        totals: dict[str, int] = defaultdict(int)
        for (_, species), counted in latest.items():
            totals[species] += counted
        by_month[month] = dict(sorted(totals.items()))
    return by_month


def sum_by(pairs: Iterable[tuple[str, int]]) -> Mapping[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for key, value in pairs:
        totals[key] += value
    return dict(sorted(totals.items()))


# -- what the reports hold ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Herd:
    """One species over a period, in head."""

    species: str
    opening: int  # held the day before the period
    entered: int  # births, purchases, grants, counted in excess
    deaths: int
    sold: int
    closing: int

    @property
    def at_risk(self) -> int:
        return self.opening + self.entered


@dataclass(frozen=True, slots=True)
class MonthIncome:
    month: datetime.date
    baseline: bool
    by_source: dict[str, int]  # in the report's currency

    @property
    def total(self) -> int:
        return sum(self.by_source.values())


@dataclass(frozen=True, slots=True)
class HouseholdOutcome:
    case_code: str
    province: str
    months: tuple[MonthIncome, ...]
    baseline_mean: int | None
    follow_up_mean: int | None
    change: int | None
    livestock_income: int  # after support: sales at visits and livestock income records
    herds: tuple[Herd, ...]


@dataclass(frozen=True, slots=True)
class GroupOutcome:
    label: str
    households: int
    compared: int  # households with a baseline and income after support
    rose: int
    median_change: int | None
    baseline_mean: int | None  # mean over the compared households
    follow_up_mean: int | None
    livestock_income: int
    herds: tuple[Herd, ...]


@dataclass(frozen=True, slots=True)
class Report:
    currency: str
    precision: int
    method: str


@dataclass(frozen=True, slots=True)
class HouseholdReport:
    report: Report
    outcome: HouseholdOutcome


@dataclass(frozen=True, slots=True)
class ProgrammeOutcome:
    report: Report
    award: str | None
    province: str | None
    overall: GroupOutcome
    provinces: tuple[GroupOutcome, ...]
    households: tuple[HouseholdOutcome, ...]


@dataclass(frozen=True, slots=True)
class TrainingOutcome:
    report: Report
    training: Training
    completion: tuple[int, int]  # (households that completed, households taking part)
    herd_by_month: tuple[tuple[datetime.date, dict[str, int]], ...]
    group: GroupOutcome  # the participants' herds since the training and their income
    sales: int  # livestock sold at visits since the training, in the report's currency
    households: tuple[HouseholdOutcome, ...]
