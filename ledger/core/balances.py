"""Trial-balance arithmetic that needs no database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

# Beancount's own name for the line that absorbs currency conversions at a price.
CONVERSIONS_ACCOUNT = "Equity:Conversions:Current"


def conversion_lines(balances: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """(commodity, units) that make each commodity's trial balance sum to zero.

    Postings at a price balance by weight, not by units, so a book that exchanged dollars
    into riel holds units that do not cancel per currency. Beancount reports the difference
    as conversions; so do we.
    """
    totals: dict[str, int] = defaultdict(int)
    for commodity, units in balances:
        totals[commodity] += units
    return [(commodity, -units) for commodity, units in sorted(totals.items()) if units != 0]
