"""Budget spends summed per line and week: what a budget line has spent as of any date, at a
cost that does not grow with the line's spends.

`budget_line_weeks` holds, per budget line and per ISO week with spends (keyed by its Monday,
as the balance checkpoints: `ledger.store.checkpoints.week_of`), the sum of the award units of
the line's `budget_spends` dated in that week. `record_spends` is the one place spends are
written: it inserts the `budget_spends` rows and adds them to their weeks in the same
database transaction, by an upsert that adds to the week's row (commutative: a back-dated
spend touches its own week only, and two writers of one week add up).

What a line has spent as of a date D (`spent_through`) is

    the weeks before D's week (one row per week, from this table)
    + the line's spends of D's own week up to D (`budget_spends` by (line, date): a few days)
    - the spends dated up to D whose transaction was reversed by a reversal dated up to D,

exactly what summing every spend up to D less the reversed ones gives. A reversal is the
journal's fact (any route may reverse an expense: the generic reverse route does not know
the funds area), so it is not kept here: the last term starts from the reversals
(`transactions.reverses_id`, a unique index) and finds their spends on this line by the
spend's unique transaction id. Its cost follows the reversals in the database, not the
line's spends; reversals are corrections, few next to the spends. As of no date: every week
less every reversed spend.

Why weekly sums and not a running total (as the balance checkpoints keep): a line lives as
long as its award (a few years: a few hundred weeks, small rows read in primary-key order),
and a commutative upsert needs no carry-forward for back-dated spends nor any lock order.
`verify` recomputes the weeks from `budget_spends` (`week_differences`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import ColumnElement

from ledger.store.checkpoints import week_of
from ledger.store.tables import budget_line_weeks, budget_lines, budget_spends, transactions

WeekKey = tuple[int, datetime.date]  # (budget line id, the week's Monday)


def record_spends(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `budget_spends` rows (each a mapping of its columns) and add each one's award
    units to its line's week."""
    if not rows:
        return
    conn.execute(insert(budget_spends), list(rows))
    weekly: dict[WeekKey, int] = defaultdict(int)
    for row in rows:
        weekly[(row["budget_line_id"], week_of(row["date"]))] += row["award_units"]
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = upsert(budget_line_weeks)
    statement = statement.on_conflict_do_update(
        index_elements=[budget_line_weeks.c.budget_line_id, budget_line_weeks.c.week],
        set_={"award_units": budget_line_weeks.c.award_units + statement.excluded.award_units},
    )
    # In key order, so that two writers of the same weeks (PostgreSQL) lock them in one order.
    conn.execute(
        statement,
        [
            {"budget_line_id": line_id, "week": week, "award_units": units}
            for (line_id, week), units in sorted(weekly.items())
        ],
    )


def spent_through(conn: Connection, line_id: int, as_of: datetime.date | None) -> int:
    """The award units `line_id`'s spends count as of `as_of` (all of them if None): those
    dated up to it whose transaction no reversal dated up to it has reversed. One statement."""
    total = _weeks_before(line_id, as_of) - _reversed_through(line_id, as_of)
    if as_of is not None:
        total = total + _own_week_through(line_id, as_of)
    return int(conn.execute(select(total)).scalar_one())


def _sum(column: Any, *where: ColumnElement[bool], join: Any = None) -> Any:
    query = select(func.coalesce(func.sum(column), 0))
    if join is not None:
        query = query.select_from(join)
    return query.where(and_(*where)).scalar_subquery()


def _weeks_before(line_id: int, as_of: datetime.date | None) -> Any:
    where = [budget_line_weeks.c.budget_line_id == line_id]
    if as_of is not None:
        where.append(budget_line_weeks.c.week < week_of(as_of))
    return _sum(budget_line_weeks.c.award_units, *where)


def _own_week_through(line_id: int, as_of: datetime.date) -> Any:
    return _sum(
        budget_spends.c.award_units,
        budget_spends.c.budget_line_id == line_id,
        budget_spends.c.date >= week_of(as_of),
        budget_spends.c.date <= as_of,
    )


def _reversed_through(line_id: int, as_of: datetime.date | None) -> Any:
    """The line's spends reversed (both dated up to `as_of`), found from the reversals."""
    reversal = transactions.alias("reversal")
    # `+ 0`: no index on the line here, so that the planner (SQLite's, which has no statistics)
    # walks the reversals and not the line's spends.
    where = [reversal.c.reverses_id.is_not(None), budget_spends.c.budget_line_id + 0 == line_id]
    if as_of is not None:
        where += [reversal.c.date <= as_of, budget_spends.c.date <= as_of]
    join = reversal.join(budget_spends, budget_spends.c.transaction_id == reversal.c.reverses_id)
    return _sum(budget_spends.c.award_units, *where, join=join)


# -- verify -----------------------------------------------------------------------------------


def stored_weeks(conn: Connection, book_id: int) -> dict[WeekKey, int]:
    """Award units per (budget line id, week) as stored, for the book's budget lines."""
    query = (
        select(
            budget_line_weeks.c.budget_line_id,
            budget_line_weeks.c.week,
            budget_line_weeks.c.award_units,
        )
        .join(budget_lines, budget_lines.c.id == budget_line_weeks.c.budget_line_id)
        .where(budget_lines.c.book_id == book_id)
    )
    return {(line_id, week): int(units) for line_id, week, units in conn.execute(query).tuples()}


def recomputed_weeks(conn: Connection, book_id: int) -> dict[WeekKey, int]:
    """Award units per (budget line id, week) with spends, summed from the book's spends."""
    query = (
        select(budget_spends.c.budget_line_id, budget_spends.c.date, budget_spends.c.award_units)
        .join(budget_lines, budget_lines.c.id == budget_spends.c.budget_line_id)
        .where(budget_lines.c.book_id == book_id)
    )
    weekly: dict[WeekKey, int] = defaultdict(int)
    for line_id, date, units in conn.execute(query).tuples():
        weekly[(line_id, week_of(date))] += int(units)
    return dict(weekly)


def week_differences(
    conn: Connection, book_id: int
) -> list[tuple[int, datetime.date, int | None, int | None]]:
    """(line id, week, stored, recomputed) for each week of the book's lines whose stored
    sum is not what its spends add up to (None: no row, or no spends)."""
    stored = stored_weeks(conn, book_id)
    recomputed = recomputed_weeks(conn, book_id)
    return [
        (line_id, week, stored.get((line_id, week)), recomputed.get((line_id, week)))
        for line_id, week in sorted(stored.keys() | recomputed.keys())
        if stored.get((line_id, week)) != recomputed.get((line_id, week))
    ]
