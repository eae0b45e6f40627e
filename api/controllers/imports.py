"""Spreadsheet imports: templates, a preview that changes nothing, and the import (all rows
or none; the same file twice adds nothing)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath
from sqlalchemy import Connection

from api.files import CSV, csv_response
from api.i18n import choose_language, error_text
from api.injected import Caller, Db, Writer
from api.routes import acts, creates, reads
from api.schemas.intake import (
    EXAMPLE_IMPORT,
    IMPORT_REQUEST_BYTES_MAX,
    ImportFile,
    ImportKind,
    ImportPreview,
    ImportProblem,
    ImportResult,
)
from ledger.access.policy import Action
from ledger.intake import service as intake
from ledger.intake.templates import template_csv, template_xlsx
from ledger.store.books import utc_today

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ImportBody = Annotated[
    ImportFile, Body(examples=[Example(summary="Households as CSV", value=EXAMPLE_IMPORT)])
]


class ImportController(Controller):
    path = "/api/imports"
    tags = ["spreadsheet imports"]

    @reads(
        "/{kind:str}/template.xlsx",
        "The import's template (XLSX): a Khmer header row, then an English one",
        Action.IMPORTS_WRITE,
        media_type=XLSX,
    )
    def template_xlsx(self, kind: FromPath[ImportKind]) -> Response[bytes]:
        """An empty workbook for `kind` (households, household members, savings group
        members, training participants, opening balances) with its columns named in Khmer,
        then in English: fill the rows below them and send the file to the preview and the
        import. A kind not in the list is 422."""
        return Response(
            template_xlsx(kind),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'},
        )

    @reads(
        "/{kind:str}/template.csv",
        "The import's template (CSV, UTF-8): a Khmer header row, then an English one",
        Action.IMPORTS_WRITE,
        media_type=CSV,
    )
    def template_csv(self, kind: FromPath[ImportKind]) -> Response[bytes]:
        """The same template as CSV in UTF-8: the Khmer header row, then the English one. An
        import reads the columns by the first row's names (Khmer or English) and skips the
        second row when it names them too. A kind not in the list is 422."""
        return csv_response(template_csv(kind), f"{kind}.csv")

    @acts(
        "/{kind:str}/preview",
        "What importing the file would do: every row's problems; nothing is recorded",
        Action.IMPORTS_WRITE,
        request_max_body_size=IMPORT_REQUEST_BYTES_MAX,
    )
    async def preview(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        principal: Caller,
        kind: FromPath[ImportKind],
        data: ImportBody,
    ) -> ImportPreview:
        """Each problem names the row (as the spreadsheet numbers it), the column, a stable
        code and a message in the reader's language (Accept-Language). A file that cannot be
        read at all (empty, not a spreadsheet, too many rows, merged cells, a zip that would
        unpack too large) is a 422 problem instead."""
        content = data.content()

        def work(conn: Connection) -> intake.Outcome:
            return intake.preview(conn, kind, content, utc_today(), principal.username)

        found = await db.write_async(work)
        language = choose_language(None, request.headers.get("accept-language", ""))
        return ImportPreview(
            kind=found.kind,
            content_sha256=found.content_sha256,
            rows=found.rows,
            would_add=found.added,
            already_present=found.already_present,
            already_imported=found.already_imported,
            problems=[
                ImportProblem(p.row, p.column, p.code, error_text(language, p.code, p.message))
                for p in found.problems
            ],
        )

    @creates(
        "/{kind:str}",
        "Import the file: every row is recorded, or none (422 lists every problem)",
        Action.IMPORTS_WRITE,
        request_max_body_size=IMPORT_REQUEST_BYTES_MAX,
    )
    async def import_file(
        self, writer: Writer, kind: FromPath[ImportKind], data: ImportBody
    ) -> Response[ImportResult]:
        """A problem's `field` is `rows[<row>].<column>`. The same file imported again adds
        nothing (`already_imported`); rows recorded already are counted in
        `already_present`."""
        content = data.content()

        def work(conn: Connection) -> ImportResult:
            username = writer.principal.username
            return ImportResult.of(
                intake.import_file(conn, kind, content, data.file_name, utc_today(), username)
            )

        return await writer.write("import.create", work, data)
