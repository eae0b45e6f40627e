"""The journal: transactions filtered (dates, account, tag, link, text) a page at a time; a
transaction form with posting rows; one transaction, and its reversal behind a confirmation.

The form posts through the journal as `POST /api/books/{book}/transactions` does, with the
Idempotency-Key made when the form was opened. The page's script only shows the balance per
currency while one types: the journal refuses an unbalanced entry, beside the rows.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.pages import finance_forms as forms
from api.pages.finance import readable_book, written_id
from api.pages.render import page
from api.schemas.transactions import ReverseCreate, Transaction, TransactionCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.store import books, journal, journal_reads, queries
from ledger.store.books import utc_today
from ledger.store.database import Database, run_blocking
from ledger.store.reversal_owners import check_reversible_alone

JOURNAL_PAGE_SIZE = 50
FILTER_TEXT_LENGTH_MAX = 100
FILTERS = ("date_from", "date_to", "account", "tag", "link", "text")
TRANSACTION_FIELDS = ("date", "narration", "payee", "tags", "links", "postings")


def read_filters(
    query: dict[str, str],
) -> tuple[queries.TransactionFilter, dict[str, str], dict[str, LedgerError]]:
    """The journal's filters from the query string; a malformed date is shown, not applied."""
    values = {name: query.get(name, "").strip()[:FILTER_TEXT_LENGTH_MAX] for name in FILTERS}
    errors: dict[str, LedgerError] = {}
    dates: dict[str, datetime.date | None] = {}
    for name in ("date_from", "date_to"):
        dates[name] = None
        if values[name]:
            try:
                dates[name] = datetime.date.fromisoformat(values[name])
            except ValueError:
                errors[name] = invalid("date_invalid", "Choose a date.", name)
    where = queries.TransactionFilter(
        date_from=dates["date_from"],
        date_to=dates["date_to"],
        account=values["account"] or None,
        tag=values["tag"] or None,
        link=values["link"] or None,
        text=values["text"] or None,
    )
    return where, values, errors


def _form_context(db: Database, principal: Principal, requested: str | None) -> dict[str, Any]:
    with db.read() as conn:
        book = readable_book(conn, principal, Action.JOURNAL_WRITE, requested)
        accounts = books.list_accounts(conn, book.code)
        commodities = [c.code for c in books.list_commodities(conn)]
    return {"book": book, "accounts": accounts, "commodities": commodities}


def _form_page(
    request: Request[Any, Any, Any],
    context: dict[str, Any],
    state: forms.FormState,
    rows: forms.PostingRows,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "finance/transaction_form.html",
        {**context, "form": state, "rows": rows},
        status_code=status_code,
    )


def _refused(
    state: forms.FormState, rows: forms.PostingRows, errors: tuple[LedgerError, ...]
) -> forms.FormState:
    """The journal's errors beside their fields: a posting's beside its row."""
    placed = [
        LedgerError(e.code, e.message, rows.row_field(e.field), e.kind) if e.field else e
        for e in errors
    ]
    fields = [*TRANSACTION_FIELDS, *state.values]
    return state.refused(placed, fields)


class JournalPages(Controller):
    path = "/journal"
    include_in_schema = False

    @get("/", opt=policy(Action.JOURNAL_READ))
    async def journal_list(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        where, values, errors = read_filters(dict(request.query_params))

        def read() -> dict[str, Any]:
            with db.read() as conn:
                found = readable_book(conn, principal, Action.JOURNAL_READ, book)
                listed = queries.list_transactions(
                    conn, found.code, where, cursor, JOURNAL_PAGE_SIZE
                )
                return {
                    "book": found,
                    "accounts": books.list_accounts(conn, found.code),
                    "transactions": listed.items,
                    "next_cursor": listed.next_cursor,
                    "precisions": books.commodity_precisions(conn),
                }

        context = await run_blocking(read)
        after = {**values, "book": context["book"].code, "cursor": context["next_cursor"] or ""}
        context["next_query"] = urlencode(after)
        context["filter_form"] = forms.FormState(values, "", errors)
        return page(request, "finance/journal.html", context)

    @get("/new", opt=policy(Action.JOURNAL_WRITE))
    async def new_transaction(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromQuery[str | None] = None,
    ) -> Template:
        context = await run_blocking(_form_context, db, principal, book)
        currency = context["book"].operating_currency
        values = {"date": utc_today().isoformat(), "rows": str(forms.POSTING_ROWS_DEFAULT)}
        for row in range(forms.POSTING_ROWS_DEFAULT):
            values[f"postings[{row}].currency"] = currency
        state = forms.blank(values)
        return _form_page(request, context, state, forms.posting_rows(state.values))

    @post("/", opt=policy(Action.JOURNAL_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def post_transaction(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        form = await request.form()
        state = forms.typed(dict(form))
        context = await run_blocking(_form_context, db, principal, state.values.get("book"))
        rows = forms.posting_rows(state.values, add=form.get("step") == "add_row")
        if form.get("step") == "add_row":
            return _form_page(request, context, state, rows)
        state, data = forms.read_transaction(state, rows)
        if data is None:
            return _form_page(request, context, state, rows, status_code=422)
        code = context["book"].code
        request_data: TransactionCreate = data
        draft = request_data.to_draft()

        def work(conn: Connection) -> Transaction:
            stored, precisions = journal.post_draft_stored(conn, code, draft, principal.username)
            return Transaction.of(code, stored, precisions)

        try:
            response = await writer.write(
                "transaction.post", work, request_data, book=code, key=state.key
            )
        except LedgerRejected as rejected:
            state = _refused(state, rows, rejected.errors)
            status = STATUS_BY_KIND[rejected.first.kind]
            return _form_page(request, context, state, rows, status_code=status)
        posted = written_id(response)
        return Redirect(f"/journal/{posted}?book={code}&saved=1", status_code=HTTP_303_SEE_OTHER)

    @get("/{transaction_id:int}", opt=policy(Action.JOURNAL_READ))
    async def transaction(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        transaction_id: FromPath[int],
        book: FromQuery[str | None] = None,
    ) -> Template:
        context = await run_blocking(_transaction_context, db, principal, book, transaction_id)
        saved = request.query_params.get("saved")
        return page(
            request, "finance/transaction.html", {**context, "saved": saved, "confirm": None}
        )

    @get("/{transaction_id:int}/reverse", opt=policy(Action.JOURNAL_WRITE))
    async def confirm_reversal(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        transaction_id: FromPath[int],
        book: FromQuery[str | None] = None,
    ) -> Template:
        """The confirmation step: what will be reversed, the date, and one button."""
        context = await run_blocking(_transaction_context, db, principal, book, transaction_id)
        state = forms.blank({"date": utc_today().isoformat()})
        return page(
            request, "finance/transaction.html", {**context, "saved": None, "confirm": state}
        )

    @post(
        "/{transaction_id:int}/reverse",
        opt=policy(Action.JOURNAL_WRITE),
        status_code=HTTP_303_SEE_OTHER,
    )
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        transaction_id: FromPath[int],
    ) -> Response[Any] | Template:
        state = forms.typed(dict(await request.form()))
        context = await run_blocking(
            _transaction_context, db, principal, state.values.get("book"), transaction_id
        )
        errors: dict[str, LedgerError] = {}
        date = forms.read_date(state, "date", errors)
        if state.values.get("confirm") != "yes":
            errors["confirm"] = invalid(
                "reversal_not_confirmed", "Tick the box to confirm.", "confirm"
            )
        if errors or date is None:
            state = forms.FormState(state.values, state.key, errors)
            return page(
                request,
                "finance/transaction.html",
                {**context, "saved": None, "confirm": state},
                status_code=422,
            )
        code = context["book"].code
        narration = forms.optional(state, "narration")
        request_data = ReverseCreate(date=date, narration=narration)

        def work(conn: Connection) -> Transaction:
            check_reversible_alone(conn, code, transaction_id)
            reversal_id = journal.reverse(
                conn, code, transaction_id, date, narration, principal.username
            )
            stored = journal_reads.load_transaction(conn, code, reversal_id)
            return Transaction.of(code, stored, books.commodity_precisions(conn))

        try:
            response = await writer.write(
                "transaction.reverse", work, request_data, book=code, key=state.key
            )
        except LedgerRejected as rejected:
            state = state.refused(rejected.errors, ("date", "narration"))
            status = STATUS_BY_KIND[rejected.first.kind]
            return page(
                request,
                "finance/transaction.html",
                {**context, "saved": None, "confirm": state},
                status_code=status,
            )
        reversal = written_id(response)
        return Redirect(f"/journal/{reversal}?book={code}&saved=1", status_code=HTTP_303_SEE_OTHER)


def _transaction_context(
    db: Database, principal: Principal, requested: str | None, transaction_id: int
) -> dict[str, Any]:
    with db.read() as conn:
        book = readable_book(conn, principal, Action.JOURNAL_READ, requested)
        stored = journal_reads.load_transaction(conn, book.code, transaction_id)
        precisions = books.commodity_precisions(conn)
    return {"book": book, "t": stored, "precisions": precisions}
