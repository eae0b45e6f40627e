"""Award amendments as the API shows them: budget revisions, a new total, a no-cost
extension, with who proposed and who approved. Amounts are decimal strings."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Annotated

import msgspec

from api.schemas import next_id_cursor
from ledger.core import limits
from ledger.core.amount import format_units
from ledger.funds import amendments as stored
from ledger.funds import rules as fund_rules

Amount = Annotated[
    str, msgspec.Meta(max_length=limits.AMOUNT_TEXT_LENGTH_MAX, examples=["2500.00"])
]


class LineRevisionIn(msgspec.Struct, forbid_unknown_fields=True):
    budget_line: Annotated[str, msgspec.Meta(max_length=40, examples=["livelihood-grants"])]
    amount: Amount  # the line's amount after the amendment


class AmendmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Any of: new amounts for some budget lines (up or down), a new total, a later end
    date (a no-cost extension). Nothing changes until a second person approves it."""

    effective_date: datetime.date
    reason: Annotated[str, msgspec.Meta(max_length=stored.REASON_LENGTH_MAX)]
    lines: Annotated[
        list[LineRevisionIn], msgspec.Meta(max_length=fund_rules.BUDGET_LINES_PER_AWARD_MAX)
    ] = msgspec.field(default_factory=list)
    amount: Amount | None = None
    end_date: datetime.date | None = None

    def to_draft(self) -> stored.AmendmentDraft:
        return stored.AmendmentDraft(
            effective_date=self.effective_date,
            reason=self.reason,
            lines=tuple(stored.LineRevisionDraft(x.budget_line, x.amount) for x in self.lines),
            amount=self.amount,
            end_date=self.end_date,
        )


class LineRevisionOut(msgspec.Struct):
    budget_line: str
    name: str
    before: str
    after: str


class Amendment(msgspec.Struct):
    id: int
    award: str
    status: str  # proposed, approved
    effective_date: datetime.date
    reason: str
    amount_before: str
    amount_after: str
    end_date_before: datetime.date
    end_date_after: datetime.date
    lines: list[LineRevisionOut]
    proposed_by: str
    proposed_at: datetime.datetime
    approved_by: str | None
    approved_at: datetime.datetime | None

    @classmethod
    def of(cls, found: stored.Amendment) -> Amendment:
        def money(units: int) -> str:
            return format_units(units, found.precision)

        return cls(
            id=found.id,
            award=found.award_code,
            status=found.status,
            effective_date=found.effective_date,
            reason=found.reason,
            amount_before=money(found.amount_before),
            amount_after=money(found.amount_after),
            end_date_before=found.end_date_before,
            end_date_after=found.end_date_after,
            lines=[
                LineRevisionOut(x.code, x.name, money(x.before), money(x.after))
                for x in found.lines
            ],
            proposed_by=found.proposed_by,
            proposed_at=found.proposed_at,
            approved_by=found.approved_by,
            approved_at=found.approved_at,
        )

    @classmethod
    def all_of(cls, found: Sequence[stored.Amendment]) -> list[Amendment]:
        return [cls.of(a) for a in found]


class AmendmentPage(msgspec.Struct):
    items: list[Amendment]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[stored.Amendment], limit: int) -> AmendmentPage:
        return cls(Amendment.all_of(found), next_id_cursor(found, limit))


EXAMPLE_AMENDMENT = {
    "effective_date": "2019-06-01",
    "reason": "USAID modification 3: 500.00 moved from transport to grants; no-cost extension",
    "lines": [
        {"budget_line": "livelihood-grants", "amount": "12500.00"},
        {"budget_line": "transport", "amount": "1500.00"},
    ],
    "end_date": "2019-12-31",
}
