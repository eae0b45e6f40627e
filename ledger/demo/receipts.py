"""Sample grant receipts from the demo's story: for previews, the tests and the bench.

The 4 November 2018 returnees received at the Bavet transit centre: a cash grant for pig
raising, livestock in kind, and a receipt with every text at its length limit and the most
items (the case a layout must still fit on one page).
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from ledger.core.limits import DISBURSEMENT_ITEMS_MAX
from ledger.demo.organisation import AWARD, ORG_BOOK
from ledger.reports.receipt import LIVESTOCK, TEXT_LENGTH_MAX, ReceiptItem, ReceiptView

# Livestock first, then a commodity that is not counted in head.
ITEM_COMMODITIES = (*LIVESTOCK, "FEED")


def cash_receipt() -> ReceiptView:
    """410,000 riel in cash for pig raising, to household DV-009."""
    return ReceiptView(
        organisation="CCPCR Livelihood Programme",
        book_code=ORG_BOOK,
        receipt_number="ORG-2018-0007",
        date=datetime.date(2018, 11, 4),
        case_code="DV-009",
        grant_id=12,
        business_type="pig_raising",
        award_code=AWARD,
        donor="USAID through Winrock International",
        budget_line="Livelihood grants",
        method="cash",
        paid_from="Assets:Cash:Bavet-KHR",
        currency="KHR",
        amount=Decimal("410000"),
        items=(),
        total_value=Decimal("410000"),
        officer="sokha.officer",
        narration="ជំនួយចិញ្ចឹមជ្រូក, first of two tranches",
    )


def in_kind_receipt(
    items_n: int = 2, quantity: int = 2, unit_cost: Decimal = Decimal("600000")
) -> ReceiptView:
    """`items_n` lines in kind (pigs, chickens, ducks ... feed), `quantity + i` of each."""
    items = tuple(
        ReceiptItem(ITEM_COMMODITIES[i % len(ITEM_COMMODITIES)], quantity + i, unit_cost, "KHR")
        for i in range(items_n)
    )
    return dataclasses.replace(
        cash_receipt(),
        receipt_number="ORG-2018-0008",
        case_code="DV-010",
        method="in_kind",
        amount=None,
        items=items,
        total_value=sum((item.value for item in items), Decimal(0)),
    )


def receipt_at_limits() -> ReceiptView:
    """The most items, values near the largest amount in words, every text at its limit."""

    def text(field: str, piece: str) -> str:
        return (piece * TEXT_LENGTH_MAX[field])[: TEXT_LENGTH_MAX[field]]

    view = in_kind_receipt(DISBURSEMENT_ITEMS_MAX, 9_979, Decimal("4999999"))
    return dataclasses.replace(
        view,
        organisation=text("organisation", "Livelihood Grants "),
        book_code=text("book_code", "org-"),
        receipt_number=text("receipt_number", "ORG-2018-"),
        case_code=text("case_code", "DV-"),
        grant_id=2**63 - 1,
        award_code=text("award_code", "CTIP-2018-"),
        donor=text("donor", "Counter-Trafficking Fund "),
        budget_line=text("budget_line", "Livelihood grants "),
        paid_from=text("paid_from", "Assets:Cash:Poipet-"),
        officer=text("officer", "officer."),
        narration=text("narration", "ជំនួយចិញ្ចឹមជ្រូក and feed "),
    )
