"""Registers as rows of text, written as CSV by `ledger.core.csv_text` (spreadsheet-safe)."""

from __future__ import annotations

from collections.abc import Iterable

from ledger.core.amount import format_units

# Re-exported: the registers were their home before transactions and meetings needed them.
from ledger.core.csv_text import safe_cell as safe_cell
from ledger.core.csv_text import to_csv as to_csv
from ledger.funds.service import BudgetReport
from ledger.grants.service import Grant

GRANT_REGISTER_HEADER = (
    "grant_id",
    "case_code",
    "province",
    "award",
    "budget_line",
    "business_type",
    "currency",
    "approved_amount",
    "disbursed",
    "remaining",
    "status",
    "proposed_by",
    "approved_by",
    "ended_by",
)
BUDGET_HEADER = (
    "award",
    "currency",
    "budget_line",
    "name",
    "budget",
    "actual",
    "committed",
    "remaining",
    "percent_used",
    "in_kind",
)


def grant_register_rows(grants: Iterable[Grant]) -> Iterable[tuple[str, ...]]:
    for g in grants:
        yield (
            str(g.id),
            g.case_code,
            g.province,
            g.award_code,
            g.budget_line,
            g.business_type,
            g.currency,
            format_units(g.approved_amount, g.precision),
            format_units(g.disbursed, g.precision),
            format_units(g.remaining, g.precision),
            g.status,
            g.proposed_by,
            g.approved_by or "",
            g.ended_by or "",
        )


def percent_used(part: int, whole: int) -> str:
    """`part` of `whole` in percent with one decimal, rounded half up: "12.5"."""
    if whole <= 0:
        return "0.0"
    tenths = (part * 1000 * 2 + whole) // (whole * 2)
    sign = "-" if tenths < 0 else ""
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}"


def budget_rows(report: BudgetReport) -> Iterable[tuple[str, ...]]:
    award = report.award
    for use in report.lines:
        yield (
            award.code,
            award.currency,
            use.line.code,
            use.line.name,
            format_units(use.line.amount, award.precision),
            format_units(use.actual, award.precision),
            format_units(use.committed, award.precision),
            format_units(use.remaining, award.precision),
            percent_used(use.actual, use.line.amount),
            format_units(use.in_kind, award.precision),
        )
