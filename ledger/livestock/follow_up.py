"""A follow-up visit as the officer makes it: the herd (counts, births, deaths, sales) and the
household's income for a month, recorded together, all or nothing.

One visit is one write: a phone that sends it again with the same Idempotency-Key gets the
first answer, and a refusal of any part writes no part. The herd goes through the visit
service of this area, each income line through the income area's service (its public door,
docs/ARCHITECTURE.md), in the same database transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from ledger.core.amount import parse_units
from ledger.core.errors import LedgerError, LedgerRejected, invalid, reject_if
from ledger.households.records import money_currency
from ledger.income import rules as income_rules
from ledger.income import service as income
from ledger.income.service import IncomeDraft, IncomeRecord
from ledger.livestock.service import Visit, VisitDraft, record_visit

INCOME_FIELD = "income"


@dataclass(frozen=True, slots=True)
class IncomeLineDraft:
    source: str
    amount: str


@dataclass(frozen=True, slots=True)
class FollowUpIncomeDraft:
    """The household's income for one month, by source, in the visit's currency."""

    month: str  # YYYY-MM
    lines: tuple[IncomeLineDraft, ...]
    baseline: bool = False


@dataclass(frozen=True, slots=True)
class FollowUpDraft:
    visit: VisitDraft
    income: FollowUpIncomeDraft | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    visit: Visit
    income: tuple[IncomeRecord, ...]


def _moved(error: LedgerError, prefix: str) -> LedgerError:
    """An income service's error, its field named as the follow-up's body names it."""
    return replace(error, field=f"{prefix}.{error.field}" if error.field else prefix)


def _line_field(index: int, name: str) -> str:
    return f"{INCOME_FIELD}.lines[{index}].{name}"


def _income_errors(
    conn: Connection, draft: FollowUpIncomeDraft, currency: str
) -> list[LedgerError]:
    """What can be said of the income without the household's records: the month, each
    source once, each amount positive in the currency's precision."""
    errors: list[LedgerError] = []
    month = income_rules.parse_month(draft.month, f"{INCOME_FIELD}.month")
    if isinstance(month, LedgerError):
        errors.append(month)
    if not draft.lines:
        errors.append(
            invalid("income_lines_missing", "Give the income of at least one source.", INCOME_FIELD)
        )
    seen: set[str] = set()
    precision = money_currency(conn, currency)
    for index, line in enumerate(draft.lines):
        if line.source not in income_rules.SOURCES:
            errors.append(
                invalid(
                    "source_invalid",
                    f"source is one of {', '.join(income_rules.SOURCES)}.",
                    _line_field(index, "source"),
                )
            )
        elif line.source in seen:
            errors.append(
                invalid(
                    "income_source_repeated",
                    "A source is given twice.",
                    _line_field(index, "source"),
                )
            )
        seen.add(line.source)
        units = parse_units(line.amount, precision, _line_field(index, "amount"))
        if isinstance(units, LedgerError):
            errors.append(units)
        elif units <= 0:
            errors.append(
                invalid(
                    "amount_not_positive",
                    "The amount must be positive.",
                    _line_field(index, "amount"),
                )
            )
    return errors


def _record_income(
    conn: Connection,
    draft: FollowUpIncomeDraft,
    visit: VisitDraft,
    today: datetime.date,
    created_by: str | None,
) -> tuple[IncomeRecord, ...]:
    recorded = []
    for index, line in enumerate(draft.lines):
        one = IncomeDraft(
            visit.case_code, draft.month, line.source, line.amount, visit.currency, draft.baseline
        )
        try:
            recorded.append(income.record_income(conn, one, today, created_by))
        except LedgerRejected as rejected:
            # The month is the follow-up's; an amount or a source is its line's.
            raise LedgerRejected(
                _moved(
                    e,
                    INCOME_FIELD
                    if e.field in (None, "month")
                    else f"{INCOME_FIELD}.lines[{index}]",
                )
                for e in rejected.errors
            ) from None
    return tuple(recorded)


def record_follow_up(
    conn: Connection, draft: FollowUpDraft, today: datetime.date, created_by: str | None
) -> FollowUp:
    """Record the visit (its herd, possibly none when income is given) and the month's income,
    in one transaction. Every problem found before writing is reported together; a refusal
    of any part (raised) leaves nothing written, as the caller's transaction rolls back."""
    errors: list[LedgerError] = []
    if draft.income is not None:
        errors.extend(_income_errors(conn, draft.income, draft.visit.currency))
    elif not draft.visit.species:
        errors.append(
            invalid(
                "follow_up_empty",
                "Count the livestock or give the household's income.",
                "species",
            )
        )
    visit: Visit | None = None
    try:
        visit = record_visit(
            conn, draft.visit, today, created_by, species_required=draft.income is None
        )
    except LedgerRejected as rejected:
        errors.extend(rejected.errors)
    reject_if(_invalid_first(errors))
    if visit is None:
        raise AssertionError("a visit refused without errors")
    recorded = (
        ()
        if draft.income is None
        else _record_income(conn, draft.income, draft.visit, today, created_by)
    )
    return FollowUp(visit, recorded)


def _invalid_first(errors: Sequence[LedgerError]) -> list[LedgerError]:
    """Invalid input first: a 422 says what to fix before a 409 says what exists."""
    return sorted(errors, key=lambda e: e.kind != "invalid")
