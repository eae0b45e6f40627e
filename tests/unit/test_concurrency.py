"""Many writers at once (invariant 7): no lost update, no overdrawn cash box, one write per key.

Each thread is an officer's request with its own work (`db.write`). On SQLite the
writes queue on the write lock; on PostgreSQL they really run side by side.

The last tests interleave two writes by hand: the first is held open while the second
runs, then the first commits. Whatever the order, the result must be one a serial order
could have produced.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, func, select, text

from ledger.core.amount import Commodity
from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import books, journal, queries
from ledger.store.database import Database
from ledger.store.idempotency import fingerprint, run_idempotent
from ledger.store.tables import (
    audit_events,
    balance_assertions,
    balances,
    postings,
    transactions,
)
from ledger.verify import verify_all
from tests.conftest import early_post

D = datetime.date
BAVET = "Assets:Cash:Bavet-KHR"
POIPET = "Assets:Cash:Poipet-THB"
GRANTS = "Expenses:Grants:Cash:CTIP-2018"
OPENING = "Equity:Opening-Balances"
KAMPOT = "Assets:Cash:Kampot-KHR"
ON_POSTGRESQL = os.environ.get("TEST_DATABASE", "sqlite") == "postgresql"

THREADS = 8


def move(day: datetime.date, narration: str, *postings: tuple[str, str, str]) -> TransactionDraft:
    return TransactionDraft(
        date=day,
        narration=narration,
        postings=tuple(PostingDraft(a, amount, c) for a, amount, c in postings),
    )


def fill_box(db: Database, riel: int) -> None:
    draft = move(
        D(2018, 11, 1), "Cash count", (BAVET, str(riel), "KHR"), (OPENING, str(-riel), "KHR")
    )
    db.write(lambda c: journal.post_draft(c, "org", draft))


def withdrawal(n: int) -> TransactionDraft:
    return move(
        D(2018, 11, 10),
        f"Cash grant instalment {n}",
        (GRANTS, "1000", "KHR"),
        (BAVET, "-1000", "KHR"),
    )


def outcome(attempt: Callable[[], object]) -> str:
    """'ok', the refusal's code, or the name of whatever else was raised."""
    try:
        attempt()
    except LedgerRejected as rejected:
        return rejected.first.code
    except Exception as error:  # a crash is an outcome the test reports, not one it hides
        return type(error).__name__
    return "ok"


def posting(handle: Database, draft: TransactionDraft) -> str:
    """Post `draft` in its own `db.write`; the outcome."""
    return outcome(lambda: handle.write(lambda c: journal.post_draft(c, "org", draft)))


def in_threads(count: int, work: Callable[[int], list[str]]) -> Counter[str]:
    """Run `work(i)` in `count` threads that start together; count every outcome."""
    start = threading.Barrier(count)

    def run(i: int) -> list[str]:
        start.wait(timeout=10)
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(run, range(count), timeout=60))
    return Counter(o for result in results for o in result)


def riel_in(db: Database, account: str) -> int:
    with db.read() as conn:
        rows = queries.trial_balance(conn, "org")
    return next((r.units for r in rows if r.account == account and r.commodity == "KHR"), 0)


def assert_stored_balances_equal_postings(db: Database) -> None:
    with db.read() as conn:
        stored = {(r.account_id, r.commodity): r.units for r in conn.execute(select(balances))}
        summed = {
            (a, c): int(u)
            for a, c, u in conn.execute(
                select(
                    postings.c.account_id, postings.c.commodity, func.sum(postings.c.units)
                ).group_by(postings.c.account_id, postings.c.commodity)
            )
        }
    assert stored == summed


def transaction_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(transactions)).scalar_one())


# -- many writers ------------------------------------------------------------------------------


def test_officers_withdrawing_at_once_empty_the_box_exactly(db: Database, org_book: str) -> None:
    """8 officers x 25 withdrawals of 1,000 riel from a box holding 150,000 riel."""
    fill_box(db, 150_000)

    def officer(i: int) -> list[str]:
        return [posting(db, withdrawal(n)) for n in range(i * 25, i * 25 + 25)]

    outcomes = in_threads(THREADS, officer)
    assert outcomes == {"ok": 150, "account_overdrawn": 50}
    assert riel_in(db, BAVET) == 0
    assert riel_in(db, GRANTS) == 150_000
    assert transaction_count(db) == 151
    assert_stored_balances_equal_postings(db)


def test_two_processes_withdrawing_at_once_never_overdraw(db: Database, org_book: str) -> None:
    """Two handles on one database, as two server processes would hold."""
    fill_box(db, 30_000)
    other = Database.connect(db.engine.url.render_as_string(hide_password=False))
    handles = [db, other]
    try:

        def officer(i: int) -> list[str]:
            return [posting(handles[i % 2], withdrawal(n)) for n in range(i * 10, i * 10 + 10)]

        outcomes = in_threads(THREADS, officer)
    finally:
        other.dispose()
    assert outcomes == {"ok": 30, "account_overdrawn": 50}
    assert riel_in(db, BAVET) == 0
    assert_stored_balances_equal_postings(db)


def test_deposits_from_many_officers_sum_exactly(db: Database, org_book: str) -> None:
    """Each thread deposits its own amounts, touching the accounts in different orders."""

    def officer(i: int) -> list[str]:
        results = []
        for n in range(25):
            riel = str(1 + i * 100 + n)
            legs = [(BAVET, riel, "KHR"), (OPENING, f"-{riel}", "KHR")]
            if n % 3 == 0:  # some deposits bring baht to Poipet in the same transaction
                legs += [(POIPET, "1.00", "THB"), (OPENING, "-1.00", "THB")]
            if i % 2:
                legs.reverse()
            draft = move(D(2018, 11, 10), f"Deposit {i}-{n}", *legs)
            results.append(posting(db, draft))
        return results

    outcomes = in_threads(THREADS, officer)
    assert outcomes == {"ok": THREADS * 25}
    expected = sum(1 + i * 100 + n for i in range(THREADS) for n in range(25))
    assert riel_in(db, BAVET) == expected
    assert riel_in(db, OPENING) == -expected
    with db.read() as conn:
        rows = queries.trial_balance(conn, "org")
    assert {(r.account, r.units) for r in rows if r.commodity == "THB"} == {
        (POIPET, THREADS * 9 * 100),
        (OPENING, -THREADS * 9 * 100),
    }
    assert_stored_balances_equal_postings(db)


def test_racing_retries_of_one_request_write_once(db: Database, org_book: str) -> None:
    """A phone on a bad connection sends the same payment 8 times at once."""
    fill_box(db, 150_000)
    scope = "POST /books/org/transactions"
    request = fingerprint(scope.encode(), b'{"amount": "1000"}')

    def pay(conn: Connection) -> tuple[int, bytes]:
        txn_id = journal.post_draft(conn, "org", withdrawal(0))
        return 201, json.dumps({"id": txn_id}).encode()

    answers: list[tuple[int, bytes, bool]] = []
    lock = threading.Lock()

    def retry(_: int) -> list[str]:
        def once() -> None:
            stored = run_idempotent(db, scope, "phone-7f3a-0042", request, pay)
            with lock:
                answers.append((stored.status_code, stored.body, stored.replayed))

        return [outcome(once)]

    outcomes = in_threads(THREADS, retry)
    assert outcomes == {"ok": THREADS}
    assert len({(status, body) for status, body, _ in answers}) == 1
    assert sorted(replayed for _, _, replayed in answers) == [False] + [True] * (THREADS - 1)
    assert transaction_count(db) == 2
    assert riel_in(db, BAVET) == 149_000


# -- two writes interleaved by hand -----------------------------------------------------------


@dataclass
class Interleaved:
    first: str
    second: str


def interleave(
    db: Database,
    first: Callable[[Connection], object],
    second: Callable[[Connection], object],
) -> Interleaved:
    """Run `first` in a write left open, start `second` (its own db.write) in a thread,
    wait until the second has finished or is blocked by the first, then commit the first."""
    result: dict[str, str] = {}
    with db.engine.connect() as raw:
        conn = raw.execution_options(ledger_write=True)  # BEGIN IMMEDIATE on SQLite
        transaction = conn.begin()
        result["first"] = outcome(lambda: first(conn))
        thread = threading.Thread(
            target=lambda: result.update(second=outcome(lambda: db.write(second)))
        )
        thread.start()
        _wait_until_done_or_blocked(db, thread)
        if result["first"] == "ok":
            transaction.commit()
        else:
            transaction.rollback()
        thread.join(timeout=30)
        assert not thread.is_alive()
    return Interleaved(result["first"], result["second"])


def _wait_until_done_or_blocked(db: Database, thread: threading.Thread) -> None:
    if db.is_sqlite:
        # The second waits on SQLite's file lock (busy timeout); nothing to poll for.
        thread.join(timeout=0.5)
        return
    deadline = time.monotonic() + 10
    with db.engine.connect() as watcher:
        while thread.is_alive() and time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)


def test_two_racing_reversals_reverse_once(db: Database, org_book: str) -> None:
    fill_box(db, 150_000)
    with db.read() as conn:
        original = conn.execute(select(func.max(transactions.c.id))).scalar_one()
    raced = interleave(
        db,
        lambda c: journal.reverse(c, "org", original, D(2018, 11, 2)),
        lambda c: journal.reverse(c, "org", original, D(2018, 11, 3)),
    )
    assert (raced.first, raced.second) == ("ok", "already_reversed")
    assert riel_in(db, BAVET) == 0


def kampot_and_its_float(db: Database) -> tuple[int, TransactionDraft]:
    """A new cash box's id, and the deposit that fills it."""

    def open_kampot(conn: Connection) -> int:
        return books.open_account(conn, "org", KAMPOT, D(2018, 1, 1), ["KHR"]).id

    deposit = move(
        D(2018, 11, 10), "Float for Kampot", (KAMPOT, "5000", "KHR"), (OPENING, "-5000", "KHR")
    )
    return db.write(open_kampot), deposit


def test_a_deposit_racing_the_close_of_its_account(db: Database, org_book: str) -> None:
    kampot, deposit = kampot_and_its_float(db)
    raced = interleave(
        db,
        lambda c: books.close_account(c, "org", kampot, D(2018, 11, 30)),
        lambda c: journal.post_draft(c, "org", deposit),
    )
    with db.read() as conn:
        closed = books.get_account(conn, "org", kampot).close_date is not None
    # Serially: either the close is refused (account_not_empty) or the deposit (account_closed).
    assert not (closed and riel_in(db, KAMPOT) != 0), raced
    assert raced.second == "account_closed"


def test_a_back_dated_withdrawal_racing_a_cash_count(db: Database, org_book: str) -> None:
    fill_box(db, 410_000)
    raced = interleave(
        db,
        lambda c: journal.assert_balance(c, "org", BAVET, "KHR", D(2018, 11, 30), 410_000),
        lambda c: journal.post_draft(c, "org", withdrawal(1)),  # dated 10 November
    )
    with db.read() as conn:
        counted = conn.execute(select(balance_assertions.c.units)).scalars().all()
        box = books.list_accounts(conn, "org")
        bavet = next(a.id for a in box if a.name == BAVET)
        held = queries.account_balance(conn, "org", bavet, D(2018, 11, 30)).get("KHR", 0)
    assert counted == [held], raced
    assert (raced.first, raced.second) == ("ok", "balance_asserted")


CREATE_TWICE: dict[str, tuple[Callable[[Connection], object], str]] = {
    "book": (
        lambda c: books.create_book(c, "sg-kt-001", "Kampong Trach group", "savings_group", "KHR"),
        "book_exists",
    ),
    "account": (
        lambda c: books.open_account(c, "org", KAMPOT, D(2018, 1, 1), ["KHR"], True),
        "account_exists",
    ),
    "commodity": (
        lambda c: books.create_commodity(c, Commodity("RICE-KG", 0, "Rice, kilograms")),
        "commodity_exists",
    ),
}


@pytest.mark.parametrize("thing", sorted(CREATE_TWICE))
def test_two_officers_creating_the_same_thing_at_once(
    db: Database, org_book: str, thing: str
) -> None:
    # Without an Idempotency-Key, a phone's retry is a second request racing the first.
    create, exists = CREATE_TWICE[thing]
    raced = interleave(db, create, create)
    assert (raced.first, raced.second) == ("ok", exists)


def test_two_racing_lock_dates_never_move_the_lock_back(db: Database, org_book: str) -> None:
    # The finance team closes the year while an officer's stale screen closes November.
    raced = interleave(
        db,
        lambda c: books.set_lock_date(c, "org", D(2018, 12, 31)),
        lambda c: books.set_lock_date(c, "org", D(2018, 11, 30)),
    )
    assert (raced.first, raced.second) == ("ok", "lock_date_backwards")
    with db.read() as conn:
        assert books.get_book(conn, "org").lock_date == D(2018, 12, 31)


def test_two_racing_closes_of_one_account_close_it_once(db: Database, org_book: str) -> None:
    def open_kampot(conn: Connection) -> int:
        return books.open_account(conn, "org", KAMPOT, D(2018, 1, 1), ["KHR"]).id

    kampot = db.write(open_kampot)
    raced = interleave(
        db,
        lambda c: books.close_account(c, "org", kampot, D(2018, 11, 30)),
        lambda c: books.close_account(c, "org", kampot, D(2018, 12, 31)),
    )
    assert (raced.first, raced.second) == ("ok", "account_closed")
    with db.read() as conn:
        assert books.get_account(conn, "org", kampot).close_date == D(2018, 11, 30)


# -- posts that commit in their writing round trip (PostgreSQL) --------------------------------
#
# The API posts a transaction with its audit event queued first and the COMMIT offered to the
# post (`api.writes`, `driver.offer_early_commit`): on PostgreSQL the post's one round trip
# under the book's lock then writes, checks on the server and commits. A check that fails
# there undoes it, and the write runs again checked in Python: the outcomes must be those of
# the plain post above. On SQLite nothing is offered, and these are the plain post again.


def assert_every_post_audited(db: Database) -> None:
    """One event per posted transaction, naming it; both chains verify."""
    with db.read() as conn:
        named = conn.execute(
            select(audit_events.c.object_id).where(audit_events.c.action == "transaction.post")
        ).scalars()
        posted = conn.execute(select(transactions.c.id)).scalars()
        assert sorted(int(i) for i in named) == sorted(posted)[1:]  # the cash count: not audited
    assert [r.differences for r in verify_all(db)] == [()] * len(verify_all(db))


def test_officers_withdrawing_at_once_with_early_commits_empty_the_box_exactly(
    db: Database, org_book: str
) -> None:
    """As above; the posts refused are refused by the server's check of the balances first."""
    fill_box(db, 150_000)

    def officer(i: int) -> list[str]:
        return [
            outcome(lambda n=n: db.write(early_post("org", withdrawal(n))))  # type: ignore[misc]
            for n in range(i * 25, i * 25 + 25)
        ]

    outcomes = in_threads(THREADS, officer)
    assert outcomes == {"ok": 150, "account_overdrawn": 50}
    assert riel_in(db, BAVET) == 0
    assert transaction_count(db) == 151
    assert_stored_balances_equal_postings(db)
    assert_every_post_audited(db)


def test_an_early_commit_racing_the_close_of_its_account(db: Database, org_book: str) -> None:
    """The post read the account open; under the lock it is closed: the server's check of the
    read fails, and the post run again is refused as closed."""

    kampot, deposit = kampot_and_its_float(db)
    raced = interleave(
        db,
        lambda c: books.close_account(c, "org", kampot, D(2018, 11, 30)),
        early_post("org", deposit),
    )
    assert raced == Interleaved("ok", "account_closed")
    assert transaction_count(db) == 0
    assert_every_post_audited(db)


def test_a_back_dated_early_commit_racing_a_cash_count(db: Database, org_book: str) -> None:
    fill_box(db, 410_000)
    raced = interleave(
        db,
        lambda c: journal.assert_balance(c, "org", BAVET, "KHR", D(2018, 11, 30), 410_000),
        early_post("org", withdrawal(1)),  # dated 10 November
    )
    assert raced == Interleaved("ok", "balance_asserted")
    assert riel_in(db, BAVET) == 410_000
    assert_every_post_audited(db)


def test_back_dated_early_commits_carry_to_later_checkpoints(db: Database, org_book: str) -> None:
    """Posts dated before weeks that have checkpoints: the later weeks' balances as of their
    dates include them, as `verify` recomputes them from the postings."""
    fill_box(db, 90_000)  # 1 November
    for day in (D(2018, 11, 28), D(2018, 11, 20), D(2018, 11, 12), D(2018, 11, 5)):
        withdrawn = move(day, "Grant", (GRANTS, "1000", "KHR"), (BAVET, "-1000", "KHR"))
        db.write(early_post("org", withdrawn))
    with db.read() as conn:
        bavet = next(a.id for a in books.list_accounts(conn, "org") if a.name == BAVET)
        as_of = {
            day: queries.account_balance(conn, "org", bavet, D(2018, 11, day)).get("KHR", 0)
            for day in (4, 11, 19, 27, 30)
        }
    assert as_of == {4: 90_000, 11: 89_000, 19: 88_000, 27: 87_000, 30: 86_000}
    assert_every_post_audited(db)
