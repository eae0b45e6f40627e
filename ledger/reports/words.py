"""Amounts in words, in English and in Khmer, for receipts a beneficiary signs.

Pure functions over `Decimal`. A receipt states what was paid twice, in figures and in words,
so that a figure altered by hand no longer matches the words.

English follows the cheque style of the region: "One hundred twenty dollars and 50 cents"
(cents in figures), no "and" inside the whole part, hyphens in 21 to 99.

Khmer writes numbers with the Khmer place words (រយ hundred, ពាន់ thousand, ម៉ឺន ten
thousand, សែន hundred thousand, លាន million), each preceded by its digit, one included
(មួយរយ, មួយពាន់), and the words run together without spaces, as on a Cambodian cheque:
410000 is បួនសែនមួយម៉ឺន, 2376000 is ពីរលានបីសែនប្រាំពីរម៉ឺនប្រាំមួយពាន់. Above a million,
the count of millions is itself written with these words (ដប់លាន, មួយរយលាន, មួយពាន់លាន,
មួយម៉ឺនលាន), never with the old កោដិ (ten million), which readers no longer agree on.

Limits: amounts are refused (ValueError) when negative, when they have more fractional digits
than the currency allows (riel have none), when their whole part exceeds `WHOLE_UNITS_MAX`
(just under one trillion: 10^12 riel is far beyond any grant or group), and when the currency
has no words here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The largest whole part this module writes out (999,999,999,999).
WHOLE_UNITS_MAX = 10**12 - 1

_KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


@dataclass(frozen=True, slots=True)
class CurrencyWords:
    """How a currency and its minor unit are named. `precision` is its fractional digits."""

    precision: int
    en_one: str
    en_many: str
    km: str
    en_minor_one: str = ""
    en_minor_many: str = ""
    km_minor: str = ""


CURRENCY_WORDS: dict[str, CurrencyWords] = {
    "KHR": CurrencyWords(0, "riel", "riel", "រៀល"),
    "USD": CurrencyWords(2, "dollar", "dollars", "ដុល្លារ", "cent", "cents", "សេន"),
    "THB": CurrencyWords(2, "baht", "baht", "បាត", "satang", "satang", "សតាង"),
}

_EN_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))

_KM_ONES = (
    "សូន្យ", "មួយ", "ពីរ", "បី", "បួន", "ប្រាំ", "ប្រាំមួយ", "ប្រាំពីរ", "ប្រាំបី", "ប្រាំបួន",
)  # fmt: skip
_KM_TENS = (
    "", "ដប់", "ម្ភៃ", "សាមសិប", "សែសិប", "ហាសិប", "ហុកសិប", "ចិតសិប", "ប៉ែតសិប", "កៅសិប",
)  # fmt: skip
# Place words below a million, largest first.
_KM_PLACES = ((100_000, "សែន"), (10_000, "ម៉ឺន"), (1_000, "ពាន់"), (100, "រយ"))
_KM_MILLION = "លាន"
_KM_AND = "និង"


def khmer_digits(text: str) -> str:
    """`text` with the ASCII digits 0-9 replaced by the Khmer digits ០-៩; nothing else changes."""
    return text.translate(_KHMER_DIGITS)


def amount_in_words_en(amount: Decimal, currency: str) -> str:
    """`Decimal("120.50"), "USD"` -> "One hundred twenty dollars and 50 cents"."""
    words, whole, minor = _split(amount, currency)
    text = f"{_en_integer(whole)} {words.en_one if whole == 1 else words.en_many}"
    if minor:
        text += f" and {minor} {words.en_minor_one if minor == 1 else words.en_minor_many}"
    return text[0].upper() + text[1:]


def amount_in_words_km(amount: Decimal, currency: str) -> str:
    """`Decimal("410000"), "KHR"` -> "បួនសែនមួយម៉ឺនរៀល"; cents follow after និង."""
    words, whole, minor = _split(amount, currency)
    text = f"{_km_integer(whole)}{words.km}"
    if minor:
        text += f" {_KM_AND} {_km_integer(minor)}{words.km_minor}"
    return text


def _split(amount: Decimal, currency: str) -> tuple[CurrencyWords, int, int]:
    """The currency's words, the whole part and the minor units, or ValueError."""
    words = CURRENCY_WORDS.get(currency)
    if words is None:
        raise ValueError(f"No words for the currency {currency!r}.")
    if not amount.is_finite():
        raise ValueError("An amount in words must be a finite number.")
    if amount < 0:
        raise ValueError("An amount in words cannot be negative.")
    if amount >= WHOLE_UNITS_MAX + 1:
        raise ValueError(f"An amount in words is at most {WHOLE_UNITS_MAX:,}.")
    # Exact integer arithmetic on the digits: Decimal operations would round to the context's
    # 28 digits and could turn 0.00999...9 (40 digits) into one whole cent.
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    coefficient = int("".join(map(str, digits)))
    shift = exponent + words.precision
    if coefficient == 0:
        return words, 0, 0  # also 0E+999999, whose power of ten is not worth computing
    if shift < 0:
        # Below 10**len(digits) the whole coefficient would be dropped: no huge power needed.
        if -shift > len(digits):
            coefficient, dropped = 0, coefficient
        else:
            coefficient, dropped = divmod(coefficient, 10**-shift)
        if dropped:
            raise ValueError(f"{currency} has at most {words.precision} digits after the point.")
    else:
        coefficient *= 10**shift
    whole, minor = divmod(coefficient, 10**words.precision)
    return words, whole, minor


def _en_integer(n: int) -> str:
    if n < 1000:
        return _en_below_thousand(n)
    parts: list[str] = []
    for scale, name in _EN_SCALES:
        count, n = divmod(n, scale)
        if count:
            parts.append(f"{_en_below_thousand(count)} {name}")
    if n:
        parts.append(_en_below_thousand(n))
    return " ".join(parts)


def _en_below_thousand(n: int) -> str:
    assert 0 <= n < 1000
    hundreds, rest = divmod(n, 100)
    parts: list[str] = []
    if hundreds:
        parts.append(f"{_EN_ONES[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    elif rest or not hundreds:
        parts.append(_EN_ONES[rest])
    return " ".join(parts)


def _km_integer(n: int) -> str:
    if n == 0:
        return _KM_ONES[0]
    millions, rest = divmod(n, 1_000_000)
    text = f"{_km_below_million(millions)}{_KM_MILLION}" if millions else ""
    return text + _km_below_million(rest)


def _km_below_million(n: int) -> str:
    """Khmer words for 0 < n < 1,000,000 ("" for 0, so callers can append it)."""
    assert 0 <= n < 1_000_000
    parts: list[str] = []
    for place, name in _KM_PLACES:
        digit, n = divmod(n, place)
        if digit:
            parts.append(_KM_ONES[digit] + name)
    tens, ones = divmod(n, 10)
    if tens:
        parts.append(_KM_TENS[tens])
    if ones:
        parts.append(_KM_ONES[ones])
    return "".join(parts)
