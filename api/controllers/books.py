"""Books, their lock dates, balances, balance assertions and Beancount export."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Annotated

from litestar import Controller, MediaType, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.schemas.books import (
    BalanceAssertion,
    BalanceAssertionCreate,
    BalanceLine,
    Balances,
    Book,
    BookCreate,
    LockDate,
)
from api.schemas.fx import Revaluation, RevaluationCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target, decide
from ledger.core.amount import format_units
from ledger.core.balances import CONVERSIONS_ACCOUNT, conversion_lines
from ledger.export.beancount import export_book, export_organisation
from ledger.funds import revaluation
from ledger.store import books, journal, queries
from ledger.store.database import Database

BOOK_EXAMPLE = Example(
    summary="A savings group's own book",
    value={
        "code": "sg-kt-001",
        "name": "Kampong Thom women's savings group",
        "kind": "savings_group",
        "operating_currency": "KHR",
        "province": "Kampong Thom",
    },
)


class BookController(Controller):
    path = "/api/books"
    tags = ["books"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a book",
        opt=policy(Action.BOOKS_CREATE),
    )
    async def create_book(
        self,
        writer: NamedDependency[AuditedWriter],
        data: Annotated[BookCreate, Body(examples=[BOOK_EXAMPLE])],
    ) -> Response[Book]:
        def work(conn: Connection) -> Book:
            created = books.create_book(
                conn, data.code, data.name, data.kind, data.operating_currency, data.province
            )
            return Book.of(created)

        return await writer.write("book.create", work, data, book=data.code)

    @get("/", sync_to_thread=True, summary="The books you may see", opt=policy(Action.BOOKS_READ))
    def list_books(
        self, db: NamedDependency[Database], principal: NamedDependency[Principal]
    ) -> list[Book]:
        with db.read() as conn:
            visible = [
                b
                for b in books.list_books(conn)
                if decide(principal, Action.BOOKS_READ, Target(b.code, b.province)) == "allow"
            ]
        return [Book.of(b) for b in visible]

    @get(
        "/export.beancount",
        sync_to_thread=True,
        summary="Every book you may see as one Beancount file, for Fava (streamed)",
        description=(
            "One file that Fava and bean-check open: the organisation's book with its accounts "
            'as they are (and a `custom "budget"` directive for every award budget line, so '
            "Fava's budget view shows budget against actual), then each other book you may "
            "read with its code after the root of its accounts (`Assets:HH-DV-009:Cash`)."
        ),
        media_type=MediaType.TEXT,
        opt=policy(Action.JOURNAL_READ),
    )
    def export_all(
        self, db: NamedDependency[Database], principal: NamedDependency[Principal]
    ) -> Stream:
        with db.read() as conn:
            visible = [
                b
                for b in books.list_books(conn)
                if decide(principal, Action.JOURNAL_READ, Target(b.code, b.province)) == "allow"
            ]
        # The organisation's book first, then the others by code.
        codes = [b.code for b in sorted(visible, key=lambda b: (b.kind != "organisation", b.code))]

        def chunks() -> Iterator[bytes]:
            with db.read() as conn:
                for text in export_organisation(conn, "Every book", codes):
                    yield text.encode("utf-8")

        return Stream(
            chunks(),
            media_type=MediaType.TEXT,
            headers={"Content-Disposition": 'attachment; filename="organisation.beancount"'},
        )

    @get("/{book:str}", sync_to_thread=True, summary="One book", opt=policy(Action.BOOKS_READ))
    def get_book(self, db: NamedDependency[Database], book: FromPath[str]) -> Book:
        with db.read() as conn:
            return Book.of(books.get_book(conn, book))

    @put(
        "/{book:str}/lock-date",
        status_code=HTTP_200_OK,
        summary="Move the lock date forward",
        opt=policy(Action.LOCK_DATE_WRITE),
    )
    async def set_lock_date(
        self, writer: NamedDependency[AuditedWriter], book: FromPath[str], data: JSONBody[LockDate]
    ) -> Response[Book]:
        def work(conn: Connection) -> Book:
            return Book.of(books.set_lock_date(conn, book, data.lock_date))

        return await writer.write(
            "book.lock_date",
            work,
            data,
            status_code=HTTP_200_OK,
            book=book,
            idempotent=False,  # PUT is idempotent by itself
        )

    @get(
        "/{book:str}/balances",
        sync_to_thread=True,
        summary="Trial balance, current or as of a date",
        opt=policy(Action.JOURNAL_READ),
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
        lines = [
            BalanceLine(r.account, r.commodity, format_units(r.units, precisions[r.commodity]))
            for r in rows
        ]
        lines += [
            BalanceLine(CONVERSIONS_ACCOUNT, commodity, format_units(units, precisions[commodity]))
            for commodity, units in conversion_lines((r.commodity, r.units) for r in rows)
        ]
        return Balances(book=book, as_of=as_of, balances=lines)

    @post(
        "/{book:str}/balance-assertions",
        status_code=HTTP_201_CREATED,
        summary="Record a checked balance (a cash count) at the end of a day",
        opt=policy(Action.JOURNAL_WRITE),
    )
    async def assert_balance(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        data: JSONBody[BalanceAssertionCreate],
    ) -> Response[BalanceAssertion]:
        def work(conn: Connection) -> BalanceAssertion:
            units = books.parse_amount(conn, data.currency, data.amount)
            assertion_id = journal.assert_balance(
                conn, book, data.account, data.currency, data.date, units
            )
            precision = books.commodity_precisions(conn)[data.currency]
            return BalanceAssertion(
                id=assertion_id,
                account=data.account,
                currency=data.currency,
                amount=format_units(units, precision),
                date=data.date,
            )

        return await writer.write("balance.assert", work, data, book=book)

    @post(
        "/{book:str}/fx-revaluations",
        status_code=HTTP_201_CREATED,
        summary="Period-end exchange gains and losses of the foreign bank and cash accounts",
        description=(
            "Posts, per riel or baht account of the organisation's book, the realised gain or "
            "loss of the money that left it since the last revaluation (its weighted-average "
            "carrying value against what measured it), and the unrealised difference of its "
            "balance at the closing rate, reversed the next day (docs/ACCOUNTING.md)."
        ),
        opt=policy(Action.PERIOD_CLOSE),
    )
    async def revalue(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        data: JSONBody[RevaluationCreate],
    ) -> Response[Revaluation]:
        def work(conn: Connection) -> Revaluation:
            return Revaluation.of(
                revaluation.revalue(
                    conn, book, data.date, data.rate_texts(), writer.principal.username
                )
            )

        return await writer.write("fx.revalue", work, data, book=book)

    @get(
        "/{book:str}/export.beancount",
        sync_to_thread=True,
        summary="The book as a Beancount file (streamed)",
        media_type=MediaType.TEXT,
        opt=policy(Action.JOURNAL_READ),
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
