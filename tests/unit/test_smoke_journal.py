"""A first scenario through the journal: exchange, reversal, overdraft refused."""

from __future__ import annotations

import datetime

import pytest

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.store import journal, queries
from ledger.store.database import Database

D = datetime.date


def test_exchange_then_reversal_leaves_zero(db: Database, org_book: str) -> None:
    draft = TransactionDraft(
        date=D(2018, 11, 4),
        narration="Exchange for cash disbursements",
        postings=(
            PostingDraft("Assets:Bank:Operating-USD", "-100.00", "USD"),
            PostingDraft(
                "Assets:Cash:Bavet-KHR", "410000", "KHR", total_price=PriceDraft("100.00", "USD")
            ),
        ),
    )
    txn_id = db.write(lambda c: journal.post_draft(c, org_book, draft))
    with db.read() as conn:
        rows = {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, org_book)}
    assert rows == {
        ("Assets:Bank:Operating-USD", "USD"): -10000,
        ("Assets:Cash:Bavet-KHR", "KHR"): 410000,
    }
    db.write(lambda c: journal.reverse(c, org_book, txn_id, D(2018, 11, 5)))
    with db.read() as conn:
        assert queries.trial_balance(conn, org_book) == []
    with pytest.raises(LedgerRejected) as rejected:
        db.write(lambda c: journal.reverse(c, org_book, txn_id, D(2018, 11, 6)))
    assert rejected.value.first.code == "already_reversed"
