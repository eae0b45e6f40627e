"""Donor funds in pure code: what a riel is worth in dollars, and the postings of receipts,
exchanges and budget-line expenses.

The scenario: CTIP-2018 is a dollar award; the Bavet office changes 800.00 USD at 4,110 and
then 200.00 USD at 4,120 riel to the dollar (4,112,000 riel for 1,000.00 USD: 4,112 on
average) and pays grants and transport in riel.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.core.transaction import Posting, Price, residuals, validate_transaction
from ledger.funds.rules import (
    Conversion,
    budget_expense,
    convert_at_average,
    convert_at_rate,
    exchange,
    fund_receipt,
    rate_between,
    same_currency,
    validate_award_code,
    validate_budget_line_code,
    validate_one_line,
)

D = datetime.date
PRECISIONS = {"KHR": 0, "USD": 2, "THB": 2, "PIG": 0}
KHR, USD, THB = 0, 2, 2  # precisions
BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"


# -- rate_between ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_units", "local_precision", "award_units", "award_precision", "rate"),
    [
        (410_000, KHR, 10_000, USD, Decimal("4100")),  # 410,000 riel for 100.00 USD
        (4_112_000, KHR, 100_000, USD, Decimal("4112")),  # the weighted average
        (1_000_000, KHR, 30_000, USD, Decimal("3333.333333")),  # ten significant digits
        (3_450, THB, 10_000, USD, Decimal("0.345")),  # 34.50 baht for 100.00 USD
        (10_000, USD, 410_000, KHR, Decimal("0.0002439024390")),  # dollars for one riel
        (1, KHR, 1, USD, Decimal("100")),  # one riel for one cent
    ],
)
def test_rate_between(
    local_units: int, local_precision: int, award_units: int, award_precision: int, rate: Decimal
) -> None:
    found = rate_between(local_units, local_precision, award_units, award_precision)
    assert found == rate
    assert len(found.as_tuple().digits) <= 10


def test_rate_between_refuses_nothing_for_something() -> None:
    with pytest.raises(AssertionError):
        rate_between(0, KHR, 100, USD)
    with pytest.raises(AssertionError):
        rate_between(410_000, KHR, 0, USD)


# -- at the average rate of the exchanges into the account -------------------------------------


def test_average_rate_of_two_exchanges() -> None:
    # 2 pigs at 300,000 riel: 600,000 x 1,000.00 / 4,112,000 = 145.914 -> 145.91 USD.
    found = convert_at_average(600_000, KHR, USD, 4_112_000, 100_000)
    assert found == Conversion(14_591, "average_exchange", Decimal("4112"))
    # 616,500 riel: 149.927 -> 149.93 USD.
    assert convert_at_average(616_500, KHR, USD, 4_112_000, 100_000).award_units == 14_993


@pytest.mark.parametrize(
    ("riel", "cents"),
    [
        (20, 0),  # 0.5 cent -> 0 (even)
        (60, 2),  # 1.5 -> 2
        (100, 2),  # 2.5 -> 2
        (140, 4),  # 3.5 -> 4
        (59, 1),  # 1.475 -> 1
        (61, 2),  # 1.525 -> 2
        (4_000_020, 100_000),  # 100,000.5 -> 100,000 (even)
        (4_000_060, 100_002),  # 100,001.5 -> 100,002
    ],
)
def test_average_rate_rounds_half_to_even(riel: int, cents: int) -> None:
    """At 4,000 riel to the dollar a cent is 40 riel: 20 riel is exactly half a cent."""
    found = convert_at_average(riel, KHR, USD, 4_000_000, 100_000)
    assert found == Conversion(cents, "average_exchange", Decimal(4000))


def test_average_rate_is_exact_for_large_sums() -> None:
    """No float on the way: 10^15 riel at 4,112 to the dollar, to the cent."""
    found = convert_at_average(10**15, KHR, USD, 4_112_000, 100_000)
    # 10^17 / 4,112 = 24,319,066,147,859.922... -> ...860
    assert found.award_units == 24_319_066_147_860


def test_average_rate_refuses_an_empty_history() -> None:
    with pytest.raises(AssertionError):
        convert_at_average(600_000, KHR, USD, 0, 0)


# -- at an explicit rate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "precision", "rate", "cents"),
    [
        (120_000, KHR, "4100", 2_927),  # transport: 29.268 -> 29.27 USD
        (410_000, KHR, "4100", 10_000),
        (20, KHR, "4000", 0),  # half a cent -> 0 (even)
        (60, KHR, "4000", 2),  # one and a half -> 2
        (100, KHR, "4000", 2),  # two and a half -> 2
        (1_000, THB, "34.5", 29),  # 10.00 THB / 34.5 = 0.28985 USD -> 0.29
        (3_450, THB, "34.50", 100),  # 34.50 THB: 1.00 USD; trailing zeros change nothing
        (100_000, KHR, "4100.5", 2_439),  # 24.387 -> 24.39 USD
    ],
)
def test_explicit_rate(units: int, precision: int, rate: str, cents: int) -> None:
    found = convert_at_rate(units, precision, USD, Decimal(rate))
    assert found == Conversion(cents, "explicit", Decimal(rate))


def test_explicit_rate_between_currencies_of_other_precisions() -> None:
    # Dollars into riel (as an exchange computes what it receives): 800.00 USD at 4,110.
    assert convert_at_rate(80_000, USD, KHR, Decimal(1) / Decimal(4110)).award_units == 3_288_000
    # Half a riel: 0.01 USD at 50 riel per dollar is 0.5 riel -> 0 (even); 0.03 -> 1.5 -> 2.
    assert convert_at_rate(1, USD, KHR, Decimal("0.02")).award_units == 0
    assert convert_at_rate(3, USD, KHR, Decimal("0.02")).award_units == 2


def test_explicit_rate_must_be_positive() -> None:
    with pytest.raises(AssertionError):
        convert_at_rate(100, KHR, USD, Decimal(0))
    with pytest.raises(AssertionError):
        convert_at_rate(100, KHR, USD, Decimal(-4100))


def test_same_currency_is_itself() -> None:
    assert same_currency(30_000) == Conversion(30_000, "same_currency", None)


# -- codes and labels --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["CTIP-2018", "USAID", "2019-UNICEF", "A", "A" * 40])
def test_award_codes_accepted(code: str) -> None:
    assert validate_award_code(code) is None


@pytest.mark.parametrize(
    "code", ["", "ctip-2018", "-CTIP", "CTIP 2018", "CTIP_2018", "A" * 41, "ស៊ីធីប", "CTIP:2018"]
)
def test_award_codes_refused(code: str) -> None:
    error = validate_award_code(code)
    assert error is not None
    assert (error.code, error.field) == ("award_code_invalid", "code")


@pytest.mark.parametrize("code", ["livelihood-grants", "transport", "2", "a" * 40])
def test_budget_line_codes_accepted(code: str) -> None:
    assert validate_budget_line_code(code, "budget_lines[0].code") is None


@pytest.mark.parametrize("code", ["", "Transport", "-grants", "grants line", "a" * 41, "g_1"])
def test_budget_line_codes_refused(code: str) -> None:
    error = validate_budget_line_code(code, "budget_lines[3].code")
    assert error is not None
    assert (error.code, error.field) == ("budget_line_code_invalid", "budget_lines[3].code")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("USAID / Winrock International", None),
        ('Donor "quoted" \\ ស្ថាប័ន', None),
        ("", "donor_invalid"),
        ("   ", "donor_invalid"),
        ("two\nlines", "donor_invalid"),
        ("carriage\rreturn", "donor_invalid"),
        ("nul\x00byte", "text_control_character"),
        ("x" * 201, "text_too_long"),
    ],
)
def test_one_line_labels(value: str, code: str | None) -> None:
    error = validate_one_line(value, 200, "donor", "donor_invalid")
    assert (error.code if error else None) == code
    if error is not None:
        assert error.field == "donor"


# -- postings ----------------------------------------------------------------------------------


def test_fund_receipt_credits_restricted_income() -> None:
    txn = fund_receipt(
        D(2018, 7, 2),
        "CTIP-2018",
        "USAID / Winrock International",
        BANK,
        "Income:Restricted:CTIP-2018",
        500_000,
        "USD",
        "First tranche",
        "WIRE-0001",
    )
    assert txn.postings == (
        Posting(BANK, 500_000, "USD"),
        Posting("Income:Restricted:CTIP-2018", -500_000, "USD"),
    )
    assert txn.meta == (("award", "CTIP-2018"), ("reference", "WIRE-0001"))
    assert txn.payee == "USAID / Winrock International"
    assert validate_transaction(txn, PRECISIONS) == ()
    no_reference = fund_receipt(
        D(2018, 7, 2), "CTIP-2018", "d" * 200, BANK, "Income:R", 1, "USD", "x", None
    )
    assert no_reference.meta == (("award", "CTIP-2018"),)


def test_exchange_balances_exactly_at_any_rate() -> None:
    """800.00 USD for 3,288,000 riel, and an awkward 1.00 USD for 4,111 riel: the riel carry a
    total price, so neither needs a rate that rounds."""
    for usd, riel in ((80_000, 3_288_000), (100, 4_111), (1, 41)):
        txn = exchange(D(2018, 11, 2), BANK, usd, "USD", BAVET, riel, "KHR", "Exchange", "fx-1")
        assert txn.postings == (
            Posting(BANK, -usd, "USD"),
            Posting(BAVET, riel, "KHR", Price("USD", total=usd)),
        )
        assert txn.links == ("fx-1",)
        assert validate_transaction(txn, PRECISIONS) == ()
        assert residuals(txn, PRECISIONS) == {}


def test_exchange_needs_two_currencies_and_positive_amounts() -> None:
    with pytest.raises(AssertionError):
        exchange(D(2018, 11, 2), BANK, 100, "USD", BANK, 100, "USD", "x", "fx-1")
    with pytest.raises(AssertionError):
        exchange(D(2018, 11, 2), BANK, 0, "USD", BAVET, 100, "KHR", "x", "fx-1")


def test_budget_expense_carries_award_and_line() -> None:
    txn = budget_expense(
        D(2018, 11, 4),
        "Expenses:Reintegration:Transport:CTIP-2018",
        BAVET,
        120_000,
        "KHR",
        "Transport home for 33 returnees",
        "Moto-taxi",
        "CTIP-2018",
        "transport",
        extra_meta=(("case", "DV-009"),),
        tags=("grant",),
        links=("disbursement-ORG-2018-0001",),
    )
    assert txn.postings == (
        Posting("Expenses:Reintegration:Transport:CTIP-2018", 120_000, "KHR"),
        Posting(BAVET, -120_000, "KHR"),
    )
    assert txn.meta == (("award", "CTIP-2018"), ("budget-line", "transport"), ("case", "DV-009"))
    assert (txn.tags, txn.links) == (("grant",), ("disbursement-ORG-2018-0001",))
    assert validate_transaction(txn, PRECISIONS) == ()
