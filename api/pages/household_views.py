"""What the officer's household pages show, read from the areas' services in one read, and
the income chart's geometry (drawn by the template as inline SVG, like the PDFs' charts in
`ledger/reports/charts.py`). Plain frozen values: a template shows them, it computes nothing.

No names or phones here: the contacts page reads them, and only for the roles allowed to.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from ledger.core.errors import LedgerRejected
from ledger.grants import service as grants
from ledger.grants.service import GrantFilter
from ledger.households import service as households
from ledger.households.service import Household
from ledger.income.rules import month_text
from ledger.livestock import service as livestock
from ledger.outcomes import service as outcomes
from ledger.outcomes.rules import HouseholdOutcome, Report

HOUSEHOLDS_PER_PAGE = 100
GRANTS_SHOWN_MAX = 100
CHART_MONTHS_MAX = 12
CHART_TICKS = 4
REPORT_CURRENCY = "KHR"  # a household's tracking book counts in riel


@dataclass(frozen=True, slots=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    baseline: bool
    units: int
    month: str


@dataclass(frozen=True, slots=True)
class ChartTick:
    y: float
    units: int


@dataclass(frozen=True, slots=True)
class IncomeChart:
    """Each month's total income as a bar (baseline months apart), and the baseline's mean
    a month as a line across: is the household above where it started?"""

    width: float
    height: float
    left: float
    right: float
    bottom: float
    bars: tuple[ChartBar, ...]
    ticks: tuple[ChartTick, ...]
    baseline_y: float | None


def _nice_step(value: int) -> int:
    """The smallest 1, 2 or 5 x 10^n whose ticks reach `value` (at least 1)."""
    power = 1
    while True:
        for step in (1, 2, 5):
            if step * power * CHART_TICKS >= value:
                return step * power
        power *= 10


def income_chart(outcome: HouseholdOutcome, width: float = 520, height: float = 220) -> IncomeChart:
    """The last `CHART_MONTHS_MAX` months with income, on a scale from zero."""
    months = outcome.months[-CHART_MONTHS_MAX:]
    left, right, top, bottom = 70.0, width - 8.0, 12.0, height - 24.0
    mean = outcome.baseline_mean
    peak = max([0, *(m.total for m in months), *([mean] if mean is not None else [])])
    scale = _nice_step(peak) * CHART_TICKS
    plot = bottom - top
    slot = (right - left) / max(len(months), 1)
    bar_width = min(32.0, slot * 0.7)

    def y_of(units: int) -> float:
        return round(bottom - plot * max(units, 0) / scale, 2)

    bars = tuple(
        ChartBar(
            x=round(left + slot * n + (slot - bar_width) / 2, 2),
            y=y_of(m.total),
            width=round(bar_width, 2),
            height=round(bottom - y_of(m.total), 2),
            baseline=m.baseline,
            units=m.total,
            month=month_text(m.month),
        )
        for n, m in enumerate(months)
    )
    ticks = tuple(
        ChartTick(y_of(scale * n // CHART_TICKS), scale * n // CHART_TICKS)
        for n in range(CHART_TICKS + 1)
    )
    baseline_y = None if mean is None else y_of(mean)
    return IncomeChart(width, height, left, right, bottom, bars, ticks, baseline_y)


@dataclass(frozen=True, slots=True)
class HouseholdPage:
    household: Household
    grants: tuple[grants.Grant, ...]
    visits: tuple[livestock.Visit, ...]
    outcome: HouseholdOutcome | None  # None: income in a currency with no exchange rate
    report: Report | None
    chart: IncomeChart | None


def read_households(
    conn: Connection,
    provinces: Collection[str] | None,
    search: str | None,
    after: str | None = None,
) -> list[Household]:
    """A page of the households of these provinces (None: all), those whose case code holds
    `search`, after the case code `after`."""
    return households.list_households(
        conn,
        provinces,
        after_case_code=after,
        limit=HOUSEHOLDS_PER_PAGE,
        case_code_contains=search,
    )


def read_household_page(conn: Connection, household: Household) -> HouseholdPage:
    found_grants = grants.list_grants(
        conn, None, GrantFilter(case_code=household.case_code), None, GRANTS_SHOWN_MAX
    )
    visits = livestock.list_visits(conn, [household.id])
    try:
        report = outcomes.household_outcome(conn, household, REPORT_CURRENCY)
    except LedgerRejected:  # income in a currency never exchanged into riel
        return HouseholdPage(household, tuple(found_grants), tuple(visits), None, None, None)
    outcome = report.outcome
    chart = income_chart(outcome) if outcome.months else None
    return HouseholdPage(
        household, tuple(found_grants), tuple(visits), outcome, report.report, chart
    )


def last_visit_date(visits: Sequence[livestock.Visit]) -> datetime.date | None:
    return visits[-1].date if visits else None
