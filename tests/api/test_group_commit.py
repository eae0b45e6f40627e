"""Group commit on SQLite: concurrent writes share one transaction and one commit, and yet
each caller gets its own outcome, as if it had run alone.

Writes come from threads (`Database.write`) and from coroutines (`Database.write_async`, every
write handler): both queue for the one writer thread, which runs and commits their batch. The
writer is held busy by a work that waits for the test, so that the writes queue behind it and
are then committed as one batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledger.store import books
from ledger.store.database import GROUP_COMMIT_WRITES_MAX, Database
from ledger.store.tables import audit_events, idempotency_keys, user_scopes
from ledger.store.tables import books as books_table
from tests.api.conftest import balances, exchange

WAIT_SECONDS_MAX = 30


@pytest.fixture
def app_db(client: TestClient[Any], db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("group commit is SQLite's; PostgreSQL commits each request on its own")
    app_db: Database = client.app.state.db
    return app_db


@contextmanager
def writer_held(db: Database, queued: int) -> Iterator[None]:
    """Keep the writer busy; on leaving, wait for `queued` works to queue, then let it go."""
    started, release = threading.Event(), threading.Event()

    def hold(_conn: Connection) -> None:
        started.set()
        release.wait(2 * WAIT_SECONDS_MAX)  # longer than the wait for the queue

    holder = threading.Thread(target=db.write, args=(hold,))
    holder.start()
    assert started.wait(WAIT_SECONDS_MAX)
    try:
        yield
        deadline = time.monotonic() + WAIT_SECONDS_MAX
        while db.queued_writes < queued:
            assert time.monotonic() < deadline, f"only {db.queued_writes} writes queued"
            time.sleep(0.01)
    finally:
        release.set()
        holder.join()


def in_threads(calls: list[Callable[[], Any]]) -> tuple[list[threading.Thread], list[Any]]:
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        results[index] = calls[index]()

    # Daemons: a thread stuck on a work that never runs must fail its test, not hang pytest.
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    return threads, results


def spend(khr: str, narration: str) -> dict[str, Any]:
    return {
        "date": "2018-11-05",
        "narration": narration,
        "postings": [
            {"account": "Expenses:Reintegration:Transport", "amount": khr, "currency": "KHR"},
            {"account": "Assets:Cash:Bavet-KHR", "amount": f"-{khr}", "currency": "KHR"},
        ],
    }


def count(db: Database, table: Any, *where: Any) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_concurrent_posts_commit_once_and_each_rejected_one_changes_nothing(
    client: TestClient[Any], org: str, app_db: Database
) -> None:
    assert client.post(f"/api/books/{org}/transactions", json=exchange("-10.00", "41000"))
    path = f"/api/books/{org}/transactions"
    keyed = {"Idempotency-Key": "trip-7-retry"}
    bad_key = {"Idempotency-Key": "overdraft-once"}
    unbalanced = spend("1000", "Unbalanced")
    unbalanced["postings"][1]["amount"] = "-999"
    requests: list[tuple[dict[str, Any], dict[str, str]]] = [
        (spend("10000", "Trip 1"), {}),
        (spend("50000", "More than the box holds"), bad_key),  # 409, whatever the order
        (unbalanced, {}),
        (spend("10000", "Trip 7"), keyed),
        (spend("10000", "Trip 7"), keyed),  # the client's retry: the same answer, once
    ]
    commits: list[int] = []
    event.listen(app_db.engine, "commit", lambda _conn: commits.append(1))
    with writer_held(app_db, queued=len(requests)):
        threads, responses = in_threads(
            [partial(client.post, path, json=body, headers=headers) for body, headers in requests]
        )
    for thread in threads:
        thread.join()

    assert commits == [1, 1]  # the work holding the writer, then all five requests at once
    statuses = [r.status_code for r in responses]
    assert statuses == [201, 409, 422, 201, 201], [r.text for r in responses]
    assert responses[1].json()["code"] == "account_overdrawn"
    assert responses[2].json()["code"] == "transaction_not_balanced"
    # The retry replays the first answer byte for byte; one transaction was posted.
    assert responses[3].content == responses[4].content
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses[3:]) == ["", "true"]

    assert balances(client, org)[("Assets:Cash:Bavet-KHR", "KHR")] == "21000"
    narrations = [t["narration"] for t in client.get(path, params={"limit": 100}).json()["items"]]
    assert sorted(n for n in narrations if n.startswith("Trip")) == ["Trip 1", "Trip 7"]
    assert count(app_db, audit_events, audit_events.c.action == "transaction.post") == 2 + 2
    # The rejected keyed request left no claim on its key: a corrected retry may use it.
    assert count(app_db, idempotency_keys, idempotency_keys.c.key == "overdraft-once") == 0
    assert client.post(path, json=spend("1000", "Trip 8"), headers=bad_key).status_code == 201


def dangling_scope(conn: Connection) -> None:
    """A write whose COMMIT fails: a foreign key checked only at commit."""
    conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    conn.execute(insert(user_scopes).values(user_id=987654, kind="book", value="org"))


def new_book(code: str) -> Callable[[Connection], str]:
    def create(conn: Connection) -> str:
        return books.create_book(conn, code, f"Book {code}", "household", "KHR").code

    return create


def outcome_of(write: Callable[[], Any]) -> Any:
    try:
        return write()
    except IntegrityError as error:
        return error


def test_a_failed_commit_runs_each_work_of_the_threads_batch_again_alone(
    db: Database,
) -> None:
    """A work whose changes make COMMIT fail fails alone; the works batched with it on the
    writer thread are run again on their own and succeed."""
    if not db.is_sqlite:
        pytest.skip("group commit is SQLite's")
    grouped = Database(db.engine, group_commit=True)
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(1))
    try:
        with writer_held(grouped, queued=3):
            threads, outcomes = in_threads(
                [
                    partial(outcome_of, partial(grouped.write, new_book("hh-a"))),
                    partial(outcome_of, partial(grouped.write, dangling_scope)),
                    partial(outcome_of, partial(grouped.write, new_book("hh-b"))),
                ]
            )
        for thread in threads:
            thread.join()
    finally:
        grouped.dispose()

    assert outcomes[0] == "hh-a"
    assert outcomes[2] == "hh-b"
    assert isinstance(outcomes[1], IntegrityError)
    # COMMITs tried: the holder's, the batch's (it fails), then each work's alone (the
    # dangling one fails again).
    assert commits == [1] * 5
    assert count(db, user_scopes, user_scopes.c.user_id == 987654) == 0


def test_a_failed_commit_of_the_coroutines_batch_runs_each_work_again_alone(
    db: Database,
) -> None:
    """The same for coroutines: their batch is rolled back when its COMMIT fails, and each
    work runs again alone on the writer thread; each caller gets its own outcome."""
    if not db.is_sqlite:
        pytest.skip("group commit is SQLite's")
    grouped = Database(db.engine, group_commit=True)
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(1))

    async def write(work: Callable[[Connection], Any]) -> Any:
        try:
            return await grouped.write_async(work)
        except IntegrityError as error:
            return error

    async def three_writes() -> list[Any]:
        return list(
            await asyncio.gather(
                write(new_book("hh-c")), write(dangling_scope), write(new_book("hh-d"))
            )
        )

    try:
        with writer_held(grouped, queued=3):
            threads, outcomes = in_threads([partial(asyncio.run, three_writes())])
        threads[0].join()
    finally:
        grouped.dispose()

    first, broken, last = outcomes[0]
    assert (first, last) == ("hh-c", "hh-d")
    assert isinstance(broken, IntegrityError)
    assert commits == [1] * 5  # as for the writer thread's batch
    assert count(db, user_scopes, user_scopes.c.user_id == 987654) == 0
    with db.read() as conn:
        assert books.get_book(conn, "hh-c").code == "hh-c"


def test_more_coroutines_than_one_batch_holds_all_commit(db: Database) -> None:
    """A batch takes at most 64 works; the rest run in the next batch, unprompted."""
    if not db.is_sqlite:
        pytest.skip("group commit is SQLite's")
    grouped = Database(db.engine, group_commit=True)
    codes = [f"hh-{i:03d}" for i in range(GROUP_COMMIT_WRITES_MAX + 6)]

    async def all_writes() -> list[Any]:
        return list(await asyncio.gather(*(grouped.write_async(new_book(c)) for c in codes)))

    try:
        with writer_held(grouped, queued=len(codes)):
            threads, outcomes = in_threads([partial(asyncio.run, all_writes())])
        threads[0].join(WAIT_SECONDS_MAX)
        assert not threads[0].is_alive(), "the works beyond the first batch were never run"
    finally:
        grouped.dispose()

    assert outcomes[0] == codes
    with db.read() as conn:
        assert books.get_book(conn, codes[-1]).code == codes[-1]


def test_a_work_run_by_the_writer_cannot_start_another_write(db: Database) -> None:
    """It would wait for the transaction its own batch holds: refused, never a deadlock."""
    if not db.is_sqlite:
        pytest.skip("group commit is SQLite's")
    grouped = Database(db.engine, group_commit=True)

    def nested(_conn: Connection) -> str:
        return grouped.write(new_book("hh-nested"))

    async def write_nested() -> str:
        try:
            return await grouped.write_async(nested)
        except RuntimeError as error:
            return str(error)

    threads, outcomes = in_threads([partial(asyncio.run, write_nested())])
    threads[0].join(WAIT_SECONDS_MAX)
    # Deadlocked, the writer could not even be stopped: fail without trying.
    assert not threads[0].is_alive(), "the nested write deadlocked"
    grouped.dispose()
    assert outcomes[0] == "a write's work cannot start another write"
    assert count(db, books_table, books_table.c.code == "hh-nested") == 0
