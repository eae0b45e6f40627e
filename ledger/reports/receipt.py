"""The grant receipt a beneficiary signs: bilingual (Khmer, then English), one A4 page.

`ReceiptView` is everything printed, already read from the ledger. It names the household
by case code only: it has no field for a name, a phone number or an address (invariant 8),
and a test keeps it so. What was given is either money (`amount`) or items in kind with
head counts (`items`, at most `limits.DISBURSEMENT_ITEMS_MAX`). Each text has a length limit
(`TEXT_LENGTH_MAX`) no shorter than what the ledger accepts for it, so a receipt can always
be printed; a test prints one with every field at its limit and checks it is one page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection

from ledger.core import limits
from ledger.core.amount import units_to_decimal
from ledger.core.errors import LedgerRejected, conflict
from ledger.funds import service as funds
from ledger.funds.rules import BUDGET_LINE_NAME_LENGTH_MAX, DONOR_LENGTH_MAX
from ledger.grants import service as grants
from ledger.reports.pdf import lay_out, render_html
from ledger.reports.words import CURRENCY_WORDS, WHOLE_UNITS_MAX
from ledger.store import books, journal_reads

TEMPLATE = "receipt.html"

# The longest text each field prints: at least what the ledger accepts for it (book codes and
# award codes have 40 characters, receipt numbers add "-2018-0007", case codes are like
# DV-009, usernames have 64).
TEXT_LENGTH_MAX: dict[str, int] = {
    "organisation": limits.BOOK_NAME_LENGTH_MAX,
    "book_code": 40,
    "receipt_number": 50,
    "case_code": 16,
    "business_type": 32,
    "award_code": 40,
    "donor": DONOR_LENGTH_MAX,
    "budget_line": BUDGET_LINE_NAME_LENGTH_MAX,
    "paid_from": limits.ACCOUNT_NAME_LENGTH_MAX,
    "officer": 64,
    "narration": limits.NARRATION_LENGTH_MAX,
}

# Khmer, then English, for each label the officer and the recipient read.
METHODS: dict[str, tuple[str, str]] = {
    "cash": ("សាច់ប្រាក់", "Cash"),
    "bank_transfer": ("ផ្ទេរតាមធនាគារ", "Bank transfer"),
    "mobile_money": ("ផ្ទេរប្រាក់តាមទូរស័ព្ទ", "Mobile money"),
    "in_kind": ("ជាសម្ភារៈ", "In kind"),
}
BUSINESS_TYPES: dict[str, tuple[str, str]] = {
    "chicken_raising": ("ចិញ្ចឹមមាន់", "Chicken raising"),
    "pig_raising": ("ចិញ្ចឹមជ្រូក", "Pig raising"),
    "grocery": ("លក់ចាប់ហួយ", "Grocery"),
    "tailoring": ("កាត់ដេរ", "Tailoring"),
    "motorbike_repair": ("ជួសជុលម៉ូតូ", "Motorbike repair"),
    "rice_trading": ("លក់ដូរអង្ករ", "Rice trading"),
    "other": ("ផ្សេងៗ", "Other"),
}
# Livestock commodities, counted in head (ក្បាល): Khmer name, English singular and plural.
LIVESTOCK: dict[str, tuple[str, str, str]] = {
    "PIG": ("ជ្រូក", "pig", "pigs"),
    "CHICKEN": ("មាន់", "chicken", "chickens"),
    "DUCK": ("ទា", "duck", "ducks"),
    "COW": ("គោ", "cow", "cows"),
    "BUFFALO": ("ក្របី", "buffalo", "buffaloes"),
    "GOAT": ("ពពែ", "goat", "goats"),
}


# What kind of account money is paid from, by the second part of its name.
ACCOUNT_KINDS: dict[str, tuple[str, str]] = {
    "Cash": ("ប្រអប់សាច់ប្រាក់", "Cash box"),
    "Bank": ("គណនីធនាគារ", "Bank account"),
    "Mobile-Money": ("គណនីប្រាក់តាមទូរស័ព្ទ", "Mobile money account"),
}


def account_label(account: str, currency: str) -> tuple[str, str]:
    """An account as a reader names it, Khmer and English: `Assets:Cash:Bavet-KHR` is
    "Cash box, Bavet (KHR)"; the place is the last part of the name without its currency."""
    parts = account.split(":")
    kind = parts[1] if len(parts) > 2 else ""
    place = parts[-1].removesuffix(f"-{currency}").replace("-", " ")
    km, en = ACCOUNT_KINDS.get(kind, ("គណនី", kind.replace("-", " ") or "Account"))
    return f"{km} {place} ({currency})", f"{en}, {place} ({currency})"


@dataclass(frozen=True, slots=True)
class ReceiptItem:
    """One line given in kind: `quantity` head (or units) at `unit_cost` each."""

    commodity: str
    quantity: int
    unit_cost: Decimal
    currency: str

    @property
    def value(self) -> Decimal:
        return self.unit_cost * self.quantity

    @property
    def name_km(self) -> str:
        """ជ្រូក for PIG; the commodity code when it is not livestock."""
        return LIVESTOCK[self.commodity][0] if self.commodity in LIVESTOCK else self.commodity

    @property
    def name_en(self) -> str:
        """ "pigs" for 2 PIG, "pig" for 1; the commodity code when it is not livestock."""
        if self.commodity not in LIVESTOCK:
            return self.commodity
        _, one, many = LIVESTOCK[self.commodity]
        return one if self.quantity == 1 else many

    @property
    def is_livestock(self) -> bool:
        return self.commodity in LIVESTOCK


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """Everything one disbursement's receipt prints. Raises ValueError when inconsistent."""

    organisation: str
    book_code: str
    receipt_number: str
    date: datetime.date
    case_code: str
    grant_id: int
    business_type: str
    award_code: str
    donor: str
    budget_line: str
    method: str  # a `grants.rules.Method`, checked below (stored rows come back as text)
    paid_from: str
    currency: str
    amount: Decimal | None
    items: tuple[ReceiptItem, ...]
    total_value: Decimal
    officer: str
    narration: str | None = None

    def __post_init__(self) -> None:
        # Explicit raises, not asserts: they must hold under `python -O` too.
        if self.method not in METHODS:
            raise ValueError(f"Unknown disbursement method {self.method!r}.")
        if self.currency not in CURRENCY_WORDS:
            raise ValueError(f"A receipt is in riel, dollars or baht, not {self.currency!r}.")
        for field, length_max in TEXT_LENGTH_MAX.items():
            value = getattr(self, field)
            if value is not None and len(value) > length_max:
                raise ValueError(f"A receipt's {field} has at most {length_max} characters.")
        if len(self.items) > limits.DISBURSEMENT_ITEMS_MAX:
            raise ValueError(f"A receipt prints at most {limits.DISBURSEMENT_ITEMS_MAX} items.")
        if self.total_value > WHOLE_UNITS_MAX:
            raise ValueError(f"A receipt's total is at most {WHOLE_UNITS_MAX:,} (in words).")
        if self.method == "in_kind":
            if self.amount is not None or not self.items:
                raise ValueError("An in-kind receipt lists items and has no amount of money.")
            if any(item.currency != self.currency for item in self.items):
                raise ValueError("Every item is valued in the receipt's currency.")
            if any(item.quantity <= 0 or item.unit_cost < 0 for item in self.items):
                raise ValueError("Items have a positive quantity and a cost of zero or more.")
            if self.total_value != sum((item.value for item in self.items), Decimal(0)):
                raise ValueError("The total value is the sum of the items' values.")
        else:
            if self.amount is None or self.items:
                raise ValueError("A receipt for money has an amount and no items.")
            if self.amount <= 0 or self.total_value != self.amount:
                raise ValueError("The amount is positive and is the total value.")

    @property
    def paid_from_km(self) -> str:
        return account_label(self.paid_from, self.currency)[0]

    @property
    def paid_from_en(self) -> str:
        return account_label(self.paid_from, self.currency)[1]

    @property
    def method_km(self) -> str:
        return METHODS[self.method][0]

    @property
    def method_en(self) -> str:
        return METHODS[self.method][1]

    @property
    def business_type_km(self) -> str:
        known = BUSINESS_TYPES.get(self.business_type)
        return known[0] if known else ""

    @property
    def business_type_en(self) -> str:
        known = BUSINESS_TYPES.get(self.business_type)
        return known[1] if known else self.business_type.replace("_", " ").capitalize()


def receipt_html(view: ReceiptView, *, compact: bool = False) -> str:
    """The receipt as HTML (Khmer text is checked here: pdftotext reorders it)."""
    return render_html(TEMPLATE, {"receipt": view, "compact": compact})


def render_receipt(view: ReceiptView) -> bytes:
    """The receipt as a one-page A4 PDF.

    Laid out in the normal style first; when long texts next to many items need a second
    page, laid out again in the compact style (smaller type), which holds every field at its
    limit with `limits.DISBURSEMENT_ITEMS_MAX` items (a test proves it): one sheet to sign.
    """
    document = lay_out(TEMPLATE, {"receipt": view, "compact": False})
    if len(document.pages) > 1:
        document = lay_out(TEMPLATE, {"receipt": view, "compact": True})
    if len(document.pages) > 1:
        raise ValueError("The receipt does not fit on one page.")
    pdf: bytes = document.write_pdf()
    return pdf


def disbursement_receipt(conn: Connection, grant_id: int, disbursement_id: int) -> ReceiptView:
    """The receipt of a stored disbursement, read from the ledger.

    Refused (`receipt_not_printable`) for a disbursement a receipt cannot state: a currency
    without words on the receipt, or an amount beyond what it writes out in words.
    """
    grant = grants.get_grant(conn, grant_id)
    found = grants.get_disbursement(conn, grant_id, disbursement_id)
    award = funds.get_award(conn, grant.award_code)
    book = books.get_book(conn, award.book_code)
    narration = journal_reads.load_transaction(conn, award.book_code, found.org_transaction_id)
    items = tuple(
        ReceiptItem(
            item.commodity,
            item.quantity,
            units_to_decimal(item.unit_cost, found.precision),
            found.currency,
        )
        for item in found.items
    )
    total = units_to_decimal(found.units, found.precision)
    try:
        return ReceiptView(
            organisation=book.name,
            book_code=book.code,
            receipt_number=found.receipt_number,
            date=found.date,
            case_code=grant.case_code,
            grant_id=grant.id,
            business_type=grant.business_type,
            award_code=award.code,
            donor=award.donor,
            budget_line=award.line(grant.budget_line).name,
            method=found.method,
            paid_from=found.paid_from,
            currency=found.currency,
            amount=None if items else total,
            items=items,
            total_value=total,
            officer=found.created_by or "",
            narration=narration.txn.narration,
        )
    except ValueError as error:
        raise LedgerRejected(
            [conflict("receipt_not_printable", f"No receipt can state this disbursement: {error}")]
        ) from None
