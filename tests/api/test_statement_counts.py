"""How many SQL statements the busiest requests run, pinned.

The pins are exact on purpose: a change that adds a statement to one of these requests
(a read back after a write, a query per row of a page) fails here and has to say why.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import exchange
from tests.api.grants_world import approved_grant, build_world, ok, pigs, propose
from tests.api.savings_support import create_group, entry, meeting, member_number, post_meeting
from tests.api.statements import StatementCounter, count_statements, counting_client, warm
from tests.conftest import TEST_DATABASE

MEMBERS = 20
GRANTS_PER_PAGE = 50


def pinned(sqlite: int, postgresql: int) -> int:
    """The pin for the database the suite runs on: the dialects differ by a few statements
    (SQLite's BEGIN IMMEDIATE and group-commit savepoints; PostgreSQL's row locks, and a
    write's COMMIT sent as a statement of its last pipeline). PostgreSQL's pool no longer
    pings a connection at each checkout, only one idle 5 s or more (issue 13)."""
    return sqlite if TEST_DATABASE == "sqlite" else postgresql


@pytest.fixture
def counter() -> StatementCounter:
    return StatementCounter()


@pytest.fixture
def client(db: Database, counter: StatementCounter) -> Iterator[TestClient[Any]]:
    """Overrides the `client` of tests/api/conftest.py (and so the `org` built on it)."""
    with counting_client(db, counter) as test_client:
        yield test_client


def test_posting_a_transaction(
    client: TestClient[Any], org: str, counter: StatementCounter
) -> None:
    warm(client, f"/api/books/{org}")
    with counter.counting() as statements:
        ok(client.post(f"/api/books/{org}/transactions", json=exchange()))
    # Before issue 12 (measured 2026-12-03 on i12-api): 14 on SQLite, 13 on PostgreSQL. The
    # posting itself is 10 statements (commodities, book and accounts, transaction, tags,
    # links, meta, two shapes of postings, balances, the stored-balance check), then the
    # audit event; BEGIN IMMEDIATE on SQLite (the event loop's batch used to put a savepoint
    # around even a lone work: 2 fewer since issue 13's writer thread runs a lone work in a
    # transaction of its own). Tamper evidence (issue 16) adds 3: the book's chain head moved,
    # and the audit trail's head read (locked, on PostgreSQL) and moved; the hashes themselves
    # are computed in Python. Issue 13 adds one: the upsert of the balance checkpoints
    # (`ledger.store.checkpoints`). Issue 13 on PostgreSQL: 14 statements in 7 round trips
    # (bench/profile_post.py counts them, BEGIN and COMMIT included), from 17 in 15: the
    # postings' two shapes in one INSERT (`ledger.store.journal_pipelined`), and the audit
    # event, its hash and the trail's head in one statement instead of three
    # (`chain.chained_audit_insert`). Then 14 in 4 round trips: the pool's pre-ping gone
    # (-1), the lock and a second read of the book in the pipeline that writes (+1), the
    # book's head moved by the transaction's INSERT (-1), and the COMMIT, sent with the audit
    # event, counted as a statement (+1). Then 15 in 3 round trips: the audit event and the
    # COMMIT go in the post's writing round trip (`driver.offer_early_commit`), whose
    # checks the server makes (`journal_pipelined._committing_statements`): the second read
    # becomes the check that it is unchanged, the balances upsert and the read-back checks
    # that fail, and the later weeks' checkpoints are updated in a statement of their own
    # (+1) rather than after reading the upsert's answer.
    assert len(statements) == pinned(16, 15), "\n".join(statements)


def test_recording_a_meeting_of_twenty_members(
    client: TestClient[Any], counter: StatementCounter
) -> None:
    code = create_group(client, members=MEMBERS)
    members = [member_number(index) for index in range(1, MEMBERS + 1)]
    # One meeting before, so that the one counted is not the cycle's first.
    first = [entry(m, 1, social_fund_paid="500") for m in members]
    post_meeting(client, meeting("2026-01-12", first, cash=MEMBERS * 5500))
    second = [entry(m, 2, social_fund_paid="500") for m in members]
    warm(client, f"/api/groups/{code}")
    with counter.counting() as statements:
        post_meeting(client, meeting("2026-01-19", second, cash=MEMBERS * (5500 + 10500)))
    # Before issue 12: 37 on SQLite, 38 on PostgreSQL. The meeting re-reads the group three
    # times and every meeting of the cycle after recording (`get_meeting`). Now 26 and 27: the
    # group lock is the group read, the meeting is built from what was written. Tamper
    # evidence: +3 (the book's chain head, the audit trail's head read and moved); issue 13:
    # +1, the post's balance-checkpoint upsert. Issue 13 on PostgreSQL: -2, the audit event in
    # one statement (`chain.chained_audit_insert`).
    assert len(statements) == pinned(30, 29), "\n".join(statements)


def test_disbursing_a_grant_in_kind(
    client: TestClient[Any], db: Database, counter: StatementCounter
) -> None:
    world = build_world(client, db)
    grant_id = approved_grant(client, world)
    warm(client, "/api/auth/me")
    with counter.counting() as statements:
        ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    # Before issue 12: 83 on SQLite, 85 on PostgreSQL: the two books' transactions (the
    # household's first in-kind grant also opens its livestock accounts), the area's rows, and
    # the grant, award, budget line and commodities read again and again, by the service and
    # then by the controller after the write. Now 54 and 56: the service returns the
    # disbursement it wrote, and one pure rule builds both books' transactions. Tamper
    # evidence: +4 (each book's chain head, the audit trail's head read and moved); issue 13:
    # +2, a balance-checkpoint upsert for each of the two books' posts. Issue 17: -1, the
    # line's commitments in one query (grant by grant) instead of two. Issue 13 on
    # PostgreSQL: -3, the audit event in one statement (-2) and one posting shape (-1).
    # Issue 13, item 5: +1, the spend's upsert into its budget line's week (the line's use
    # reads weeks, not spends).
    assert len(statements) == pinned(60, 59), "\n".join(statements)


def test_a_page_of_fifty_grants(
    client: TestClient[Any], db: Database, counter: StatementCounter
) -> None:
    world = build_world(client, db)
    granted = approved_grant(client, world)
    ok(client.post(f"/api/grants/{granted}/disbursements", json=pigs()))
    for _ in range(GRANTS_PER_PAGE - 1):
        propose(client, world.officer, "100.00")
    warm(client, "/api/auth/me")
    with counter.counting() as statements:
        page = ok(client.get("/api/grants", params={"limit": GRANTS_PER_PAGE}), 200)
    assert len(page["items"]) == GRANTS_PER_PAGE
    # Before issue 12: 152 on both: BEGIN (SQLite) or the pool's pre-ping (PostgreSQL), the page's
    # query, then three per grant (its tranches, the commodity precisions, what was
    # disbursed): 2 + 3 x 50. Now 4 whatever the page size: BEGIN or the pre-ping, the grants
    # with their precision, all their tranches, all their paid sums. PostgreSQL: 3 since the
    # pool stopped pinging at every checkout (issue 13).
    assert len(statements) == pinned(4, 3), "\n".join(statements)


def test_the_counter_sees_every_thread_and_only_its_block(db: Database) -> None:
    counter = StatementCounter()
    url = db.engine.url.render_as_string(hide_password=False)
    counted = Database.connect(url, group_commit=True)
    count_statements(counted.engine, counter)

    def read(number: int) -> None:
        with counted.read() as conn:
            conn.exec_driver_sql(f"SELECT {number}")

    try:
        with counter.counting() as statements:
            # On SQLite the write runs on the group writer's thread; the read on another one.
            counted.write(lambda conn: conn.exec_driver_sql("SELECT 1"))
            elsewhere = threading.Thread(target=read, args=(2,))
            elsewhere.start()
            elsewhere.join()
        read(3)
    finally:
        counted.dispose()
    assert {"SELECT 1", "SELECT 2"} <= set(statements)
    assert "SELECT 3" not in statements


def test_a_page_of_meetings_or_loans_is_a_fixed_number_of_statements(
    client: TestClient[Any], counter: StatementCounter
) -> None:
    code = create_group(client, members=MEMBERS)
    members = [member_number(index) for index in range(1, MEMBERS + 1)]
    loan = {"amount": "10000", "term_months": 2}
    cash = 0
    for week, date in enumerate(("2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02")):
        entries = [
            entry(m, 2, loan_taken=loan) if week and m == members[week] else entry(m, 2)
            for m in members
        ]
        cash += MEMBERS * 10_000 - (10_000 if week else 0)
        post_meeting(client, meeting(date, entries, cash=cash))
    warm(client, f"/api/groups/{code}")
    counts = []
    for path, limit in (("meetings", 2), ("meetings", 4), ("loans", 1), ("loans", 3)):
        with counter.counting() as statements:
            page = ok(client.get(f"/api/groups/{code}/{path}", params={"limit": limit}), 200)
        assert len(page["items"]) == limit
        counts.append(len(statements))
    # BEGIN (SQLite) or the pre-ping (PostgreSQL), the group, the page's rows (meetings with
    # their number in the cycle; loans), then all their entries or payments: 4 whatever the
    # page size (3 on PostgreSQL since its pool stopped pinging at every checkout).
    assert counts == [pinned(4, 3)] * 4, counts
