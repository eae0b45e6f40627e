"""Idempotent writes at the store level: a field officer on a bad connection retries a payment.

The same Idempotency-Key with the same request gets the first response and writes nothing
more; with a different request it is refused (the API answers 409).
"""

from __future__ import annotations

import datetime
import json

import pytest
from sqlalchemy import Connection, func, select

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import journal, queries
from ledger.store.database import Database
from ledger.store.idempotency import (
    KEY_LENGTH_MAX,
    KEY_RETENTION_DAYS,
    fingerprint,
    purge_expired_keys,
    run_idempotent,
)
from ledger.store.tables import idempotency_keys, transactions

D = datetime.date
BAVET = "Assets:Cash:Bavet-KHR"
SCOPE = "POST /books/org/transactions"


class CashPayment:
    """The write behind `POST /books/org/transactions`: counts how often it really runs."""

    def __init__(self, riel: int, narration: str = "Cash grant for household DV-009") -> None:
        self.riel = riel
        self.narration = narration
        self.runs = 0

    @property
    def request(self) -> bytes:
        return json.dumps({"amount": str(self.riel), "narration": self.narration}).encode()

    @property
    def fingerprint(self) -> str:
        return fingerprint(SCOPE.encode(), self.request)

    def __call__(self, conn: Connection) -> tuple[int, bytes]:
        self.runs += 1
        draft = TransactionDraft(
            date=D(2018, 11, 10),
            narration=self.narration,
            postings=(
                PostingDraft("Expenses:Grants:Cash:CTIP-2018", str(self.riel), "KHR"),
                PostingDraft(BAVET, str(-self.riel), "KHR"),
            ),
        )
        txn_id = journal.post_draft(conn, "org", draft)
        return 201, json.dumps({"id": txn_id}).encode()


@pytest.fixture
def cash_box(db: Database, org_book: str) -> Database:
    """The Bavet cash box holds 410,000 riel."""
    draft = TransactionDraft(
        date=D(2018, 11, 4),
        narration="Opening cash count",
        postings=(
            PostingDraft(BAVET, "410000", "KHR"),
            PostingDraft("Equity:Opening-Balances", "-410000", "KHR"),
        ),
    )
    db.write(lambda c: journal.post_draft(c, org_book, draft))
    return db


def transaction_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(transactions)).scalar_one())


def cash_in_box(db: Database) -> int:
    with db.read() as conn:
        rows = queries.trial_balance(conn, "org")
    return next((r.units for r in rows if r.account == BAVET), 0)


def test_a_retried_payment_is_paid_once_and_answered_the_same(cash_box: Database) -> None:
    payment = CashPayment(100_000)
    first = run_idempotent(cash_box, SCOPE, "phone-7f3a-0001", payment.fingerprint, payment)
    again = run_idempotent(cash_box, SCOPE, "phone-7f3a-0001", payment.fingerprint, payment)
    assert (first.status_code, first.replayed) == (201, False)
    assert (again.status_code, again.body, again.replayed) == (201, first.body, True)
    assert payment.runs == 1
    assert transaction_count(cash_box) == 2
    assert cash_in_box(cash_box) == 310_000


def test_the_same_key_with_a_different_request_is_refused(cash_box: Database) -> None:
    payment = CashPayment(100_000)
    run_idempotent(cash_box, SCOPE, "phone-7f3a-0002", payment.fingerprint, payment)
    other = CashPayment(90_000)
    with pytest.raises(LedgerRejected) as rejected:
        run_idempotent(cash_box, SCOPE, "phone-7f3a-0002", other.fingerprint, other)
    error = rejected.value.first
    assert (error.code, error.kind, error.field) == (
        "idempotency_key_reused",
        "conflict",
        "Idempotency-Key",
    )
    assert other.runs == 0
    assert cash_in_box(cash_box) == 310_000


def test_one_key_in_two_scopes_is_two_requests(cash_box: Database) -> None:
    payment = CashPayment(1_000)
    run_idempotent(cash_box, SCOPE, "k-1", payment.fingerprint, payment)
    run_idempotent(cash_box, "POST /books/org/reversals", "k-1", payment.fingerprint, payment)
    assert payment.runs == 2
    assert cash_in_box(cash_box) == 408_000


def test_without_a_key_every_request_writes(cash_box: Database) -> None:
    payment = CashPayment(1_000)
    for _ in range(3):
        assert not run_idempotent(cash_box, SCOPE, None, payment.fingerprint, payment).replayed
    assert payment.runs == 3
    assert cash_in_box(cash_box) == 407_000


def test_a_refused_request_leaves_its_key_free_for_the_retry(cash_box: Database) -> None:
    too_much = CashPayment(500_000)
    with pytest.raises(LedgerRejected) as rejected:
        run_idempotent(cash_box, SCOPE, "phone-7f3a-0003", too_much.fingerprint, too_much)
    assert rejected.value.first.code == "account_overdrawn"
    with cash_box.read() as conn:
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one() == 0
    # More cash arrives; the officer's phone retries with the same key and request.
    top_up = CashPayment(-200_000, "Cash returned to the box")
    run_idempotent(cash_box, SCOPE, None, top_up.fingerprint, top_up)
    paid = run_idempotent(cash_box, SCOPE, "phone-7f3a-0003", too_much.fingerprint, too_much)
    assert not paid.replayed
    assert cash_in_box(cash_box) == 110_000


@pytest.mark.parametrize(
    "key", ["", "k" * (KEY_LENGTH_MAX + 1), "key\n", "key\x00", "key\x1b", "tab\tkey"]
)
def test_an_invalid_key_is_refused_before_anything_runs(cash_box: Database, key: str) -> None:
    payment = CashPayment(1_000)
    with pytest.raises(LedgerRejected) as rejected:
        run_idempotent(cash_box, SCOPE, key, payment.fingerprint, payment)
    assert (rejected.value.first.code, rejected.value.first.field) == (
        "idempotency_key_invalid",
        "Idempotency-Key",
    )
    assert payment.runs == 0


@pytest.mark.parametrize(
    "key", ["k" * KEY_LENGTH_MAX, "ក" * KEY_LENGTH_MAX, "550e8400-e29b-41d4-a716-446655440000"]
)
def test_keys_up_to_the_limit_work_in_any_script(cash_box: Database, key: str) -> None:
    payment = CashPayment(1_000)
    run_idempotent(cash_box, SCOPE, key, payment.fingerprint, payment)
    assert run_idempotent(cash_box, SCOPE, key, payment.fingerprint, payment).replayed
    assert payment.runs == 1


def test_a_hostile_long_path_is_refused_not_crashed(cash_box: Database) -> None:
    # The API's scope is "METHOD path"; the path is the client's, so its length is too.
    scope = "POST /books/" + "x" * 400 + "/transactions"
    payment = CashPayment(1_000)
    with pytest.raises(LedgerRejected) as rejected:
        run_idempotent(cash_box, scope, "k-1", payment.fingerprint, payment)
    assert rejected.value.first.code == "idempotency_scope_invalid"
    assert payment.runs == 0


def test_a_fingerprint_tells_requests_apart() -> None:
    assert fingerprint(b"POST /x", b"{}") == fingerprint(b"POST /x", b"{}")
    assert fingerprint(b"POST /x", b"{}") != fingerprint(b"POST /y", b"{}")
    # Parts are length-prefixed: moving a boundary is a different request.
    assert fingerprint(b"ab", b"c") != fingerprint(b"a", b"bc")
    assert len(fingerprint(b"")) == 64


class Clock:
    """A controlled wall clock for the idempotency store."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2018, 11, 10, 8, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now


def test_a_key_is_kept_35_days_then_forgotten(cash_box: Database) -> None:
    """A field phone syncing a month late is still answered from the store; after the
    retention the key is forgotten: the same key runs as a new request (and a different
    request with it is no longer a conflict)."""
    assert KEY_RETENTION_DAYS >= 30
    clock = Clock()
    payment = CashPayment(100_000)
    first = run_idempotent(cash_box, SCOPE, "phone-7f3a-0009", payment.fingerprint, payment, clock)
    clock.now += datetime.timedelta(days=KEY_RETENTION_DAYS) - datetime.timedelta(seconds=1)
    late = run_idempotent(cash_box, SCOPE, "phone-7f3a-0009", payment.fingerprint, payment, clock)
    assert (late.replayed, late.body) == (True, first.body)
    assert payment.runs == 1
    assert cash_in_box(cash_box) == 310_000

    clock.now += datetime.timedelta(seconds=1)
    other = CashPayment(50_000)
    expired = run_idempotent(cash_box, SCOPE, "phone-7f3a-0009", other.fingerprint, other, clock)
    assert (expired.status_code, expired.replayed) == (201, False)
    assert other.runs == 1
    assert cash_in_box(cash_box) == 260_000
    with cash_box.read() as conn:
        rows = conn.execute(select(idempotency_keys)).all()
    assert [(r.key, r.fingerprint, r.created_at) for r in rows] == [
        ("phone-7f3a-0009", other.fingerprint, clock.now)
    ]


def test_expired_keys_are_purged_and_kept_ones_are_not(cash_box: Database) -> None:
    clock = Clock()
    start = clock.now
    for day in range(0, 40, 5):
        clock.now = start + datetime.timedelta(days=day)
        payment = CashPayment(1_000)
        run_idempotent(cash_box, SCOPE, f"phone-day-{day}", payment.fingerprint, payment, clock)
    now = start + datetime.timedelta(days=40)
    purged = cash_box.write(lambda conn: purge_expired_keys(conn, now))
    with cash_box.read() as conn:
        kept = sorted(conn.execute(select(idempotency_keys.c.key)).scalars())
    # Day 0 is 40 days old and day 5 exactly 35: both are forgotten; the rest are kept.
    assert purged == 2
    assert kept == sorted(f"phone-day-{day}" for day in range(10, 40, 5))
