"""The book's attachments as Beancount `document` directives, a file beside the export.

    2018-11-04 document Assets:Bank:Operating-USD "documents/3f2a….pdf"

Each file is named by its SHA-256 (`documents/<sha256>.<jpg|png|pdf>`), written beside the
export by whoever saves it (`livelihood-ledger` does not write files on its own), and
`include`d after the export. The account is the record's: a transaction's first posting, a
bank statement's account, an award's income account; the date is the record's own. A
disbursement's files (thumbprinted receipts) are personal data and never exported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, func, select

from ledger.core.files import EXTENSIONS
from ledger.export.beancount_printer import quote
from ledger.store.tables import (
    accounts,
    attachment_files,
    attachments,
    awards,
    books,
    postings,
    statement_imports,
    transactions,
)

DOCUMENTS_FOLDER = "documents"


def document_path(sha256: str, media_type: str) -> str:
    return f"{DOCUMENTS_FOLDER}/{sha256}.{EXTENSIONS[media_type]}"


def _linked(kind: str, book_id: int) -> Any:
    return (
        select(attachments.c.id, attachments.c.sha256, attachment_files.c.media_type)
        .join(attachment_files, attachment_files.c.sha256 == attachments.c.sha256)
        .where(
            attachments.c.record_kind == kind,
            attachments.c.book_id == book_id,
            attachments.c.personal.is_(False),
        )
        .add_columns(attachments.c.record_id)
    )


def _transaction_rows(book_id: int) -> Any:
    linked = _linked("transaction", book_id).subquery()
    first = (
        select(postings.c.transaction_id, func.min(postings.c.id).label("posting_id"))
        .group_by(postings.c.transaction_id)
        .subquery()
    )
    return (
        select(transactions.c.date, accounts.c.name, linked.c.sha256, linked.c.media_type)
        .join(linked, linked.c.record_id == transactions.c.id)
        .join(first, first.c.transaction_id == transactions.c.id)
        .join(postings, postings.c.id == first.c.posting_id)
        .join(accounts, accounts.c.id == postings.c.account_id)
        .order_by(linked.c.id)
    )


def _statement_rows(book_id: int) -> Any:
    linked = _linked("statement", book_id).subquery()
    return (
        select(statement_imports.c.last_date, accounts.c.name, linked.c.sha256, linked.c.media_type)
        .join(linked, linked.c.record_id == statement_imports.c.id)
        .join(accounts, accounts.c.id == statement_imports.c.account_id)
        .order_by(linked.c.id)
    )


def _award_rows(book_id: int) -> Any:
    linked = _linked("award", book_id).subquery()
    return (
        select(awards.c.start_date, awards.c.income_account, linked.c.sha256, linked.c.media_type)
        .join(linked, linked.c.record_id == awards.c.id)
        .order_by(linked.c.id)
    )


def export_documents(conn: Connection, book_code: str) -> Iterator[str]:
    """The book's `document` directives (none for an unknown book or one without files)."""
    book_id = conn.execute(select(books.c.id).where(books.c.code == book_code)).scalar()
    if book_id is None:
        return
    yield f"; Attachments of the book {book_code}: files beside this one, by SHA-256.\n"
    for rows in (_transaction_rows, _statement_rows, _award_rows):
        for date, account, sha256, media_type in conn.execute(rows(book_id)):
            path = document_path(sha256, media_type)
            yield f"{date.isoformat()} document {account} {quote(path)}\n"


def document_file(conn: Connection, book_code: str, name: str) -> bytes | None:
    """The bytes of `documents/<name>` as `export_documents` names it, when the book has it
    on a record that is not personal; None otherwise."""
    sha256, _, extension = name.partition(".")
    found = conn.execute(
        select(attachment_files.c.media_type, attachment_files.c.content)
        .join(attachments, attachments.c.sha256 == attachment_files.c.sha256)
        .join(books, books.c.id == attachments.c.book_id)
        .where(
            books.c.code == book_code,
            attachment_files.c.sha256 == sha256,
            attachments.c.personal.is_(False),
        )
        .limit(1)
    ).first()
    if found is None or EXTENSIONS[found.media_type] != extension:
        return None
    return bytes(found.content)
