"""The treasurer's meeting: one form, a review with the totals and the expected cash, and one
save that posts the whole meeting atomically with the Idempotency-Key made when the form
was opened. The server reads every amount and the savings service recomputes the money;
the page only shows what the server found, errors beside the field they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar_htmx import HTMXRequest
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.pages.forms import ReadMeeting, new_idempotency_key, read_meeting_form
from api.pages.render import page
from api.pages.views import GroupHome, read_group_home
from api.schemas.savings import Meeting, MeetingCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core.amount import parse_units
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.savings import service
from ledger.store.database import Database, run_blocking


@dataclass(frozen=True, slots=True)
class MeetingTotals:
    """What the meeting moves through the cash box, computed by the server for the review."""

    shares: int
    savings_in: int
    social_fund_in: int
    fines_in: int
    repaid_in: int
    loans_out: int
    grants_out: int
    cash_before: int

    @property
    def cash_expected(self) -> int:
        money_in = self.savings_in + self.social_fund_in + self.fines_in + self.repaid_in
        return self.cash_before + money_in - self.loans_out - self.grants_out


def _units(text: str, precision: int) -> int:
    parsed = parse_units(text, precision, "amount")
    return parsed if isinstance(parsed, int) else 0


def total_meeting(meeting: MeetingCreate, home: GroupHome) -> MeetingTotals:
    """Sum the meeting's flows; amounts the service would refuse count as zero here (the
    save reports them beside their field)."""
    precision = home.group.precision
    entries = meeting.entries
    shares = sum(e.shares for e in entries)
    return MeetingTotals(
        shares=shares,
        savings_in=shares * home.group.constitution.share_price,
        social_fund_in=sum(_units(e.social_fund_paid, precision) for e in entries),
        fines_in=sum(_units(e.fines_paid, precision) for e in entries),
        repaid_in=sum(_units(e.loan_repaid, precision) for e in entries),
        loans_out=sum(_units(e.loan_taken.amount, precision) for e in entries if e.loan_taken),
        grants_out=sum(_units(e.grant_received, precision) for e in entries),
        cash_before=home.cash_box,
    )


def _read_home(db: Database, book: str) -> GroupHome:
    with db.read() as conn:
        return read_group_home(conn, book)


def _form_page(
    request: Request[Any, Any, Any],
    home: GroupHome,
    read: ReadMeeting,
    *,
    totals: MeetingTotals | None = None,
    rejected: tuple[LedgerError, ...] = (),
    status_code: int = 200,
) -> Template:
    errors = dict(read.errors)
    general = []
    for error in rejected:
        if error.field in read.values or error.field == "cash_counted":
            errors[error.field] = error
        else:
            general.append(error)
    return page(
        request,
        "meeting.html",
        {
            "home": home,
            "values": read.values,
            "errors": errors,
            "general_errors": general,
            "key": read.key,
            "totals": totals,
        },
        status_code=status_code,
    )


class MeetingPages(Controller):
    path = "/groups/{book:str}/meetings"
    include_in_schema = False
    request_class = HTMXRequest

    @get("/new", opt=policy(Action.SAVINGS_WRITE))
    async def new_meeting(
        self, request: HTMXRequest, db: NamedDependency[Database], book: FromPath[str]
    ) -> Template:
        """A blank meeting: every active member present, the constitution's social fund."""
        home = await run_blocking(_read_home, db, book)
        social = str(home.group.constitution.social_fund_per_meeting)
        values = {"date": home.next_meeting.isoformat()}
        for index, _ in enumerate(home.members):
            values[f"entries[{index}].attendance"] = "present"
            values[f"entries[{index}].social_fund_paid"] = social
        read = ReadMeeting(values, {}, None, new_idempotency_key())
        return _form_page(request, home, read)

    @post("/", opt=policy(Action.SAVINGS_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def post_meeting(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
    ) -> Response[Any] | Template:
        """`step=review` shows the totals; `step=save` records the meeting (once per key)."""
        form = await request.form()
        home = await run_blocking(_read_home, db, book)
        read = read_meeting_form(dict(form), tuple(m.number for m in home.members))
        if read.meeting is None:
            return _form_page(request, home, read, status_code=422)
        totals = total_meeting(read.meeting, home)
        if form.get("step") != "save":
            return _form_page(request, home, read, totals=totals)
        draft = read.meeting.to_draft()

        def work(conn: Connection) -> Meeting:
            return Meeting.of(service.record_meeting(conn, book, draft, principal.username))

        try:
            await writer.write(
                "savings_meeting.record", work, read.meeting, book=book, key=read.key
            )
        except LedgerRejected as rejected:
            status = STATUS_BY_KIND[rejected.first.kind]
            return _form_page(
                request, home, read, totals=totals, rejected=rejected.errors, status_code=status
            )
        target = f"/groups/{book}?saved=1"
        if request.htmx:
            return Response(None, status_code=200, headers={"HX-Redirect": target})
        return Redirect(target, status_code=HTTP_303_SEE_OTHER)
