"""Outcome reports printed (PDF with a chart) and as CSV: per training, per programme, and a
household's income by month. Households appear by case code only."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.core.amount import format_units, units_to_decimal
from ledger.income.rules import month_text
from ledger.outcomes.rules import (
    GroupOutcome,
    Herd,
    HouseholdOutcome,
    ProgrammeOutcome,
    Report,
    TrainingOutcome,
)
from ledger.reports.charts import GROUPS_MAX, BarChart, grouped_bars
from ledger.reports.formats import MONTHS_EN, format_amount
from ledger.reports.pdf import render_html, render_pdf
from ledger.reports.receipt import LIVESTOCK
from ledger.reports.registers import percent_used
from ledger.training.rules import TOPIC_NAMES

TEMPLATE = "outcomes.html"
HOUSEHOLD_HEADER = (
    "case_code",
    "province",
    "currency",
    "baseline_mean",
    "follow_up_mean",
    "change",
    "income_rose",
    "livestock_income",
)
MONTHS_HEADER = ("case_code", "month", "baseline", "source", "amount", "currency")


@dataclass(frozen=True, slots=True)
class Fact:
    label_km: str
    label_en: str
    value: str


@dataclass(frozen=True, slots=True)
class TableView:
    title_km: str
    title_en: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class OutcomeView:
    """Everything an outcome report prints."""

    title_km: str
    title_en: str
    subtitle: str
    currency: str
    method: str
    facts: tuple[Fact, ...]
    chart_title_km: str
    chart_title_en: str
    chart: BarChart | None
    tables: tuple[TableView, ...]
    printed_on: datetime.date


def _money(units: int | None, report: Report) -> str:
    if units is None:
        return "-"
    return format_amount(units_to_decimal(units, report.precision))


def _month_label(month: datetime.date) -> str:
    return f"{MONTHS_EN[month.month - 1][:3]} {month.year}"


def _herd_table(herds: Iterable[Herd]) -> TableView:
    return TableView(
        "អត្រាងាប់ និងការលក់",
        "Mortality and sales",
        ("Species", "Held at start", "Entered", "Died", "Mortality %", "Sold", "Held now"),
        tuple(
            (
                f"{LIVESTOCK[h.species][0]} {LIVESTOCK[h.species][2]}",
                str(h.opening),
                str(h.entered),
                str(h.deaths),
                percent_used(h.deaths, h.at_risk),
                str(h.sold),
                str(h.closing),
            )
            for h in herds
        ),
    )


def _income_facts(group: GroupOutcome, report: Report) -> tuple[Fact, ...]:
    return (
        Fact(
            "គ្រួសារដែលមានចំណូលកើនឡើង",
            "Households whose income rose",
            f"{group.rose} / {group.compared} ({percent_used(group.rose, group.compared)}%)",
        ),
        Fact(
            "ការប្រែប្រួលចំណូលប្រចាំខែ (មេដ្យាន)",
            "Median change in monthly income",
            f"{_money(group.median_change, report)} {report.currency}",
        ),
        Fact(
            "ចំណូលពីសត្វចិញ្ចឹម",
            "Income from livestock",
            f"{_money(group.livestock_income, report)} {report.currency}",
        ),
    )


def training_view(outcome: TrainingOutcome, printed_on: datetime.date) -> OutcomeView:
    t = outcome.training
    report = outcome.report
    done, total = outcome.completion
    topics = ", ".join(TOPIC_NAMES[topic][0] for topic in t.topics)
    topics_km = " និង ".join(TOPIC_NAMES[topic][1] for topic in t.topics)
    months = outcome.herd_by_month[-GROUPS_MAX:]
    species = sorted({s for _, head in months for s in head})
    chart = None
    if months and species:
        chart = grouped_bars(
            [_month_label(m) for m, _ in months],
            [(LIVESTOCK[s][2], [head.get(s, 0) for _, head in months]) for s in species],
            str,
        )
    facts = (
        Fact("វគ្គ", "Training", f"{t.title} ({topics_km} / {topics})"),
        Fact(
            "កាលបរិច្ឆេទ និងទីកន្លែង",
            "Dates and place",
            f"{t.start_date} - {t.end_date}, {t.place}, {t.province}",
        ),
        Fact("ជំនួយ", "Award", f"{t.award_code} / {t.budget_line}"),
        Fact("អ្នកចូលរួម", "Participants", f"{total} households, {t.people} people"),
        Fact(
            "អត្រាបញ្ចប់វគ្គ",
            "Completion rate",
            f"{done} / {total} households ({percent_used(done, total)}%)",
        ),
        Fact(
            "ចំណូលពីការលក់សត្វ",
            "Income from livestock sold since the training",
            f"{_money(outcome.sales, report)} {report.currency}",
        ),
        *_income_facts(outcome.group, report),
    )
    return OutcomeView(
        title_km="លទ្ធផលវគ្គបណ្តុះបណ្តាល",
        title_en="Training outcomes",
        subtitle=f"Training {t.id}: {t.title}",
        currency=report.currency,
        method=report.method,
        facts=facts,
        chart_title_km="ចំនួនសត្វនៅពេលចុះតាមដាន",
        chart_title_en="Herd size at the follow-up visits (head, all participants)",
        chart=chart,
        tables=(_herd_table(outcome.group.herds),),
        printed_on=printed_on,
    )


def programme_view(outcome: ProgrammeOutcome, printed_on: datetime.date) -> OutcomeView:
    report = outcome.report
    compared = [g for g in outcome.provinces if g.compared][:GROUPS_MAX]
    chart = None
    if compared:
        chart = grouped_bars(
            [g.label for g in compared],
            [
                ("Baseline", [g.baseline_mean or 0 for g in compared]),
                ("After support", [g.follow_up_mean or 0 for g in compared]),
            ],
            lambda units: _money(units, report),
        )
    scope = " / ".join(x for x in (outcome.award, outcome.province) if x) or "all households"
    provinces = TableView(
        "តាមខេត្ត",
        "By province",
        ("Province", "Households", "Compared", "Income rose", "Median change", "Livestock income"),
        tuple(
            (
                g.label,
                str(g.households),
                str(g.compared),
                f"{g.rose} ({percent_used(g.rose, g.compared)}%)",
                _money(g.median_change, report),
                _money(g.livestock_income, report),
            )
            for g in outcome.provinces
        ),
    )
    return OutcomeView(
        title_km="លទ្ធផលកម្មវិធី",
        title_en="Programme outcomes",
        subtitle=scope,
        currency=report.currency,
        method=report.method,
        facts=(
            Fact("គ្រួសារ", "Households", str(outcome.overall.households)),
            *_income_facts(outcome.overall, report),
        ),
        chart_title_km="ចំណូលប្រចាំខែជាមធ្យម មុន និងក្រោយការគាំទ្រ",
        chart_title_en=f"Mean monthly income before and after support ({report.currency})",
        chart=chart,
        tables=(provinces, _herd_table(outcome.overall.herds)),
        printed_on=printed_on,
    )


SOURCE_NAMES: dict[str, tuple[str, str]] = {
    "livestock": ("សត្វចិញ្ចឹម", "livestock"),
    "crops": ("ដំណាំ", "crops"),
    "small_business": ("អាជីវកម្មខ្នាតតូច", "small business"),
    "wages": ("ប្រាក់ឈ្នួល", "wages"),
    "remittances": ("ប្រាក់ផ្ញើពីក្រៅ", "remittances"),
    "other": ("ផ្សេងៗ", "other"),
}


def household_view(
    outcome: HouseholdOutcome, report: Report, printed_on: datetime.date
) -> OutcomeView:
    """A household's income by source and month against its baseline (months marked *)."""
    months = outcome.months[-GROUPS_MAX:]
    sources = [s for s in SOURCE_NAMES if any(s in m.by_source for m in months)]
    chart = None
    if months and sources:
        chart = grouped_bars(
            [_month_label(m.month) + ("*" if m.baseline else "") for m in months],
            [(SOURCE_NAMES[s][1], [m.by_source.get(s, 0) for m in months]) for s in sources],
            lambda units: _money(units, report),
        )
    table = TableView(
        "ចំណូលប្រចាំខែ",
        "Income by month",
        ("Month", "Baseline", *(SOURCE_NAMES[s][1] for s in sources), "Total"),
        tuple(
            (
                month_text(m.month),
                "yes" if m.baseline else "",
                *(_money(m.by_source.get(s, 0), report) for s in sources),
                _money(m.total, report),
            )
            for m in outcome.months
        ),
    )
    money = report.currency
    return OutcomeView(
        title_km="ចំណូលគ្រួសារ",
        title_en="Household income",
        subtitle=f"{outcome.case_code}, {outcome.province}",
        currency=money,
        method=report.method,
        facts=(
            Fact(
                "ចំណូលមូលដ្ឋាន (មធ្យម/ខែ)",
                "Baseline (mean a month)",
                f"{_money(outcome.baseline_mean, report)} {money}",
            ),
            Fact(
                "ក្រោយការគាំទ្រ (មធ្យម/ខែ)",
                "After support (mean a month)",
                f"{_money(outcome.follow_up_mean, report)} {money}",
            ),
            Fact("ការប្រែប្រួល", "Change", f"{_money(outcome.change, report)} {money}"),
            Fact(
                "ចំណូលពីសត្វចិញ្ចឹម",
                "Income from livestock",
                f"{_money(outcome.livestock_income, report)} {money}",
            ),
        ),
        chart_title_km="ចំណូលតាមប្រភព (* ខែមូលដ្ឋាន)",
        chart_title_en=f"Income by source and month ({money}; * baseline months)",
        chart=chart,
        tables=(table, _herd_table(outcome.herds)),
        printed_on=printed_on,
    )


def outcomes_html(view: OutcomeView) -> str:
    return render_html(TEMPLATE, {"view": view})


def render_outcomes(view: OutcomeView) -> bytes:
    return render_pdf(TEMPLATE, {"view": view})


def household_rows(
    outcomes: Iterable[HouseholdOutcome], report: Report
) -> Iterable[tuple[str, ...]]:
    for o in outcomes:
        yield (
            o.case_code,
            o.province,
            report.currency,
            "" if o.baseline_mean is None else format_units(o.baseline_mean, report.precision),
            "" if o.follow_up_mean is None else format_units(o.follow_up_mean, report.precision),
            "" if o.change is None else format_units(o.change, report.precision),
            "" if o.change is None else ("yes" if o.change > 0 else "no"),
            format_units(o.livestock_income, report.precision),
        )


def month_rows(outcome: HouseholdOutcome, report: Report) -> Iterable[tuple[str, ...]]:
    for m in outcome.months:
        for source, units in sorted(m.by_source.items()):
            yield (
                outcome.case_code,
                month_text(m.month),
                "yes" if m.baseline else "no",
                source,
                format_units(units, report.precision),
                report.currency,
            )
