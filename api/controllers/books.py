"""Books, their lock dates, balances, balance assertions and Beancount export."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Annotated

from litestar import Controller, MediaType, Response
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import text_after, text_cursor
from api.injected import Caller, Db, Page, Writer
from api.routes import creates, reads, replaces
from api.schemas import example
from api.schemas.books import (
    EXAMPLE_BOOK,
    EXAMPLE_CASH_COUNT_ASSERTION,
    EXAMPLE_LOCK_DATE,
    BalanceAssertion,
    BalanceAssertionCreate,
    BalanceLine,
    Balances,
    Book,
    BookCreate,
    BookPage,
    LockDate,
)
from api.schemas.fx import EXAMPLE_REVALUATION, Revaluation, RevaluationCreate
from ledger.access.policy import Action, Target, decide, visible_provinces
from ledger.core.amount import format_units
from ledger.core.balances import CONVERSIONS_ACCOUNT, conversion_lines
from ledger.export.beancount import export_book, export_organisation
from ledger.funds import revaluation
from ledger.store import books, journal, queries

BookCreateBody = Annotated[BookCreate, example("A savings group's own book", EXAMPLE_BOOK)]
LockDateBody = Annotated[LockDate, example("Lock 2018", EXAMPLE_LOCK_DATE)]
BalanceAssertionCreateBody = Annotated[
    BalanceAssertionCreate, example("A cash count", EXAMPLE_CASH_COUNT_ASSERTION)
]
RevaluationCreateBody = Annotated[
    RevaluationCreate, example("Year end at 4,150 riel", EXAMPLE_REVALUATION)
]


class BookController(Controller):
    path = "/api/books"
    tags = ["books"]

    @creates("/", "Create a book", Action.BOOKS_CREATE)
    async def create_book(self, writer: Writer, data: BookCreateBody) -> Response[Book]:
        """Creates an empty book (no accounts yet) for the organisation, a savings group or a
        household, kept in `operating_currency`; `province` decides which officers see it.
        Refuses a malformed code, name or kind (422 `book_code_invalid`, `book_name_invalid`,
        `book_kind_invalid`, `province_invalid`), an undefined currency (422
        `commodity_unknown`) and a code in use (409 `book_exists`)."""

        def work(conn: Connection) -> Book:
            created = books.create_book(
                conn, data.code, data.name, data.kind, data.operating_currency, data.province
            )
            return Book.of(created)

        return await writer.write("book.create", work, data, book=data.code)

    @reads("/", "The books you may see", Action.BOOKS_READ)
    def list_books(self, db: Db, principal: Caller, page: Page) -> BookPage:
        """One page of the books you may read, in code order: all of them for the head office
        roles, else the books and provinces of your scope. `next_cursor` asks for the next
        page (null on the last); a cursor this API did not return is 422 `cursor_invalid`."""
        provinces = visible_provinces(principal, Action.BOOKS_READ)
        scope = None if provinces is None else books.BookScope(principal.books, provinces)
        with db.read() as conn:
            found = books.book_page(conn, scope, text_after(page.cursor), page.limit)
        next_cursor = text_cursor(found[-1].code) if len(found) == page.limit else None
        return BookPage([Book.of(b) for b in found], next_cursor)

    @reads(
        "/export.beancount",
        "Every book you may see as one Beancount file, for Fava (streamed)",
        Action.JOURNAL_READ,
        media_type=MediaType.TEXT,
    )
    def export_all(self, db: Db, principal: Caller) -> Stream:
        """One file that Fava and bean-check open: the organisation's book with its accounts
        as they are (and a `custom "budget"` directive for every award budget line, so
        Fava's budget view shows budget against actual), then each other book you may
        read with its code after the root of its accounts (`Assets:HH-DV-009:Cash`)."""
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

    @reads("/{book:str}", "One book", Action.BOOKS_READ)
    def get_book(self, db: Db, book: FromPath[str]) -> Book:
        """The book's name, kind, operating currency, province and lock date (null while
        nothing is locked); 404 `book_not_found` for a code no book has."""
        with db.read() as conn:
            return Book.of(books.get_book(conn, book))

    @replaces("/{book:str}/lock-date", "Move the lock date forward", Action.LOCK_DATE_WRITE)
    async def set_lock_date(
        self, writer: Writer, book: FromPath[str], data: LockDateBody
    ) -> Response[Book]:
        """From now on no transaction, reversal, balance assertion or account may be dated
        on or before `lock_date`: the period an auditor has seen stays as it was. Returns the
        book. The lock date never moves back (409 `lock_date_backwards`); the same date again
        changes nothing."""

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

    @reads("/{book:str}/balances", "Trial balance, current or as of a date", Action.JOURNAL_READ)
    def balances(
        self,
        db: Db,
        book: FromPath[str],
        as_of: Annotated[
            datetime.date | None, QueryParameter(description="End of this day (YYYY-MM-DD).")
        ] = None,
    ) -> Balances:
        """Every account's balance per currency (decimal strings in that currency), through
        the end of `as_of` or up to now. Where a price converted one currency into another,
        `Equity:Conversions:Current` carries the difference, so each currency sums to zero.
        404 `book_not_found` for a code no book has."""
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

    @creates(
        "/{book:str}/balance-assertions",
        "Record a checked balance (a cash count) at the end of a day",
        Action.JOURNAL_WRITE,
    )
    async def assert_balance(
        self, writer: Writer, book: FromPath[str], data: BalanceAssertionCreateBody
    ) -> Response[BalanceAssertion]:
        """Records that `account` held `amount` of `currency` at the end of `date`; posts
        nothing, and afterwards nothing may be posted to the account on or before that day.
        Refused when the ledger holds another amount (409 `balance_assertion_failed`), for an
        account not in the book or not open (422 `account_unknown`, `account_not_open`, 409
        `account_closed`), a currency it does not hold (422 `currency_not_allowed`) or a
        locked day (409 `period_locked`). The same assertion again returns the first."""

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

    @creates(
        "/{book:str}/fx-revaluations",
        "Period-end exchange gains and losses of the foreign bank and cash accounts",
        Action.PERIOD_CLOSE,
    )
    async def revalue(
        self, writer: Writer, book: FromPath[str], data: RevaluationCreateBody
    ) -> Response[Revaluation]:
        """Posts, per riel or baht account of the organisation's book, the realised gain or
        loss of the money that left it since the last revaluation (its weighted-average
        carrying value against what measured it), and the unrealised difference of its
        balance at the closing rate, reversed the next day (docs/ACCOUNTING.md). Refuses
        another book (422 `book_not_organisation`), a date not after the last revaluation
        (409 `fx_revaluation_not_after_previous`) and a currency with no rate given or kept
        (422 `exchange_rate_required`)."""

        def work(conn: Connection) -> Revaluation:
            return Revaluation.of(
                revaluation.revalue(
                    conn, book, data.date, data.rate_texts(), writer.principal.username
                )
            )

        return await writer.write("fx.revalue", work, data, book=book)

    @reads(
        "/{book:str}/export.beancount",
        "The book as a Beancount file (streamed)",
        Action.JOURNAL_READ,
        media_type=MediaType.TEXT,
    )
    def export(self, db: Db, book: FromPath[str]) -> Stream:
        """The book's commodities, accounts, transactions, prices and balance assertions as
        one Beancount file that bean-check accepts, streamed as it is written; 404
        `book_not_found` before the stream starts for a code no book has."""
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
