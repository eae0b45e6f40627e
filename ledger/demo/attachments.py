"""The demo's paper: the signed and thumbprinted receipts of the first two disbursements,
scanned and attached (here: the receipt PDF the ledger prints, as the officer would scan it
after the household signed it)."""

from __future__ import annotations

import datetime

from sqlalchemy import Connection, select

from ledger.core.files import check_file
from ledger.demo.organisation import ORG_BOOK
from ledger.reports.receipt import disbursement_receipt, render_receipt
from ledger.store import attachments
from ledger.store.books import get_book
from ledger.store.tables import disbursements

RECEIPTS_SCANNED = 2
SCANNED_BY = "sokha.officer"


def attach_receipts(conn: Connection) -> list[str]:
    """Attach the scanned receipt to each of the organisation's first two disbursements."""
    book = get_book(conn, ORG_BOOK)
    first = conn.execute(
        select(disbursements.c.id, disbursements.c.grant_id, disbursements.c.receipt_number)
        .where(disbursements.c.book_id == book.id)
        .order_by(disbursements.c.id)
        .limit(RECEIPTS_SCANNED)
    ).all()
    now = datetime.datetime.now(datetime.UTC)
    for disbursement_id, grant_id, number in first:
        content = render_receipt(disbursement_receipt(conn, grant_id, disbursement_id))
        checked = check_file(content, f"receipt-{number}-signed.pdf")
        record = attachments.disbursement_record(conn, grant_id, disbursement_id)
        attachments.attach(conn, record, checked, content, SCANNED_BY, now)
    return [f"demo: {len(first)} signed receipts scanned and attached to their disbursements"]
