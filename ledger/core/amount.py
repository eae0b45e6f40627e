"""Commodities, exact amounts and prices.

Inside the ledger an amount is an `int` counting the commodity's smallest unit (riel, cents,
satang, head of livestock). Text at the edges ("-100.00") is parsed strictly: no floats, no
exponents, no thousands separators, and never more fractional digits than the commodity's
precision. Excess precision is rejected, not rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

from ledger.core import limits
from ledger.core.errors import LedgerError, invalid
from ledger.core.text import validate_text

# Beancount's own currency syntax: 2 to 24 characters, ends with a letter or digit.
COMMODITY_CODE_RE = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")
# Beancount's lexer reads these as values, not currencies.
COMMODITY_CODES_RESERVED = frozenset({"TRUE", "FALSE", "NULL"})
_AMOUNT_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_PRICE_RE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Commodity:
    """A currency or a countable good. `precision` is the number of fractional digits."""

    code: str
    precision: int
    name: str = ""


def validate_commodity(code: str, precision: int, name: str = "") -> tuple[LedgerError, ...]:
    errors: list[LedgerError] = []
    if not COMMODITY_CODE_RE.fullmatch(code) or code in COMMODITY_CODES_RESERVED:
        errors.append(
            invalid(
                "commodity_code_invalid",
                "A commodity code has 2 to 24 characters: capitals, digits and ' . _ -,"
                " starting with a capital and ending with a capital or digit.",
                "code",
            )
        )
    if not 0 <= precision <= limits.COMMODITY_PRECISION_MAX:
        errors.append(
            invalid(
                "commodity_precision_invalid",
                f"Precision must be between 0 and {limits.COMMODITY_PRECISION_MAX}.",
                "precision",
            )
        )
    name_error = validate_text(name, limits.COMMODITY_NAME_LENGTH_MAX, "name")
    if name_error:
        errors.append(name_error)
    return tuple(errors)


def parse_units(text: str, precision: int, field: str) -> int | LedgerError:
    """Parse a decimal string into smallest units, or say why it cannot be."""
    assert 0 <= precision <= limits.COMMODITY_PRECISION_MAX
    if len(text) > limits.AMOUNT_TEXT_LENGTH_MAX or not _AMOUNT_RE.fullmatch(text):
        return invalid(
            "amount_invalid",
            'An amount is a decimal string such as "-100.00" or "410000".',
            field,
        )
    whole, _, fraction = text.lstrip("-").partition(".")
    if len(fraction) > precision:
        return invalid(
            "amount_precision_exceeded",
            f"This commodity allows at most {precision} digits after the decimal point.",
            field,
        )
    magnitude: int = int(whole) * 10**precision + int(fraction.ljust(precision, "0") or "0")
    if magnitude > limits.POSTING_UNITS_ABS_MAX:
        return invalid("amount_too_large", "The amount is larger than the ledger allows.", field)
    return -magnitude if text.startswith("-") else magnitude


def units_to_decimal(units: int, precision: int) -> Decimal:
    """Exact decimal value of `units` smallest units (`Decimal` at the edges)."""
    return Decimal(units).scaleb(-precision)


def format_units(units: int, precision: int) -> str:
    """Text with exactly `precision` fractional digits: 12500 cents -> "125.00"."""
    if precision == 0:
        return str(units)
    # Slicing the digits costs half of divmod and a nested format spec; the export calls
    # this for every posting.
    digits = str(-units if units < 0 else units).zfill(precision + 1)
    sign = "-" if units < 0 else ""
    return f"{sign}{digits[:-precision]}.{digits[-precision:]}"


def parse_price(text: str, field: str) -> Decimal | LedgerError:
    """Parse a positive per-unit price (it may have more digits than any commodity)."""
    if len(text) > limits.AMOUNT_TEXT_LENGTH_MAX or not _PRICE_RE.fullmatch(text):
        return invalid(
            "price_invalid", 'A price is a positive decimal string such as "4100".', field
        )
    number = Decimal(text)
    if not price_within_limits(number):
        return invalid(
            "price_invalid",
            f"A price is positive, below {limits.PRICE_ABS_MAX} and has at most "
            f"{limits.PRICE_DIGITS_MAX} significant digits.",
            field,
        )
    return number


def price_within_limits(number: Decimal) -> bool:
    """True when `number` can be a per-unit price: finite, positive, within the limits."""
    return (
        number.is_finite()
        and 0 < number < limits.PRICE_ABS_MAX
        and len(number.as_tuple().digits) <= limits.PRICE_DIGITS_MAX
    )


def weight_of_unit_price(
    units: int, units_precision: int, price: Decimal, price_precision: int
) -> int | None:
    """Smallest units of the price commodity that `units` at `price` each weigh.

    None when the product does not land exactly on the price commodity's precision: a rate
    that would round must be given as a total price instead.
    """
    with localcontext() as context:
        context.prec = 100
        value = units_to_decimal(units, units_precision) * price
        scaled = value.scaleb(price_precision)
        if scaled != scaled.to_integral_value():
            return None
        return int(scaled)
