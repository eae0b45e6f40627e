"""Savings groups: a group is a book (`{book}` is its code, e.g. sg-kt-001), so the guard's
`book:` and `province:` scopes apply to every route below it."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, Parameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import dated_after, id_after, text_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Caller, Db, Page, Writer
from api.routes import acts, creates, reads, replaces
from api.schemas import example
from api.schemas.savings import (
    EXAMPLE_GROUP,
    EXAMPLE_MEETING,
    EXAMPLE_MEMBER,
    EXAMPLE_MEMBER_LEAVE,
    EXAMPLE_MEMBER_PERSON,
    EXAMPLE_SHARE_OUT,
    EXAMPLE_WRITE_OFF,
    MEETINGS_HEADER,
    CyclePage,
    Group,
    GroupCreate,
    GroupPage,
    Indicators,
    Loan,
    LoanPage,
    Meeting,
    MeetingCreate,
    MeetingPage,
    Member,
    MemberCreate,
    MemberLeave,
    MemberPage,
    MemberPerson,
    ShareOut,
    ShareOutCreate,
    WriteOffCreate,
    meeting_rows,
)
from ledger.access.policy import Action, visible_provinces
from ledger.core import limits
from ledger.core.csv_text import to_csv
from ledger.reports import savings as statements
from ledger.savings import queries, service

# Cycle numbers are bounded before the database sees them (PostgreSQL refuses a larger one).
CycleNumber = Annotated[int, Parameter(ge=-limits.CYCLE_NUMBER_MAX, le=limits.CYCLE_NUMBER_MAX)]
OptionalCycle = Annotated[
    int | None, Parameter(ge=-limits.CYCLE_NUMBER_MAX, le=limits.CYCLE_NUMBER_MAX)
]
AsOf = FromQuery[datetime.date | None]


class SavingsGroupController(Controller):
    path = "/api/groups"
    tags = ["savings groups"]

    @creates(
        "/",
        "Create a savings group: its book, accounts, constitution and first cycle",
        Action.SAVINGS_GROUPS_CREATE,
    )
    async def create_group(
        self,
        writer: Writer,
        data: Annotated[GroupCreate, example("A women's group in Kampong Thom", EXAMPLE_GROUP)],
    ) -> Response[Group]:
        """Opens the group's own book (its code is the book's code) in its currency (default
        KHR) with Assets:Cash:Box, Equity:Social-Fund, Equity:Carried-Forward, Income:Interest,
        Income:Fines, Expenses:Loan-Write-Offs and Expenses:Cash-Differences, stores the
        constitution and opens cycle 1 from `formed_on` to `cycle_planned_end`. Refused: a
        code already used by a book (409 book_exists), a bad constitution (422
        share_price_invalid, interest_rate_invalid, loan_term_invalid, ...)."""
        draft = data.to_draft()

        def work(conn: Connection) -> Group:
            return Group.of(service.create_group(conn, draft))

        return await writer.write("savings_group.create", work, data, book=data.code)

    @reads("/", "The groups you may see, in code order", Action.SAVINGS_READ)
    def list_groups(self, db: Db, principal: Caller, page: Page) -> GroupPage:
        """One page of the groups in your scope (every group for finance, admins and
        auditors; a treasurer's own book; an officer's provinces), in code order, with
        constitutions. Pass `next_cursor` back as `cursor` for the next page (422
        cursor_invalid for any other text)."""
        scope = visible_provinces(principal, Action.SAVINGS_READ)
        with db.read() as conn:
            found = queries.groups_page(
                conn, scope, principal.books, text_after(page.cursor), page.limit
            )
        return GroupPage.of(found, page.limit)

    @reads("/{book:str}", "One group", Action.SAVINGS_READ)
    def get_group(self, db: Db, book: FromPath[str]) -> Group:
        """The group's place, currency, meeting frequency and constitution (amounts in its
        currency). 404 group_not_found for a code that is no savings group."""
        with db.read() as conn:
            return Group.of(queries.get_group(conn, book))

    @creates(
        "/{book:str}/members",
        "Add a member (and open their savings and loan accounts)",
        Action.SAVINGS_WRITE,
    )
    async def add_member(
        self,
        writer: Writer,
        book: FromPath[str],
        data: Annotated[MemberCreate, example("The group's chair", EXAMPLE_MEMBER)],
    ) -> Response[Member]:
        """Opens Liabilities:Members:<number>:Savings and Assets:Loans:<number> in the group's
        book; nothing is posted. Refused: a number taken (409 member_exists), a malformed
        number (422 member_number_invalid), a role other than chair, treasurer, key_holder or
        member (422 member_role_invalid), joining before the group was formed (422
        member_joined_before_formed)."""
        person = data.person()

        def work(conn: Connection) -> Member:
            return Member.of(
                service.add_member(
                    conn, book, data.number, data.role, data.joined_on, data.case_code, person
                )
            )

        return await writer.write("savings_member.add", work, data, book=book)

    @replaces(
        "/{book:str}/members/{number:str}/person",
        "Record or correct a member's sex and birth year or age band",
        Action.SAVINGS_WRITE,
    )
    async def describe_member(
        self,
        writer: Writer,
        book: FromPath[str],
        number: FromPath[str],
        data: Annotated[MemberPerson, example("Age band only", EXAMPLE_MEMBER_PERSON)],
    ) -> Response[Member]:
        """Replaces what was recorded (null: not recorded); no posting. Refused: 422
        sex_invalid, age_band_invalid, birth_year_too_early, birth_year_in_future,
        birth_year_and_age_band; 404 member_not_found."""
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

    @reads("/{book:str}/members", "The group's members, by number", Action.SAVINGS_READ)
    def list_members(self, db: Db, book: FromPath[str], page: Page) -> MemberPage:
        """One page of the members (those who left too, with `left_on`) in number order;
        `next_cursor` asks for the next page (422 cursor_invalid for any other text). 404
        group_not_found."""
        with db.read() as conn:
            found = queries.members_page(conn, book, text_after(page.cursor), page.limit)
        return MemberPage.of(found, page.limit)

    @acts(
        "/{book:str}/members/{number:str}/leave", "A member leaves the group", Action.SAVINGS_WRITE
    )
    async def member_leaves(
        self,
        writer: Writer,
        book: FromPath[str],
        number: FromPath[str],
        data: Annotated[MemberLeave, example("Leaving on 2 March", EXAMPLE_MEMBER_LEAVE)],
    ) -> Response[Member]:
        """Records `left_on`; their savings stay in the book until the share-out and they take
        no part in later meetings. Refused: 409 member_left (already), 409
        left_before_last_meeting (a meeting on or after that date recorded them), 422
        left_before_joined; 404 member_not_found."""

        def work(conn: Connection) -> Member:
            return Member.of(service.member_leaves(conn, book, number, data.date))

        return await writer.write(
            "savings_member.leave", work, data, status_code=HTTP_200_OK, book=book
        )

    @reads("/{book:str}/cycles", "The group's cycles, by number", Action.SAVINGS_READ)
    def list_cycles(self, db: Db, book: FromPath[str], page: Page) -> CyclePage:
        """One page of the cycles in number order: start, planned end, status (open or
        shared_out) and the share-out date. `next_cursor` asks for the next page (422
        cursor_invalid for any other text). 404 group_not_found."""
        with db.read() as conn:
            found = queries.list_cycles(conn, book, id_after(page.cursor), page.limit)
        return CyclePage.of(found, page.limit)

    @creates(
        "/{book:str}/meetings",
        "Record a whole meeting at once (send an Idempotency-Key to retry safely)",
        Action.SAVINGS_WRITE,
    )
    async def record_meeting(
        self,
        writer: Writer,
        book: FromPath[str],
        data: Annotated[MeetingCreate, example("The first meeting", EXAMPLE_MEETING)],
    ) -> Response[Meeting]:
        """Every member's shares, social fund, fines, repayments, new loans and grants post
        together with the cash-box count, or nothing does. A count that differs from the book
        is refused (409 cash_count_differs) unless `cash_difference_reason` accepts it; the
        difference then posts to Expenses:Cash-Differences. Also refused: 409
        meeting_date_taken, meeting_date_not_after_previous, loan_fund_insufficient,
        member_in_arrears; 422 member_unknown, shares_above_limit, loan_above_limit."""
        draft = data.to_draft()
        username = writer.principal.username

        def work(conn: Connection) -> Meeting:
            return Meeting.of(service.record_meeting(conn, book, draft, username))

        return await writer.write("savings_meeting.record", work, data, book=book)

    @reads("/{book:str}/meetings", "The group's meetings, in date order", Action.SAVINGS_READ)
    def list_meetings(
        self, db: Db, book: FromPath[str], page: Page, cycle: OptionalCycle = None
    ) -> MeetingPage:
        """One page of the meetings (of one `cycle`, or all) in date order, each with its
        number in its cycle, every member's entry and the cash counted. `next_cursor` asks
        for the next page (422 cursor_invalid for any other text). 404 group_not_found,
        cycle_not_found."""
        with db.read() as conn:
            found = queries.meetings_page(conn, book, cycle, dated_after(page.cursor), page.limit)
        return MeetingPage.of(found, page.limit)

    @reads(
        "/{book:str}/meetings.csv",
        "Meetings as CSV, one row per member per meeting",
        Action.SAVINGS_READ,
        media_type=CSV,
    )
    def meetings_csv(
        self, db: Db, book: FromPath[str], cycle: OptionalCycle = None
    ) -> Response[bytes]:
        """Every meeting of the cycle (or of all cycles) as UTF-8 CSV: the meeting's id,
        cycle, number, date and cash count, then the member's attendance, shares, social
        fund, fines, interest, principal repaid, loan taken and grant. 404 group_not_found,
        cycle_not_found."""
        with db.read() as conn:
            meetings = [Meeting.of(m) for m in queries.list_meetings(conn, book, cycle)]
        return csv_response(to_csv(MEETINGS_HEADER, meeting_rows(meetings)), f"meetings-{book}.csv")

    @reads(
        "/{book:str}/loans",
        "The group's loans, in the order they were disbursed",
        Action.SAVINGS_READ,
    )
    def list_loans(
        self,
        db: Db,
        book: FromPath[str],
        page: Page,
        as_of: AsOf = None,
        active: FromQuery[bool] = False,
    ) -> LoanPage:
        """One page of the loans (only active ones with `active=true`) in disbursement order,
        each as it stood at the end of `as_of` (default today): principal outstanding,
        interest due, days in arrears, payments and schedule. `next_cursor` asks for the
        next page (422 cursor_invalid for any other text). 404 group_not_found."""
        where = queries.LoanFilter(as_of, active)
        with db.read() as conn:
            found = queries.loans_page(conn, book, where, dated_after(page.cursor), page.limit)
        return LoanPage.of(found, page.limit)

    @reads(
        "/{book:str}/loans/{loan_id:int}",
        "One loan: what is owed, arrears, payments and schedule",
        Action.SAVINGS_READ,
    )
    def get_loan(
        self, db: Db, book: FromPath[str], loan_id: FromPath[int], as_of: AsOf = None
    ) -> Loan:
        """The loan as it stood at the end of `as_of` (default today): interest is charged
        for each month (or part of one) begun, a repayment pays interest first. 404
        group_not_found, loan_not_found."""
        with db.read() as conn:
            return Loan.of(queries.get_loan(conn, book, loan_id, as_of))

    @acts(
        "/{book:str}/loans/{loan_id:int}/write-off",
        "Write a loan off by the group's decision",
        Action.SAVINGS_WRITE,
    )
    async def write_off(
        self,
        writer: Writer,
        book: FromPath[str],
        loan_id: FromPath[int],
        data: Annotated[WriteOffCreate, example("The group's vote", EXAMPLE_WRITE_OFF)],
    ) -> Response[Loan]:
        """Posts the principal still owed from Assets:Loans:<member> to
        Expenses:Loan-Write-Offs on `date` and closes the loan (status written_off). Refused:
        409 loan_not_active, cycle_closed; 422 reason_required,
        write_off_before_last_payment; 404 loan_not_found."""
        username = writer.principal.username

        def work(conn: Connection) -> Loan:
            return Loan.of(
                service.write_off_loan(conn, book, loan_id, data.date, data.reason, username)
            )

        return await writer.write(
            "savings_loan.write_off", work, data, status_code=HTTP_200_OK, book=book
        )

    @reads(
        "/{book:str}/cycles/{cycle:int}/share-out",
        "Preview a cycle's share-out (or see the one executed)",
        Action.SAVINGS_READ,
    )
    def preview_share_out(
        self, db: Db, book: FromPath[str], cycle: CycleNumber, date: AsOf = None
    ) -> ShareOut:
        """What each member would receive on `date` (default: the planned end, or the day
        after the last meeting): savings plus a share of the profit by shares, rounded down
        to the cash unit, less any loan still owed; for a cycle shared out, what was paid.
        Writes nothing. 404 group_not_found, cycle_not_found."""
        with db.read() as conn:
            return ShareOut.of(queries.preview_share_out(conn, book, cycle, date))

    @creates(
        "/{book:str}/cycles/{cycle:int}/share-out",
        "Execute the share-out: closing entries, payouts, loans settled, next cycle",
        Action.SAVINGS_WRITE,
    )
    async def execute_share_out(
        self,
        writer: Writer,
        book: FromPath[str],
        cycle: CycleNumber,
        data: Annotated[ShareOutCreate, example("At the planned end", EXAMPLE_SHARE_OUT)],
    ) -> Response[ShareOut]:
        """Closes Income:Interest, Income:Fines and the expenses into Equity:Carried-Forward,
        pays each member from Assets:Cash:Box (a loan still owed is settled from the payout;
        what it cannot cover becomes a loan of the next cycle), keeps the social fund and the
        rounding remainder, and opens the next cycle. Refused: 409 cycle_shared_out,
        postings_after_share_out, cycle_not_ended, share_out_before_last_meeting,
        share_out_no_shares."""
        username = writer.principal.username

        def work(conn: Connection) -> ShareOut:
            return ShareOut.of(
                service.execute_share_out(
                    conn, book, cycle, data.date, data.next_cycle_planned_end, username
                )
            )

        return await writer.write("savings_share_out.execute", work, data, book=book)

    @reads(
        "/{book:str}/indicators",
        "Members, savings, loans, portfolio at risk, attendance, return on savings",
        Action.SAVINGS_READ,
    )
    def indicators(self, db: Db, book: FromPath[str], as_of: AsOf = None) -> Indicators:
        """The open cycle's figures at the end of `as_of` (default: its last meeting):
        members, savings, loans outstanding, portfolio at risk over 30 days, social fund,
        attendance rate, cycle profit and annualised return on savings (formulas:
        docs/ACCOUNTING.md). 404 group_not_found."""
        with db.read() as conn:
            return Indicators.of(queries.indicators(conn, book, as_of))

    @reads(
        "/{book:str}/members/{number:str}/passbook.pdf",
        "A member's passbook for a cycle (Khmer and English, PDF)",
        Action.SAVINGS_READ,
        media_type=PDF,
    )
    def passbook(
        self, db: Db, book: FromPath[str], number: FromPath[str], cycle: OptionalCycle = None
    ) -> Response[bytes]:
        """Every meeting of the cycle (default: the open one) with the member's shares,
        social fund, fines, loans and repayments and running totals. 404 group_not_found,
        member_not_found, cycle_not_found."""
        with db.read() as conn:
            view = statements.passbook(conn, book, number, cycle)
        return pdf_response(
            statements.render_passbook(view), f"passbook-{book}-{view.member}-{view.cycle}.pdf"
        )

    @reads(
        "/{book:str}/cycles/{cycle:int}/share-out.pdf",
        "The share-out statement with signature boxes (a preview is marked DRAFT)",
        Action.SAVINGS_READ,
        media_type=PDF,
    )
    def share_out_statement(
        self, db: Db, book: FromPath[str], cycle: CycleNumber, date: AsOf = None
    ) -> Response[bytes]:
        """The share-out (as `GET .../share-out` gives it) printed with a box for each member
        to sign or press a thumb in. 404 group_not_found, cycle_not_found."""
        with db.read() as conn:
            view = statements.share_out_statement(conn, book, cycle, date)
        return pdf_response(statements.render_share_out(view), f"share-out-{book}-{cycle}.pdf")
