"""Savings groups: a group is a book (`{book}` is its code, e.g. sg-kt-001), so the guard's
`book:` and `province:` scopes apply to every route below it."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.files import CSV, PDF, csv_response, pdf_response
from api.schemas.savings import (
    MEETINGS_HEADER,
    Cycle,
    Group,
    GroupCreate,
    Indicators,
    Loan,
    Meeting,
    MeetingCreate,
    Member,
    MemberCreate,
    MemberLeave,
    MemberPerson,
    ShareOut,
    ShareOutCreate,
    WriteOffCreate,
    meeting_rows,
)
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target, decide
from ledger.core import limits
from ledger.core.csv_text import to_csv
from ledger.reports import savings as statements
from ledger.savings import queries, service
from ledger.store.database import Database

GROUP_EXAMPLE = Example(
    summary="A women's savings group in Kampong Thom",
    value={
        "code": "sg-kt-001",
        "name": "Prasat Balang women's savings group",
        "village": "Kampong Svay",
        "commune": "Prasat Balang",
        "province": "Kampong Thom",
        "formed_on": "2026-01-05",
        "cycle_planned_end": "2026-12-28",
        "currency": "KHR",
        "meeting_frequency": "weekly",
        "constitution": {
            "share_price": "5000",
            "shares_per_meeting_min": 1,
            "shares_per_meeting_max": 5,
            "social_fund_per_meeting": "500",
            "interest_rate_monthly_percent": "2",
            "interest_method": "declining",
            "loan_savings_multiple": 3,
            "loan_term_months_max": 6,
            "fine_late": "500",
            "fine_absent": "1000",
            "fine_other": "500",
        },
    },
)
MEETING_EXAMPLE = Example(
    summary="A weekly meeting: shares, social fund, a fine, a repayment, a new loan",
    value={
        "date": "2026-03-02",
        "entries": [
            {"member": "M01", "attendance": "present", "shares": 2, "social_fund_paid": "500"},
            {
                "member": "M02",
                "attendance": "present",
                "shares": 1,
                "social_fund_paid": "500",
                "fines_paid": "500",
                "loan_repaid": "52000",
            },
            {
                "member": "M03",
                "attendance": "represented",
                "shares": 3,
                "social_fund_paid": "500",
                "loan_taken": {"amount": "100000", "term_months": 3},
            },
        ],
        "cash_counted": "1234500",
    },
)


# Cycle numbers are bounded before the database sees them (PostgreSQL refuses a larger one).
CycleNumber = Annotated[int, Parameter(ge=-limits.CYCLE_NUMBER_MAX, le=limits.CYCLE_NUMBER_MAX)]
OptionalCycle = Annotated[
    int | None, Parameter(ge=-limits.CYCLE_NUMBER_MAX, le=limits.CYCLE_NUMBER_MAX)
]


class SavingsGroupController(Controller):
    path = "/api/groups"
    tags = ["savings groups"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a savings group: its book, accounts, constitution and first cycle",
        opt=policy(Action.SAVINGS_GROUPS_CREATE),
    )
    async def create_group(
        self,
        writer: NamedDependency[AuditedWriter],
        data: Annotated[GroupCreate, Body(examples=[GROUP_EXAMPLE])],
    ) -> Response[Group]:
        draft = data.to_draft()

        def work(conn: Connection) -> Group:
            return Group.of(service.create_group(conn, draft))

        return await writer.write("savings_group.create", work, data, book=data.code)

    @get(
        "/", sync_to_thread=True, summary="The groups you may see", opt=policy(Action.SAVINGS_READ)
    )
    def list_groups(
        self, db: NamedDependency[Database], principal: NamedDependency[Principal]
    ) -> list[Group]:
        with db.read() as conn:
            groups = queries.list_groups(conn)
        return [
            Group.of(g)
            for g in groups
            if decide(principal, Action.SAVINGS_READ, Target(g.code, g.province or None)) == "allow"
        ]

    @get("/{book:str}", sync_to_thread=True, summary="One group", opt=policy(Action.SAVINGS_READ))
    def get_group(self, db: NamedDependency[Database], book: FromPath[str]) -> Group:
        with db.read() as conn:
            return Group.of(queries.get_group(conn, book))

    @post(
        "/{book:str}/members",
        status_code=HTTP_201_CREATED,
        summary="Add a member (and open their savings and loan accounts)",
        opt=policy(Action.SAVINGS_WRITE),
    )
    async def add_member(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        data: JSONBody[MemberCreate],
    ) -> Response[Member]:
        person = data.person()

        def work(conn: Connection) -> Member:
            return Member.of(
                service.add_member(
                    conn, book, data.number, data.role, data.joined_on, data.case_code, person
                )
            )

        return await writer.write("savings_member.add", work, data, book=book)

    @put(
        "/{book:str}/members/{number:str}/person",
        status_code=HTTP_200_OK,
        summary="Record or correct a member's sex and birth year or age band",
        opt=policy(Action.SAVINGS_WRITE),
    )
    async def describe_member(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        number: FromPath[str],
        data: JSONBody[MemberPerson],
    ) -> Response[Member]:
        person = data.person()

        def work(conn: Connection) -> Member:
            return Member.of(service.describe_member(conn, book, number, person))

        # PUT is idempotent by itself: no Idempotency-Key store.
        return await writer.write(
            "savings_member.person",
            work,
            data,
            status_code=HTTP_200_OK,
            book=book,
            idempotent=False,
        )

    @get("/{book:str}/members", sync_to_thread=True, opt=policy(Action.SAVINGS_READ))
    def list_members(self, db: NamedDependency[Database], book: FromPath[str]) -> list[Member]:
        with db.read() as conn:
            return [Member.of(m) for m in queries.list_members(conn, book)]

    @post(
        "/{book:str}/members/{number:str}/leave",
        status_code=HTTP_200_OK,
        summary="A member leaves the group",
        opt=policy(Action.SAVINGS_WRITE),
    )
    async def member_leaves(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        number: FromPath[str],
        data: JSONBody[MemberLeave],
    ) -> Response[Member]:
        def work(conn: Connection) -> Member:
            return Member.of(service.member_leaves(conn, book, number, data.date))

        return await writer.write(
            "savings_member.leave", work, data, status_code=HTTP_200_OK, book=book
        )

    @get("/{book:str}/cycles", sync_to_thread=True, opt=policy(Action.SAVINGS_READ))
    def list_cycles(self, db: NamedDependency[Database], book: FromPath[str]) -> list[Cycle]:
        with db.read() as conn:
            return [Cycle.of(c) for c in queries.list_cycles(conn, book)]

    @post(
        "/{book:str}/meetings",
        status_code=HTTP_201_CREATED,
        summary="Record a whole meeting at once (send an Idempotency-Key to retry safely)",
        description="Every member's shares, social fund, fines, repayments, new loans and "
        "grants post together with the cash-box count, or nothing does. A count that differs "
        "from the book is refused (409 cash_count_differs) unless `cash_difference_reason` "
        "accepts it; the difference then posts to Expenses:Cash-Differences.",
        opt=policy(Action.SAVINGS_WRITE),
    )
    async def record_meeting(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        data: Annotated[MeetingCreate, Body(examples=[MEETING_EXAMPLE])],
    ) -> Response[Meeting]:
        draft = data.to_draft()

        def work(conn: Connection) -> Meeting:
            return Meeting.of(service.record_meeting(conn, book, draft, principal.username))

        return await writer.write("savings_meeting.record", work, data, book=book)

    @get("/{book:str}/meetings", sync_to_thread=True, opt=policy(Action.SAVINGS_READ))
    def list_meetings(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        cycle: OptionalCycle = None,
    ) -> list[Meeting]:
        with db.read() as conn:
            return [Meeting.of(m) for m in queries.list_meetings(conn, book, cycle)]

    @get(
        "/{book:str}/meetings.csv",
        sync_to_thread=True,
        summary="Meetings as CSV, one row per member per meeting",
        media_type=CSV,
        opt=policy(Action.SAVINGS_READ),
    )
    def meetings_csv(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        cycle: OptionalCycle = None,
    ) -> Response[bytes]:
        with db.read() as conn:
            meetings = [Meeting.of(m) for m in queries.list_meetings(conn, book, cycle)]
        return csv_response(to_csv(MEETINGS_HEADER, meeting_rows(meetings)), f"meetings-{book}.csv")

    @get("/{book:str}/loans", sync_to_thread=True, opt=policy(Action.SAVINGS_READ))
    def list_loans(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        as_of: FromQuery[datetime.date | None] = None,
        active: FromQuery[bool] = False,
    ) -> list[Loan]:
        with db.read() as conn:
            return [Loan.of(x) for x in queries.list_loans(conn, book, as_of, active)]

    @get(
        "/{book:str}/loans/{loan_id:int}",
        sync_to_thread=True,
        summary="One loan: what is owed, arrears, payments and schedule",
        opt=policy(Action.SAVINGS_READ),
    )
    def get_loan(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        loan_id: FromPath[int],
        as_of: FromQuery[datetime.date | None] = None,
    ) -> Loan:
        with db.read() as conn:
            return Loan.of(queries.get_loan(conn, book, loan_id, as_of))

    @post(
        "/{book:str}/loans/{loan_id:int}/write-off",
        status_code=HTTP_200_OK,
        summary="Write a loan off by the group's decision",
        opt=policy(Action.SAVINGS_WRITE),
    )
    async def write_off(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        loan_id: FromPath[int],
        data: JSONBody[WriteOffCreate],
    ) -> Response[Loan]:
        def work(conn: Connection) -> Loan:
            return Loan.of(
                service.write_off_loan(
                    conn, book, loan_id, data.date, data.reason, principal.username
                )
            )

        return await writer.write(
            "savings_loan.write_off", work, data, status_code=HTTP_200_OK, book=book
        )

    @get(
        "/{book:str}/cycles/{cycle:int}/share-out",
        sync_to_thread=True,
        summary="Preview a cycle's share-out (or see the one executed)",
        opt=policy(Action.SAVINGS_READ),
    )
    def preview_share_out(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        cycle: CycleNumber,
        date: FromQuery[datetime.date | None] = None,
    ) -> ShareOut:
        with db.read() as conn:
            return ShareOut.of(queries.preview_share_out(conn, book, cycle, date))

    @post(
        "/{book:str}/cycles/{cycle:int}/share-out",
        status_code=HTTP_201_CREATED,
        summary="Execute the share-out: closing entries, payouts, loans settled, next cycle",
        opt=policy(Action.SAVINGS_WRITE),
    )
    async def execute_share_out(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        cycle: CycleNumber,
        data: JSONBody[ShareOutCreate],
    ) -> Response[ShareOut]:
        def work(conn: Connection) -> ShareOut:
            return ShareOut.of(
                service.execute_share_out(
                    conn, book, cycle, data.date, data.next_cycle_planned_end, principal.username
                )
            )

        return await writer.write("savings_share_out.execute", work, data, book=book)

    @get(
        "/{book:str}/indicators",
        sync_to_thread=True,
        summary="Members, savings, loans, portfolio at risk, attendance, return on savings",
        opt=policy(Action.SAVINGS_READ),
    )
    def indicators(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        as_of: FromQuery[datetime.date | None] = None,
    ) -> Indicators:
        with db.read() as conn:
            return Indicators.of(queries.indicators(conn, book, as_of))

    @get(
        "/{book:str}/members/{number:str}/passbook.pdf",
        sync_to_thread=True,
        summary="A member's passbook for a cycle (Khmer and English, PDF)",
        opt=policy(Action.SAVINGS_READ),
        media_type=PDF,
    )
    def passbook(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        number: FromPath[str],
        cycle: OptionalCycle = None,
    ) -> Response[bytes]:
        with db.read() as conn:
            view = statements.passbook(conn, book, number, cycle)
        return pdf_response(
            statements.render_passbook(view), f"passbook-{book}-{view.member}-{view.cycle}.pdf"
        )

    @get(
        "/{book:str}/cycles/{cycle:int}/share-out.pdf",
        sync_to_thread=True,
        summary="The share-out statement with signature boxes (a preview is marked DRAFT)",
        opt=policy(Action.SAVINGS_READ),
        media_type=PDF,
    )
    def share_out_statement(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        cycle: CycleNumber,
        date: FromQuery[datetime.date | None] = None,
    ) -> Response[bytes]:
        with db.read() as conn:
            view = statements.share_out_statement(conn, book, cycle, date)
        return pdf_response(statements.render_share_out(view), f"share-out-{book}-{cycle}.pdf")
