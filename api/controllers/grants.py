"""Grants: propose, approve (maker-checker), cancel, close, disburse, reverse, register."""

from __future__ import annotations

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import id_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Caller, Db, Page, Writer
from api.routes import acts, creates, reads
from api.schemas.grants import (
    ApproveBody,
    CancelBody,
    CloseBody,
    DisburseBody,
    Disbursement,
    DisbursementPage,
    DisbursementReverse,
    Grant,
    GrantBody,
    GrantPage,
    ReverseBody,
)
from api.scopes import grant_in_scope, household_in_scope
from ledger.access.policy import Action, visible_provinces
from ledger.core import limits
from ledger.grants import service as grants
from ledger.grants.service import GrantFilter
from ledger.reports.receipt import disbursement_receipt, render_receipt
from ledger.reports.registers import GRANT_REGISTER_HEADER, grant_register_rows, to_csv
from ledger.store.books import utc_today


class GrantController(Controller):
    path = "/api/grants"
    tags = ["grants"]

    @creates("/", "Propose a grant to a household", Action.GRANTS_WRITE)
    async def propose(self, writer: Writer, data: GrantBody) -> Response[Grant]:
        """Proposes a grant to a household (by case code) on an award's budget line, in the
        currency the household receives (default: the award's); nothing is posted until it is
        approved and paid. Planned tranches must add up to `approved_amount` and fall within
        the award's dates. Refuses `household_not_found`, `award_not_found`,
        `budget_line_not_found`, `tranches_do_not_add_up`, `too_many_tranches`,
        `consent_after_award_end`; a household outside your provinces is 404."""
        principal = writer.principal
        draft = data.to_draft()

        def work(conn: Connection) -> Grant:
            household_in_scope(conn, principal, Action.GRANTS_WRITE, data.case_code)
            return Grant.of(grants.propose_grant(conn, draft, principal.username))

        return await writer.write("grant.propose", work, data)

    @reads("/", "The grant register (grants of your provinces), in id order", Action.GRANTS_READ)
    def register(
        self,
        db: Db,
        principal: Caller,
        page: Page,
        status: FromQuery[str | None] = None,
        award: FromQuery[str | None] = None,
        case_code: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
    ) -> GrantPage:
        """One page of the grants of your provinces in id order, filtered by status
        (`proposed`, `approved`, `disbursing`, `fully_disbursed`, `closed`, `cancelled`),
        award, case code or province; each with what it has paid and what it still holds on
        its budget line. Pass `next_cursor` back as `cursor` for the next page."""
        scope = visible_provinces(principal, Action.GRANTS_READ)
        where = GrantFilter(status, award, case_code, province)
        with db.read() as conn:
            found = grants.list_grants(conn, scope, where, id_after(page.cursor), page.limit)
        return GrantPage.of(found, page.limit)

    @reads(
        "/register.csv",
        "The grant register as CSV (grants of your provinces)",
        Action.GRANTS_READ,
        media_type=CSV,
    )
    def register_csv(
        self,
        db: Db,
        principal: Caller,
        status: FromQuery[str | None] = None,
        award: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """Every grant of your provinces (with the register's filters) as a CSV file for a
        spreadsheet: one row a grant with its approved, disbursed and remaining amounts,
        status and who proposed, approved and ended it. Not paged: the whole register."""
        scope = visible_provinces(principal, Action.GRANTS_READ)
        where = GrantFilter(status, award, None, province)
        rows: list[tuple[str, ...]] = []
        after: int | None = None
        with db.read() as conn:
            # Page through the register: the CSV is bounded by the number of grants.
            while True:
                page = grants.list_grants(conn, scope, where, after, limits.PAGE_SIZE_MAX)
                rows.extend(grant_register_rows(page))
                if len(page) < limits.PAGE_SIZE_MAX:
                    break
                after = page[-1].id
        return csv_response(to_csv(GRANT_REGISTER_HEADER, rows), "grant-register.csv")

    @reads("/{grant_id:int}", "One grant", Action.GRANTS_READ)
    def get_grant(self, db: Db, principal: Caller, grant_id: FromPath[int]) -> Grant:
        """The grant with its tranches, status, what it has paid and what approval committed
        of the award's currency. 404 `grant_not_found` for a grant that does not exist or
        whose household lies outside your provinces."""
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            return Grant.of(grants.get_grant(conn, grant_id))

    @acts(
        "/{grant_id:int}/approve",
        "Approve a proposed grant (above the award's threshold: not by its proposer)",
        Action.GRANTS_APPROVE,
    )
    async def approve(
        self, writer: Writer, grant_id: FromPath[int], data: ApproveBody = None
    ) -> Response[Grant]:
        """Commits the grant's amount on its budget line in the award's currency: itself when
        the grant is in the award's currency, else at `exchange_rate` when given, else at the
        weighted average rate of the award's exchanges into the grant's currency. Refuses
        `grant_not_proposed` (409), `approval_needs_second_person` (403, above the award's
        threshold), `budget_line_exceeded` (409) and `exchange_rate_required` (422)."""
        principal = writer.principal
        rate = data.exchange_rate if data else None

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_APPROVE, grant_id)
            return Grant.of(grants.approve_grant(conn, grant_id, principal.username, rate))

        return await writer.write("grant.approve", work, data, status_code=HTTP_200_OK)

    @acts(
        "/{grant_id:int}/cancel",
        "Cancel a grant: what it has not paid goes back to the budget line",
        Action.GRANTS_WRITE,
    )
    async def cancel(
        self, writer: Writer, grant_id: FromPath[int], data: CancelBody
    ) -> Response[Grant]:
        """Cancels a proposed, approved or part-paid grant; its payments stay posted and what
        it has not paid is released on the budget line. A `reason` is required
        (`reason_required`); a grant paid in full, closed or cancelled is refused with 409
        `grant_not_cancellable`."""
        principal = writer.principal

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_WRITE, grant_id)
            return Grant.of(
                grants.end_grant(conn, grant_id, "cancelled", data.reason, principal.username)
            )

        return await writer.write("grant.cancel", work, data, status_code=HTTP_200_OK)

    @acts("/{grant_id:int}/close", "Close a grant paid in full", Action.GRANTS_WRITE)
    async def close(
        self, writer: Writer, grant_id: FromPath[int], data: CloseBody = None
    ) -> Response[Grant]:
        """Closes a grant that is `fully_disbursed` (the body and its `reason` are optional);
        nothing is posted, and its disbursements can no longer be reversed. Any other status
        is refused with 409 `grant_not_closable`."""
        principal = writer.principal
        reason = data.reason if data else None

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_WRITE, grant_id)
            return Grant.of(grants.end_grant(conn, grant_id, "closed", reason, principal.username))

        return await writer.write("grant.close", work, data, status_code=HTTP_200_OK)

    @creates(
        "/{grant_id:int}/disbursements",
        "Disburse (part of) a grant in cash or in kind",
        Action.GRANTS_DISBURSE,
    )
    async def disburse(
        self, writer: Writer, grant_id: FromPath[int], data: DisburseBody
    ) -> Response[Disbursement]:
        """Posts the expense on the budget line in the organisation's book and what the
        household received in its own book, linked; numbers the receipt. Send an
        `Idempotency-Key`: a retry never pays twice. Refuses `grant_amount_exceeded`,
        `budget_line_exceeded`, `award_not_active`, `date_before_consent`,
        `cash_needs_amount`, `in_kind_needs_items`, `quantity_fractional` and 409
        `account_overdrawn` (a cash box below zero)."""
        principal = writer.principal
        draft = data.to_draft()

        def work(conn: Connection) -> Disbursement:
            grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
            return Disbursement.of(grants.disburse(conn, grant_id, draft, principal.username))

        return await writer.write("grant.disburse", work, data)

    @reads("/{grant_id:int}/disbursements", "A grant's disbursements", Action.GRANTS_READ)
    def list_disbursements(
        self, db: Db, principal: Caller, grant_id: FromPath[int], page: Page
    ) -> DisbursementPage:
        """One page of the grant's disbursements in id order, reversed ones included (with
        `reversed_at`): receipt number, amount in the grant's currency, items in kind and
        what each consumed of the award's currency. 404 `grant_not_found` for a grant that
        does not exist or lies outside your provinces."""
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            found = grants.list_disbursements(conn, grant_id, id_after(page.cursor), page.limit)
        return DisbursementPage.of(found, page.limit)

    @reads(
        "/{grant_id:int}/disbursements/{disbursement_id:int}",
        "One disbursement",
        Action.GRANTS_READ,
    )
    def get_disbursement(
        self, db: Db, principal: Caller, grant_id: FromPath[int], disbursement_id: FromPath[int]
    ) -> Disbursement:
        """The disbursement with its receipt number, items and the transactions it posted in
        both books. 404 `disbursement_not_found` when the grant has no such disbursement."""
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            return Disbursement.of(grants.get_disbursement(conn, grant_id, disbursement_id))

    @reads(
        "/{grant_id:int}/disbursements/{disbursement_id:int}/receipt.pdf",
        "The disbursement's receipt: Khmer and English, one A4 page, to sign",
        Action.GRANTS_READ,
        media_type=PDF,
    )
    def receipt(
        self, db: Db, principal: Caller, grant_id: FromPath[int], disbursement_id: FromPath[int]
    ) -> Response[bytes]:
        """A one-page PDF receipt under its number, in Khmer then English, for the household
        to sign: what was paid, in cash or in kind, from which budget line. It names the
        household by case code only. 404 `disbursement_not_found` when the grant has no such
        disbursement."""
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            view = disbursement_receipt(conn, grant_id, disbursement_id)
        return pdf_response(render_receipt(view), f"receipt-{view.receipt_number}.pdf")

    @acts(
        "/{grant_id:int}/disbursements/{disbursement_id:int}/reverse",
        "Reverse a disbursement in both books (once)",
        Action.GRANTS_DISBURSE,
    )
    async def reverse(
        self,
        writer: Writer,
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        data: ReverseBody = None,
    ) -> Response[Disbursement]:
        """Posts the opposite of both of the disbursement's transactions (organisation and
        household books) on `date` (default: today, UTC); the grant can then pay that amount
        again. Refuses 409 `already_reversed` and, for a closed grant, 409 `grant_closed`."""
        principal = writer.principal
        request_data = data or DisbursementReverse()
        date = request_data.date or utc_today()

        def work(conn: Connection) -> Disbursement:
            grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
            reversed_ = grants.reverse_disbursement(
                conn, grant_id, disbursement_id, date, request_data.reason, principal.username
            )
            return Disbursement.of(reversed_)

        return await writer.write("grant.reverse", work, request_data, status_code=HTTP_200_OK)
