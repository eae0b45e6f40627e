"""Amounts at the edge: strict text in, exact integers of the smallest unit out.

Riel have no fractional digits, dollars and baht two, livestock are counted in whole head.
Anything a field officer's phone might send that is not a plain decimal string is refused with
a stable code, and nothing is ever rounded.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.core import limits
from ledger.core.amount import (
    format_units,
    parse_price,
    parse_units,
    units_to_decimal,
    validate_commodity,
    weight_of_unit_price,
)
from ledger.core.errors import LedgerError

KHR, USD, PIG = 0, 2, 0  # precisions


def code_of(result: object) -> str:
    assert isinstance(result, LedgerError), f"expected an error, got {result!r}"
    return result.code


# -- parse_units -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "precision", "units"),
    [
        ("410000", KHR, 410_000),  # a day's exchange at the Bavet office
        ("-410000", KHR, -410_000),
        ("100.00", USD, 10_000),
        ("-100.00", USD, -10_000),
        ("31.25", USD, 3_125),
        ("0.5", USD, 50),  # fewer digits than the precision is exact
        ("7", USD, 700),
        ("0.01", USD, 1),
        ("2", PIG, 2),
        ("0", KHR, 0),
        ("1000000000000000", KHR, limits.POSTING_UNITS_ABS_MAX),
        ("-10000000000000.00", USD, -limits.POSTING_UNITS_ABS_MAX),
        ("0.00000001", 8, 1),
    ],
)
def test_plain_decimal_strings_parse_to_exact_smallest_units(
    text: str, precision: int, units: int
) -> None:
    assert parse_units(text, precision, "amount") == units


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("1.001", USD),  # a tenth of a cent does not exist
        ("1.5", KHR),  # nor half a riel
        ("1.00", KHR),  # even written-out zeros are more digits than riel have
        ("0.5", PIG),  # nor half a pig
        ("-12.345", USD),
        ("0.000000001", 8),
    ],
)
def test_more_digits_than_the_commodity_has_are_refused_not_rounded(
    text: str, precision: int
) -> None:
    result = parse_units(text, precision, "postings[0].amount")
    assert isinstance(result, LedgerError)
    assert result.code == "amount_precision_exceeded"
    assert result.field == "postings[0].amount"
    assert result.kind == "invalid"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "1e5",
        "1E5",
        " 1",
        "1 ",
        "1\n",
        "1,000",
        "1_000",
        "+1",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        ".5",
        "5.",
        "01",
        "-01.00",
        "1.2.3",
        "0x10",
        "--1",
        "១០០០",  # Khmer digits: a person reads them, the ledger does not
        "١٢",  # Arabic-Indic digits pass str.isdigit(), not this parser
        "１２",  # full-width digits
        "1" * 10_000,  # a hostile 10,000-character amount never reaches int() or Decimal
        "1" * (limits.AMOUNT_TEXT_LENGTH_MAX + 1),
    ],
)
def test_anything_but_a_plain_decimal_string_is_amount_invalid(text: str) -> None:
    assert code_of(parse_units(text, USD, "amount")) == "amount_invalid"


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("1" + "0" * 29, KHR),  # a 30-digit amount
        ("9" * 30, USD),
        ("-" + "9" * 30, KHR),
        ("1000000000000001", KHR),  # one riel over the limit
        ("10000000000000.01", USD),  # one cent over the limit
    ],
)
def test_amounts_beyond_the_posting_limit_are_amount_too_large(text: str, precision: int) -> None:
    assert code_of(parse_units(text, precision, "amount")) == "amount_too_large"


# -- format_units and units_to_decimal -------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "precision", "text"),
    [
        (12_500, USD, "125.00"),
        (-5, USD, "-0.05"),
        (0, USD, "0.00"),
        (410_000, KHR, "410000"),
        (-410_000, KHR, "-410000"),
        (2, PIG, "2"),
        (1, 8, "0.00000001"),
    ],
)
def test_format_units_writes_exactly_the_commodity_precision(
    units: int, precision: int, text: str
) -> None:
    assert format_units(units, precision) == text


@pytest.mark.parametrize("precision", [0, 2, 8])
@pytest.mark.parametrize(
    "units",
    [
        0,
        1,
        -1,
        99,
        -100,
        12_345,
        410_000,
        -limits.POSTING_UNITS_ABS_MAX,
        limits.POSTING_UNITS_ABS_MAX,
    ],
)
def test_format_then_parse_gives_back_the_same_units(units: int, precision: int) -> None:
    assert parse_units(format_units(units, precision), precision, "amount") == units


def test_units_to_decimal_is_exact() -> None:
    assert units_to_decimal(3_125, USD) == Decimal("31.25")
    assert units_to_decimal(-410_000, KHR) == Decimal("-410000")
    assert units_to_decimal(limits.POSTING_UNITS_ABS_MAX, USD) == Decimal("10000000000000.00")


# -- prices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("4100", Decimal(4100)),  # riel per dollar
        ("4100.5", Decimal("4100.5")),
        ("0.000245", Decimal("0.000245")),  # dollars per riel: more digits than any commodity
        ("650000", Decimal(650_000)),  # riel per pig
        ("999999999999.99999999", Decimal("999999999999.99999999")),  # 20 significant digits
    ],
)
def test_a_price_is_a_positive_exact_decimal(text: str, price: Decimal) -> None:
    assert parse_price(text, "price") == price


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "0.00",
        "-4100",
        "+4100",
        "4,100",
        "4.1e3",
        "NaN",
        "",
        " 4100",
        "1000000000000",  # the limit is exclusive
        "123456789.123456789012",  # 21 significant digits
        "1" * 10_000,
    ],
)
def test_anything_else_is_price_invalid(text: str) -> None:
    result = parse_price(text, "postings[1].price.amount")
    assert isinstance(result, LedgerError)
    assert result.code == "price_invalid"
    assert result.field == "postings[1].price.amount"


def test_weight_of_a_unit_price_lands_exactly_on_the_price_commodity() -> None:
    # 100.00 USD at 4,100 riel each weigh 410,000 riel.
    assert weight_of_unit_price(10_000, USD, Decimal(4100), KHR) == 410_000
    # 2 pigs at 650,000 riel a head.
    assert weight_of_unit_price(2, PIG, Decimal(650_000), KHR) == 1_300_000
    # 10,000 riel at 0.000245 dollars a riel are 2.45 dollars.
    assert weight_of_unit_price(10_000, KHR, Decimal("0.000245"), USD) == 245
    # The sign follows the units: money going out weighs negative.
    assert weight_of_unit_price(-10_000, USD, Decimal(4100), KHR) == -410_000


def test_weight_of_a_unit_price_that_would_round_is_none() -> None:
    # 1 riel at 0.000245 dollars is 0.0245 cents: no such amount, so no weight.
    assert weight_of_unit_price(1, KHR, Decimal("0.000245"), USD) is None
    # 0.01 USD at 4100.5 riel is 41.005 riel.
    assert weight_of_unit_price(1, USD, Decimal("4100.5"), KHR) is None


def test_weight_of_a_unit_price_is_exact_at_the_limits() -> None:
    big = limits.POSTING_UNITS_ABS_MAX
    price = Decimal("999999999999.99999999")
    assert weight_of_unit_price(big, 0, price, 8) == big * 99_999_999_999_999_999_999


# -- commodities -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["KHR", "USD", "THB", "PIG", "CHICKEN", "RICE-KG", "FEED_25KG"])
def test_commodity_codes_follow_beancount(code: str) -> None:
    assert validate_commodity(code, 0) == ()


@pytest.mark.parametrize("code", ["khr", "K", "PIG HEAD", "1PIG", "PIG-", "X" * 25, "ជ្រូក", ""])
def test_bad_commodity_codes_are_refused(code: str) -> None:
    assert [e.code for e in validate_commodity(code, 0)] == ["commodity_code_invalid"]


@pytest.mark.parametrize("precision", [-1, 9])
def test_commodity_precision_is_between_0_and_8(precision: int) -> None:
    assert [e.code for e in validate_commodity("KHR", precision)] == ["commodity_precision_invalid"]


def test_commodity_name_has_a_limit() -> None:
    assert validate_commodity("PIG", 0, "p" * limits.COMMODITY_NAME_LENGTH_MAX) == ()
    assert [e.code for e in validate_commodity("PIG", 0, "p" * 101)] == ["text_too_long"]
