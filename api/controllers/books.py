"""Books, their lock dates, balances and Beancount export."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from api.idempotency import idempotent_write
from api.schemas.books import (
    BalanceAssertion,
    BalanceAssertionCreate,
    BalanceLine,
    Balances,
    Book,
    BookCreate,
    LockDate,
)
from ledger.core.amount import format_units, parse_units
from ledger.core.balances import CONVERSIONS_ACCOUNT, conversion_lines
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.export.beancount import export_book
from ledger.store import books, journal, queries
from ledger.store.database import Database

BOOK_EXAMPLE = Example(
    summary="The organisation's book",
    value={
        "code": "org",
        "name": "CCPCR livelihood programme",
        "kind": "organisation",
        "operating_currency": "USD",
    },
)


class BookController(Controller):
    path = "/api/books"
    tags = ["books"]

    @post("/", sync_to_thread=True, status_code=HTTP_201_CREATED, summary="Create a book")
    def create_book(
        self,
        db: NamedDependency[Database],
        request: Request[Any, Any, Any],
        data: Annotated[BookCreate, Body(examples=[BOOK_EXAMPLE])],
    ) -> Response[Book]:
        return idempotent_write(
            db,
            request,
            data,
            HTTP_201_CREATED,
            lambda conn: Book.of(
                books.create_book(conn, data.code, data.name, data.kind, data.operating_currency)
            ),
        )

    @get("/", sync_to_thread=True, summary="List books")
    def list_books(self, db: NamedDependency[Database]) -> list[Book]:
        with db.read() as conn:
            return [Book.of(b) for b in books.list_books(conn)]

    @get("/{book:str}", sync_to_thread=True, summary="One book")
    def get_book(self, db: NamedDependency[Database], book: FromPath[str]) -> Book:
        with db.read() as conn:
            return Book.of(books.get_book(conn, book))

    @put("/{book:str}/lock-date", sync_to_thread=True, summary="Move the lock date forward")
    def set_lock_date(
        self, db: NamedDependency[Database], book: FromPath[str], data: JSONBody[LockDate]
    ) -> Book:
        return db.write(lambda conn: Book.of(books.set_lock_date(conn, book, data.lock_date)))

    @get(
        "/{book:str}/balances",
        sync_to_thread=True,
        summary="Trial balance, current or as of a date",
    )
    def balances(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        as_of: Annotated[
            datetime.date | None, QueryParameter(description="End of this day (YYYY-MM-DD).")
        ] = None,
    ) -> Balances:
        with db.read() as conn:
            rows = queries.trial_balance(conn, book, as_of)
            precisions = books.commodity_precisions(conn)
        pairs = [(r.commodity, r.units) for r in rows]
        lines = [
            BalanceLine(r.account, r.commodity, format_units(r.units, precisions[r.commodity]))
            for r in rows
        ]
        lines += [
            BalanceLine(CONVERSIONS_ACCOUNT, commodity, format_units(units, precisions[commodity]))
            for commodity, units in conversion_lines(pairs)
        ]
        return Balances(book=book, as_of=as_of, balances=lines)

    @post(
        "/{book:str}/balance-assertions",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Record a checked balance (a cash count) at the end of a day",
    )
    def assert_balance(
        self,
        db: NamedDependency[Database],
        request: Request[Any, Any, Any],
        book: FromPath[str],
        data: JSONBody[BalanceAssertionCreate],
    ) -> Response[BalanceAssertion]:
        def unit(conn: Any) -> BalanceAssertion:
            precisions = books.commodity_precisions(conn)
            if data.currency not in precisions:
                raise LedgerRejected(
                    [LedgerError("commodity_unknown", "This commodity is not defined.", "currency")]
                )
            units = parse_units(data.amount, precisions[data.currency], "amount")
            if isinstance(units, LedgerError):
                raise LedgerRejected([units])
            assertion_id = journal.assert_balance(
                conn, book, data.account, data.currency, data.date, units
            )
            return BalanceAssertion(
                assertion_id,
                data.account,
                data.currency,
                format_units(units, precisions[data.currency]),
                data.date,
            )

        return idempotent_write(db, request, data, HTTP_201_CREATED, unit)

    @get(
        "/{book:str}/export.beancount",
        sync_to_thread=True,
        summary="The book as a Beancount file (streamed)",
        media_type=MediaType.TEXT,
    )
    def export(self, db: NamedDependency[Database], book: FromPath[str]) -> Stream:
        with db.read() as conn:
            books.get_book(conn, book)  # 404 before the stream starts

        def chunks() -> Iterator[bytes]:
            with db.read() as conn:
                for text in export_book(conn, book):
                    yield text.encode("utf-8")

        return Stream(
            chunks(),
            media_type=MediaType.TEXT,
            headers={"Content-Disposition": f'attachment; filename="{book}.beancount"'},
        )
