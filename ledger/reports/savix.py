"""Savings groups across the programme, printed: the quarterly CSV in the SAVIX reporting
layout (a row per group, then per province, then the programme) and the PDF with its chart
(Khmer and English). Groups appear by code and name; members only as counts.

Columns and how each is computed from the ledger: docs/ACCOUNTING.md, "Savings groups across
the programme".
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from ledger.core.amount import format_units
from ledger.reports.charts import GROUPS_MAX, BarChart, grouped_bars
from ledger.reports.pdf import render_html, render_pdf
from ledger.savings.rules import fraction_text
from ledger.savings.savix import AreaSavix, Figures, GroupSavix, ProgrammeSavix, ratios

TEMPLATE = "savix.html"
RATIO_PLACES = 4
# Groups printed one per line in the PDF (about 8 pages); the CSV has every group.
PRINTED_GROUPS_MAX = 300
# The SAVIX reporting layout: one row per group, province and programme (`level`).
HEADER = (
    "reporting_period",
    "report_date",
    "level",
    "province",
    "group_code",
    "group_name",
    "commune",
    "village",
    "date_formed",
    "cycle_number",
    "cycle_start_date",
    "currency",
    "number_of_groups",
    "members_current",
    "members_women",
    "women_rate",
    "members_enrolled_in_cycle",
    "members_dropped_out",
    "dropout_rate",
    "attendance_rate",
    "savings_this_cycle",
    "savings_per_member",
    "loans_outstanding_number",
    "loans_outstanding_value",
    "portfolio_at_risk_30_value",
    "portfolio_at_risk_30",
    "cash_in_box",
    "social_fund",
    "total_assets",
    "cycle_profit",
    "return_on_savings_annualised",
    "return_on_assets_annualised",
)


def _ratio(value: Fraction | None) -> str:
    return "" if value is None else fraction_text(value, RATIO_PLACES)


def _figures_cells(f: Figures, precision: int) -> tuple[str, ...]:
    r = ratios(f)

    def money(units: int) -> str:
        return format_units(units, precision)

    per_member = "" if r.savings_per_member is None else money(int(r.savings_per_member))
    return (
        str(f.groups),
        str(f.members),
        str(f.women) if f.sex_recorded else "",
        _ratio(r.women),
        str(f.enrolled),
        str(f.dropped_out),
        _ratio(r.dropout),
        _ratio(r.attendance),
        money(f.savings),
        per_member,
        str(f.loans_active),
        money(f.loans_outstanding),
        money(f.at_risk_30),
        _ratio(r.portfolio_at_risk_30),
        money(f.cash),
        money(f.social_fund),
        money(f.assets),
        money(f.cycle_profit),
        _ratio(r.return_on_savings_annualised),
        _ratio(r.return_on_assets_annualised),
    )


def period_text(as_of: datetime.date) -> str:
    """2018-Q4 for any date of the fourth quarter of 2018."""
    return f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"


def csv_rows(found: ProgrammeSavix) -> Iterable[tuple[str, ...]]:
    head = (period_text(found.as_of), found.as_of.isoformat())
    for g in found.groups:
        yield (
            *head,
            "group",
            g.province,
            g.code,
            g.name,
            g.commune,
            g.village,
            g.formed_on.isoformat(),
            str(g.cycle),
            g.cycle_start.isoformat(),
            g.currency,
            *_figures_cells(g.figures, g.precision),
        )
    for area in (*found.provinces, *found.programme):
        level = "programme" if area.province is None else "province"
        yield (
            *head,
            level,
            area.province or "",
            *("",) * 7,
            area.currency,
            *_figures_cells(area.figures, area.precision),
        )


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SavixView:
    as_of: datetime.date
    period: str
    currency: str  # of the chart
    chart_by_km: str
    chart_by_en: str
    chart: BarChart | None
    headers: tuple[str, ...]
    programme: tuple[Line, ...]
    provinces: tuple[Line, ...]
    groups: tuple[Line, ...]
    groups_left_out: int  # beyond PRINTED_GROUPS_MAX: the CSV has every group
    printed_on: datetime.date


# The printed table: a narrower set of the CSV's columns (Khmer / English in the template).
PRINTED = (
    ("ក្រុម", "Groups"),
    ("សមាជិក", "Members"),
    ("ស្ត្រី %", "Women %"),
    ("វត្តមាន %", "Attendance %"),
    ("ឈប់ %", "Dropout %"),
    ("សន្សំ", "Savings"),
    ("សន្សំ/សមាជិក", "Savings/member"),
    ("ឥណទាននៅសល់", "Loans outstanding"),
    ("PAR30 %", "PAR30 %"),
    ("ROS %/ឆ្នាំ", "ROS %/yr"),
    ("ROA %/ឆ្នាំ", "ROA %/yr"),
    ("មូលនិធិសង្គម", "Social fund"),
)


def _percent(value: Fraction | None) -> str:
    return "-" if value is None else fraction_text(value * 100, 1)


def _printed(f: Figures, precision: int, currency: str) -> tuple[str, ...]:
    r = ratios(f)

    def money(units: int) -> str:
        return f"{format_units(units, precision)} {currency}"

    per_member = r.savings_per_member
    return (
        str(f.groups),
        str(f.members),
        _percent(r.women),
        _percent(r.attendance),
        _percent(r.dropout),
        money(f.savings),
        "-" if per_member is None else money(int(per_member)),
        money(f.loans_outstanding),
        _percent(r.portfolio_at_risk_30),
        _percent(r.return_on_savings_annualised),
        _percent(r.return_on_assets_annualised),
        money(f.social_fund),
    )


def _area_line(area: AreaSavix, label: str) -> Line:
    return Line(label, _printed(area.figures, area.precision, area.currency))


def _chart(found: ProgrammeSavix) -> tuple[str, BarChart | None, bool]:
    """Savings and loans outstanding by province (by group when all are in one province), in
    the currency most groups keep their books in."""
    if not found.groups:
        return "KHR", None, False
    currency = Counter(g.currency for g in found.groups).most_common(1)[0][0]
    provinces = [p for p in found.provinces if p.currency == currency]
    by_group = len(provinces) == 1
    bars: list[tuple[str, Figures, int]] = (
        [(g.code, g.figures, g.precision) for g in found.groups if g.currency == currency]
        if by_group
        else [(p.province or "", p.figures, p.precision) for p in provinces]
    )[:GROUPS_MAX]
    precision = bars[0][2]
    chart = grouped_bars(
        [label for label, _, _ in bars],
        [
            ("Savings", [f.savings for _, f, _ in bars]),
            ("Loans outstanding", [f.loans_outstanding for _, f, _ in bars]),
        ],
        lambda units: format_units(units, precision),
    )
    return currency, chart, by_group


def savix_view(found: ProgrammeSavix, printed_on: datetime.date) -> SavixView:
    currency, chart, by_group = _chart(found)
    return SavixView(
        as_of=found.as_of,
        period=period_text(found.as_of),
        currency=currency,
        chart_by_km="តាមក្រុម" if by_group else "តាមខេត្ត",
        chart_by_en="by group" if by_group else "by province",
        chart=chart,
        headers=tuple(f"{km}|{en}" for km, en in PRINTED),
        programme=tuple(_area_line(a, f"Programme ({a.currency})") for a in found.programme),
        provinces=tuple(_area_line(a, a.province or "") for a in found.provinces),
        groups=tuple(_group_line(g) for g in found.groups[:PRINTED_GROUPS_MAX]),
        groups_left_out=max(len(found.groups) - PRINTED_GROUPS_MAX, 0),
        printed_on=printed_on,
    )


def _group_line(g: GroupSavix) -> Line:
    return Line(g.code, _printed(g.figures, g.precision, g.currency))


def savix_html(view: SavixView) -> str:
    return render_html(TEMPLATE, {"view": view})


def render_savix(view: SavixView) -> bytes:
    return render_pdf(TEMPLATE, {"view": view})
