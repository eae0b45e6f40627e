"""Attachments: scans and photos of the paper behind a transaction, a disbursement, a bank
statement import or an award. Upload the file's bytes as the body (`?name=` the file's name
to show); the type is read from the content (JPEG, PNG, PDF), never from the name or the
Content-Type. Listed and downloaded under the record's own access rule; a disbursement's
files (the thumbprinted receipt) are personal data: `contacts.read`, never auditors or
finance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter, QueryParameter
from sqlalchemy import Connection

from api.auth import policy
from api.files import content_disposition
from api.schemas.attachments import Attachment, AttachmentUpload
from api.scopes import grant_in_scope
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.core import limits
from ledger.core.errors import LedgerRejected
from ledger.core.files import CheckedFile, check_file
from ledger.export.documents import document_file, export_documents
from ledger.store import attachments as store
from ledger.store import books
from ledger.store.books import utc_now
from ledger.store.database import Database, run_blocking

OCTET_STREAM = "application/octet-stream"
TRANSACTION = "/books/{book:str}/transactions/{transaction_id:int}/attachments"
DISBURSEMENT = "/grants/{grant_id:int}/disbursements/{disbursement_id:int}/attachments"
STATEMENT = "/books/{book:str}/accounts/{account_id:int}/statements/{statement_id:int}/attachments"
AWARD = "/awards/{award:str}/attachments"
ONE = "/{attachment_id:int}"
# The body of an upload: the file, plus room for a request's own overhead; a file over the
# limit but inside this is refused by the ledger's own check (`attachment_too_large`).
UPLOAD_BODY_BYTES_MAX = limits.ATTACHMENT_BYTES_MAX + 1
FileName = Annotated[str | None, QueryParameter(max_length=limits.ATTACHMENT_NAME_LENGTH_MAX)]
Find = Callable[[Connection], store.Record]


def _upload(summary: str, action: Action) -> post:
    return post(
        "/",
        summary=summary,
        opt={**policy(action), "upload": True},
        request_max_body_size=UPLOAD_BODY_BYTES_MAX,
    )


def _listing(summary: str, action: Action) -> get:
    return get("/", sync_to_thread=True, summary=summary, opt=policy(action))


def _download(summary: str, action: Action) -> get:
    return get(
        ONE, sync_to_thread=True, summary=summary, opt=policy(action), media_type=OCTET_STREAM
    )


async def _attach(
    request: Request[Any, Any, Any],
    writer: AuditedWriter,
    find: Find,
    name: str | None,
    book: str | None = None,
) -> Response[Attachment]:
    content = await request.body()

    def check() -> CheckedFile:
        # The record first: one outside the caller's scope is 404 whatever the file.
        with writer.db.read() as conn:
            find(conn)
        return check_file(content, name)

    checked = await run_blocking(check)

    def work(conn: Connection) -> Attachment:
        record = find(conn)
        username = writer.principal.username
        return Attachment.of(store.attach(conn, record, checked, content, username, utc_now()))

    # The key is bound to the file: another file under the same Idempotency-Key is 409.
    fingerprint = AttachmentUpload(checked.sha256, checked.file_name)
    return await writer.write("attachment.create", work, fingerprint, book=book)


def _list(db: Database, find: Find) -> list[Attachment]:
    with db.read() as conn:
        return [Attachment.of(a) for a in store.list_attachments(conn, find(conn))]


def _file(db: Database, find: Find, attachment_id: int) -> Response[bytes]:
    with db.read() as conn:
        found, content = store.attachment_content(conn, find(conn), attachment_id)
    return Response(
        content,
        media_type=OCTET_STREAM,
        headers={
            "Content-Disposition": content_disposition("attachment", found.file_name),
            "X-Content-Type-Options": "nosniff",
            "X-Attachment-Type": found.media_type,
            "Cache-Control": "private, no-store",
        },
    )


class TransactionAttachments(Controller):
    path = "/api" + TRANSACTION
    tags = ["attachments"]

    @_upload("Attach a scan or photo to a transaction", Action.JOURNAL_WRITE)
    async def attach_to_transaction(
        self,
        request: Request[Any, Any, Any],
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        transaction_id: FromPath[int],
        name: FileName = None,
    ) -> Response[Attachment]:
        def find(conn: Connection) -> store.Record:
            return store.transaction_record(conn, book, transaction_id)

        return await _attach(request, writer, find, name, book)

    @_listing("A transaction's attachments", Action.JOURNAL_READ)
    def transaction_attachments(
        self, db: NamedDependency[Database], book: FromPath[str], transaction_id: FromPath[int]
    ) -> list[Attachment]:
        return _list(db, lambda conn: store.transaction_record(conn, book, transaction_id))

    @_download("Download a transaction's attachment", Action.JOURNAL_READ)
    def transaction_attachment(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        transaction_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[bytes]:
        find = lambda conn: store.transaction_record(conn, book, transaction_id)  # noqa: E731
        return _file(db, find, attachment_id)


class DisbursementAttachments(Controller):
    """A disbursement's files are the signed, thumbprinted receipt: personal data."""

    path = "/api" + DISBURSEMENT
    tags = ["attachments"]

    @_upload("Attach the signed receipt (scan or photo) to a disbursement", Action.GRANTS_DISBURSE)
    async def attach_to_disbursement(
        self,
        request: Request[Any, Any, Any],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        name: FileName = None,
    ) -> Response[Attachment]:
        def find(conn: Connection) -> store.Record:
            grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
            return store.disbursement_record(conn, grant_id, disbursement_id)

        return await _attach(request, writer, find, name)

    @_listing("A disbursement's attachments (personal data)", Action.CONTACTS_READ)
    def disbursement_attachments(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
    ) -> list[Attachment]:
        return _list(db, _disbursement(principal, grant_id, disbursement_id))

    @_download("Download a disbursement's attachment (personal data)", Action.CONTACTS_READ)
    def disbursement_attachment(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[bytes]:
        return _file(db, _disbursement(principal, grant_id, disbursement_id), attachment_id)


def _disbursement(principal: Principal, grant_id: int, disbursement_id: int) -> Find:
    def find(conn: Connection) -> store.Record:
        grant_in_scope(conn, principal, Action.CONTACTS_READ, grant_id)
        return store.disbursement_record(conn, grant_id, disbursement_id)

    return find


class StatementAttachments(Controller):
    path = "/api" + STATEMENT
    tags = ["attachments"]

    @_upload(
        "Attach the bank statement (PDF or scan) to a statement import", Action.RECONCILE_WRITE
    )
    async def attach_to_statement(
        self,
        request: Request[Any, Any, Any],
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        account_id: FromPath[int],
        statement_id: FromPath[int],
        name: FileName = None,
    ) -> Response[Attachment]:
        def find(conn: Connection) -> store.Record:
            return store.statement_record(conn, book, account_id, statement_id)

        return await _attach(request, writer, find, name, book)

    @_listing("A statement import's attachments", Action.RECONCILE_READ)
    def statement_attachments(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        account_id: FromPath[int],
        statement_id: FromPath[int],
    ) -> list[Attachment]:
        return _list(db, lambda conn: store.statement_record(conn, book, account_id, statement_id))

    @_download("Download a statement import's attachment", Action.RECONCILE_READ)
    def statement_attachment(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        account_id: FromPath[int],
        statement_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[bytes]:
        find = lambda conn: store.statement_record(conn, book, account_id, statement_id)  # noqa: E731
        return _file(db, find, attachment_id)


class AwardAttachments(Controller):
    path = "/api" + AWARD
    tags = ["attachments"]

    @_upload("Attach a document (the agreement, an amendment) to an award", Action.FUNDS_WRITE)
    async def attach_to_award(
        self,
        request: Request[Any, Any, Any],
        writer: NamedDependency[AuditedWriter],
        award: FromPath[str],
        name: FileName = None,
    ) -> Response[Attachment]:
        def find(conn: Connection) -> store.Record:
            return store.award_record(conn, award)

        return await _attach(request, writer, find, name)

    @_listing("An award's attachments", Action.FUNDS_READ)
    def award_attachments(
        self, db: NamedDependency[Database], award: FromPath[str]
    ) -> list[Attachment]:
        return _list(db, lambda conn: store.award_record(conn, award))

    @_download("Download an award's attachment", Action.FUNDS_READ)
    def award_attachment(
        self, db: NamedDependency[Database], award: FromPath[str], attachment_id: FromPath[int]
    ) -> Response[bytes]:
        return _file(db, lambda conn: store.award_record(conn, award), attachment_id)


class BookDocuments(Controller):
    """The book's attachments for Beancount: `document` directives and the files they name."""

    path = "/api/books/{book:str}"
    tags = ["attachments"]

    @get(
        "/documents.beancount",
        sync_to_thread=True,
        summary="The book's attachments as Beancount document directives",
        media_type=MediaType.TEXT,
        opt=policy(Action.JOURNAL_READ),
    )
    def documents(self, db: NamedDependency[Database], book: FromPath[str]) -> Response[str]:
        with db.read() as conn:
            books.get_book(conn, book)
            text = "".join(export_documents(conn, book))
        return Response(text, media_type=MediaType.TEXT)

    @get(
        "/documents/{name:str}",
        sync_to_thread=True,
        summary="A file a document directive names (documents/<sha256>.<extension>)",
        media_type=OCTET_STREAM,
        opt=policy(Action.JOURNAL_READ),
    )
    def document(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        name: Annotated[str, Parameter(max_length=80)],
    ) -> Response[bytes]:
        with db.read() as conn:
            content = document_file(conn, book, name)
        if content is None:
            raise LedgerRejected([store.ATTACHMENT_NOT_FOUND])
        return Response(
            content,
            media_type=OCTET_STREAM,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-Content-Type-Options": "nosniff",
            },
        )


ATTACHMENT_CONTROLLERS = [
    BookDocuments,
    TransactionAttachments,
    DisbursementAttachments,
    StatementAttachments,
    AwardAttachments,
]
