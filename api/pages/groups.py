"""A savings group's pages: its home, a member's passbook, and the share-out.

`{book}` is the group's code, so the guard checks the same `book:`/`province:` scopes as the
API's `/api/groups/{book}` routes: another group's page is a 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.files import PDF, pdf_response
from api.pages.render import page
from api.pages.views import GroupHome, read_group_home
from api.schemas.savings import ShareOut, ShareOutCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target, decide
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.reports import savings as statements
from ledger.savings import queries, service
from ledger.store.database import Database, run_blocking


class GroupPages(Controller):
    path = "/groups/{book:str}"
    include_in_schema = False

    @get("/", opt=policy(Action.SAVINGS_READ))
    async def group_home(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromPath[str],
    ) -> Template:
        def read() -> GroupHome:
            with db.read() as conn:
                return read_group_home(conn, book)

        home = await run_blocking(read)
        target = Target(book, home.group.province or None)
        context = {
            "home": home,
            "saved": request.query_params.get("saved") == "1",
            # Only a role that may record a meeting is offered the button.
            "can_write": decide(principal, Action.SAVINGS_WRITE, target) == "allow",
        }
        return page(request, "group.html", context)

    @get("/members/{number:str}", opt=policy(Action.SAVINGS_READ))
    async def passbook(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        book: FromPath[str],
        number: FromPath[str],
    ) -> Template:
        def read() -> tuple[queries.Group, statements.PassbookView]:
            with db.read() as conn:
                return queries.get_group(conn, book), statements.passbook(conn, book, number)

        group, view = await run_blocking(read)
        return page(request, "passbook.html", {"group": group, "view": view})

    @get("/members/{number:str}/passbook.pdf", opt=policy(Action.SAVINGS_READ), media_type=PDF)
    async def passbook_pdf(
        self, db: NamedDependency[Database], book: FromPath[str], number: FromPath[str]
    ) -> Response[bytes]:
        def render() -> tuple[bytes, str]:
            with db.read() as conn:
                view = statements.passbook(conn, book, number)
            return statements.render_passbook(view), f"passbook-{book}-{view.member}.pdf"

        content, name = await run_blocking(render)
        return pdf_response(content, name)

    @get("/share-out", opt=policy(Action.SAVINGS_READ))
    async def share_out_preview(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromPath[str],
    ) -> Template:
        context = await run_blocking(_share_out_context, db, book)
        target = Target(book, context["group"].province or None)
        can_write = decide(principal, Action.SAVINGS_WRITE, target) == "allow"
        return page(request, "share_out.html", {**context, "can_write": can_write})

    @post("/share-out", opt=policy(Action.SAVINGS_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def share_out(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
    ) -> Response[Any] | Template:
        """Execute the share-out the treasurer confirmed (the server computes it again)."""
        form = await request.form()
        # The guard allowed this route's action (savings.write): the form is offered again.
        context = {**await run_blocking(_share_out_context, db, book), "can_write": True}
        cycle: queries.Cycle = context["cycle"]
        date = _form_date(form.get("date"))
        errors: list[LedgerError] = []
        if date is None:
            errors.append(invalid("date_invalid", "Choose the meeting's date.", "date"))
        if form.get("confirm") != "yes":
            errors.append(invalid("share_out_not_confirmed", "Tick the box to confirm.", "confirm"))
        if errors or date is None:
            return page(request, "share_out.html", {**context, "errors": errors}, status_code=422)
        data = ShareOutCreate(date=date)

        def work(conn: Connection) -> ShareOut:
            return ShareOut.of(
                service.execute_share_out(conn, book, cycle.number, date, None, principal.username)
            )

        try:
            await writer.write("savings_share_out.execute", work, data, book=book)
        except LedgerRejected as rejected:
            status = STATUS_BY_KIND[rejected.first.kind]
            errors = list(rejected.errors)
            return page(
                request, "share_out.html", {**context, "errors": errors}, status_code=status
            )
        return Redirect(f"/groups/{book}?saved=1", status_code=HTTP_303_SEE_OTHER)


def _form_date(value: object) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _share_out_context(db: Database, book: str) -> dict[str, Any]:
    with db.read() as conn:
        group = queries.get_group(conn, book)
        cycle = queries.open_cycle(conn, group)
        preview = queries.preview_share_out(conn, book, cycle.number)
    return {
        "group": group,
        "cycle": cycle,
        "preview": preview,
        "errors": [],
    }
