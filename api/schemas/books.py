"""Books, commodities, accounts, lock dates and balances as the API shows them."""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from ledger.core.amount import Commodity as CoreCommodity
from ledger.store.books import Account as StoredAccount
from ledger.store.books import Book as StoredBook

BookKind = Annotated[str, msgspec.Meta(examples=["organisation", "savings_group", "household"])]


class BookCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=40, examples=["org", "sg-kt-001"])]
    name: Annotated[str, msgspec.Meta(max_length=200)]
    kind: BookKind
    operating_currency: Annotated[str, msgspec.Meta(max_length=24, examples=["USD", "KHR"])]
    province: Annotated[str, msgspec.Meta(max_length=100, examples=["Svay Rieng"])] | None = None


class Book(msgspec.Struct):
    code: str
    name: str
    kind: str
    operating_currency: str
    lock_date: datetime.date | None
    province: str | None
    created_at: datetime.datetime

    @classmethod
    def of(cls, book: StoredBook) -> Book:
        return cls(
            code=book.code,
            name=book.name,
            kind=book.kind,
            operating_currency=book.operating_currency,
            lock_date=book.lock_date,
            province=book.province,
            created_at=book.created_at,
        )


class LockDate(msgspec.Struct, forbid_unknown_fields=True):
    lock_date: datetime.date


class CommodityCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=24, examples=["EUR", "FEED-KG"])]
    precision: Annotated[int, msgspec.Meta(ge=0, le=8)]
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class Commodity(msgspec.Struct):
    code: str
    precision: int
    name: str

    @classmethod
    def of(cls, commodity: CoreCommodity) -> Commodity:
        return cls(code=commodity.code, precision=commodity.precision, name=commodity.name)


class AccountCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200, examples=["Assets:Cash:Bavet-KHR"])]
    open_date: datetime.date
    currencies: Annotated[list[str], msgspec.Meta(max_length=16)] = msgspec.field(
        default_factory=list
    )
    non_negative: bool = False


class Account(msgspec.Struct):
    id: int
    name: str
    open_date: datetime.date
    close_date: datetime.date | None
    currencies: list[str]
    non_negative: bool

    @classmethod
    def of(cls, account: StoredAccount) -> Account:
        return cls(
            id=account.id,
            name=account.name,
            open_date=account.open_date,
            close_date=account.close_date,
            currencies=list(account.currencies),
            non_negative=account.non_negative,
        )


class AccountClose(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date


class BalanceLine(msgspec.Struct):
    account: str
    currency: str
    amount: str


class Balances(msgspec.Struct):
    """A trial balance. Where prices converted one currency into another, the line
    `Equity:Conversions:Current` (Beancount's name for it) carries the difference, so each
    currency sums to zero."""

    book: str
    as_of: datetime.date | None
    balances: list[BalanceLine]


class BalanceAssertionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A counted or stated balance at the end of `date` (a cash-box count, a bank statement)."""

    account: str
    currency: str
    amount: str
    date: datetime.date


class BalanceAssertion(msgspec.Struct):
    id: int
    account: str
    currency: str
    amount: str
    date: datetime.date


class BookPage(msgspec.Struct):
    items: list[Book]
    next_cursor: str | None


class CommodityPage(msgspec.Struct):
    items: list[Commodity]
    next_cursor: str | None


class AccountPage(msgspec.Struct):
    items: list[Account]
    next_cursor: str | None


# Example bodies (tests/api/test_pages_ledger.py and test_access_routes.py post them).
EXAMPLE_BOOK = {
    "code": "sg-kt-001",
    "name": "Kampong Thom women's savings group",
    "kind": "savings_group",
    "operating_currency": "KHR",
    "province": "Kampong Thom",
}
EXAMPLE_CASH_BOX = {
    "name": "Assets:Cash:Bavet-KHR",
    "open_date": "2018-01-01",
    "currencies": ["KHR"],
    "non_negative": True,
}
EXAMPLE_COMMODITY = {"code": "FEED-KG", "precision": 1, "name": "Pig feed, kg"}
EXAMPLE_LOCK_DATE = {"lock_date": "2018-12-31"}
EXAMPLE_ACCOUNT_CLOSE = {"date": "2018-12-31"}
EXAMPLE_CASH_COUNT_ASSERTION = {
    "account": "Assets:Cash:Bavet-KHR",
    "currency": "KHR",
    "amount": "1250000",
    "date": "2018-11-30",
}
