"""Another process holds SQLite's write lock (a command-line job, a backup): the server keeps
answering reads at once, and its writes wait on the writer thread, never on the event loop.

A real server on loopback and a real second process: the child opens the file with plain
`sqlite3`, takes the lock with `BEGIN IMMEDIATE` and holds it for `HOLD_SECONDS`. The test runs
on its own SQLite file whatever the suite's engine, since the lock is SQLite's.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import AuthSettings
from ledger.access import users
from ledger.access.tokens import issue_access_token
from ledger.store import database
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from tests.api.conftest import PASSWORD, TEST_SECRET_KEY
from tests.api.live_server import serving

HOLD_SECONDS = 3.0
# What a read may take while the lock is held (p99), on a loaded two-core CI machine.
READ_SECONDS_MAX = 0.100
_HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


@pytest.fixture
def busy_timeout_ms() -> int:
    return database.SQLITE_BUSY_TIMEOUT_MS


@pytest.fixture
def live(
    tmp_path: Path, busy_timeout_ms: int, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A server on a fresh SQLite file with a book `hh`; yields (base url, a finance officer's
    headers, the file)."""
    # Read when a connection opens: the writer's opens with the server's first write.
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", busy_timeout_ms)
    path = tmp_path / "ledger.sqlite3"
    db = Database.connect(f"sqlite:///{path}")
    upgrade(db.engine)
    admin = db.write(lambda conn: users.create_user(conn, "admin", PASSWORD, "admin"))
    finance = db.write(lambda conn: users.create_user(conn, "sokha", PASSWORD, "finance"))
    db.dispose()
    app = create_app(f"sqlite:///{path}", migrate=False, auth=AuthSettings(TEST_SECRET_KEY))
    headers = bearer_of(finance.id)
    with serving(app) as (host, port):
        base = f"http://{host}:{port}"
        book = httpx.post(f"{base}/api/books", json=new_book("hh"), headers=bearer_of(admin.id))
        assert book.status_code == 201, book.text
        for account in ("Assets:Cash:Box", "Income:Sales"):
            opened = {"name": account, "open_date": "2018-01-01"}
            created = httpx.post(f"{base}/api/books/hh/accounts", json=opened, headers=headers)
            assert created.status_code == 201, created.text
        yield base, headers, path


def bearer_of(user_id: int) -> dict[str, str]:
    token, _ = issue_access_token(user_id, TEST_SECRET_KEY, datetime.datetime.now(datetime.UTC))
    return {"Authorization": f"Bearer {token}"}


def hold_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the write lock of `path` for `seconds`, once it has it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def new_book(code: str) -> dict[str, str]:
    return {"code": code, "name": f"Book {code}", "kind": "household", "operating_currency": "KHR"}


def sale(narration: str) -> dict[str, Any]:
    return {
        "date": "2018-11-04",
        "narration": narration,
        "postings": [
            {"account": "Assets:Cash:Box", "amount": "1000", "currency": "KHR"},
            {"account": "Income:Sales", "amount": "-1000", "currency": "KHR"},
        ],
    }


def post_in_background(
    base: str, headers: dict[str, str], narration: str
) -> tuple[threading.Thread, list[tuple[httpx.Response, float]]]:
    """POST a transaction (the busiest write route) from another thread."""
    outcome: list[tuple[httpx.Response, float]] = []

    def post() -> None:
        started = time.monotonic()
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            response = client.post("/api/books/hh/transactions", json=sale(narration))
        outcome.append((response, time.monotonic() - started))

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread, outcome


def poll_reads(base: str, headers: dict[str, str], holder: subprocess.Popen[str]) -> list[float]:
    """Seconds taken by each `GET /health` and signed-in read while `holder` runs."""
    took: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while holder.poll() is None:
            for path in ("/health", "/api/books"):
                started = time.monotonic()
                response = client.get(path)
                took.append(time.monotonic() - started)
                assert response.status_code == 200, response.text
            time.sleep(0.01)
    return took


def narrations(base: str, headers: dict[str, str]) -> list[str]:
    listed = httpx.get(f"{base}/api/books/hh/transactions", headers=headers).json()
    return [str(item["narration"]) for item in listed["items"]]


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def test_reads_answer_at_once_while_another_process_holds_the_write_lock_and_a_post_waits(
    live: tuple[str, dict[str, str], Path],
) -> None:
    base, headers, path = live
    holder = hold_lock(path, HOLD_SECONDS)
    poster, posted = post_in_background(base, headers, "Waits")
    took = poll_reads(base, headers, holder)
    poster.join(30)

    assert len(took) >= 20, "too few reads while the lock was held"
    assert p99(took) < READ_SECONDS_MAX, f"p99 {p99(took) * 1000:.0f} ms over {len(took)} reads"
    response, waited_seconds = posted[0]
    assert response.status_code == 201, response.text
    assert waited_seconds > HOLD_SECONDS / 2  # it did wait for the lock
    assert narrations(base, headers) == ["Waits"]


@pytest.mark.parametrize("busy_timeout_ms", [500])
def test_a_post_that_waits_past_the_busy_timeout_gets_503_database_busy(
    live: tuple[str, dict[str, str], Path],
) -> None:
    base, headers, path = live
    holder = hold_lock(path, HOLD_SECONDS)
    poster, posted = post_in_background(base, headers, "Busy")
    took = poll_reads(base, headers, holder)
    poster.join(30)

    response, _ = posted[0]
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_busy"
    assert response.headers["Retry-After"] == "1"
    assert p99(took) < READ_SECONDS_MAX
    # Nothing was written, and the writer goes on once the lock is free.
    assert narrations(base, headers) == []
    retried = httpx.post(f"{base}/api/books/hh/transactions", json=sale("Busy"), headers=headers)
    assert retried.status_code == 201, retried.text
    assert narrations(base, headers) == ["Busy"]
