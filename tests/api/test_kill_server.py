"""A server killed with SIGKILL in the middle of a stream of keyed POSTs loses nothing it
answered 2xx, and a client that retries what was not answered gets each posted exactly once.

The stream: `POSTS` transactions, each with its own Idempotency-Key, from `SENDERS` threads
(so that the SQLite writer commits several in one batch). Once `ANSWERED_BEFORE_KILL` are
answered, the server's process group gets SIGKILL: no shutdown hook, no last commit. Then the
server starts again on the same database and the client retries every request it has no
answer for, with the same key and body. On both engines (the PostgreSQL one made for the test).
"""

from __future__ import annotations

import datetime
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, select

from ledger.access import users
from ledger.access.tokens import issue_access_token
from ledger.store import books
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from ledger.store.tables import transactions
from tests.api.conftest import PASSWORD, TEST_SECRET_KEY
from tests.api.served_process import cli, free_port, fresh_postgres, start_server, stop
from tests.conftest import TEST_DATABASE

POSTS = 60
SENDERS = 4
ANSWERED_BEFORE_KILL = 15
WAIT_SECONDS_MAX = 60.0


@pytest.fixture(params=[TEST_DATABASE])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's engine, its own (not the suite's database). CI runs
    the suite on both engines, so each engine is killed once per CI run."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    with fresh_postgres("ledger_kill") as url:
        yield url


def prepare(url: str) -> dict[str, str]:
    """Migrate, open a book with two accounts, and return a finance officer's headers."""
    db = Database.connect(url)
    try:
        upgrade(db.engine)

        def book_and_officer(conn: Connection) -> int:
            books.create_book(conn, "hh", "Sokha's shop", "household", "KHR")
            for account in ("Assets:Cash:Box", "Income:Sales"):
                books.open_account(conn, "hh", account, datetime.date(2018, 1, 1), ["KHR"], False)
            return users.create_user(conn, "sokha", PASSWORD, "finance").id

        user_id = db.write(book_and_officer)
    finally:
        db.dispose()
    token, _ = issue_access_token(user_id, TEST_SECRET_KEY, datetime.datetime.now(datetime.UTC))
    return {"Authorization": f"Bearer {token}"}


def sale(number: int) -> dict[str, Any]:
    return {
        "date": "2018-11-04",
        "narration": f"Sale {number}",
        "postings": [
            {"account": "Assets:Cash:Box", "amount": f"{1000 + number}", "currency": "KHR"},
            {"account": "Income:Sales", "amount": f"-{1000 + number}", "currency": "KHR"},
        ],
    }


class Stream:
    """Keyed POSTs from several threads; what was answered, by request number."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base
        self.headers = headers
        self.answered: dict[int, httpx.Response] = {}
        self.lock = threading.Lock()

    def send(self, number: int) -> None:
        headers = {**self.headers, "Idempotency-Key": f"sale-{number}"}
        try:
            response = httpx.post(
                f"{self.base}/api/books/hh/transactions", json=sale(number), headers=headers
            )
        except httpx.TransportError:
            return  # no answer: the client retries it later
        assert response.status_code == 201, response.text
        with self.lock:
            self.answered[number] = response

    def count(self) -> int:
        with self.lock:
            return len(self.answered)


def kill_during_stream(stream: Stream, server: Any) -> None:
    with ThreadPoolExecutor(SENDERS) as senders:
        for number in range(POSTS):
            senders.submit(stream.send, number)
        deadline = time.monotonic() + WAIT_SECONDS_MAX
        while stream.count() < ANSWERED_BEFORE_KILL:
            assert time.monotonic() < deadline, "the stream did not start"
            time.sleep(0.005)
        stop(server, signal.SIGKILL)


def test_a_server_killed_mid_stream_loses_nothing_answered_and_retries_post_once(
    database_url: str, tmp_path: Path
) -> None:
    headers = prepare(database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stream = Stream(base, headers)
    kill_during_stream(stream, start_server(database_url, tmp_path, port, workers=1))
    answered_before = dict(stream.answered)
    assert ANSWERED_BEFORE_KILL <= len(answered_before) < POSTS, "the kill came too late"

    server = start_server(database_url, tmp_path, port, workers=1)
    try:
        for number in range(POSTS):
            if number not in answered_before:
                stream.send(number)
        # An answered request retried gets the same answer, replayed.
        first = min(answered_before)
        stream.send(first)
    finally:
        stop(server)

    assert len(stream.answered) == POSTS
    assert stream.answered[first].content == answered_before[first].content
    assert stream.answered[first].headers["Idempotent-Replayed"] == "true"
    db = Database.connect(database_url)
    try:
        with db.read() as conn:
            stored = conn.execute(select(transactions.c.id, transactions.c.narration)).all()
    finally:
        db.dispose()
    assert sorted(row.narration for row in stored) == sorted(f"Sale {n}" for n in range(POSTS))
    for number, response in answered_before.items():  # every 2xx before the kill is there
        assert (response.json()["id"], f"Sale {number}") in {tuple(row) for row in stored}
    verify = cli(database_url, tmp_path, "verify")
    assert verify.wait(WAIT_SECONDS_MAX) == 0, (tmp_path / "server.log").read_text()[-3000:]
