from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.files import CSV, csv_chunks, csv_stream
from api.schemas.transactions import (
    EXAMPLE_EXCHANGE,
    TRANSACTIONS_HEADER,
    ReverseCreate,
    Transaction,
    TransactionCreate,
    TransactionPage,
    transaction_rows,
)
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core import limits
from ledger.store import books, journal, journal_reads, queries
from ledger.store.books import utc_today
from ledger.store.database import Database
from ledger.store.reversal_owners import check_reversible_alone


def _transaction(
    conn: Connection, book: FromPath[str], transaction_id: FromPath[int]
) -> Transaction:
    stored = journal_reads.load_transaction(conn, book, transaction_id)
    return Transaction.of(book, stored, books.commodity_precisions(conn))


class TransactionController(Controller):
    path = "/api/books/{book:str}/transactions"
    tags = ["transactions"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Post a balanced transaction",
        opt=policy(Action.JOURNAL_WRITE),
        description="Amounts are decimal strings with at most the commodity's precision. "
        "`price` is per unit, `total_price` the total. Send an `Idempotency-Key` to retry safely.",
    )
    async def post_transaction(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        data: Annotated[
            TransactionCreate,
            Body(examples=[Example(summary="Exchange dollars into riel", value=EXAMPLE_EXCHANGE)]),
        ],
    ) -> Response[Transaction]:
        draft = data.to_draft()

        def work(conn: Connection) -> Transaction:
            stored, precisions = journal.post_draft_stored(conn, book, draft, principal.username)
            return Transaction.of(book, stored, precisions)

        # The busiest route: the work joins the event loop's group-commit batch, without a
        # worker thread per request.
        return await writer.write("transaction.post", work, data, book=book)

    @get(
        "/",
        sync_to_thread=True,
        summary="List transactions in date order, filtered, paginated",
        opt=policy(Action.JOURNAL_READ),
    )
    def list_transactions(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        date_from: FromQuery[datetime.date | None] = None,
        date_to: FromQuery[datetime.date | None] = None,
        account: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        link: FromQuery[str | None] = None,
        meta_key: FromQuery[str | None] = None,
        meta_value: FromQuery[str | None] = None,
        cursor: Annotated[
            str | None, QueryParameter(description="next_cursor of the previous page")
        ] = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=limits.PAGE_SIZE_MAX)
        ] = limits.PAGE_SIZE_DEFAULT,
    ) -> TransactionPage:
        where = queries.TransactionFilter(
            date_from=date_from,
            date_to=date_to,
            account=account,
            tag=tag,
            link=link,
            meta_key=meta_key,
            meta_value=meta_value,
        )
        with db.read() as conn:
            page = queries.list_transactions(conn, book, where, cursor, limit)
            precisions = books.commodity_precisions(conn)
        return TransactionPage(
            items=[Transaction.of(book, t, precisions) for t in page.items],
            next_cursor=page.next_cursor,
        )

    @get(
        "/{transaction_id:int}",
        sync_to_thread=True,
        summary="One transaction",
        opt=policy(Action.JOURNAL_READ),
    )
    def get_transaction(
        self, db: NamedDependency[Database], book: FromPath[str], transaction_id: FromPath[int]
    ) -> Transaction:
        with db.read() as conn:
            return _transaction(conn, book, transaction_id)

    @post(
        "/{transaction_id:int}/reverse",
        status_code=HTTP_201_CREATED,
        summary="Reverse a transaction (once)",
        opt=policy(Action.JOURNAL_WRITE),
    )
    async def reverse_transaction(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        transaction_id: FromPath[int],
        data: JSONBody[ReverseCreate | None] = None,
    ) -> Response[Transaction]:
        request_data = data or ReverseCreate()
        date = request_data.date or utc_today()

        def work(conn: Connection) -> Transaction:
            # An area that reverses its own transactions (a grant disbursement) declares
            # them in the store's table of reversal owners.
            check_reversible_alone(conn, book, transaction_id)
            reversal_id = journal.reverse(
                conn, book, transaction_id, date, request_data.narration, principal.username
            )
            return _transaction(conn, book, reversal_id)

        return await writer.write("transaction.reverse", work, request_data, book=book)


def _csv_pages(
    db: Database, book: str, where: queries.TransactionFilter, first: queries.Page
) -> Iterator[list[tuple[str, ...]]]:
    """The rows of `first` and of the pages after it, each page read in its own short read,
    up to `limits.CSV_TRANSACTIONS_MAX` transactions."""
    page, sent = first, 0
    while True:
        items = page.items[: limits.CSV_TRANSACTIONS_MAX - sent]
        with db.read() as conn:
            precisions = books.commodity_precisions(conn)
        yield list(transaction_rows(Transaction.of(book, t, precisions) for t in items))
        sent += len(items)
        if page.next_cursor is None or sent >= limits.CSV_TRANSACTIONS_MAX:
            return
        with db.read() as conn:
            page = queries.list_transactions(
                conn, book, where, page.next_cursor, limits.PAGE_SIZE_MAX
            )


@get(
    "/api/books/{book:str}/transactions.csv",
    sync_to_thread=True,
    summary="Transactions as CSV, one row per posting",
    description="The filters of the JSON list; streamed, at most "
    f"{limits.CSV_TRANSACTIONS_MAX:,} transactions (narrow `date_from`/`date_to` for more).",
    media_type=CSV,
    opt=policy(Action.JOURNAL_READ),
    tags=["transactions"],
)
def transactions_csv(
    db: NamedDependency[Database],
    book: FromPath[str],
    date_from: FromQuery[datetime.date | None] = None,
    date_to: FromQuery[datetime.date | None] = None,
    account: FromQuery[str | None] = None,
    tag: FromQuery[str | None] = None,
    link: FromQuery[str | None] = None,
    meta_key: FromQuery[str | None] = None,
    meta_value: FromQuery[str | None] = None,
) -> Stream:
    where = queries.TransactionFilter(
        date_from=date_from,
        date_to=date_to,
        account=account,
        tag=tag,
        link=link,
        meta_key=meta_key,
        meta_value=meta_value,
    )
    # The first page is read here, so an unknown book is a 404 before the stream starts.
    with db.read() as conn:
        first = queries.list_transactions(conn, book, where, None, limits.PAGE_SIZE_MAX)
    pages = _csv_pages(db, book, where, first)
    return csv_stream(csv_chunks(TRANSACTIONS_HEADER, pages), f"transactions-{book}.csv")
