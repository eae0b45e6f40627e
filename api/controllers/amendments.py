"""Award amendments: propose (budget revisions, a new total, a no-cost extension), list,
approve (maker-checker: never by the proposer)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.schemas.amendments import EXAMPLE_AMENDMENT, Amendment, AmendmentCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.funds import amendments
from ledger.funds import service as funds
from ledger.store.database import Database


class AmendmentController(Controller):
    path = "/api/awards/{award:str}/amendments"
    tags = ["donor funds"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Propose an amendment of an award (budget revision, total, no-cost extension)",
        description="Stored as proposed: the award keeps its figures until someone other than "
        "the proposer approves it. Each revised line gets its amount after the amendment; a "
        "line may not fall below what it has spent and committed, the lines not above the "
        "total; an extension ends after the current end date.",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def propose(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        award: FromPath[str],
        data: Annotated[
            AmendmentCreate,
            Body(examples=[Example(summary="Revision and extension", value=EXAMPLE_AMENDMENT)]),
        ],
    ) -> Response[Amendment]:
        draft = data.to_draft()

        def work(conn: Connection) -> Amendment:
            return Amendment.of(
                amendments.propose_amendment(conn, award, draft, principal.username)
            )

        return await writer.write("award.amendment.propose", work, data)

    @get(
        "/",
        sync_to_thread=True,
        summary="An award's amendments, in the order proposed",
        opt=policy(Action.FUNDS_READ),
    )
    def list_amendments(
        self, db: NamedDependency[Database], award: FromPath[str]
    ) -> list[Amendment]:
        with db.read() as conn:
            return Amendment.all_of(amendments.list_amendments(conn, funds.get_award(conn, award)))

    @post(
        "/{amendment_id:int}/approve",
        status_code=HTTP_200_OK,
        summary="Approve an amendment (not by its proposer): the award takes its figures",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def approve(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        award: FromPath[str],
        amendment_id: FromPath[int],
    ) -> Response[Amendment]:
        def work(conn: Connection) -> Amendment:
            approved = amendments.approve_amendment(conn, award, amendment_id, principal.username)
            return Amendment.of(approved)

        return await writer.write("award.amendment.approve", work, status_code=HTTP_200_OK)
