"""Savings groups: milliseconds to record one whole meeting, to preview and to execute a
share-out, and to print a passbook and a share-out statement, for a group of 30 members
meeting weekly for a year (52 meetings, loans every few weeks).

    .venv/bin/python -m bench.bench_savings                 # SQLite in a scratch directory
    .venv/bin/python -m bench.bench_savings --members 20 --weeks 26

A meeting is the whole unit an API request runs (without HTTP): validation against the
group's records, one transaction per member through the journal, the cash count asserted,
the group's rows. CPU time (this process) is reported beside wall time: on a shared machine
the wall time mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import datetime
import time
from typing import Any

from bench.common import median, migrated_sqlite, print_conditions, print_table, scratch_dir
from ledger.demo.savings import DemoGroup, create_demo_group, meeting_draft
from ledger.reports import savings as statements
from ledger.savings import queries, service
from ledger.store.database import Database

D = datetime.date


def _timed(fn: Any) -> tuple[Any, float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000


def _group(members: int) -> DemoGroup:
    borrowers = {week: tuple(range(1 + week % 7, members + 1, 7)) for week in range(3, 52, 5)}
    return DemoGroup(
        code="sg-bench",
        name="Bench savings group",
        village="Village",
        commune="Commune",
        members=members,
        share_price=5_000,
        interest_rate_monthly_percent="2",
        interest_method="declining",
        borrowers=borrowers,
        grants={20: (3, 20_000)},
        share_out_on=None,
        planned_end=D(2019, 8, 26),
    )


def run(db: Database, members: int, weeks: int) -> list[tuple[str, int, float, float]]:
    group = _group(members)
    db.write(lambda conn: create_demo_group(conn, group))
    wall, cpu = [], []
    for week in range(weeks):

        def record(conn: Any, week: int = week) -> Any:
            return service.record_meeting(
                conn, group.code, meeting_draft(conn, group, week), "bench"
            )

        _, w, c = _timed(lambda record=record: db.write(record))
        wall.append(w)
        cpu.append(c)
    rows = [("meeting (draft built + recorded)", weeks, median(wall), median(cpu))]
    last = D(2018, 9, 3) + datetime.timedelta(weeks=weeks - 1)
    date = max(last, D(2019, 8, 26)) + datetime.timedelta(days=1)

    def preview() -> Any:
        with db.read() as conn:
            return queries.preview_share_out(conn, group.code, 1, date)

    _, w, c = _timed(preview)
    rows.append(("share-out preview", 1, w, c))
    _, w, c = _timed(
        lambda: db.write(
            lambda conn: service.execute_share_out(conn, group.code, 1, date, None, "bench")
        )
    )
    rows.append(("share-out executed", 1, w, c))

    def passbook() -> bytes:
        with db.read() as conn:
            view = statements.passbook(conn, group.code, "M01", 1)
        return statements.render_passbook(view)

    def statement() -> bytes:
        with db.read() as conn:
            view = statements.share_out_statement(conn, group.code, 1)
        return statements.render_share_out(view)

    for label, fn in (("passbook PDF", passbook), ("share-out statement PDF", statement)):
        fn()  # fonts and templates loaded once
        results = [_timed(fn) for _ in range(3)]
        rows.append((label, 3, median([r[1] for r in results]), median([r[2] for r in results])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    print_conditions("savings groups", {"members": args.members, "weeks": args.weeks})
    with scratch_dir() as directory:
        db = migrated_sqlite(directory / "bench.sqlite3")
        rows = run(db, args.members, args.weeks)
        db.dispose()
    print_table(
        ["operation", "runs", "median wall ms", "median cpu ms"],
        [(label, n, f"{w:.1f}", f"{c:.1f}") for label, n, w, c in rows],
    )


if __name__ == "__main__":
    main()
