"""Savings groups across the programme: seconds to compute the SAVIX indicators of every
group, province and the programme (`ledger.savings.savix.programme_savix`), and to write the
quarterly CSV, for 1,000 groups of 20 members that met weekly for a year (52 meetings).

    .venv/bin/python -m bench.bench_savix                     # SQLite in a scratch directory
    .venv/bin/python -m bench.bench_savix --groups 200 --weeks 26
    .venv/bin/python -m bench.bench_savix --postgresql        # the same on PostgreSQL
    .venv/bin/python -m bench.bench_savix --keep /var/tmp/savix  # keep (and reuse) the data

One group is recorded through the service, meeting by meeting (the journal, the checkpoints,
the loans, everything a real group writes); the other groups are copies of its rows made by
the database (`INSERT ... SELECT`, ids shifted, the books spread over 25 provinces), so the
read runs over 1,000 books' worth of postings, checkpoints, meeting entries and loans.
"""

from __future__ import annotations

import argparse
import datetime
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, inspect, text

from bench.bench_savings import _group
from bench.common import (
    median,
    migrated_sqlite,
    postgres_database,
    print_conditions,
    print_table,
    scratch_dir,
)
from ledger.core.csv_text import to_csv
from ledger.demo.savings import FIRST_MEETING, create_demo_group, meeting_draft
from ledger.reports import savix as printed
from ledger.savings import savix, service
from ledger.store.database import Database

# Ids of a copy: the template's plus copy x ID_SHIFT (the template stays far below it).
ID_SHIFT = 1_000_000
PROVINCES = 25
CLONED_TABLES = (
    "books",
    "accounts",
    "transactions",
    "postings",
    "balances",
    "balance_checkpoints",
    "savings_groups",
    "savings_members",
    "savings_cycles",
    "savings_meetings",
    "savings_meeting_entries",
    "savings_loans",
    "savings_loan_payments",
)


def record_template(db: Database, members: int, weeks: int) -> str:
    group = _group(members)
    db.write(lambda conn: create_demo_group(conn, group))
    for week in range(weeks):

        def record(conn: Connection, week: int = week) -> Any:
            return service.record_meeting(
                conn, group.code, meeting_draft(conn, group, week), "bench"
            )

        db.write(record)
    return group.code


def _column_expression(table: str, column: str) -> str:
    if column == "id" or column.endswith("_id"):
        return f"{column} + copies.n * {ID_SHIFT}"
    if table == "books" and column == "code":
        return "code || '-' || copies.n"
    if table == "books" and column == "province":
        return f"'Province ' || (copies.n % {PROVINCES})"
    return column


def clone(conn: Connection, copies: int) -> None:
    """`copies` copies of every row of the template group, in one statement per table."""
    numbers = (
        f"WITH RECURSIVE copies(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copies "
        f"WHERE n < {copies}) "
    )
    for table in CLONED_TABLES:
        columns = [c["name"] for c in inspect(conn).get_columns(table)]
        chosen = ", ".join(_column_expression(table, c) for c in columns)
        names = ", ".join(columns)
        if conn.dialect.name == "postgresql":
            sql = f"INSERT INTO {table} ({names}) {numbers}SELECT {chosen} FROM {table}, copies"
        else:
            sql = f"{numbers}INSERT INTO {table} ({names}) SELECT {chosen} FROM {table}, copies"
        conn.execute(text(sql))


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    """The result, and the median wall and CPU seconds of `repeat` runs."""
    result, wall, cpu = None, [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return result, median(wall), median(cpu)


def load(db: Database, groups: int, members: int, weeks: int) -> None:
    start = time.perf_counter()
    record_template(db, members, weeks)
    recorded = time.perf_counter() - start
    db.write(lambda conn: clone(conn, groups - 1))
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    loaded = time.perf_counter() - start
    print(f"template group recorded in {recorded:.1f} s; {groups} groups loaded in {loaded:.1f} s")


def _row(label: str, db: Database, as_of: datetime.date, repeat: int) -> tuple[Any, ...]:
    def compute() -> savix.ProgrammeSavix:
        with db.read() as conn:
            return savix.programme_savix(conn, as_of)

    def report() -> str:
        return to_csv(printed.HEADER, printed.csv_rows(compute()))

    found, wall, cpu = _timed(compute, repeat)
    csv_text, csv_wall, csv_cpu = _timed(report, repeat)
    [programme] = found.programme
    return (
        label,
        len(found.groups),
        programme.figures.members,
        f"{wall:.3f}",
        f"{cpu:.3f}",
        f"{csv_wall:.3f}",
        f"{csv_cpu:.3f}",
        len(csv_text.splitlines()),
    )


def run(db: Database, weeks: int, repeat: int) -> None:
    last = FIRST_MEETING + datetime.timedelta(weeks=weeks - 1)
    dates = (
        ("last meeting (a Monday)", last),
        ("the Sunday after it", last + datetime.timedelta(days=6)),
        ("mid-cycle (a Thursday)", last - datetime.timedelta(weeks=weeks // 2, days=-3)),
    )
    rows = [_row(label, db, as_of, repeat) for label, as_of in dates]
    with db.read() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("postings", "balance_checkpoints", "savings_meeting_entries", "savings_loans")
        }
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print_table(
        [
            "as of",
            "groups",
            "members",
            "indicators wall s",
            "cpu s",
            "+ csv wall s",
            "cpu s",
            "csv lines",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--keep", help="a directory that keeps the database (reused if there)")
    args = parser.parse_args()
    settings = {
        "groups": args.groups,
        "members": args.members,
        "weeks": args.weeks,
        "engine": "postgresql" if args.postgresql else "sqlite",
    }
    print_conditions("savings groups across the programme (SAVIX)", settings)
    if args.postgresql:
        db, _, drop = postgres_database("bench_savix")
        try:
            load(db, args.groups, args.members, args.weeks)
            run(db, args.weeks, args.repeat)
        finally:
            db.dispose()
            drop()
        return
    with scratch_dir(args.keep) as directory:
        path = directory / "bench.sqlite3"
        exists = path.exists()
        db = migrated_sqlite(path)
        if not exists:
            load(db, args.groups, args.members, args.weeks)
        run(db, args.weeks, args.repeat)
        db.dispose()


if __name__ == "__main__":
    main()
