"""How amounts and dates are printed on documents, in English and in Khmer (pure)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from ledger.reports.words import khmer_digits

MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# The solar-calendar month names used in Cambodia's official documents.
MONTHS_KM = (
    "មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា",
    "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា", "ធ្នូ",
)  # fmt: skip


def format_amount(value: Decimal | int) -> str:
    """Thousands separated, every stored digit kept: 410000 -> "410,000", 120.50 -> "120.50"."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("Only finite amounts can be printed.")
    return f"{value:,f}" if isinstance(value, Decimal) else f"{value:,}"


def format_date_en(value: datetime.date) -> str:
    """4 November 2018 (no locale involved)."""
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def format_date_km(value: datetime.date) -> str:
    """ថ្ងៃទី៤ ខែវិច្ឆិកា ឆ្នាំ២០១៨: day, month and year as on Cambodian official letters."""
    day, year = khmer_digits(str(value.day)), khmer_digits(str(value.year))
    return f"ថ្ងៃទី{day} ខែ{MONTHS_KM[value.month - 1]} ឆ្នាំ{year}"
