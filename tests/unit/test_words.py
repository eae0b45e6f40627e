"""Amounts in words on receipts: English cheque style and Khmer place words."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.reports.formats import format_amount, format_date_en, format_date_km
from ledger.reports.words import (
    WHOLE_UNITS_MAX,
    amount_in_words_en,
    amount_in_words_km,
    khmer_digits,
)


@pytest.mark.parametrize(
    ("amount", "currency", "words"),
    [
        ("0", "KHR", "Zero riel"),
        ("1", "KHR", "One riel"),
        ("10", "KHR", "Ten riel"),
        ("11", "KHR", "Eleven riel"),
        ("20", "KHR", "Twenty riel"),
        ("21", "KHR", "Twenty-one riel"),
        ("100", "KHR", "One hundred riel"),
        ("101", "KHR", "One hundred one riel"),
        ("1000", "KHR", "One thousand riel"),
        ("10000", "KHR", "Ten thousand riel"),
        ("100000", "KHR", "One hundred thousand riel"),
        ("410000", "KHR", "Four hundred ten thousand riel"),
        ("1000000", "KHR", "One million riel"),
        ("2376000", "KHR", "Two million three hundred seventy-six thousand riel"),
        ("1000000000", "KHR", "One billion riel"),
        ("1000001", "KHR", "One million one riel"),
        (
            "999999999999",
            "KHR",
            "Nine hundred ninety-nine billion nine hundred ninety-nine million"
            " nine hundred ninety-nine thousand nine hundred ninety-nine riel",
        ),
        ("120.50", "USD", "One hundred twenty dollars and 50 cents"),
        ("1.01", "USD", "One dollar and 1 cent"),
        ("1", "USD", "One dollar"),
        ("0.99", "USD", "Zero dollars and 99 cents"),
        ("1500.00", "USD", "One thousand five hundred dollars"),
        ("9750", "THB", "Nine thousand seven hundred fifty baht"),
        ("9750.25", "THB", "Nine thousand seven hundred fifty baht and 25 satang"),
    ],
)
def test_english(amount: str, currency: str, words: str) -> None:
    assert amount_in_words_en(Decimal(amount), currency) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "សូន្យ"),
        (1, "មួយ"),
        (5, "ប្រាំ"),
        (6, "ប្រាំមួយ"),
        (7, "ប្រាំពីរ"),
        (8, "ប្រាំបី"),
        (9, "ប្រាំបួន"),
        (10, "ដប់"),
        (11, "ដប់មួយ"),
        (15, "ដប់ប្រាំ"),
        (20, "ម្ភៃ"),
        (21, "ម្ភៃមួយ"),
        (30, "សាមសិប"),
        (40, "សែសិប"),
        (50, "ហាសិប"),
        (60, "ហុកសិប"),
        (70, "ចិតសិប"),
        (80, "ប៉ែតសិប"),
        (90, "កៅសិប"),
        (99, "កៅសិបប្រាំបួន"),
        (100, "មួយរយ"),
        (105, "មួយរយប្រាំ"),
        (250, "ពីររយហាសិប"),
        (1000, "មួយពាន់"),
        (1500, "មួយពាន់ប្រាំរយ"),
        (10000, "មួយម៉ឺន"),
        (15000, "មួយម៉ឺនប្រាំពាន់"),
        (100000, "មួយសែន"),
        (410000, "បួនសែនមួយម៉ឺន"),
        (600000, "ប្រាំមួយសែន"),
        (1000000, "មួយលាន"),
        (1000001, "មួយលានមួយ"),
        (2376000, "ពីរលានបីសែនប្រាំពីរម៉ឺនប្រាំមួយពាន់"),
        (10000000, "ដប់លាន"),
        (25000000, "ម្ភៃប្រាំលាន"),
        (100000000, "មួយរយលាន"),
        (1000000000, "មួយពាន់លាន"),
        (10000000000, "មួយម៉ឺនលាន"),
        (
            999999999999,
            "ប្រាំបួនសែនប្រាំបួនម៉ឺនប្រាំបួនពាន់ប្រាំបួនរយកៅសិបប្រាំបួនលានប្រាំបួនសែនប្រាំបួនម៉ឺនប្រាំបួនពាន់ប្រាំបួនរយកៅសិបប្រាំបួន",
        ),
    ],
)
def test_khmer_riel(amount: int, words: str) -> None:
    assert amount_in_words_km(Decimal(amount), "KHR") == words + "រៀល"


def test_khmer_minor_units_follow_after_and() -> None:
    assert amount_in_words_km(Decimal("120.50"), "USD") == "មួយរយម្ភៃដុល្លារ និង ហាសិបសេន"
    assert amount_in_words_km(Decimal("120.00"), "USD") == "មួយរយម្ភៃដុល្លារ"
    assert amount_in_words_km(Decimal("9750.25"), "THB") == "ប្រាំបួនពាន់ប្រាំពីររយហាសិបបាត និង ម្ភៃប្រាំសតាង"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("-1", "KHR"),  # negative
        ("0.5", "KHR"),  # riel have no fractional digits
        ("1.005", "USD"),  # more digits than cents
        (str(WHOLE_UNITS_MAX + 1), "KHR"),  # beyond the documented maximum
        ("1000000000000.00", "USD"),
        ("0.00" + "9" * 40, "USD"),  # would round to one cent in a 28-digit context
        ("1E-999999", "USD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("1", "PIG"),  # head counts have no words here
        ("1", "EUR"),
    ],
)
def test_refused(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        amount_in_words_en(Decimal(amount), currency)
    with pytest.raises(ValueError, match=r"."):
        amount_in_words_km(Decimal(amount), currency)


def test_the_maximum_is_accepted_in_both_languages() -> None:
    largest = Decimal("999999999999.99")
    assert amount_in_words_en(largest, "USD").endswith("dollars and 99 cents")
    assert amount_in_words_km(largest, "USD").endswith("ដុល្លារ និង កៅសិបប្រាំបួនសេន")


def test_trailing_zeros_and_exponents_mean_the_same_amount() -> None:
    assert amount_in_words_en(Decimal("4.1E+5"), "KHR") == "Four hundred ten thousand riel"
    assert amount_in_words_en(Decimal("410000.000"), "KHR") == "Four hundred ten thousand riel"
    assert amount_in_words_en(Decimal("0E+999999"), "KHR") == "Zero riel"
    assert amount_in_words_en(Decimal("-0"), "KHR") == "Zero riel"


def test_khmer_digits() -> None:
    assert khmer_digits("ORG-2018-0007") == "ORG-២០១៨-០០០៧"
    assert khmer_digits("0123456789") == "០១២៣៤៥៦៧៨៩"
    assert khmer_digits("DV-abc ជ្រូក") == "DV-abc ជ្រូក"


def test_amounts_are_printed_with_thousands_separators_and_every_digit() -> None:
    assert format_amount(Decimal("410000")) == "410,000"
    assert format_amount(Decimal("120.50")) == "120.50"
    assert format_amount(Decimal("-1234567.05")) == "-1,234,567.05"
    assert format_amount(Decimal("4.1E+5")) == "410,000"
    assert format_amount(20) == "20"
    with pytest.raises(ValueError, match="finite"):
        format_amount(Decimal("NaN"))


def test_dates_in_english_and_khmer() -> None:
    day = datetime.date(2018, 11, 4)
    assert format_date_en(day) == "4 November 2018"
    assert format_date_km(day) == "ថ្ងៃទី៤ ខែវិច្ឆិកា ឆ្នាំ២០១៨"
    assert format_date_km(datetime.date(2019, 1, 31)) == "ថ្ងៃទី៣១ ខែមករា ឆ្នាំ២០១៩"
