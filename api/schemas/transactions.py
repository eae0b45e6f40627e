"""Transactions as the API accepts and returns them (amounts are decimal strings)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated

import msgspec

from ledger.core import limits
from ledger.core.amount import format_units
from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.store.journal_reads import StoredTransaction

Amount = Annotated[
    str, msgspec.Meta(max_length=limits.AMOUNT_TEXT_LENGTH_MAX, examples=["-100.00", "410000"])
]


class PriceIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    currency: Annotated[str, msgspec.Meta(max_length=24)]


class PostingCreate(msgspec.Struct, forbid_unknown_fields=True):
    account: Annotated[str, msgspec.Meta(max_length=limits.ACCOUNT_NAME_LENGTH_MAX)]
    amount: Amount
    currency: Annotated[str, msgspec.Meta(max_length=24)]
    price: PriceIn | None = None
    total_price: PriceIn | None = None


class TransactionCreate(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    narration: Annotated[str, msgspec.Meta(max_length=limits.NARRATION_LENGTH_MAX)]
    postings: Annotated[
        list[PostingCreate], msgspec.Meta(max_length=limits.POSTINGS_PER_TRANSACTION_MAX + 1)
    ]
    payee: Annotated[str, msgspec.Meta(max_length=limits.PAYEE_LENGTH_MAX)] | None = None
    tags: Annotated[list[str], msgspec.Meta(max_length=limits.TAGS_PER_TRANSACTION_MAX)] = (
        msgspec.field(default_factory=list)
    )
    links: Annotated[list[str], msgspec.Meta(max_length=limits.LINKS_PER_TRANSACTION_MAX)] = (
        msgspec.field(default_factory=list)
    )
    meta: dict[str, str] = msgspec.field(default_factory=dict)

    def to_draft(self) -> TransactionDraft:
        return TransactionDraft(
            date=self.date,
            narration=self.narration,
            payee=self.payee,
            tags=tuple(self.tags),
            links=tuple(self.links),
            meta=tuple(self.meta.items()),
            postings=tuple(
                PostingDraft(
                    account=p.account,
                    amount=p.amount,
                    currency=p.currency,
                    price=PriceDraft(p.price.amount, p.price.currency) if p.price else None,
                    total_price=(
                        PriceDraft(p.total_price.amount, p.total_price.currency)
                        if p.total_price
                        else None
                    ),
                )
                for p in self.postings
            ),
        )


class PriceOut(msgspec.Struct):
    amount: str
    currency: str


class PostingOut(msgspec.Struct, omit_defaults=True):
    account: str
    amount: str
    currency: str
    price: PriceOut | None = None
    total_price: PriceOut | None = None


class Transaction(msgspec.Struct):
    id: int
    book: str
    date: datetime.date
    payee: str | None
    narration: str
    tags: list[str]
    links: list[str]
    meta: dict[str, str]
    postings: list[PostingOut]
    reverses: int | None
    reversed_by: int | None
    created_at: datetime.datetime
    created_by: str | None

    @classmethod
    def of(cls, book: str, stored: StoredTransaction, precisions: Mapping[str, int]) -> Transaction:
        txn = stored.txn
        postings = []
        for p in txn.postings:
            out = PostingOut(p.account, format_units(p.units, precisions[p.commodity]), p.commodity)
            if p.price is not None and p.price.per_unit is not None:
                out.price = PriceOut(format(p.price.per_unit, "f"), p.price.commodity)
            elif p.price is not None and p.price.total is not None:
                total = format_units(p.price.total, precisions[p.price.commodity])
                out.total_price = PriceOut(total, p.price.commodity)
            postings.append(out)
        return cls(
            id=stored.id,
            book=book,
            date=txn.date,
            payee=txn.payee,
            narration=txn.narration,
            tags=list(txn.tags),
            links=list(txn.links),
            meta=dict(txn.meta),
            postings=postings,
            reverses=stored.reverses_id,
            reversed_by=stored.reversed_by,
            created_at=stored.created_at,
            created_by=stored.created_by,
        )


class TransactionPage(msgspec.Struct):
    items: list[Transaction]
    next_cursor: str | None


class ReverseCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Reverse a transaction on `date` (default: today, UTC)."""

    date: datetime.date | None = None
    narration: Annotated[str, msgspec.Meta(max_length=limits.NARRATION_LENGTH_MAX)] | None = None


EXAMPLE_EXCHANGE = {
    "date": "2018-11-04",
    "narration": "Exchange for cash disbursements at Bavet",
    "payee": None,
    "tags": ["ctip"],
    "links": ["fx-2018-11-04"],
    "meta": {"case": "DV-009"},
    "postings": [
        {"account": "Assets:Bank:Operating-USD", "amount": "-100.00", "currency": "USD"},
        {
            "account": "Assets:Cash:Bavet-KHR",
            "amount": "410000",
            "currency": "KHR",
            "total_price": {"amount": "100.00", "currency": "USD"},
        },
    ],
}

# Reverse the exchange above the next day (tests/api/test_transactions.py reverses one so).
EXAMPLE_REVERSAL = {"date": "2018-11-05", "narration": "Entered twice"}


TRANSACTIONS_HEADER = (
    "transaction_id",
    "date",
    "payee",
    "narration",
    "tags",
    "links",
    "account",
    "amount",
    "currency",
    "price",
    "total_price",
    "price_currency",
    "reverses",
    "reversed_by",
)


def transaction_rows(items: Iterable[Transaction]) -> Iterator[tuple[str, ...]]:
    """One row per posting, the transaction's fields repeated: what a pivot table wants."""
    for t in items:
        for p in t.postings:
            price = p.price or p.total_price
            per_unit = "" if p.price is None else p.price.amount
            total = "" if p.total_price is None else p.total_price.amount
            yield (
                str(t.id),
                t.date.isoformat(),
                t.payee or "",
                t.narration,
                " ".join(t.tags),
                " ".join(t.links),
                p.account,
                p.amount,
                p.currency,
                per_unit,
                total,
                "" if price is None else price.currency,
                "" if t.reverses is None else str(t.reverses),
                "" if t.reversed_by is None else str(t.reversed_by),
            )
