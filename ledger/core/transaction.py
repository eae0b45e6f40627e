"""Immutable transactions and postings, and the checks every transaction must pass.

A `Transaction` is built from a `TransactionDraft` (text amounts, as they arrive at the edge)
by `build_transaction`, which returns either the transaction or every error found. Nothing
here touches a database: the journal calls these functions before it writes.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ledger.core import limits
from ledger.core.account import validate_account_name
from ledger.core.amount import (
    parse_price,
    parse_units,
    price_within_limits,
    weight_of_unit_price,
)
from ledger.core.errors import LedgerError, invalid
from ledger.core.text import validate_text

TAG_RE = re.compile(rf"[A-Za-z0-9_/.-]{{1,{limits.TAG_LENGTH_MAX}}}")
# Beancount reads a metadata key of two characters or more.
META_KEY_RE = re.compile(rf"[a-z][a-zA-Z0-9_-]{{1,{limits.META_KEY_LENGTH_MAX - 1}}}")
# Keys the export writes itself, or that Beancount's loader attaches to every entry.
META_KEYS_RESERVED = frozenset({"id", "reverses", "filename", "lineno", "created-by"})


@dataclass(frozen=True, slots=True)
class Price:
    """What one posting is worth in another commodity: per unit, or in total (`@` / `@@`)."""

    commodity: str
    per_unit: Decimal | None = None
    total: int | None = None  # smallest units of `commodity`, positive

    def __post_init__(self) -> None:
        if (self.per_unit is None) == (self.total is None):
            raise ValueError("a Price has exactly one of per_unit and total")


@dataclass(frozen=True, slots=True)
class Posting:
    """`units` counts the smallest unit of `commodity` (cents, riel, head)."""

    account: str
    units: int
    commodity: str
    price: Price | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    date: datetime.date
    narration: str
    postings: tuple[Posting, ...]
    payee: str | None = None
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PriceDraft:
    amount: str
    currency: str


@dataclass(frozen=True, slots=True)
class PostingDraft:
    account: str
    amount: str
    currency: str
    price: PriceDraft | None = None
    total_price: PriceDraft | None = None


@dataclass(frozen=True, slots=True)
class TransactionDraft:
    """A transaction as a client sends it: amounts are decimal strings."""

    date: datetime.date
    narration: str
    postings: tuple[PostingDraft, ...]
    payee: str | None = None
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()


def draft_commodities(draft: TransactionDraft) -> frozenset[str]:
    """Every commodity a draft names: its postings' and their prices'."""
    named = {p.currency for p in draft.postings}
    named.update(p.price.currency for p in draft.postings if p.price is not None)
    named.update(p.total_price.currency for p in draft.postings if p.total_price is not None)
    return frozenset(named)


def weight(posting: Posting, precisions: Mapping[str, int]) -> tuple[str, int] | None:
    """(commodity, smallest units) the posting weighs; None when a unit price would round."""
    price = posting.price
    if price is None:
        return posting.commodity, posting.units
    if price.total is not None:
        sign = -1 if posting.units < 0 else 1
        return price.commodity, sign * price.total
    assert price.per_unit is not None
    weighed = weight_of_unit_price(
        posting.units,
        precisions[posting.commodity],
        price.per_unit,
        precisions[price.commodity],
    )
    return None if weighed is None else (price.commodity, weighed)


def residuals(txn: Transaction, precisions: Mapping[str, int]) -> dict[str, int]:
    """Sum of weights per commodity, leaving out zeros. Empty means balanced."""
    sums: dict[str, int] = defaultdict(int)
    for posting in txn.postings:
        weighed = weight(posting, precisions)
        assert weighed is not None, "call validate_transaction first"
        sums[weighed[0]] += weighed[1]
    return {commodity: total for commodity, total in sums.items() if total != 0}


def _validate_labels(txn: Transaction) -> list[LedgerError]:
    errors: list[LedgerError] = []
    if len(txn.tags) > limits.TAGS_PER_TRANSACTION_MAX:
        errors.append(invalid("too_many_tags", "Too many tags.", "tags"))
    if len(txn.links) > limits.LINKS_PER_TRANSACTION_MAX:
        errors.append(invalid("too_many_links", "Too many links.", "links"))
    for index, tag in enumerate(txn.tags):
        if not TAG_RE.fullmatch(tag):
            errors.append(
                invalid(
                    "tag_invalid", "Tags use ASCII letters, digits and _ / . -.", f"tags[{index}]"
                )
            )
    for index, link in enumerate(txn.links):
        if not TAG_RE.fullmatch(link):
            errors.append(
                invalid(
                    "link_invalid",
                    "Links use ASCII letters, digits and _ / . -.",
                    f"links[{index}]",
                )
            )
    if len(txn.meta) > limits.META_ENTRIES_PER_TRANSACTION_MAX:
        errors.append(invalid("too_many_meta", "Too many metadata entries.", "meta"))
    seen_keys: set[str] = set()
    for key, value in txn.meta:
        if key in seen_keys:
            # Stored metadata holds one value per key: a second would silently replace the first.
            errors.append(
                invalid("meta_key_repeated", "A metadata key is given twice.", f"meta.{key[:64]}")
            )
            continue
        seen_keys.add(key)
        if not META_KEY_RE.fullmatch(key) or key in META_KEYS_RESERVED:
            errors.append(
                invalid(
                    "meta_key_invalid",
                    "Metadata keys start with a lowercase letter, use ASCII letters, digits,"
                    f" _ and -, and are not one of {sorted(META_KEYS_RESERVED)}.",
                    f"meta.{key[:64]}",
                )
            )
            continue
        text_error = validate_text(value, limits.META_VALUE_LENGTH_MAX, f"meta.{key}")
        if text_error:
            errors.append(text_error)
    return errors


def _validate_posting(
    index: int, posting: Posting, precisions: Mapping[str, int]
) -> list[LedgerError]:
    field = f"postings[{index}]"
    errors: list[LedgerError] = []
    name_error = validate_account_name(posting.account, f"{field}.account")
    if name_error:
        errors.append(name_error)
    if posting.commodity not in precisions:
        errors.append(
            invalid("commodity_unknown", "This commodity is not defined.", f"{field}.currency")
        )
        return errors
    if posting.units == 0:
        errors.append(
            invalid("amount_zero", "A posting moves a non-zero amount.", f"{field}.amount")
        )
    if abs(posting.units) > limits.POSTING_UNITS_ABS_MAX:
        errors.append(invalid("amount_too_large", "The amount is too large.", f"{field}.amount"))
    price = posting.price
    if price is None:
        return errors
    if price.commodity not in precisions:
        errors.append(invalid("commodity_unknown", "The price's commodity is not defined.", field))
    elif price.commodity == posting.commodity:
        errors.append(
            invalid("price_same_commodity", "A price is in another commodity.", f"{field}.price")
        )
    elif price.total is not None and not 0 < price.total <= limits.POSTING_UNITS_ABS_MAX:
        errors.append(
            invalid("price_invalid", "A total price is positive and within limits.", field)
        )
    elif price.per_unit is not None and not price_within_limits(price.per_unit):
        # Posting rules build prices in code, so the limits parse_price applies are checked here
        # too: a negative price would make an unbalanced entry look balanced.
        errors.append(
            invalid(
                "price_invalid", "A unit price is positive and within limits.", f"{field}.price"
            )
        )
    else:
        weighed = weight(posting, precisions)
        if weighed is None:
            errors.append(
                invalid(
                    "price_weight_inexact",
                    "Amount times this unit price does not land on the price commodity's"
                    " precision; give a total_price instead.",
                    f"{field}.price",
                )
            )
        elif abs(weighed[1]) > limits.POSTING_UNITS_ABS_MAX:
            # Each side of a swap may be within limits while its weight is not (and would not
            # fit the database's 64-bit weight column).
            errors.append(
                invalid(
                    "amount_too_large",
                    "The amount at this unit price weighs more than the ledger allows.",
                    f"{field}.price",
                )
            )
    return errors


def validate_transaction(
    txn: Transaction, precisions: Mapping[str, int]
) -> tuple[LedgerError, ...]:
    """Every reason `txn` cannot be posted, in the order a reader would fix them."""
    if is_plainly_valid(txn, precisions):
        return ()
    return find_errors(txn, precisions)


def is_plainly_valid(txn: Transaction, precisions: Mapping[str, int]) -> bool:
    """True only when `find_errors` finds nothing, decided fast for the common shape.

    A bulk import sends thousands of valid, unpriced, unlabelled transactions, and building
    a field name per posting for errors that never come cost more than writing the rows. This
    checks the same rules as `find_errors` for that shape without allocating; False means
    "maybe not" (labels, prices, or a broken rule), and the full checks then decide and say why.
    """
    postings = txn.postings
    if (
        not limits.POSTINGS_PER_TRANSACTION_MIN
        <= len(postings)
        <= limits.POSTINGS_PER_TRANSACTION_MAX
    ):
        return False
    if txn.tags or txn.links or txn.meta:
        return False
    if validate_text(txn.narration, limits.NARRATION_LENGTH_MAX, "narration") is not None:
        return False
    if (
        txn.payee is not None
        and validate_text(txn.payee, limits.PAYEE_LENGTH_MAX, "payee") is not None
    ):
        return False
    sums: dict[str, int] = {}
    for posting in postings:
        units = posting.units
        commodity = posting.commodity
        if (
            posting.price is not None
            or commodity not in precisions
            or units == 0
            or abs(units) > limits.POSTING_UNITS_ABS_MAX
            or validate_account_name(posting.account) is not None
        ):
            return False
        sums[commodity] = sums.get(commodity, 0) + units
    return not any(sums.values())


def find_errors(txn: Transaction, precisions: Mapping[str, int]) -> tuple[LedgerError, ...]:
    """`validate_transaction` without its fast path: every error, built one by one."""
    errors: list[LedgerError] = []
    count = len(txn.postings)
    if count < limits.POSTINGS_PER_TRANSACTION_MIN:
        errors.append(
            invalid("too_few_postings", "A transaction has at least two postings.", "postings")
        )
    if count > limits.POSTINGS_PER_TRANSACTION_MAX:
        errors.append(
            invalid(
                "too_many_postings",
                f"A transaction has at most {limits.POSTINGS_PER_TRANSACTION_MAX} postings.",
                "postings",
            )
        )
        return tuple(errors)
    for field, value, length_max in (
        ("narration", txn.narration, limits.NARRATION_LENGTH_MAX),
        ("payee", txn.payee or "", limits.PAYEE_LENGTH_MAX),
    ):
        text_error = validate_text(value, length_max, field)
        if text_error:
            errors.append(text_error)
    errors.extend(_validate_labels(txn))
    for index, posting in enumerate(txn.postings):
        errors.extend(_validate_posting(index, posting, precisions))
    if errors:
        return tuple(errors)
    unbalanced = residuals(txn, precisions)
    if unbalanced:
        detail = ", ".join(
            f"{commodity} off by {units}" for commodity, units in sorted(unbalanced.items())
        )
        errors.append(
            invalid(
                "transaction_not_balanced",
                f"Postings must sum to zero in every commodity ({detail} smallest units).",
                "postings",
            )
        )
    return tuple(errors)


def _parse_price_draft(
    draft: PostingDraft, precisions: Mapping[str, int], field: str
) -> Price | LedgerError | None:
    if draft.price is not None and draft.total_price is not None:
        return invalid("price_conflict", "Give price or total_price, not both.", field)
    if draft.price is not None:
        per_unit = parse_price(draft.price.amount, f"{field}.price.amount")
        if isinstance(per_unit, LedgerError):
            return per_unit
        return Price(commodity=draft.price.currency, per_unit=per_unit)
    if draft.total_price is not None:
        currency = draft.total_price.currency
        if currency not in precisions:
            return invalid(
                "commodity_unknown",
                "This commodity is not defined.",
                f"{field}.total_price.currency",
            )
        total = parse_units(
            draft.total_price.amount, precisions[currency], f"{field}.total_price.amount"
        )
        if isinstance(total, LedgerError):
            return total
        return Price(commodity=currency, total=total)
    return None


def build_transaction(
    draft: TransactionDraft, precisions: Mapping[str, int]
) -> Transaction | tuple[LedgerError, ...]:
    """Parse a draft's amounts and validate the result: the transaction, or every error."""
    if len(draft.postings) > limits.POSTINGS_PER_TRANSACTION_MAX:
        return (
            invalid(
                "too_many_postings",
                f"A transaction has at most {limits.POSTINGS_PER_TRANSACTION_MAX} postings.",
                "postings",
            ),
        )
    errors: list[LedgerError] = []
    postings: list[Posting] = []
    for index, posting_draft in enumerate(draft.postings):
        field = f"postings[{index}]"
        precision = precisions.get(posting_draft.currency)
        if precision is None:
            errors.append(
                invalid("commodity_unknown", "This commodity is not defined.", f"{field}.currency")
            )
            continue
        units = parse_units(posting_draft.amount, precision, f"{field}.amount")
        price = _parse_price_draft(posting_draft, precisions, field)
        if isinstance(units, LedgerError):
            errors.append(units)
        if isinstance(price, LedgerError):
            errors.append(price)
        if isinstance(units, int) and not isinstance(price, LedgerError):
            postings.append(Posting(posting_draft.account, units, posting_draft.currency, price))
    if errors:
        return tuple(errors)
    txn = Transaction(
        date=draft.date,
        narration=draft.narration,
        payee=draft.payee,
        tags=draft.tags,
        links=draft.links,
        meta=draft.meta,
        postings=tuple(postings),
    )
    found = validate_transaction(txn, precisions)
    return found if found else txn


def reversal_of(original: Transaction, date: datetime.date, narration: str) -> Transaction:
    """The transaction that undoes `original`: same postings with opposite units."""
    return Transaction(
        date=date,
        narration=narration,
        payee=original.payee,
        tags=original.tags,
        links=original.links,
        meta=original.meta,
        postings=tuple(
            Posting(p.account, -p.units, p.commodity, p.price) for p in original.postings
        ),
    )
