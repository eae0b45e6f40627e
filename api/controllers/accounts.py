from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth import policy
from api.schemas.books import Account, AccountClose, AccountCreate
from api.writes import audited_write
from ledger.access.policy import Action, Principal
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
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Open an account",
        opt=policy(Action.ACCOUNTS_WRITE),
    )
    def open_account(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        book: FromPath[str],
        data: Annotated[AccountCreate, Body(examples=[CASH_BOX_EXAMPLE])],
    ) -> Response[Account]:
        return audited_write(
            db,
            request,
            principal,
            data,
            HTTP_201_CREATED,
            "account.open",
            lambda conn: Account.of(
                books.open_account(
                    conn, book, data.name, data.open_date, data.currencies, data.non_negative
                )
            ),
            book=book,
        )

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
        sync_to_thread=True,
        status_code=HTTP_200_OK,
        summary="Close an empty account",
        opt=policy(Action.ACCOUNTS_WRITE),
    )
    def close_account(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        book: FromPath[str],
        account_id: FromPath[int],
        data: JSONBody[AccountClose],
    ) -> Response[Account]:
        return audited_write(
            db,
            request,
            principal,
            data,
            HTTP_200_OK,
            "account.close",
            lambda conn: Account.of(books.close_account(conn, book, account_id, data.date)),
            book=book,
        )
