"""Award amendments: propose (budget revisions, a new total, a no-cost extension), list,
approve (maker-checker: never by the proposer)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import id_after
from api.injected import Db, Page, Writer
from api.routes import acts, creates, reads
from api.schemas import example
from api.schemas.amendments import EXAMPLE_AMENDMENT, Amendment, AmendmentCreate, AmendmentPage
from ledger.access.policy import Action
from ledger.funds import amendments
from ledger.funds import service as funds

AmendmentCreateBody = Annotated[
    AmendmentCreate, example("Revision and extension", EXAMPLE_AMENDMENT)
]


class AmendmentController(Controller):
    path = "/api/awards/{award:str}/amendments"
    tags = ["donor funds"]

    @creates(
        "/",
        "Propose an amendment of an award (budget revision, total, no-cost extension)",
        Action.FUNDS_WRITE,
    )
    async def propose(
        self, writer: Writer, award: FromPath[str], data: AmendmentCreateBody
    ) -> Response[Amendment]:
        """Stored as proposed: the award keeps its figures until someone other than the
        proposer approves it. Each revised line gets its amount after the amendment, in the
        award's currency; a line may not fall below what it has spent and committed (409
        `budget_line_below_use`), the lines not above the total (422 `budget_exceeds_award`);
        an extension ends after the current end date (422 `extension_not_later`). One that
        changes nothing is 422 `amendment_empty`; 404 `award_not_found`."""
        draft = data.to_draft()

        def work(conn: Connection) -> Amendment:
            username = writer.principal.username
            return Amendment.of(amendments.propose_amendment(conn, award, draft, username))

        return await writer.write("award.amendment.propose", work, data)

    @reads("/", "An award's amendments, in the order proposed", Action.FUNDS_READ)
    def list_amendments(self, db: Db, award: FromPath[str], page: Page) -> AmendmentPage:
        """One page of the award's amendments, proposed and approved, in the order proposed:
        each with its lines before and after, the total and end date before and after, who
        proposed and who approved. `next_cursor` asks for the next page (null on the last);
        422 `cursor_invalid` for a cursor this API did not return; 404 `award_not_found`."""
        with db.read() as conn:
            found = amendments.list_amendments(
                conn, funds.get_award(conn, award), id_after(page.cursor), page.limit
            )
        return AmendmentPage.of(found, page.limit)

    @acts(
        "/{amendment_id:int}/approve",
        "Approve an amendment (not by its proposer): the award takes its figures",
        Action.FUNDS_WRITE,
    )
    async def approve(
        self, writer: Writer, award: FromPath[str], amendment_id: FromPath[int]
    ) -> Response[Amendment]:
        """The award takes the amendment's total, end date and line amounts; posts nothing.
        Refused to its proposer (403 `approval_needs_second_person`), for one approved
        already (409 `amendment_not_proposed`), when the award changed since the proposal
        (409 `amendment_stale`: propose again) or a line would fall below what it has used
        (409 `budget_line_below_use`); 404 `amendment_not_found`."""

        def work(conn: Connection) -> Amendment:
            username = writer.principal.username
            return Amendment.of(amendments.approve_amendment(conn, award, amendment_id, username))

        return await writer.write("award.amendment.approve", work, status_code=HTTP_200_OK)
