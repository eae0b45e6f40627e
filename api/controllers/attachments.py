"""Attachments: scans and photos of the paper behind a transaction, a disbursement, a bank
statement import or an award. Upload the file's bytes as the body (`?name=` the file's name
to show); the type is read from the content (JPEG, PNG, PDF), never from the name or the
Content-Type. Listed and downloaded under the record's own access rule; a disbursement's
files (the thumbprinted receipt) are personal data: `contacts.read`, never auditors or
finance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from litestar import Controller, MediaType, Response, post
from litestar.params import FromPath, Parameter, QueryParameter
from sqlalchemy import Connection

from api.auth import policy
from api.cursors import PageQuery, id_after
from api.files import content_disposition
from api.injected import Caller, Db, Page, Writer
from api.routes import reads
from api.schemas.attachments import Attachment, AttachmentPage, AttachmentUpload
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


async def _attach(
    writer: AuditedWriter, find: Find, name: str | None, book: str | None = None
) -> Response[Attachment]:
    """Check the file (after the record: one out of scope is 404), then attach it."""
    content = await writer.request.body()

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


def _list(db: Database, find: Find, page: PageQuery) -> AttachmentPage:
    after, limit = id_after(page.cursor), page.limit
    with db.read() as conn:
        return AttachmentPage.of(store.list_attachments(conn, find(conn), after, limit), limit)


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


class _Attachments(Controller):
    """What the four records' attachment routes share: their tag and the `page` of a list."""

    tags = ["attachments"]


class TransactionAttachments(_Attachments):
    path = "/api" + TRANSACTION

    @_upload("Attach a scan or photo to a transaction", Action.JOURNAL_WRITE)
    async def attach_to_transaction(
        self,
        writer: Writer,
        book: FromPath[str],
        transaction_id: FromPath[int],
        name: FileName = None,
    ) -> Response[Attachment]:
        """Keeps the file (the body's bytes: a JPEG, PNG or PDF of at most 10 MB, named by
        `?name=`) with the transaction, the receipt or invoice behind it; posts nothing. The
        same file again returns the first; refused: an empty file (422 `attachment_empty`),
        a larger one (413 `attachment_too_large`), another type (415
        `attachment_type_unsupported`), over 100 files (409 `attachments_too_many`)."""

        def find(conn: Connection) -> store.Record:
            return store.transaction_record(conn, book, transaction_id)

        return await _attach(writer, find, name, book)

    @reads("/", "A transaction's attachments", Action.JOURNAL_READ)
    def transaction_attachments(
        self, db: Db, book: FromPath[str], transaction_id: FromPath[int], page: Page
    ) -> AttachmentPage:
        """One page of the transaction's files in the order attached (name, type, size,
        SHA-256, who attached it), never their bytes; `next_cursor` asks for the next page.
        404 `transaction_not_found`; 422 `cursor_invalid` for a cursor this API did not
        return."""
        return _list(db, lambda conn: store.transaction_record(conn, book, transaction_id), page)

    @reads(ONE, "Download a transaction's attachment", Action.JOURNAL_READ, media_type=OCTET_STREAM)
    def transaction_attachment(
        self,
        db: Db,
        book: FromPath[str],
        transaction_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[bytes]:
        """The file's bytes as attached, under its own name, its type in `X-Attachment-Type`
        (never served inline). 404 `attachment_not_found` for a file not on this
        transaction."""
        find = lambda conn: store.transaction_record(conn, book, transaction_id)  # noqa: E731
        return _file(db, find, attachment_id)


class DisbursementAttachments(_Attachments):
    """A disbursement's files are the signed, thumbprinted receipt: personal data."""

    path = "/api" + DISBURSEMENT

    @_upload("Attach the signed receipt (scan or photo) to a disbursement", Action.GRANTS_DISBURSE)
    async def attach_to_disbursement(
        self,
        writer: Writer,
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        name: FileName = None,
    ) -> Response[Attachment]:
        """Keeps the receipt the household signed or thumbprinted (a JPEG, PNG or PDF of at
        most 10 MB, the body's bytes) with the disbursement, as personal data: never in a
        Beancount export, read only with `contacts.read`. Refused like any attachment (422
        `attachment_empty`, 413 `attachment_too_large`, 415 `attachment_type_unsupported`,
        409 `attachments_too_many`); 404 for a grant outside your provinces."""

        def find(conn: Connection) -> store.Record:
            grant_in_scope(conn, writer.principal, Action.GRANTS_DISBURSE, grant_id)
            return store.disbursement_record(conn, grant_id, disbursement_id)

        return await _attach(writer, find, name)

    @reads("/", "A disbursement's attachments (personal data)", Action.CONTACTS_READ)
    def disbursement_attachments(
        self,
        db: Db,
        principal: Caller,
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        page: Page,
    ) -> AttachmentPage:
        """One page of the disbursement's files (the signed receipt) in the order attached,
        never their bytes; `next_cursor` asks for the next page. 404
        `disbursement_not_found` (and for a grant outside your provinces); 422
        `cursor_invalid` for a cursor this API did not return."""
        return _list(db, _disbursement(principal, grant_id, disbursement_id), page)

    @reads(
        ONE,
        "Download a disbursement's attachment (personal data)",
        Action.CONTACTS_READ,
        media_type=OCTET_STREAM,
    )
    def disbursement_attachment(
        self,
        db: Db,
        principal: Caller,
        grant_id: FromPath[int],
        disbursement_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[bytes]:
        """The receipt's bytes under its own name, never cached (`private, no-store`). 404
        `attachment_not_found` for a file not on this disbursement."""
        return _file(db, _disbursement(principal, grant_id, disbursement_id), attachment_id)


def _disbursement(principal: Principal, grant_id: int, disbursement_id: int) -> Find:
    def find(conn: Connection) -> store.Record:
        grant_in_scope(conn, principal, Action.CONTACTS_READ, grant_id)
        return store.disbursement_record(conn, grant_id, disbursement_id)

    return find


class StatementAttachments(_Attachments):
    path = "/api" + STATEMENT

    @_upload(
        "Attach the bank statement (PDF or scan) to a statement import", Action.RECONCILE_WRITE
    )
    async def attach_to_statement(
        self,
        writer: Writer,
        book: FromPath[str],
        account_id: FromPath[int],
        statement_id: FromPath[int],
        name: FileName = None,
    ) -> Response[Attachment]:
        """Keeps the bank's own statement (a PDF or scan of at most 10 MB, the body's bytes)
        with the CSV import it matches, for the auditor. Refused like any attachment (422
        `attachment_empty`, 413 `attachment_too_large`, 415 `attachment_type_unsupported`,
        409 `attachments_too_many`); 404 `statement_not_found`."""

        def find(conn: Connection) -> store.Record:
            return store.statement_record(conn, book, account_id, statement_id)

        return await _attach(writer, find, name, book)

    @reads("/", "A statement import's attachments", Action.RECONCILE_READ)
    def statement_attachments(
        self,
        db: Db,
        book: FromPath[str],
        account_id: FromPath[int],
        statement_id: FromPath[int],
        page: Page,
    ) -> AttachmentPage:
        """One page of the statement import's files in the order attached, never their
        bytes; `next_cursor` asks for the next page. 404 `statement_not_found`; 422
        `cursor_invalid` for a cursor this API did not return."""

        def find(conn: Connection) -> store.Record:
            return store.statement_record(conn, book, account_id, statement_id)

        return _list(db, find, page)

    @reads(
        ONE,
        "Download a statement import's attachment",
        Action.RECONCILE_READ,
        media_type=OCTET_STREAM,
    )
    def statement_attachment(
        self,
        db: Db,
        book: FromPath[str],
        account_id: FromPath[int],
        statement_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response[bytes]:
        """The statement file's bytes under its own name. 404 `attachment_not_found` for a
        file not on this statement import."""
        find = lambda conn: store.statement_record(conn, book, account_id, statement_id)  # noqa: E731
        return _file(db, find, attachment_id)


class AwardAttachments(_Attachments):
    path = "/api" + AWARD

    @_upload("Attach a document (the agreement, an amendment) to an award", Action.FUNDS_WRITE)
    async def attach_to_award(
        self, writer: Writer, award: FromPath[str], name: FileName = None
    ) -> Response[Attachment]:
        """Keeps a document of the award (the signed agreement, a modification: a PDF or scan
        of at most 10 MB, the body's bytes). Refused like any attachment (422
        `attachment_empty`, 413 `attachment_too_large`, 415 `attachment_type_unsupported`,
        409 `attachments_too_many`); 404 `award_not_found`."""

        def find(conn: Connection) -> store.Record:
            return store.award_record(conn, award)

        return await _attach(writer, find, name)

    @reads("/", "An award's attachments", Action.FUNDS_READ)
    def award_attachments(self, db: Db, award: FromPath[str], page: Page) -> AttachmentPage:
        """One page of the award's documents in the order attached, never their bytes;
        `next_cursor` asks for the next page. 404 `award_not_found`; 422 `cursor_invalid`
        for a cursor this API did not return."""
        return _list(db, lambda conn: store.award_record(conn, award), page)

    @reads(ONE, "Download an award's attachment", Action.FUNDS_READ, media_type=OCTET_STREAM)
    def award_attachment(
        self, db: Db, award: FromPath[str], attachment_id: FromPath[int]
    ) -> Response[bytes]:
        """The document's bytes under its own name. 404 `attachment_not_found` for a file
        not on this award."""
        return _file(db, lambda conn: store.award_record(conn, award), attachment_id)


class BookDocuments(Controller):
    """The book's attachments for Beancount: `document` directives and the files they name."""

    path = "/api/books/{book:str}"
    tags = ["attachments"]

    @reads(
        "/documents.beancount",
        "The book's attachments as Beancount document directives",
        Action.JOURNAL_READ,
        media_type=MediaType.TEXT,
    )
    def documents(self, db: Db, book: FromPath[str]) -> Response[str]:
        """A Beancount `document` directive for each file of the book's transactions,
        statement imports and awards (never a disbursement's receipt: personal data), dated
        and on the account it belongs to, naming `documents/<sha256>.<extension>`; include
        it beside the book's export. 404 `book_not_found`."""
        with db.read() as conn:
            books.get_book(conn, book)
            text = "".join(export_documents(conn, book))
        return Response(text, media_type=MediaType.TEXT)

    @reads(
        "/documents/{name:str}",
        "A file a document directive names (documents/<sha256>.<extension>)",
        Action.JOURNAL_READ,
        media_type=OCTET_STREAM,
    )
    def document(
        self, db: Db, book: FromPath[str], name: Annotated[str, Parameter(max_length=80)]
    ) -> Response[bytes]:
        """The bytes of one file a `document` directive of the book names, by its SHA-256
        and extension, so Fava can show it. 404 `attachment_not_found` for a name the book's
        directives do not have (or a receipt: personal data)."""
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
