"""A book's chart of accounts: open, list, close."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import text_after, text_cursor
from api.injected import Db, Page, Writer
from api.routes import acts, creates, reads
from api.schemas import example
from api.schemas.books import (
    EXAMPLE_ACCOUNT_CLOSE,
    EXAMPLE_CASH_BOX,
    Account,
    AccountClose,
    AccountCreate,
    AccountPage,
)
from ledger.access.policy import Action
from ledger.store import books

AccountCreateBody = Annotated[AccountCreate, example("A riel cash box", EXAMPLE_CASH_BOX)]
AccountCloseBody = Annotated[AccountClose, example("At the year end", EXAMPLE_ACCOUNT_CLOSE)]


class AccountController(Controller):
    path = "/api/books/{book:str}/accounts"
    tags = ["accounts"]

    @creates("/", "Open an account", Action.ACCOUNTS_WRITE)
    async def open_account(
        self, writer: Writer, book: FromPath[str], data: AccountCreateBody
    ) -> Response[Account]:
        """Opens an account in the book from `open_date` on, under one of the roots Assets,
        Liabilities, Equity, Income or Expenses (`Assets:Cash:Bavet-KHR`). `currencies`
        (empty: any) are the commodities it may hold; a `non_negative` account refuses a
        posting that would take it below zero. Refused: a malformed name (422
        `account_name_invalid`), an undefined or repeated currency (422 `commodity_unknown`,
        `currencies_repeated`), an opening in the locked period (409 `period_locked`), a name
        in use (409 `account_exists`)."""

        def work(conn: Connection) -> Account:
            opened = books.open_account(
                conn, book, data.name, data.open_date, data.currencies, data.non_negative
            )
            return Account.of(opened)

        return await writer.write("account.open", work, data, book=book)

    @reads("/", "The book's chart of accounts", Action.JOURNAL_READ)
    def list_accounts(self, db: Db, book: FromPath[str], page: Page) -> AccountPage:
        """One page of the book's accounts, open and closed, in name order, with their ids
        (the other routes name an account by id). `next_cursor` asks for the next page (null
        on the last); a cursor this API did not return is 422 `cursor_invalid`; 404
        `book_not_found` for a code no book has."""
        with db.read() as conn:
            found = books.list_accounts(conn, book, text_after(page.cursor), page.limit)
        next_cursor = text_cursor(found[-1].name) if len(found) == page.limit else None
        return AccountPage([Account.of(a) for a in found], next_cursor)

    @acts("/{account_id:int}/close", "Close an empty account", Action.ACCOUNTS_WRITE)
    async def close_account(
        self, writer: Writer, book: FromPath[str], account_id: FromPath[int], data: AccountCloseBody
    ) -> Response[Account]:
        """Closes the account at the end of `date`: nothing may be posted to it afterwards.
        Only an account with a zero balance in every currency and no postings after `date`
        (409 `account_not_empty`, `account_has_later_postings`), not closed already (409
        `account_closed`), on or after its opening (422 `close_before_open`) and after the
        lock date (409 `period_locked`); 404 `account_not_found`."""

        def work(conn: Connection) -> Account:
            return Account.of(books.close_account(conn, book, account_id, data.date))

        return await writer.write("account.close", work, data, status_code=HTTP_200_OK, book=book)
