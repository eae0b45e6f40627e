"""A book's journal: post balanced transactions, list and read them (JSON and CSV), reverse."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Annotated

from litestar import Controller, Response
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Stream
from sqlalchemy import Connection

from api.files import CSV, csv_chunks, csv_stream
from api.injected import Db, Page, Writer
from api.routes import creates, reads
from api.schemas import example
from api.schemas.transactions import (
    EXAMPLE_EXCHANGE,
    EXAMPLE_REVERSAL,
    TRANSACTIONS_HEADER,
    ReverseCreate,
    Transaction,
    TransactionCreate,
    TransactionPage,
    transaction_rows,
)
from ledger.access.policy import Action
from ledger.core import limits
from ledger.store import books, journal, journal_reads, queries
from ledger.store.books import utc_today
from ledger.store.database import Database
from ledger.store.reversal_owners import check_reversible_alone

TransactionCreateBody = Annotated[
    TransactionCreate, example("Exchange dollars into riel", EXAMPLE_EXCHANGE)
]
ReverseCreateBody = Annotated[ReverseCreate | None, example("Entered twice", EXAMPLE_REVERSAL)]


def _transaction(
    conn: Connection, book: FromPath[str], transaction_id: FromPath[int]
) -> Transaction:
    stored = journal_reads.load_transaction(conn, book, transaction_id)
    return Transaction.of(book, stored, books.commodity_precisions(conn))


def transaction_filter(
    date_from: FromQuery[datetime.date | None] = None,
    date_to: FromQuery[datetime.date | None] = None,
    account: FromQuery[str | None] = None,
    tag: FromQuery[str | None] = None,
    link: FromQuery[str | None] = None,
    meta_key: FromQuery[str | None] = None,
    meta_value: FromQuery[str | None] = None,
) -> queries.TransactionFilter:
    """The filters of the JSON list and the CSV, from the query (the `where` dependency)."""
    return queries.TransactionFilter(
        date_from=date_from,
        date_to=date_to,
        account=account,
        tag=tag,
        link=link,
        meta_key=meta_key,
        meta_value=meta_value,
    )


FILTER = {"where": Provide(transaction_filter, sync_to_thread=False)}


class TransactionController(Controller):
    path = "/api/books/{book:str}/transactions"
    tags = ["transactions"]

    @creates("/", "Post a balanced transaction", Action.JOURNAL_WRITE)
    async def post_transaction(
        self, writer: Writer, book: FromPath[str], data: TransactionCreateBody
    ) -> Response[Transaction]:
        """Posts the transaction in the book: its postings must balance in each currency,
        or through a `price` (per unit) or `total_price` (the total) in another. Amounts are
        decimal strings with at most the commodity's precision. Refused with a code per
        problem: an unbalanced entry (422 `transaction_not_balanced`), an unknown or closed
        account (422 `account_unknown`, 409 `account_closed`), a currency the account does not
        hold (422 `currency_not_allowed`), a `non_negative` account going below zero (409
        `account_overdrawn`), a date in the locked period (409 `period_locked`). Send an
        `Idempotency-Key` to retry safely."""
        draft = data.to_draft()

        def work(conn: Connection) -> Transaction:
            username = writer.principal.username
            stored, precisions = journal.post_draft_stored(conn, book, draft, username)
            return Transaction.of(book, stored, precisions)

        # The busiest route: on SQLite the work joins the writer's group-commit batch; on
        # PostgreSQL the post's round trip carries its audit event and the COMMIT (`posts`).
        return await writer.write("transaction.post", work, data, book=book, posts=True)

    @reads(
        "/",
        "List transactions in date order, filtered, paginated",
        Action.JOURNAL_READ,
        dependencies=FILTER,
    )
    def list_transactions(
        self,
        db: Db,
        book: FromPath[str],
        where: NamedDependency[queries.TransactionFilter],
        page: Page,
    ) -> TransactionPage:
        """One page of the book's transactions in date order, then id, with their postings:
        between `date_from` and `date_to`, touching `account`, with a `tag`, a `link` or a
        metadata `meta_key` (equal to `meta_value`). `next_cursor` asks for the next page
        (null on the last); 422 `cursor_invalid` for a cursor this API did not return; 404
        `book_not_found`."""
        with db.read() as conn:
            found = queries.list_transactions(conn, book, where, page.cursor, page.limit)
            precisions = books.commodity_precisions(conn)
        return TransactionPage(
            items=[Transaction.of(book, t, precisions) for t in found.items],
            next_cursor=found.next_cursor,
        )

    @reads("/{transaction_id:int}", "One transaction", Action.JOURNAL_READ)
    def get_transaction(
        self, db: Db, book: FromPath[str], transaction_id: FromPath[int]
    ) -> Transaction:
        """The transaction with its postings, tags, links and metadata, and the reversal
        that reverses it (or the one it reverses). 404 `transaction_not_found` for an id not
        in this book."""
        with db.read() as conn:
            return _transaction(conn, book, transaction_id)

    @creates("/{transaction_id:int}/reverse", "Reverse a transaction (once)", Action.JOURNAL_WRITE)
    async def reverse_transaction(
        self,
        writer: Writer,
        book: FromPath[str],
        transaction_id: FromPath[int],
        data: ReverseCreateBody = None,
    ) -> Response[Transaction]:
        """Posts the reversal: the same postings with opposite signs on `date` (default:
        today, UTC), naming the original in `reverses`; nothing is deleted. Returns it.
        Refused: a transaction reversed already (409 `already_reversed`), a reversal (409
        `reversal_not_reversible`), a date before the original (422
        `reversal_before_original`) or in the locked period (409 `period_locked`), and a
        grant disbursement (409 `reverse_through_grant`: reverse it with its grant)."""
        request_data = data or ReverseCreate()
        date = request_data.date or utc_today()

        def work(conn: Connection) -> Transaction:
            # An area that reverses its own transactions (a grant disbursement) declares
            # them in the store's table of reversal owners.
            check_reversible_alone(conn, book, transaction_id)
            reversal_id = journal.reverse(
                conn, book, transaction_id, date, request_data.narration, writer.principal.username
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


@reads(
    "/api/books/{book:str}/transactions.csv",
    "Transactions as CSV, one row per posting",
    Action.JOURNAL_READ,
    media_type=CSV,
    tags=["transactions"],
    dependencies=FILTER,
    description="The filters of the JSON list; streamed, at most "
    f"{limits.CSV_TRANSACTIONS_MAX:,} transactions (narrow `date_from`/`date_to` for more).",
)
def transactions_csv(
    db: Db, book: FromPath[str], where: NamedDependency[queries.TransactionFilter]
) -> Stream:
    # The first page is read here, so an unknown book is a 404 before the stream starts.
    with db.read() as conn:
        first = queries.list_transactions(conn, book, where, None, limits.PAGE_SIZE_MAX)
    pages = _csv_pages(db, book, where, first)
    return csv_stream(csv_chunks(TRANSACTIONS_HEADER, pages), f"transactions-{book}.csv")
