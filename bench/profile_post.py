"""What one POST of a transaction costs the server without HTTP: the handler's work
(`journal.post_draft_stored` and the audit event) in one `db.write` per transaction, into one
book of a fresh database, with the statements and round trips each post sends counted on the
driver's connection.

    .venv/bin/python -m bench.profile_post --postgresql --posts 2000
    .venv/bin/python -m bench.profile_post --postgresql --posts 500 --profile 30

On PostgreSQL, statements and round trips are counted in libpq's protocol trace of a handle
of their own (100 posts): a statement is an Execute or a simple Query message, a round trip a
run of messages to the server followed by its answers (the pool's pre-ping, psycopg's BEGIN
and the COMMIT included). The CPU of the database's server processes is read from /proc
(the server runs on this machine), beside the client's own.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import os
import pstats
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from psycopg.pq import Trace as LibpqTrace
from sqlalchemy import Connection, event

from bench.common import BANK, BOOK_CODE, migrated_sqlite, open_book, postgres_database
from ledger.access.audit import RequestFacts, record_event
from ledger.access.policy import Principal
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import journal
from ledger.store.database import Database

FACTS = RequestFacts("POST", f"/api/books/{BOOK_CODE}/transactions", "request-1")


class Trace:
    """libpq's protocol trace of every connection `db` opens from now on (PostgreSQL)."""

    def __init__(self, db: Database, path: Path) -> None:
        self.path = path
        self.file = path.open("w")
        self.offset = 0
        if db.is_sqlite:
            return

        @event.listens_for(db.engine, "connect")
        def connected(dbapi_connection: Any, _record: Any) -> None:
            pgconn = dbapi_connection.pgconn
            pgconn.trace(self.file.fileno())
            pgconn.set_trace_flags(LibpqTrace.SUPPRESS_TIMESTAMPS | LibpqTrace.REGRESS_MODE)

    def counts(self) -> tuple[int, int]:
        """(statements, round trips) in the trace so far, since the last call. A round trip
        is a run of messages to the server followed by the server's answers."""
        with self.path.open() as trace:
            trace.seek(self.offset)
            lines = trace.read().splitlines()
            self.offset = trace.tell()
        statements = trips = 0
        previous = ""
        for line in lines:
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            direction, message = parts[0], parts[2].strip()
            if direction == "F" and message in ("Execute", "Query"):
                statements += 1
            if direction == "B" and previous == "F":
                trips += 1
            previous = direction
        return statements, trips


def draft(count: int, accounts_n: int) -> TransactionDraft:
    cents = 100 + count % 5000
    amount = f"{cents // 100}.{cents % 100:02d}"
    return TransactionDraft(
        date=datetime.date(2018, 11, 4),
        narration=f"Cash grant {count}",
        postings=(
            PostingDraft(BANK, f"-{amount}", "USD"),
            PostingDraft(f"Expenses:Grants:Cash:G-{count % accounts_n:04d}", amount, "USD"),
        ),
    )


def post_all(db: Database, posts: int, accounts_n: int, start: int = 0) -> None:
    principal = Principal(user_id=1, username="admin", role="admin", token="api:1")
    for count in range(start, start + posts):
        one = draft(count, accounts_n)

        def work(conn: Connection, one: TransactionDraft = one) -> None:
            stored, _ = journal.post_draft_stored(conn, BOOK_CODE, one, "admin")
            record_event(
                conn,
                principal,
                FACTS,
                "transaction.post",
                book=BOOK_CODE,
                object_type="transaction",
                object_id=str(stored.id),
            )

        db.write(work)


def backend_pids(db: Database) -> list[int]:
    """The server processes of `db`'s connections (on this machine, readable in /proc)."""
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
        return [int(pid) for (pid,) in found]


def processes_cpu(pids: Sequence[int]) -> float:
    """User and system CPU seconds the processes have used (0 for one that is gone)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--posts", type=int, default=2_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    return parser.parse_args(argv)


def count_round_trips(url: str, accounts_n: int, posts: int = 100) -> None:
    """Print the statements and round trips per post, on a traced handle of its own."""
    counted = Database.connect(url)
    trace = Trace(counted, Path(tempfile.gettempdir()) / "profile_post.trace")
    try:
        post_all(counted, 10, accounts_n, start=100_000)
        trace.counts()
        post_all(counted, posts, accounts_n, start=100_010)
        statements, trips = trace.counts()
    finally:
        counted.dispose()
        trace.file.close()
    print(f"per post: {statements / posts:g} statements, {trips / posts:g} round trips")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    drop = None
    if args.postgresql:
        db, _, drop = postgres_database("bench_profile_post")
    else:
        db = migrated_sqlite(Path(tempfile.mkdtemp(dir="/var/tmp")) / "profile_post.sqlite3")
    try:
        open_book(db, args.accounts)
        if args.postgresql:
            count_round_trips(db.engine.url.render_as_string(hide_password=False), args.accounts)
        post_all(db, 200, args.accounts)  # warm: statements compiled, pool filled
        backends = backend_pids(db) if args.postgresql else []
        server_cpu = processes_cpu(backends)
        cpu, started = time.process_time(), time.perf_counter()
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        post_all(db, args.posts, args.accounts, start=200)
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        server_cpu = processes_cpu(backends) - server_cpu
        print(
            f"{args.posts} posts: {args.posts / wall:,.0f}/s,"
            f" CPU {cpu / args.posts * 1e6:,.0f} us/post, wall {wall / args.posts * 1e6:,.0f} us"
            + (
                f", PostgreSQL backend CPU {server_cpu / args.posts * 1e6:,.0f} us/post"
                if backends
                else ""
            )
        )
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    finally:
        db.dispose()
        if drop:
            drop()


if __name__ == "__main__":
    main()
