"""The livelihood officer's grant pages: the register and the approval queue, the proposal
form, a grant with its disbursements (approve, disburse, end) and the receipt to print.

Every write goes through the API's own write path (`AuditedWriter`) with the same request
structs and services as `/api/grants`, carrying the Idempotency-Key made when the form was
opened: a double click or a resent form records once. A refused form comes back with the
service's errors beside their fields, in the reader's language, and what was typed.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.files import PDF, pdf_response
from api.pages import grant_views as views
from api.pages.grant_forms import (
    GRANT_FIELD_ALIASES,
    ITEM_ROWS,
    ReadForm,
    blank_form,
    form_values,
    place_errors,
    read_approval_form,
    read_disbursement_form,
    read_grant_form,
)
from api.pages.render import page
from api.schemas.grants import Disbursement, Grant, GrantEnd
from api.scopes import grant_in_scope, household_in_scope
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.grants import rules as grant_rules
from ledger.grants import service as grants
from ledger.households.rules import MONEY
from ledger.reports.receipt import disbursement_receipt, render_receipt
from ledger.store.books import utc_today
from ledger.store.database import Database, run_blocking

GRANT_FIELDS = ("case_code", "line", "business_type", "currency", "approved_amount", "purpose")
DISBURSE_FIELDS = (
    "date",
    "method",
    "paid_from",
    "amount",
    "exchange_rate",
    "narration",
    *(f"items[{i}].{n}" for i in range(ITEM_ROWS) for n in ("commodity", "quantity", "unit_cost")),
)
CASE_CODE_LENGTH_MAX = 20


def _see(target: str) -> Redirect:
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


def _proposal_page(
    request: Request[Any, Any, Any],
    db: Database,
    read: ReadForm[Any],
    rejected: tuple[LedgerError, ...] = (),
    status_code: int = 200,
) -> Template:
    def choices() -> tuple[views.LineChoice, ...]:
        with db.read() as conn:
            return views.line_choices(conn)

    beside, general = place_errors(rejected, GRANT_FIELDS, GRANT_FIELD_ALIASES)
    context = {
        "lines": choices(),
        "business_types": grant_rules.BUSINESS_TYPES,
        "currencies": MONEY,
        "values": read.values,
        "errors": {**read.errors, **beside},
        "general_errors": general,
        "key": read.key,
    }
    return page(request, "grant_new.html", context, status_code=status_code)


def _disburse_page(
    request: Request[Any, Any, Any],
    view: views.DisbursePageView,
    read: ReadForm[Any],
    rejected: tuple[LedgerError, ...] = (),
    status_code: int = 200,
) -> Template:
    beside, general = place_errors(rejected, DISBURSE_FIELDS)
    context = {
        "view": view,
        "rows": range(ITEM_ROWS),
        "values": read.values,
        "errors": {**read.errors, **beside},
        "general_errors": general,
        "key": read.key,
    }
    return page(request, "grant_disburse.html", context, status_code=status_code)


async def _decided(
    request: Request[Any, Any, Any],
    db: Database,
    principal: Principal,
    grant_id: int,
    error: LedgerRejected,
) -> Template:
    """The grant page again, saying why the decision was refused."""

    def read() -> views.GrantPageView:
        with db.read() as conn:
            return views.read_grant_page(conn, principal, grant_id)

    context = {
        "view": await run_blocking(read),
        "saved": None,
        "errors": list(error.errors),
        "key": blank_form().key,
    }
    status = STATUS_BY_KIND[error.first.kind]
    return page(request, "grant.html", context, status_code=status)


class GrantPages(Controller):
    path = "/grants"
    include_in_schema = False

    @get("/", opt=policy(Action.GRANTS_READ))
    async def grant_list(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        status: FromQuery[str | None] = None,
        after: FromQuery[int | None] = None,
    ) -> Template:
        """The grants in the user's provinces (filtered by status) and their approval queue."""
        wanted = status if status in grant_rules.STATUSES else None

        def read() -> views.GrantList:
            with db.read() as conn:
                return views.read_grant_list(conn, principal, wanted, after)

        context = {
            "found": await run_blocking(read),
            "status": wanted,
            "statuses": grant_rules.STATUSES,
        }
        return page(request, "grants.html", context)

    @get("/new", opt=policy(Action.GRANTS_WRITE))
    async def new_grant(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case_code: FromQuery[str | None] = None,
    ) -> Template:
        """A blank proposal, for the household named in the link when there is one (404 for a
        household outside the officer's provinces)."""
        code = (case_code or "").strip()[:CASE_CODE_LENGTH_MAX]
        if code:

            def check() -> None:
                with db.read() as conn:
                    household_in_scope(conn, principal, Action.GRANTS_WRITE, code)

            await run_blocking(check)
        # A household receives riel unless the officer chooses baht or dollars.
        values = {"case_code": code, "business_type": "pig_raising", "currency": "KHR"}
        read = blank_form(values)
        return await run_blocking(_proposal_page, request, db, read)

    @post("/", opt=policy(Action.GRANTS_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def propose(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        read = read_grant_form(dict(await request.form()))
        data = read.request
        if data is None:
            return await run_blocking(_proposal_page, request, db, read, (), 422)
        draft = data.to_draft()

        def work(conn: Connection) -> Grant:
            household_in_scope(conn, principal, Action.GRANTS_WRITE, data.case_code)
            return Grant.of(grants.propose_grant(conn, draft, principal.username))

        try:
            done = await writer.write("grant.propose", work, data, key=read.key)
        except LedgerRejected as rejected:
            status = STATUS_BY_KIND[rejected.first.kind]
            return await run_blocking(_proposal_page, request, db, read, rejected.errors, status)
        # The write path answers with the JSON it stored for the key (a replay: the same).
        grant = msgspec.json.decode(cast(bytes, done.content), type=Grant)
        return _see(f"/grants/{grant.id}?saved=proposed")

    @get("/{grant_id:int}", opt=policy(Action.GRANTS_READ))
    async def grant_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> Template:
        def read() -> views.GrantPageView:
            with db.read() as conn:
                return views.read_grant_page(conn, principal, grant_id)

        context: dict[str, Any] = {
            "view": await run_blocking(read),
            "saved": request.query_params.get("saved"),
            "errors": [],
            "key": blank_form().key,
        }
        return page(request, "grant.html", context)

    @post("/{grant_id:int}/approve", opt=policy(Action.GRANTS_APPROVE), status_code=303)
    async def approve(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> Response[Any] | Template:
        """Approve, as `POST /api/grants/{id}/approve` does: the proposer of a grant above the
        award's threshold is refused (403) here as there."""
        read = read_approval_form(dict(await request.form()))
        data = read.request
        if data is None:
            error = LedgerRejected(list(read.errors.values()))
            return await _decided(request, db, principal, grant_id, error)
        rate = data.exchange_rate

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_APPROVE, grant_id)
            return Grant.of(grants.approve_grant(conn, grant_id, principal.username, rate))

        try:
            await writer.write("grant.approve", work, data, status_code=HTTP_200_OK, key=read.key)
        except LedgerRejected as rejected:
            return await _decided(request, db, principal, grant_id, rejected)
        return _see(f"/grants/{grant_id}?saved=approved")

    @post("/{grant_id:int}/end", opt=policy(Action.GRANTS_WRITE), status_code=303)
    async def end(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> Response[Any] | Template:
        """Close a grant paid in full, or cancel one (with a reason)."""
        values, key = form_values(dict(await request.form()))
        ending = "closed" if values.get("ending") == "close" else "cancelled"
        data = GrantEnd(reason=values.get("reason", "").strip() or None)

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_WRITE, grant_id)
            return Grant.of(
                grants.end_grant(conn, grant_id, ending, data.reason, principal.username)
            )

        action = "grant.close" if ending == "closed" else "grant.cancel"
        try:
            await writer.write(action, work, data, status_code=HTTP_200_OK, key=key)
        except LedgerRejected as rejected:
            return await _decided(request, db, principal, grant_id, rejected)
        return _see(f"/grants/{grant_id}?saved={ending}")

    @get("/{grant_id:int}/disburse", opt=policy(Action.GRANTS_DISBURSE))
    async def disburse_form(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> Template:
        view = await run_blocking(_read_disburse, db, principal, grant_id)
        account = view.accounts[0].name if view.accounts else ""
        values = {"date": utc_today().isoformat(), "method": "cash", "paid_from": account}
        return _disburse_page(request, view, blank_form(values))

    @post("/{grant_id:int}/disburse", opt=policy(Action.GRANTS_DISBURSE), status_code=303)
    async def disburse(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> Response[Any] | Template:
        """Pay the grant (once per form: the key was made when the form opened)."""
        read = read_disbursement_form(dict(await request.form()))
        view = await run_blocking(_read_disburse, db, principal, grant_id)
        data = read.request
        if data is None:
            return _disburse_page(request, view, read, status_code=422)
        draft = data.to_draft()

        def work(conn: Connection) -> Disbursement:
            grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
            return Disbursement.of(grants.disburse(conn, grant_id, draft, principal.username))

        try:
            await writer.write("grant.disburse", work, data, key=read.key)
        except LedgerRejected as rejected:
            status = STATUS_BY_KIND[rejected.first.kind]
            return _disburse_page(request, view, read, rejected.errors, status)
        return _see(f"/grants/{grant_id}?saved=disbursed")

    @get(
        "/{grant_id:int}/disbursements/{disbursement_id:int}/receipt.pdf",
        opt=policy(Action.GRANTS_READ),
        media_type=PDF,
    )
    async def receipt(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
    ) -> Response[bytes]:
        """The receipt the API prints (`.../receipt.pdf`), under the page's session."""

        def render() -> tuple[bytes, str]:
            with db.read() as conn:
                grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
                view = disbursement_receipt(conn, grant_id, disbursement_id)
            return render_receipt(view), f"receipt-{view.receipt_number}.pdf"

        content, name = await run_blocking(render)
        return pdf_response(content, name)


def _read_disburse(db: Database, principal: Principal, grant_id: int) -> views.DisbursePageView:
    with db.read() as conn:
        return views.read_disburse_page(conn, principal, grant_id)
