from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.schemas.books import Account, AccountClose, AccountCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action
from ledger.store import books
from ledger.store.database import Database

CASH_BOX_EXAMPLE = Example(
    summary="A riel cash box that may never go below zero",
    value={
        "name": "Assets:Cash:Bavet-KHR",
        "open_date": "2018-01-01",
        "currencies": ["KHR"],
        "non_negative": True,
    },
)


class AccountController(Controller):
    path = "/api/books/{book:str}/accounts"
    tags = ["accounts"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Open an account",
        opt=policy(Action.ACCOUNTS_WRITE),
    )
    async def open_account(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        data: Annotated[AccountCreate, Body(examples=[CASH_BOX_EXAMPLE])],
    ) -> Response[Account]:
        def work(conn: Connection) -> Account:
            opened = books.open_account(
                conn, book, data.name, data.open_date, data.currencies, data.non_negative
            )
            return Account.of(opened)

        return await writer.write("account.open", work, data, book=book)

    @get(
        "/",
        sync_to_thread=True,
        summary="The book's chart of accounts",
        opt=policy(Action.JOURNAL_READ),
    )
    def list_accounts(self, db: NamedDependency[Database], book: FromPath[str]) -> list[Account]:
        with db.read() as conn:
            return [Account.of(a) for a in books.list_accounts(conn, book)]

    @post(
        "/{account_id:int}/close",
        status_code=HTTP_200_OK,
        summary="Close an empty account",
        opt=policy(Action.ACCOUNTS_WRITE),
    )
    async def close_account(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        account_id: FromPath[int],
        data: JSONBody[AccountClose],
    ) -> Response[Account]:
        def work(conn: Connection) -> Account:
            return Account.of(books.close_account(conn, book, account_id, data.date))

        return await writer.write("account.close", work, data, status_code=HTTP_200_OK, book=book)
