"""The donor financial report of one award for one period: JSON, CSV and a PDF with a budget
against actual chart drawn as inline SVG.

Every figure comes from where it is kept: budget consumption from `funds.budget_report`
(taken at the period's end and at the day before it starts; the period's figure is the
difference), households and people reached from `grants.reached`, the bank and cash
position from `reconcile.reconciliation_summary`. Nothing is recomputed here. The report
counts households; it names none (invariant 8).
"""

from __future__ import annotations

import datetime
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from ledger.core.amount import format_units, units_to_decimal
from ledger.core.errors import LedgerRejected, invalid
from ledger.funds import amendments
from ledger.funds import service as funds
from ledger.funds.revaluation import FxTotals, fx_totals
from ledger.funds.rules import CONVERSION_METHOD
from ledger.grants import service as grants
from ledger.reconcile import service as reconcile
from ledger.reports.formats import format_amount
from ledger.reports.pdf import render_pdf
from ledger.reports.registers import percent_used

TEMPLATE = "donor_report.html"
PERIOD_DAYS_MAX = 3 * 366  # a report covers at most three years

# The chart's drawing area, in SVG user units (the template scales it to the page width).
CHART_WIDTH = 640
CHART_LABEL_WIDTH = 190
CHART_BAR_AREA = 330
CHART_ROW_HEIGHT = 34
CHART_TOP = 26
# The label column holds this many characters a line (11-unit DejaVu Sans in 184 units).
CHART_LABEL_CHARS = 30
CHART_LABEL_LINE = 12  # units between two lines of a label


@dataclass(frozen=True, slots=True)
class DonorLine:
    code: str
    name: str
    budget: int
    actual_in_period: int
    actual_to_date: int
    remaining: int
    in_kind_to_date: int
    original_budget: int | None = None  # before the award's amendments (None: none)

    @property
    def percent_used(self) -> str:
        return percent_used(self.actual_to_date, self.budget)


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One budget line in the chart: where its bars go (SVG units)."""

    label_lines: tuple[str, ...]  # the line's whole name, wrapped (never cut)
    y: int  # the top of the bar
    label_y: int  # the baseline of the label's first line
    budget_width: int
    actual_width: int
    percent: str
    over: bool  # spent more than the budget (never, unless the budget was lowered)


@dataclass(frozen=True, slots=True)
class DonorReport:
    award: str
    donor: str
    currency: str
    precision: int
    award_amount: int
    award_start: datetime.date
    award_end: datetime.date
    start: datetime.date
    end: datetime.date
    conversion_method: str
    received_in_period: int
    received_to_date: int
    lines: tuple[DonorLine, ...]
    households_in_period: int
    people_in_period: int
    households_to_date: int
    people_to_date: int
    bank_and_cash: tuple[reconcile.AccountSummary, ...]
    # Exchange gains and losses of the award's book (docs/ACCOUNTING.md): not on any line.
    fx: FxTotals
    # The award's original figures and its approved amendments (issue 17); the figures
    # above are the revised ones.
    original_amount: int | None = None
    original_end: datetime.date | None = None
    amendments: tuple[amendments.Amendment, ...] = ()

    @property
    def budget(self) -> int:
        return sum(line.budget for line in self.lines)

    @property
    def actual_in_period(self) -> int:
        return sum(line.actual_in_period for line in self.lines)

    @property
    def actual_to_date(self) -> int:
        return sum(line.actual_to_date for line in self.lines)

    @property
    def remaining(self) -> int:
        return sum(line.remaining for line in self.lines)

    @property
    def in_kind_to_date(self) -> int:
        return sum(line.in_kind_to_date for line in self.lines)

    @property
    def percent_used(self) -> str:
        return percent_used(self.actual_to_date, self.budget)

    @property
    def unspent_to_date(self) -> int:
        """Funds received less spent: what should be in the bank and the cash boxes."""
        return self.received_to_date - self.actual_to_date

    def money(self, units: int) -> str:
        """Plain text for JSON and CSV: "1234.50"."""
        return format_units(units, self.precision)

    def printed(self, units: int, precision: int | None = None) -> str:
        """With thousands separators for the page: "1,234.50"."""
        return format_amount(
            units_to_decimal(units, self.precision if precision is None else precision)
        )

    def chart(self) -> tuple[ChartBar, ...]:
        """Bars scaled to the largest budget or actual, so every line is comparable."""
        largest = max([1, *(max(line.budget, line.actual_to_date) for line in self.lines)])

        def width(units: int) -> int:
            return max(0, round(CHART_BAR_AREA * units / largest))

        bars = []
        top = CHART_TOP
        for line in self.lines:
            label = chart_label(line.name)
            height = _row_height(label)
            bar_y = top + (height - CHART_ROW_HEIGHT) // 2
            bars.append(
                ChartBar(
                    label_lines=label,
                    y=bar_y,
                    # Lines CHART_LABEL_LINE apart, centred on the bar (20 high, from y + 2).
                    label_y=bar_y + 16 - (len(label) - 1) * CHART_LABEL_LINE // 2,
                    budget_width=width(line.budget),
                    actual_width=width(line.actual_to_date),
                    percent=line.percent_used,
                    over=line.actual_to_date > line.budget,
                )
            )
            top += height
        return tuple(bars)

    @property
    def chart_height(self) -> int:
        rows = sum(_row_height(chart_label(line.name)) for line in self.lines)
        return CHART_TOP + rows + 8


def chart_label(name: str) -> tuple[str, ...]:
    """A budget line's name wrapped to the chart's label column, whole (a donor reads the
    line's full name, not "Small-business grants to retu...")."""
    return tuple(textwrap.wrap(name, CHART_LABEL_CHARS)) or ("",)


def _row_height(label: tuple[str, ...]) -> int:
    return max(CHART_ROW_HEIGHT, CHART_LABEL_LINE * len(label) + 10)


def build_donor_report(
    conn: Connection,
    award_code: str,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> DonorReport:
    """The award's report for the days `start` to `end`, both included (by default the
    award's own dates)."""
    award = funds.get_award(conn, award_code)
    start = award.start_date if start is None else start
    end = award.end_date if end is None else end
    if end < start or (end - start).days > PERIOD_DAYS_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "report_period_invalid",
                    "The period ends on or after it starts and covers at most three years.",
                    "end",
                )
            ]
        )
    to_date = funds.budget_report(conn, award_code, end)
    before = funds.budget_report(conn, award_code, start - datetime.timedelta(days=1))
    earlier = {use.line.id: use for use in before.lines}
    lines = tuple(
        DonorLine(
            code=use.line.code,
            name=use.line.name,
            budget=use.line.amount,
            actual_in_period=use.actual - earlier[use.line.id].actual,
            actual_to_date=use.actual,
            remaining=use.remaining,
            in_kind_to_date=use.in_kind,
        )
        for use in to_date.lines
    )
    in_period = grants.reached(conn, award.id, start, end)
    overall = grants.reached(conn, award.id, None, end)
    revised = amendments.revision(conn, award)
    approved = tuple(a for a in revised.amendments if a.approved_by is not None)
    if approved:
        lines = tuple(
            replace(line, original_budget=revised.original_lines.get(line.code)) for line in lines
        )
    return DonorReport(
        award=award.code,
        donor=award.donor,
        currency=award.currency,
        precision=award.precision,
        award_amount=award.amount,
        award_start=award.start_date,
        award_end=award.end_date,
        start=start,
        end=end,
        conversion_method=CONVERSION_METHOD,
        received_in_period=to_date.received - before.received,
        received_to_date=to_date.received,
        lines=lines,
        households_in_period=in_period.households,
        people_in_period=in_period.people,
        households_to_date=overall.households,
        people_to_date=overall.people,
        bank_and_cash=tuple(reconcile.reconciliation_summary(conn, award.book_code, end)),
        fx=fx_totals(conn, award.book_id, award.currency, start, end),
        original_amount=revised.original_amount if approved else None,
        original_end=revised.original_end_date if approved else None,
        amendments=approved,
    )


CSV_HEADER = (
    "section",
    "item",
    "name",
    "currency",
    "budget",
    "in_period",
    "to_date",
    "remaining",
    "percent_used",
    "in_kind",
    "reconciled_on",
    "counted",
    "unmatched_lines",
)


def csv_rows(report: DonorReport) -> Iterable[tuple[str, ...]]:
    """The report as rows under `CSV_HEADER`: funds received, each budget line, the total,
    households and people reached, then each bank and cash account."""
    money = report.money
    currency = report.currency
    yield ("funds", "received", report.donor, currency, money(report.award_amount),
           money(report.received_in_period), money(report.received_to_date), "", "", "", "",
           "", "")  # fmt: skip
    for line in report.lines:
        yield ("budget_line", line.code, line.name, currency, money(line.budget),
               money(line.actual_in_period), money(line.actual_to_date), money(line.remaining),
               line.percent_used, money(line.in_kind_to_date), "", "", "")  # fmt: skip
    yield ("total", "expenditure", "", currency, money(report.budget),
           money(report.actual_in_period), money(report.actual_to_date),
           money(report.remaining), report.percent_used, money(report.in_kind_to_date), "", "",
           "")  # fmt: skip
    for item, in_period, to_date in (
        ("households", report.households_in_period, report.households_to_date),
        ("people", report.people_in_period, report.people_to_date),
    ):
        yield ("reach", item, "", "", "", str(in_period), str(to_date), "", "", "", "", "", "")
    fx = report.fx
    yield ("fx", "realised", "", currency, "", money(fx.realised_in_period),
           money(fx.realised_to_date), "", "", "", "", "", "")  # fmt: skip
    yield ("fx", "unrealised", "", currency, "", "", money(fx.unrealised_at_end), "", "", "",
           "", "", "")  # fmt: skip
    for account in report.bank_and_cash:
        yield (
            "bank_and_cash",
            account.account,
            account.kind or "",
            account.currency,
            "",
            "",
            format_units(account.ledger_units, account.precision),
            "",
            "",
            "",
            "" if account.reconciled_on is None else account.reconciled_on.isoformat(),
            ""
            if account.counted_units is None
            else format_units(account.counted_units, account.precision),
            str(account.lines_unmatched),
        )


def render_donor_report(report: DonorReport) -> bytes:
    """The report printed on A4 pages."""
    return render_pdf(TEMPLATE, {"report": report, "chart_width": CHART_WIDTH,
                                 "label_width": CHART_LABEL_WIDTH,
                                 "bar_area": CHART_BAR_AREA})  # fmt: skip
