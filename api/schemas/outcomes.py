"""A household's follow-up visits and income records, one page at a time."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from api.cursors import dated_cursor
from api.schemas.training import Income, Visit
from ledger.income.service import IncomeRecord
from ledger.livestock.service import Visit as StoredVisit


class VisitPage(msgspec.Struct):
    items: list[Visit]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredVisit], limit: int) -> VisitPage:
        last = dated_cursor(found[-1].date, found[-1].id) if len(found) == limit else None
        return cls([Visit.of(v) for v in found], last)


class IncomePage(msgspec.Struct):
    items: list[Income]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[IncomeRecord], limit: int) -> IncomePage:
        last = dated_cursor(found[-1].month, found[-1].id) if len(found) == limit else None
        return cls([Income.of(r) for r in found], last)
