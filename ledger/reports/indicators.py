"""The indicator report printed (bilingual PDF) and as CSV rows: counts only, never a person
(ledger/outcomes/indicators.py counts them). Every label is Khmer and English."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.core.amount import format_units, units_to_decimal
from ledger.outcomes.indicators import Indicators, Reach, Tally
from ledger.reports.formats import format_amount
from ledger.reports.pdf import render_pdf

TEMPLATE = "indicators.html"
# (code, sex, age group, English, Khmer): each figure a tally of people is printed as.
TALLY_ITEMS: tuple[tuple[str, str | None, str | None, str, str], ...] = (
    ("people", None, None, "People", "មនុស្ស"),
    ("female", "female", None, "Female", "ស្រី"),
    ("male", "male", None, "Male", "ប្រុស"),
    ("other_sex", "other", None, "Other sex", "ភេទផ្សេងទៀត"),
    ("sex_unknown", "unknown", None, "Sex not recorded", "មិនបានកត់ត្រាភេទ"),
    ("children", None, "child", "Children (under 18)", "កុមារ (អាយុក្រោម ១៨ ឆ្នាំ)"),
    ("girls", "female", "child", "Girls", "កុមារី"),
    ("boys", "male", "child", "Boys", "កុមារា"),
    ("adults", None, "adult", "Adults (18 and over)", "មនុស្សពេញវ័យ (អាយុ ១៨ ឆ្នាំឡើង)"),
    ("women", "female", "adult", "Women", "ស្ត្រី"),
    ("men", "male", "adult", "Men", "បុរស"),
    ("age_unknown", None, "unknown", "Age not recorded", "មិនបានកត់ត្រាអាយុ"),
)
CSV_HEADER = ("section", "group", "item", "label_en", "label_km", "currency", "value")


def tally_figures(tally: Tally) -> dict[str, int]:
    """The tally as the report's figures, by code (people, female, ..., age_unknown)."""
    return {code: tally.count(sex, age) for code, sex, age, _, _ in TALLY_ITEMS}


def _tally_rows(section: str, group: str, tally: Tally) -> Iterable[tuple[str, ...]]:
    figures = tally_figures(tally)
    for code, _, _, en, km in TALLY_ITEMS:
        yield (section, group, code, en, km, "", str(figures[code]))


def _reach_rows(section: str, reach: Reach) -> Iterable[tuple[str, ...]]:
    yield (section, reach.label, "households", "Households", "គ្រួសារ", "", str(reach.households))
    yield (section, reach.label, "households_with_people", "Households with people recorded",
           "គ្រួសារដែលបានកត់ត្រាមនុស្ស", "", str(reach.households_with_people))  # fmt: skip
    yield (section, reach.label, "declared_members", "Members declared (no people recorded)",
           "សមាជិកដែលបានប្រកាស (មិនបានកត់ត្រាមនុស្ស)", "", str(reach.declared_members))  # fmt: skip
    yield from _tally_rows(section, reach.label, reach.people)


def csv_rows(report: Indicators) -> Iterable[tuple[str, ...]]:
    """The report as rows under `CSV_HEADER`: one figure a row, labelled in both languages."""
    yield from _reach_rows("reached", report.reached)
    for reach in report.by_province:
        yield from _reach_rows("reached_by_province", reach)
    for reach in report.by_quarter:
        yield from _reach_rows("reached_by_quarter", reach)
    for given in report.grants:
        money = given.currency
        for code, en, km, value in (
            ("grants", "Grants with a disbursement", "ជំនួយដែលបានផ្តល់", str(given.grants)),
            ("households", "Households granted", "គ្រួសារដែលទទួលជំនួយ", str(given.households)),
            ("cash_disbursements", "Cash disbursements", "ការផ្តល់ជាសាច់ប្រាក់",
             str(given.cash_disbursements)),
            ("cash_value", "Cash given", "តម្លៃជាសាច់ប្រាក់",
             format_units(given.cash_units, given.precision)),
            ("in_kind_disbursements", "In-kind disbursements", "ការផ្តល់ជាសម្ភារៈ",
             str(given.in_kind_disbursements)),
            ("in_kind_value", "Value given in kind", "តម្លៃជាសម្ភារៈ",
             format_units(given.in_kind_units, given.precision)),
        ):  # fmt: skip
            yield ("grants", money, code, en, km, money if "value" in code else "", value)
    yield from _training_rows(report)
    income = report.income
    for code, en, km, n in (
        ("households", "Households followed", "គ្រួសារដែលបានតាមដាន", income.households),
        ("compared", "With a baseline and income after support",
         "មានមូលដ្ឋាន និងចំណូលក្រោយការគាំទ្រ", income.compared),
        ("rose", "Income rose against baseline", "ចំណូលកើនឡើងធៀបនឹងមូលដ្ឋាន", income.rose),
    ):  # fmt: skip
        yield ("income", "all", code, en, km, "", str(n))
    savings = report.savings
    yield ("savings", "all", "groups", "Savings groups", "ក្រុមសន្សំ", "", str(savings.groups))
    yield ("savings", "all", "members", "Members", "សមាជិក", "", str(savings.members))
    yield from _tally_rows("savings_members", "all", savings.people)


def _training_rows(report: Indicators) -> Iterable[tuple[str, ...]]:
    t = report.training
    for code, en, km, n in (
        ("trainings", "Trainings", "វគ្គបណ្តុះបណ្តាល", t.trainings),
        ("households", "Households taking part", "គ្រួសារចូលរួម", t.households),
        ("trainees", "Trainees", "អ្នកចូលរៀន", t.trainees),
        ("certificates", "Certificates (households that completed)",
         "វិញ្ញាបនបត្រ (គ្រួសារដែលបានបញ្ចប់)", t.certificates),
        ("certified_people", "People of the households that completed",
         "មនុស្សក្នុងគ្រួសារដែលបានបញ្ចប់", t.certified_people),
    ):  # fmt: skip
        yield ("training", "all", code, en, km, "", str(n))
    yield from _tally_rows("trainees_named", "all", t.named)


@dataclass(frozen=True, slots=True)
class IndicatorView:
    report: Indicators
    period: str
    printed_on: datetime.date
    items: tuple[tuple[str, str | None, str | None, str, str], ...]

    def figures(self, tally: Tally) -> dict[str, int]:
        return tally_figures(tally)

    @staticmethod
    def money(units: int, precision: int) -> str:
        return format_amount(units_to_decimal(units, precision))


def render_indicators(report: Indicators, printed_on: datetime.date) -> bytes:
    """The report on A4 pages, Khmer and English on every label."""
    start = "…" if report.start is None else report.start.isoformat()
    period = f"{start} – {report.end.isoformat()}"
    view = IndicatorView(report, period, printed_on, TALLY_ITEMS)
    return render_pdf(TEMPLATE, {"view": view})
