"""Attachments: the paper behind a record (a receipt, an invoice, a bank statement), each
distinct file stored once by its SHA-256 and linked to a transaction, a disbursement, a bank
statement import or an award.

Who may attach and read is the record's own rule, checked by the caller (`api/`); here a
record is found (404 when it does not exist) and files are stored and read. A disbursement's
attachment is personal data (the thumbprinted receipt names the household's head): it is
marked `personal`, and the export never writes it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, select

from ledger.core import limits
from ledger.core.errors import LedgerRejected, conflict, not_found
from ledger.core.files import CheckedFile
from ledger.store.books import insert_new
from ledger.store.tables import (
    attachment_files,
    attachments,
    awards,
    books,
    disbursements,
    statement_imports,
    transactions,
)

RecordKind = Literal["transaction", "disbursement", "statement", "award"]
ATTACHMENT_NOT_FOUND = not_found(
    "attachment_not_found", "No attachment has this id on this record.", "attachment_id"
)


@dataclass(frozen=True, slots=True)
class Record:
    """What a file is attached to: its kind, id and book."""

    kind: RecordKind
    id: int
    book_id: int

    @property
    def personal(self) -> bool:
        return self.kind == "disbursement"


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    record_kind: str
    record_id: int
    sha256: str
    media_type: str
    size: int
    file_name: str
    personal: bool
    created_at: datetime.datetime
    created_by: str | None


def _found(row: Row[Any] | None, kind: RecordKind, code: str, field: str) -> Record:
    if row is None:
        raise LedgerRejected([not_found(code, f"No {kind} has this id here.", field)])
    return Record(kind, int(row.id), int(row.book_id))


def transaction_record(conn: Connection, book: str, transaction_id: int) -> Record:
    row = conn.execute(
        select(transactions.c.id, transactions.c.book_id)
        .join(books, books.c.id == transactions.c.book_id)
        .where(transactions.c.id == transaction_id, books.c.code == book)
    ).first()
    return _found(row, "transaction", "transaction_not_found", "transaction_id")


def disbursement_record(conn: Connection, grant_id: int, disbursement_id: int) -> Record:
    row = conn.execute(
        select(disbursements.c.id, disbursements.c.book_id).where(
            disbursements.c.id == disbursement_id, disbursements.c.grant_id == grant_id
        )
    ).first()
    return _found(row, "disbursement", "disbursement_not_found", "disbursement_id")


def statement_record(conn: Connection, book: str, account_id: int, statement_id: int) -> Record:
    row = conn.execute(
        select(statement_imports.c.id, statement_imports.c.book_id)
        .join(books, books.c.id == statement_imports.c.book_id)
        .where(
            statement_imports.c.id == statement_id,
            statement_imports.c.account_id == account_id,
            books.c.code == book,
        )
    ).first()
    return _found(row, "statement", "statement_not_found", "statement_id")


def award_record(conn: Connection, code: str) -> Record:
    row = conn.execute(select(awards.c.id, awards.c.book_id).where(awards.c.code == code)).first()
    return _found(row, "award", "award_not_found", "award")


_COLUMNS = (
    attachments.c.id,
    attachments.c.record_kind,
    attachments.c.record_id,
    attachments.c.sha256,
    attachment_files.c.media_type,
    attachment_files.c.size,
    attachments.c.file_name,
    attachments.c.personal,
    attachments.c.created_at,
    attachments.c.created_by,
)


def _of(row: Row[Any]) -> Attachment:
    return Attachment(*row)


def _select() -> Any:
    return select(*_COLUMNS).join(
        attachment_files, attachment_files.c.sha256 == attachments.c.sha256
    )


def list_attachments(
    conn: Connection,
    record: Record,
    after: int | None = None,
    limit: int = limits.ATTACHMENTS_PER_RECORD_MAX,
) -> list[Attachment]:
    """One page of the record's attachments in id order (ids after `after`); one query."""
    statement = (
        _select()
        .where(attachments.c.record_kind == record.kind, attachments.c.record_id == record.id)
        .order_by(attachments.c.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(attachments.c.id > after)
    return [_of(r) for r in conn.execute(statement)]


def attachment_content(
    conn: Connection, record: Record, attachment_id: int
) -> tuple[Attachment, bytes]:
    """The attachment and its bytes; 404 unless it is attached to `record`."""
    row = conn.execute(
        _select()
        .add_columns(attachment_files.c.content)
        .where(
            attachments.c.id == attachment_id,
            attachments.c.record_kind == record.kind,
            attachments.c.record_id == record.id,
        )
    ).first()
    if row is None:
        raise LedgerRejected([ATTACHMENT_NOT_FOUND])
    return Attachment(*row[:-1]), bytes(row[-1])


def attach(
    conn: Connection,
    record: Record,
    checked: CheckedFile,
    content: bytes,
    by: str | None,
    now: datetime.datetime,
) -> Attachment:
    """Store the file (once: an identical file is already there) and link it to the record;
    the same file on the same record again is the link already made."""
    stored = conn.execute(
        select(attachment_files.c.sha256).where(attachment_files.c.sha256 == checked.sha256)
    ).first()
    if stored is None:
        # Two uploads of one new file at once (PostgreSQL): the second inserts nothing.
        insert_new(
            conn,
            attachment_files,
            ["sha256"],
            {
                "sha256": checked.sha256,
                "media_type": checked.media_type,
                "size": checked.size,
                "content": content,
                "created_at": now,
            },
        )
    where = (attachments.c.record_kind == record.kind, attachments.c.record_id == record.id)
    existing = conn.execute(_select().where(*where, attachments.c.sha256 == checked.sha256))
    found = existing.first()
    if found is not None:
        return _of(found)
    count = conn.execute(select(func.count()).select_from(attachments).where(*where)).scalar_one()
    if count >= limits.ATTACHMENTS_PER_RECORD_MAX:
        raise LedgerRejected(
            [conflict("attachments_too_many", "This record has as many files as it may.", "file")]
        )
    new_id = conn.execute(
        attachments.insert()
        .values(
            book_id=record.book_id,
            record_kind=record.kind,
            record_id=record.id,
            sha256=checked.sha256,
            file_name=checked.file_name,
            personal=record.personal,
            created_at=now,
            created_by=by,
        )
        .returning(attachments.c.id)
    ).scalar_one()
    return Attachment(
        new_id,
        record.kind,
        record.id,
        checked.sha256,
        checked.media_type,
        checked.size,
        checked.file_name,
        record.personal,
        now,
        by,
    )
