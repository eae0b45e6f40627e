"""The CTIP demo has its paper: the scanned receipts of two disbursements, personal data."""

from __future__ import annotations

from sqlalchemy import select

from ledger.demo import load_demo
from ledger.export.documents import export_documents
from ledger.store.database import Database
from ledger.store.tables import attachment_files, attachments


def test_two_disbursements_have_their_signed_receipt(db: Database) -> None:
    load_demo(db)
    with db.read() as conn:
        linked = conn.execute(
            select(attachments.c.record_kind, attachments.c.personal, attachments.c.file_name)
        ).all()
        media = set(conn.execute(select(attachment_files.c.media_type)).scalars())
        exported = "".join(export_documents(conn, "org"))
    assert len(linked) == 2
    assert all(kind == "disbursement" and personal for kind, personal, _ in linked)
    assert all(name.endswith("-signed.pdf") for _, _, name in linked)
    assert media == {"application/pdf"}
    assert " document " not in exported  # receipts are personal: never exported
