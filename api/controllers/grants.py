"""Grants: propose, approve (maker-checker), cancel, close, disburse, reverse, register."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.cursors import Cursor, PageSize, id_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.schemas.grants import (
    EXAMPLE_CASH,
    EXAMPLE_GRANT,
    EXAMPLE_IN_KIND,
    Disbursement,
    DisbursementCreate,
    DisbursementReverse,
    Grant,
    GrantApprove,
    GrantCreate,
    GrantEnd,
    GrantPage,
)
from api.scopes import grant_in_scope, household_in_scope
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.core import limits
from ledger.grants import service as grants
from ledger.grants.service import (
    GrantFilter,
)
from ledger.reports.receipt import disbursement_receipt, render_receipt
from ledger.reports.registers import GRANT_REGISTER_HEADER, grant_register_rows, to_csv
from ledger.store.books import utc_today
from ledger.store.database import Database


class GrantController(Controller):
    path = "/api/grants"
    tags = ["grants"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Propose a grant to a household",
        opt=policy(Action.GRANTS_WRITE),
    )
    async def propose(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        data: Annotated[
            GrantCreate, Body(examples=[Example(summary="Pig raising", value=EXAMPLE_GRANT)])
        ],
    ) -> Response[Grant]:
        draft = data.to_draft()

        def work(conn: Connection) -> Grant:
            household_in_scope(conn, principal, Action.GRANTS_WRITE, data.case_code)
            return Grant.of(grants.propose_grant(conn, draft, principal.username))

        return await writer.write("grant.propose", work, data)

    @get(
        "/",
        sync_to_thread=True,
        summary="The grant register (grants of your provinces), in id order",
        opt=policy(Action.GRANTS_READ),
    )
    def register(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        status: FromQuery[str | None] = None,
        award: FromQuery[str | None] = None,
        case_code: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: PageSize = limits.PAGE_SIZE_DEFAULT,
    ) -> GrantPage:
        scope = visible_provinces(principal, Action.GRANTS_READ)
        where = GrantFilter(status, award, case_code, province)
        with db.read() as conn:
            found = grants.list_grants(conn, scope, where, id_after(cursor), limit)
        return GrantPage.of(found, limit)

    @get(
        "/register.csv",
        sync_to_thread=True,
        summary="The grant register as CSV (grants of your provinces)",
        opt=policy(Action.GRANTS_READ),
        media_type=CSV,
    )
    def register_csv(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        status: FromQuery[str | None] = None,
        award: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
    ) -> Response[bytes]:
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

    @get(
        "/{grant_id:int}", sync_to_thread=True, summary="One grant", opt=policy(Action.GRANTS_READ)
    )
    def get_grant(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> Grant:
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            return Grant.of(grants.get_grant(conn, grant_id))

    @post(
        "/{grant_id:int}/approve",
        status_code=HTTP_200_OK,
        summary="Approve a proposed grant (above the award's threshold: not by its proposer)",
        description="Commits the grant's amount on its budget line in the award's currency: "
        "itself when the grant is in the award's currency, else at `exchange_rate` when given, "
        "else at the weighted average rate of the award's exchanges into the grant's currency.",
        opt=policy(Action.GRANTS_APPROVE),
    )
    async def approve(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        data: JSONBody[GrantApprove | None] = None,
    ) -> Response[Grant]:
        rate = data.exchange_rate if data else None

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_APPROVE, grant_id)
            return Grant.of(grants.approve_grant(conn, grant_id, principal.username, rate))

        return await writer.write("grant.approve", work, data, status_code=HTTP_200_OK)

    @post(
        "/{grant_id:int}/cancel",
        status_code=HTTP_200_OK,
        summary="Cancel a grant: what it has not paid goes back to the budget line",
        opt=policy(Action.GRANTS_WRITE),
    )
    async def cancel(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        data: JSONBody[GrantEnd],
    ) -> Response[Grant]:
        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_WRITE, grant_id)
            return Grant.of(
                grants.end_grant(conn, grant_id, "cancelled", data.reason, principal.username)
            )

        return await writer.write("grant.cancel", work, data, status_code=HTTP_200_OK)

    @post(
        "/{grant_id:int}/close",
        status_code=HTTP_200_OK,
        summary="Close a grant paid in full",
        opt=policy(Action.GRANTS_WRITE),
    )
    async def close(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        data: JSONBody[GrantEnd | None] = None,
    ) -> Response[Grant]:
        reason = data.reason if data else None

        def work(conn: Connection) -> Grant:
            grant_in_scope(conn, principal, Action.GRANTS_WRITE, grant_id)
            return Grant.of(grants.end_grant(conn, grant_id, "closed", reason, principal.username))

        return await writer.write("grant.close", work, data, status_code=HTTP_200_OK)

    @post(
        "/{grant_id:int}/disbursements",
        status_code=HTTP_201_CREATED,
        summary="Disburse (part of) a grant in cash or in kind",
        description="Posts the expense on the budget line in the organisation's book and what "
        "the household received in its own book, linked; numbers the receipt. Send an "
        "`Idempotency-Key`: a retry never pays twice.",
        opt=policy(Action.GRANTS_DISBURSE),
    )
    async def disburse(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        data: Annotated[
            DisbursementCreate,
            Body(
                examples=[
                    Example(summary="Two pigs, in kind", value=EXAMPLE_IN_KIND),
                    Example(summary="Cash in riel", value=EXAMPLE_CASH),
                ]
            ),
        ],
    ) -> Response[Disbursement]:
        draft = data.to_draft()

        def work(conn: Connection) -> Disbursement:
            grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
            return Disbursement.of(grants.disburse(conn, grant_id, draft, principal.username))

        return await writer.write("grant.disburse", work, data)

    @get(
        "/{grant_id:int}/disbursements",
        sync_to_thread=True,
        summary="A grant's disbursements",
        opt=policy(Action.GRANTS_READ),
    )
    def list_disbursements(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
    ) -> list[Disbursement]:
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            return [Disbursement.of(d) for d in grants.list_disbursements(conn, grant_id)]

    @get(
        "/{grant_id:int}/disbursements/{disbursement_id:int}",
        sync_to_thread=True,
        summary="One disbursement",
        opt=policy(Action.GRANTS_READ),
    )
    def get_disbursement(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
    ) -> Disbursement:
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            return Disbursement.of(grants.get_disbursement(conn, grant_id, disbursement_id))

    @get(
        "/{grant_id:int}/disbursements/{disbursement_id:int}/receipt.pdf",
        sync_to_thread=True,
        summary="The disbursement's receipt: Khmer and English, one A4 page, to sign",
        opt=policy(Action.GRANTS_READ),
        media_type=PDF,
    )
    def receipt(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
    ) -> Response[bytes]:
        with db.read() as conn:
            grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
            view = disbursement_receipt(conn, grant_id, disbursement_id)
        return pdf_response(render_receipt(view), f"receipt-{view.receipt_number}.pdf")

    @post(
        "/{grant_id:int}/disbursements/{disbursement_id:int}/reverse",
        status_code=HTTP_200_OK,
        summary="Reverse a disbursement in both books (once)",
        opt=policy(Action.GRANTS_DISBURSE),
    )
    async def reverse(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        data: JSONBody[DisbursementReverse | None] = None,
    ) -> Response[Disbursement]:
        request_data = data or DisbursementReverse()
        date = request_data.date or utc_today()

        def work(conn: Connection) -> Disbursement:
            grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
            reversed_ = grants.reverse_disbursement(
                conn, grant_id, disbursement_id, date, request_data.reason, principal.username
            )
            return Disbursement.of(reversed_)

        return await writer.write("grant.reverse", work, request_data, status_code=HTTP_200_OK)
