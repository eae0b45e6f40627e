"""Reconciliation in the browser: upload a bank statement, the matching screen (proposals
one to one, one line to many postings, many lines to one posting: accept or reject), close
the statement, count a cash box, and close the period (the checklist and the lock date).

Every write goes through the reconciliation service as the API's routes do, with the
Idempotency-Key made when its form was opened.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
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
from api.schemas.books import Book
from api.schemas.reconcile import (
    STATEMENT_REQUEST_BYTES_MAX,
    Match,
    MatchCreate,
    Reconciliation,
    Rejection,
    RejectionCreate,
    StatementImport,
    StatementImportCreate,
)
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.demo.statements import ABA_LIKE, ACLEDA_LIKE, as_json
from ledger.reconcile import rules
from ledger.reconcile import service as reconcile
from ledger.store import books
from ledger.store.books import utc_today
from ledger.store.database import Database, run_blocking

# The bank exports the upload form knows how to read (tests/data/ holds a sample of each).
STATEMENT_FORMATS = {"acleda": ACLEDA_LIKE, "aba": ABA_LIKE}
CLOSE_FIELDS = ("date", "closing_balance", "adjustment_account", "adjustment_narration")
COUNT_FIELDS = ("account_id", "date", "amount", "adjustment_account", "adjustment_narration")


def _fail(
    request: Request[Any, Any, Any],
    template: str,
    context: dict[str, Any],
    state: forms.FormState,
    rejected: LedgerRejected,
    fields: tuple[str, ...],
) -> Template:
    refused = state.refused(rejected.errors, fields)
    status = STATUS_BY_KIND[rejected.first.kind]
    return page(request, template, {**context, "form": refused}, status_code=status)


def _account_id(state: forms.FormState, errors: dict[str, LedgerError]) -> int:
    text = state.values.get("account_id", "")
    if not text.isdigit() or len(text) > 9:
        errors["account_id"] = invalid("account_required", "Choose an account.", "account_id")
        return 0
    return int(text)


# -- statements: upload and list --------------------------------------------------------------


def _statements_context(
    db: Database, principal: Principal, requested: str | None
) -> dict[str, Any]:
    with db.read() as conn:
        book = readable_book(conn, principal, Action.RECONCILE_READ, requested)
        banks = [
            a
            for a in books.list_accounts(conn, book.code)
            if a.name.startswith(reconcile.BANK_PREFIX) and len(a.currencies) == 1
        ]
        imports = [(a, reconcile.list_imports(conn, book.code, a.id)) for a in banks]
    return {"book": book, "banks": banks, "imports": imports, "date_formats": rules.DATE_FORMATS}


MAPPING_COLUMNS = ("date", "description", "reference", "amount", "debit", "credit", "balance")
MAPPING_FIELDS = tuple(f"mapping.{n}" for n in (*MAPPING_COLUMNS, "date_format", "header_row"))
UPLOAD_FIELDS = ("account_id", "format", "file", *MAPPING_FIELDS)


def _mapping(state: forms.FormState) -> dict[str, object] | None:
    """The column mapping: a known bank's, or the columns named on the form ("other")."""
    chosen = state.values.get("format", "")
    if chosen in STATEMENT_FORMATS:
        return as_json(STATEMENT_FORMATS[chosen])
    if chosen != "other":
        return None
    named: dict[str, object] = {
        name: state.values[f"mapping.{name}"]
        for name in MAPPING_COLUMNS
        if state.values.get(f"mapping.{name}")
    }
    row = state.values.get("mapping.header_row", "")
    named["header_row"] = int(row) if row.isdigit() and len(row) < 3 else 0
    named["date_format"] = state.values.get("mapping.date_format", "")
    return named


async def _statement_text(form: Any, errors: dict[str, LedgerError]) -> tuple[str, str]:
    """The uploaded file's text and name (an error beside `file` if there is none)."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = invalid("statement_file_missing", "Choose the statement file.", "file")
        return "", ""
    content = await upload.read(rules.STATEMENT_BYTES_MAX + 1)
    try:
        return content.decode("utf-8-sig"), upload.filename[: reconcile.FILE_NAME_LENGTH_MAX]
    except UnicodeDecodeError:
        errors["file"] = invalid("statement_not_utf8", "The file is not UTF-8 text.", "file")
        return "", ""


async def _read_upload(form: Any, state: forms.FormState) -> tuple[forms.FormState, Any]:
    """The uploaded statement and its format as the API's `StatementImportCreate`."""
    errors: dict[str, LedgerError] = {}
    _account_id(state, errors)
    mapping = _mapping(state)
    if mapping is None:
        errors["format"] = invalid(
            "statement_format_unknown", "Choose the bank's format.", "format"
        )
    text, name = await _statement_text(form, errors)
    if errors or mapping is None:
        return forms.FormState(state.values, state.key, errors), None
    body = {"csv": text, "mapping": mapping, "file_name": name}
    try:
        return state, msgspec.convert(body, StatementImportCreate)
    except msgspec.ValidationError:
        refused = invalid("text_too_long", "This text is too long.", "format")
        return forms.FormState(state.values, state.key, {"format": refused}), None


def _upload_field(field: str | None, chosen: str) -> str | None:
    """Where a statement's error shows: its rows beside the file; a column beside its
    heading on the form, or beside the format when a known bank's format was chosen."""
    if (field or "").startswith("csv"):
        return "file"
    if (field or "").startswith("mapping.") and chosen != "other":
        return "format"
    return field


def _upload_errors(rejected: LedgerRejected, chosen: str) -> list[LedgerError]:
    return [
        LedgerError(e.code, e.message, _upload_field(e.field, chosen), e.kind)
        for e in rejected.errors
    ]


class StatementPages(Controller):
    path = "/reconcile"
    include_in_schema = False

    @get("/", opt=policy(Action.RECONCILE_READ))
    async def statements(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromQuery[str | None] = None,
    ) -> Template:
        context = await run_blocking(_statements_context, db, principal, book)
        return page(request, "finance/reconcile.html", {**context, "form": forms.blank()})

    @post(
        "/",
        opt=policy(Action.RECONCILE_WRITE),
        status_code=HTTP_303_SEE_OTHER,
        request_max_body_size=STATEMENT_REQUEST_BYTES_MAX,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        form = await request.form()
        state = forms.typed(dict(form))
        context = await run_blocking(_statements_context, db, principal, state.values.get("book"))
        state, data = await _read_upload(form, state)
        if data is None:
            return page(
                request, "finance/reconcile.html", {**context, "form": state}, status_code=422
            )
        code, account_id = context["book"].code, int(state.values["account_id"])
        upload: StatementImportCreate = data

        def work(conn: Connection) -> StatementImport:
            found = reconcile.import_statement(
                conn, code, account_id, upload.csv, upload.mapping.to_rules(),
                upload.file_name, principal.username,
            )  # fmt: skip
            return StatementImport.of(found)

        try:
            response = await writer.write(
                "statement.import", work, upload, book=code, key=state.key
            )
        except LedgerRejected as rejected:
            placed = LedgerRejected(_upload_errors(rejected, state.values.get("format", "")))
            return _fail(request, "finance/reconcile.html", context, state, placed, UPLOAD_FIELDS)
        return Redirect(f"/reconcile/{written_id(response)}", status_code=HTTP_303_SEE_OTHER)


# -- the matching screen ----------------------------------------------------------------------


def _matching_context(db: Database, statement_id: int) -> dict[str, Any]:
    with db.read() as conn:
        found = reconcile.get_import(conn, statement_id)
        unmatched, proposals = reconcile.propose(conn, found.book_code, found.account_id)
        accounts = books.list_accounts(conn, found.book_code)
    lines = {line.id: line for line in unmatched.lines}
    postings = {p.id: p for p in unmatched.postings}
    return {
        "found": found,
        "statement": found.statement,
        "unmatched": unmatched,
        "proposals": [
            (p, [lines[i] for i in p.line_ids], [postings[i] for i in p.posting_ids], forms.blank())
            for p in proposals
        ],
        "accounts": [a for a in accounts if a.name.startswith(("Expenses:", "Income:"))],
        "form": forms.blank(
            {
                "date": found.statement.last_date.isoformat(),
                "closing_balance": "",
            }
        ),
    }


def _pair(state: forms.FormState) -> tuple[list[int], list[int]] | None:
    lines = forms.read_ids(state.values.get("line_ids", ""))
    postings = forms.read_ids(state.values.get("posting_ids", ""))
    return None if lines is None or postings is None else (lines, postings)


class MatchingPages(Controller):
    path = "/reconcile/{statement_id:int}"
    include_in_schema = False

    @get("/", opt=policy(Action.RECONCILE_READ))
    async def matching(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        statement_id: FromPath[int],
    ) -> Template:
        context = await run_blocking(_matching_context, db, statement_id)
        saved = request.query_params.get("saved")
        return page(request, "finance/matching.html", {**context, "saved": saved})

    @post("/matches", opt=policy(Action.RECONCILE_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def accept(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        statement_id: FromPath[int],
    ) -> Response[Any] | Template:
        """Accept a proposal (`decision=accept`) or reject it (`decision=reject`)."""
        state = forms.typed(dict(await request.form()))
        context = await run_blocking(_matching_context, db, statement_id)
        pair = _pair(state)
        if pair is None:
            raise LedgerRejected(
                [invalid("match_incomplete", "Name at least one line and one posting.", "line_ids")]
            )
        code, account_id = context["found"].book_code, context["found"].account_id
        lines, postings = pair
        work: Callable[[Connection], msgspec.Struct]
        if state.values.get("decision") == "reject":
            data: msgspec.Struct = RejectionCreate(lines, postings)

            def work(conn: Connection) -> Rejection:
                return Rejection(
                    reconcile.reject(conn, code, account_id, lines, postings, principal.username)
                )

            action = "match.reject"
        else:
            data = MatchCreate(lines, postings, proposed=True)

            def work(conn: Connection) -> Match:
                return Match.of(
                    reconcile.match(
                        conn, code, account_id, lines, postings, "proposed", principal.username
                    )
                )

            action = "match.create"
        try:
            await writer.write(action, work, data, book=code, key=state.key)
        except LedgerRejected as rejected:
            return page(
                request,
                "finance/matching.html",
                {**context, "saved": None, "match_errors": rejected.errors},
                status_code=STATUS_BY_KIND[rejected.first.kind],
            )
        return Redirect(f"/reconcile/{statement_id}?saved={action}", status_code=HTTP_303_SEE_OTHER)

    @post("/close", opt=policy(Action.RECONCILE_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def close_statement(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        statement_id: FromPath[int],
    ) -> Response[Any] | Template:
        """Close the reconciliation: the statement's balance becomes a balance assertion."""
        state = forms.typed(dict(await request.form()))
        context = {**await run_blocking(_matching_context, db, statement_id), "saved": None}
        state, data = forms.read_statement_close(state)
        if data is None:
            return page(
                request, "finance/matching.html", {**context, "form": state}, status_code=422
            )
        code, account_id = context["found"].book_code, context["found"].account_id
        draft = data.to_draft()

        def work(conn: Connection) -> Reconciliation:
            closed = reconcile.close_statement(conn, code, account_id, draft, principal.username)
            return Reconciliation.of(closed)

        try:
            await writer.write("reconciliation.close", work, data, book=code, key=state.key)
        except LedgerRejected as rejected:
            return _fail(request, "finance/matching.html", context, state, rejected, CLOSE_FIELDS)
        return Redirect(f"/reconcile/{statement_id}?saved=closed", status_code=HTTP_303_SEE_OTHER)


# -- cash counts ------------------------------------------------------------------------------


def _cash_context(db: Database, principal: Principal, requested: str | None) -> dict[str, Any]:
    with db.read() as conn:
        book = readable_book(conn, principal, Action.RECONCILE_READ, requested)
        boxes = [
            a
            for a in books.list_accounts(conn, book.code)
            if a.name.startswith(reconcile.CASH_PREFIX) and len(a.currencies) == 1
        ]
        counts = [
            r for r in reconcile.list_reconciliations(conn, book.code) if r.kind == "cash_count"
        ]
        accounts = [
            a
            for a in books.list_accounts(conn, book.code)
            if a.name.startswith(("Expenses:", "Income:"))
        ]
    return {"book": book, "boxes": boxes, "counts": counts, "accounts": accounts}


class CashCountPages(Controller):
    path = "/cash-counts"
    include_in_schema = False

    @get("/", opt=policy(Action.RECONCILE_READ))
    async def cash_counts(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromQuery[str | None] = None,
    ) -> Template:
        context = await run_blocking(_cash_context, db, principal, book)
        state = forms.blank({"date": utc_today().isoformat()})
        saved = request.query_params.get("saved")
        return page(request, "finance/cash_counts.html", {**context, "form": state, "saved": saved})

    @post("/", opt=policy(Action.RECONCILE_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def count(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        state = forms.typed(dict(await request.form()))
        context = {
            **await run_blocking(_cash_context, db, principal, state.values.get("book")),
            "saved": None,
        }
        errors: dict[str, LedgerError] = {}
        account_id = _account_id(state, errors)
        state, data = forms.read_cash_count(state)
        if data is None or errors:
            state = forms.FormState(state.values, state.key, {**state.errors, **errors})
            return page(
                request, "finance/cash_counts.html", {**context, "form": state}, status_code=422
            )
        code = context["book"].code
        draft = data.to_draft()

        def work(conn: Connection) -> Reconciliation:
            return Reconciliation.of(
                reconcile.count_cash(conn, code, account_id, draft, principal.username)
            )

        try:
            await writer.write("cash.count", work, data, book=code, key=state.key)
        except LedgerRejected as rejected:
            return _fail(
                request, "finance/cash_counts.html", context, state, rejected, COUNT_FIELDS
            )
        return Redirect(f"/cash-counts?book={code}&saved=1", status_code=HTTP_303_SEE_OTHER)


# -- the period close -------------------------------------------------------------------------


def _last_month_end(today: datetime.date) -> datetime.date:
    return today.replace(day=1) - datetime.timedelta(days=1)


def _close_context(
    db: Database, principal: Principal, requested: str | None, date: datetime.date
) -> dict[str, Any]:
    with db.read() as conn:
        book = readable_book(conn, principal, Action.RECONCILE_READ, requested)
        summary = reconcile.reconciliation_summary(conn, book.code, date)
    return {"book": book, "summary": summary, "date": date}


class ClosePages(Controller):
    path = "/close"
    include_in_schema = False

    @get("/", opt=policy(Action.RECONCILE_READ))
    async def checklist(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromQuery[str | None] = None,
        date: FromQuery[str | None] = None,
    ) -> Template:
        """What is still to reconcile on `date` (by default the end of last month)."""
        errors: dict[str, LedgerError] = {}
        state = forms.blank({"date": date or _last_month_end(utc_today()).isoformat()})
        on = forms.read_date(state, "date", errors) or _last_month_end(utc_today())
        state = forms.FormState(state.values, state.key, errors)
        context = await run_blocking(_close_context, db, principal, book, on)
        saved = request.query_params.get("saved")
        return page(request, "finance/close.html", {**context, "form": state, "saved": saved})

    @post("/", opt=policy(Action.PERIOD_CLOSE), status_code=HTTP_303_SEE_OTHER)
    async def close_period(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        state = forms.typed(dict(await request.form()))
        state, data = forms.read_period_close(state)
        on = data.date if data is not None else _last_month_end(utc_today())
        context = {
            **await run_blocking(_close_context, db, principal, state.values.get("book"), on),
            "saved": None,
        }
        if data is None:
            return page(request, "finance/close.html", {**context, "form": state}, status_code=422)
        code = context["book"].code
        request_data = data

        def work(conn: Connection) -> Book:
            return Book.of(reconcile.close_period(conn, code, request_data.date))

        try:
            await writer.write(
                "book.period_close", work, data, status_code=200, book=code, key=state.key
            )
        except LedgerRejected as rejected:
            accounts = tuple(s.account for s in context["summary"])
            return _fail(
                request, "finance/close.html", context, state, rejected, ("date", *accounts)
            )
        target = f"/close?book={code}&date={data.date.isoformat()}&saved=1"
        return Redirect(target, status_code=HTTP_303_SEE_OTHER)
