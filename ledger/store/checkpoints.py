"""Week-end balance checkpoints: balances as of any date at a cost that does not grow with
the book.

`balance_checkpoints` holds, per (account, commodity) and per week with postings (exactly
those: a week whose postings cancel out has its row too), the balance at the end of that
week (`units`) and the week's own change (`net_units`). Weeks are ISO weeks, Monday to
Sunday, keyed by their Monday. The journal calls `record_checkpoints` once per post, after
the balances upsert and in the same database transaction. A balance as of a date is then the
last checkpoint before the date's week plus the week's postings up to the date, or the week's
checkpoint less its postings after the date, whichever reads fewer days: at most three days
of postings and one index seek per (account, commodity), however many years the book holds.

Why weeks. The read sums the postings of the part of a period before or after the date; with
months that is up to half a month (7,500 postings in the benchmark's busy book, ~6 ms for a
trial balance on this machine), with weeks three days (~1 ms). A week costs the post path the
same single statement as a month; it costs more rows (52 a year per account and commodity in
use, small rows in the primary key's B-tree) and more of them for a back-dated posting to
update (below).

Why a running total and not only the net change per week. With net changes alone a post is
one commutative upsert, but every read sums every week before the date (or after it): a
trial balance in the middle of a ten-year book would add up 260 rows per account. With
running totals a read is one row per (account, commodity); the price is paid by a back-dated
posting, which adds its change to the later weeks of its account (one UPDATE, only when
there are later weeks). Posts are dated today or in the last weeks, and never on or before
the lock date the period close moves forward, so a back-dated post updates a few rows; reads
(the donor report, budget against actual, the period close, every as-of page) are what
repeats.

A post costs one upsert for the common case (a post into the latest week of its accounts):
the upsert returns whether later weeks exist, and only then does a second statement carry
the change forward. Concurrency (PostgreSQL): the journal upserts the balance row of every
(account, commodity) a post touches, in a fixed order, before this module runs; that row lock
is held to COMMIT, so the checkpoints of one (account, commodity) are only ever written by one
transaction at a time, and each statement here (READ COMMITTED) sees what the previous holder
committed. SQLite has one writer.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    select,
    text,
    update,
    values,
)
from sqlalchemy.engine import Dialect

from ledger.core.transaction import Transaction
from ledger.store import driver
from ledger.store.journal_sql import AccountForPosting
from ledger.store.tables import accounts, balance_checkpoints, balances, commodities, postings

Key = tuple[int, str]  # (account id, commodity)

# Rows per checkpoint upsert: 3 parameters each, far inside SQLite's 32,766.
UPSERT_ROWS_MAX = 256


def week_of(date: datetime.date) -> datetime.date:
    """The Monday of `date`'s week (ISO weeks, Monday to Sunday): the key of its checkpoint."""
    return date - datetime.timedelta(days=date.weekday())


def next_week(week: datetime.date) -> datetime.date:
    return week + datetime.timedelta(days=7)


# -- writing, in the post path ---------------------------------------------------------------


def record_checkpoints(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    found: Mapping[str, AccountForPosting],
    deltas: Mapping[Key, int],
) -> None:
    """Add a post's postings to the checkpoints of their weeks (and to later weeks').

    `deltas` is the post's change per (account id, commodity), as the balances upsert got
    it: when every transaction is in one week (a single post always is), it is that week's
    change and the postings are not walked again. Weeks are written in ascending order, so
    a week created here starts from the weeks before it as already written.
    """
    first_week = week_of(txns[0].date)
    by_week: Mapping[datetime.date, Mapping[Key, int]]
    following = next_week(first_week)
    if all(first_week <= txn.date < following for txn in txns):
        by_week = {first_week: deltas}
    else:
        by_week = _changes_by_week(txns, {name: a.id for name, a in found.items()})
    for week in sorted(by_week):
        changes = sorted(by_week[week].items())
        for start in range(0, len(changes), UPSERT_ROWS_MAX):
            part = changes[start : start + UPSERT_ROWS_MAX]
            with_later = _upsert_week(conn, book_id, week, part)
            if with_later:
                _carry_forward(
                    conn, week, [(key, units) for key, units in part if key in with_later]
                )


def _changes_by_week(
    txns: Sequence[Transaction], account_ids: Mapping[str, int]
) -> dict[datetime.date, dict[Key, int]]:
    """The change per (account id, commodity) in each week the transactions fall in."""
    by_week: dict[datetime.date, dict[Key, int]] = defaultdict(lambda: defaultdict(int))
    for txn in txns:
        changes = by_week[week_of(txn.date)]
        for posting in txn.postings:
            changes[(account_ids[posting.account], posting.commodity)] += posting.units
    return by_week


def _upsert_sql(rows: int) -> Any:
    """Add each row's change to its week's checkpoint, creating it from the last checkpoint
    before the week when it is new; return the keys that have later weeks.

    SQLite needs the `WHERE true` to tell the upsert's ON CONFLICT from a join's ON.
    """
    values = ", ".join(f"(:account_id_{i}, :commodity_{i}, :units_{i})" for i in range(rows))
    # Only numbered placeholders are formatted into the text.
    return text(
        "INSERT INTO balance_checkpoints"  # noqa: S608
        " (account_id, commodity, week, book_id, units, net_units)"
        " SELECT v.column1, v.column2, :week, :book_id, coalesce((SELECT p.units"
        " FROM balance_checkpoints AS p WHERE p.account_id = v.column1"
        " AND p.commodity = v.column2 AND p.week < :week"
        " ORDER BY p.week DESC LIMIT 1), 0) + v.column3, v.column3"
        f" FROM (VALUES {values}) AS v WHERE true"
        " ON CONFLICT (account_id, commodity, week) DO UPDATE"
        " SET units = balance_checkpoints.units + excluded.net_units,"
        " net_units = balance_checkpoints.net_units + excluded.net_units"
        " RETURNING account_id, commodity, EXISTS (SELECT 1 FROM balance_checkpoints AS l"
        " WHERE l.account_id = balance_checkpoints.account_id"
        " AND l.commodity = balance_checkpoints.commodity AND l.week > :week)"
    )


_CARRY_FORWARD = text(
    "UPDATE balance_checkpoints SET units = units + :units"
    " WHERE account_id = :account_id AND commodity = :commodity AND week > :week"
)
# Compiled once per (dialect, rows).
_upserts: dict[tuple[str, int], driver.DriverStatement] = {}


def _week_value(dialect: Dialect, week: datetime.date) -> Any:
    return driver.driver_value(dialect, balance_checkpoints.c.week)(week)


def _upsert_week(
    conn: Connection, book_id: int, week: datetime.date, changes: Sequence[tuple[Key, int]]
) -> set[Key]:
    """Upsert one week's changes; the keys that have checkpoints after `week`."""
    rows = driver.execute(conn, *week_upsert(conn, book_id, week, changes))
    return {(account_id, commodity) for account_id, commodity, later in rows if later}


def week_upsert(
    conn: Connection, book_id: int, week: datetime.date, changes: Sequence[tuple[Key, int]]
) -> tuple[str, Any]:
    """The SQL and parameters of the upsert of one week's changes (at most
    `UPSERT_ROWS_MAX`); its rows are (account id, commodity, whether later weeks exist)."""
    dialect = conn.dialect
    statement = _upserts.get((dialect.name, len(changes)))
    if statement is None:
        statement = driver.DriverStatement.compile(dialect, _upsert_sql(len(changes)))
        _upserts[(dialect.name, len(changes))] = statement
    values = {"week": _week_value(dialect, week), "book_id": book_id, **_change_binds(changes)}
    return statement.sql, statement.parameters(values)


def carry_forward_later(
    conn: Connection,
    week: datetime.date,
    changes: Sequence[tuple[Key, int]],
    upserted: Sequence[Sequence[Any]],
) -> None:
    """After `week_upsert` of `changes` returned `upserted`: carry the changes of the keys
    that have later weeks forward to them (a back-dated post)."""
    with_later = {(account_id, commodity) for account_id, commodity, later in upserted if later}
    if with_later:
        _carry_forward(conn, week, [(key, units) for key, units in changes if key in with_later])


def carry_forward_statement(
    conn: Connection, week: datetime.date, changes: Sequence[tuple[Key, int]]
) -> tuple[str, Any]:
    """PostgreSQL: the SQL and parameters that carry `changes` (at most `UPSERT_ROWS_MAX`) to
    every checkpoint after `week` of their (account, commodity), in one statement, for a
    round trip that cannot wait for `week_upsert`'s answer (a post that commits in it).
    Where there is none, it is an index seek per change."""
    assert conn.dialect.name == "postgresql"
    assert 1 <= len(changes) <= UPSERT_ROWS_MAX
    statement = _carries.get(len(changes))
    if statement is None:
        statement = _carries[len(changes)] = driver.DriverStatement.compile(
            conn.dialect, _carry_forward_sql(len(changes))
        )
    return statement.sql, statement.parameters({"week": week, **_change_binds(changes)})


def _change_binds(changes: Sequence[tuple[Key, int]]) -> dict[str, Any]:
    """The binds `account_id_i`, `commodity_i` and `units_i` of each change, in order."""
    values: dict[str, Any] = {}
    for i, ((account_id, commodity), units) in enumerate(changes):
        values[f"account_id_{i}"] = account_id
        values[f"commodity_{i}"] = commodity
        values[f"units_{i}"] = units
    return values


def _carry_forward_sql(rows: int) -> Any:
    """`_CARRY_FORWARD` for `rows` changes at once (binds `account_id_i`, `commodity_i`,
    `units_i` and `week`)."""
    c = balance_checkpoints
    changes = values(
        column("account_id", Integer),
        column("commodity", String),
        column("units", BigInteger),
        name="v",
    ).data(
        [
            (
                bindparam(f"account_id_{i}", type_=Integer),
                bindparam(f"commodity_{i}", type_=String),
                bindparam(f"units_{i}", type_=BigInteger),
            )
            for i in range(rows)
        ]
    )
    return (
        update(c)
        .values(units=c.c.units + changes.c.units)
        .where(
            c.c.account_id == changes.c.account_id,
            c.c.commodity == changes.c.commodity,
            c.c.week > bindparam("week", type_=Date),
        )
    )


_carries: dict[int, driver.DriverStatement] = {}


def _carry_forward(
    conn: Connection, week: datetime.date, changes: Sequence[tuple[Key, int]]
) -> None:
    """A back-dated change: add it to every later checkpoint of its (account, commodity)."""
    statement = driver.compiled(conn.dialect, _CARRY_FORWARD)
    week_value = _week_value(conn.dialect, week)
    driver.execute_many(
        conn,
        statement.sql,
        [
            statement.parameters(
                {"units": units, "account_id": a, "commodity": c, "week": week_value}
            )
            for (a, c), units in changes
        ],
    )


# -- reading: balances as of a date -----------------------------------------------------------

# The last checkpoint before `before` of each (account, commodity) the balances table knows
# (it has a row for every pair ever posted to): one index seek each.
_LAST_CHECKPOINT = (
    select(balance_checkpoints.c.units)
    .where(
        and_(
            balance_checkpoints.c.account_id == balances.c.account_id,
            balance_checkpoints.c.commodity == balances.c.commodity,
            balance_checkpoints.c.week < bindparam("before"),
        )
    )
    .order_by(balance_checkpoints.c.week.desc())
    .limit(1)
    .scalar_subquery()
)
_BOOK_CHECKPOINTS = select(balances.c.account_id, balances.c.commodity, _LAST_CHECKPOINT).where(
    balances.c.book_id == bindparam("book_id")
)
_ACCOUNT_CHECKPOINTS = select(balances.c.commodity, _LAST_CHECKPOINT).where(
    and_(
        balances.c.book_id == bindparam("book_id"),
        balances.c.account_id == bindparam("account_id"),
    )
)
_IN_DAYS = and_(postings.c.date >= bindparam("first"), postings.c.date <= bindparam("last"))
_BOOK_POSTINGS = (
    select(postings.c.account_id, postings.c.commodity, func.sum(postings.c.units))
    .where(and_(postings.c.book_id == bindparam("book_id"), _IN_DAYS))
    .group_by(postings.c.account_id, postings.c.commodity)
)
# Naming every commodity lets the (account, commodity, date) index seek to the days of each;
# the account is checked to be the book's by a constant EXISTS (`postings.book_id = ?` would
# lead SQLite to the (book, date) index and every posting of the book in those days).
_ACCOUNT_POSTINGS = (
    select(postings.c.commodity, func.sum(postings.c.units))
    .where(
        and_(
            exists().where(
                and_(
                    accounts.c.id == bindparam("account_id"),
                    accounts.c.book_id == bindparam("book_id"),
                )
            ),
            postings.c.account_id == bindparam("account_id"),
            postings.c.commodity.in_(select(commodities.c.code).scalar_subquery()),
            _IN_DAYS,
        )
    )
    .group_by(postings.c.commodity)
)
# One (account, commodity): its last checkpoint before the bound and its postings in the
# days, in one round trip.
_KEY_UNITS = select(
    select(balance_checkpoints.c.units)
    .where(
        and_(
            balance_checkpoints.c.account_id == bindparam("account_id"),
            balance_checkpoints.c.commodity == bindparam("commodity"),
            balance_checkpoints.c.week < bindparam("before"),
        )
    )
    .order_by(balance_checkpoints.c.week.desc())
    .limit(1)
    .scalar_subquery(),
    select(func.sum(postings.c.units))
    .where(
        and_(
            postings.c.account_id == bindparam("account_id"),
            postings.c.commodity == bindparam("commodity"),
            _IN_DAYS,
        )
    )
    .scalar_subquery(),
)


def _plan(as_of: datetime.date) -> tuple[dict[str, Any], dict[str, Any], int]:
    """How to read a balance at the end of `as_of`: the checkpoint bound, and the days of
    postings to add (sign +1) or to take off (sign -1), whichever side of the week is
    shorter."""
    week = week_of(as_of)
    following = next_week(week)
    if (as_of - week).days < (following - as_of).days - 1:
        return {"before": week}, {"first": week, "last": as_of}, 1
    last_day = following - datetime.timedelta(days=1)
    days = {"first": as_of + datetime.timedelta(days=1), "last": last_day}
    return {"before": following}, days, -1


def book_units_as_of(conn: Connection, book_id: int, as_of: datetime.date) -> dict[Key, int]:
    """Every (account id, commodity) of the book with its units at the end of `as_of`
    (zeros included)."""
    before, days, sign = _plan(as_of)
    totals: dict[Key, int] = defaultdict(int)
    for account_id, commodity, units in driver.fetch_all(
        conn, _BOOK_CHECKPOINTS, {"book_id": book_id, **before}
    ):
        if units is not None:
            totals[(account_id, commodity)] += int(units)
    for account_id, commodity, units in driver.fetch_all(
        conn, _BOOK_POSTINGS, {"book_id": book_id, **days}
    ):
        totals[(account_id, commodity)] += sign * int(units)
    return totals


def account_units_as_of(
    conn: Connection, book_id: int, account_id: int, as_of: datetime.date
) -> dict[str, int]:
    """One account's units per commodity at the end of `as_of` (zeros included); nothing
    when the account is not the book's."""
    before, days, sign = _plan(as_of)
    where = {"book_id": book_id, "account_id": account_id}
    totals: dict[str, int] = defaultdict(int)
    for commodity, units in driver.fetch_all(conn, _ACCOUNT_CHECKPOINTS, {**where, **before}):
        if units is not None:
            totals[commodity] += int(units)
    for commodity, units in driver.fetch_all(conn, _ACCOUNT_POSTINGS, {**where, **days}):
        totals[commodity] += sign * int(units)
    return totals


def units_as_of(conn: Connection, account_id: int, commodity: str, as_of: datetime.date) -> int:
    """The units of `commodity` in the account at the end of `as_of`."""
    before, days, sign = _plan(as_of)
    key = {"account_id": account_id, "commodity": commodity}
    [(checkpoint, posted)] = driver.fetch_all(conn, _KEY_UNITS, {**key, **before, **days})
    return int(checkpoint or 0) + sign * int(posted or 0)


_COMMODITIES_POSTED_THROUGH = select(balances.c.commodity).where(
    and_(
        balances.c.account_id == bindparam("account_id"),
        exists().where(
            and_(
                balance_checkpoints.c.account_id == balances.c.account_id,
                balance_checkpoints.c.commodity == balances.c.commodity,
                balance_checkpoints.c.week < bindparam("week"),
            )
        )
        | exists().where(
            and_(
                postings.c.account_id == balances.c.account_id,
                postings.c.commodity == balances.c.commodity,
                postings.c.date >= bindparam("week"),
                postings.c.date <= bindparam("date"),
            )
        ),
    )
)


def commodities_posted_through(conn: Connection, account_id: int, date: datetime.date) -> list[str]:
    """The commodities the account has postings in up to and including `date`, sorted: a
    checkpoint of an earlier week, or a posting in `date`'s week up to it."""
    found = driver.fetch_all(
        conn,
        _COMMODITIES_POSTED_THROUGH,
        {"account_id": account_id, "week": week_of(date), "date": date},
    )
    return sorted(commodity for (commodity,) in found)


# -- verifying --------------------------------------------------------------------------------

_BOOK_STORED = select(
    balance_checkpoints.c.account_id,
    balance_checkpoints.c.commodity,
    balance_checkpoints.c.week,
    balance_checkpoints.c.units,
    balance_checkpoints.c.net_units,
).where(balance_checkpoints.c.book_id == bindparam("book_id"))
_BOOK_DAILY = (
    select(postings.c.account_id, postings.c.commodity, postings.c.date, func.sum(postings.c.units))
    .where(postings.c.book_id == bindparam("book_id"))
    .group_by(postings.c.account_id, postings.c.commodity, postings.c.date)
)


def recomputed_checkpoints(
    conn: Connection, book_id: int
) -> dict[tuple[int, str, datetime.date], tuple[int, int]]:
    """(units at the week's end, net change) per (account id, commodity, week) with
    postings, recomputed from the book's postings."""
    net: dict[tuple[int, str, datetime.date], int] = defaultdict(int)
    for account_id, commodity, date, units in conn.execute(
        _BOOK_DAILY, {"book_id": book_id}
    ).tuples():
        net[(account_id, commodity, week_of(date))] += int(units)
    result: dict[tuple[int, str, datetime.date], tuple[int, int]] = {}
    running: dict[Key, int] = defaultdict(int)
    for key in sorted(net):
        running[key[:2]] += net[key]
        result[key] = (running[key[:2]], net[key])
    return result


def stored_checkpoints(
    conn: Connection, book_id: int
) -> dict[tuple[int, str, datetime.date], tuple[int, int]]:
    """(units, net_units) per (account id, commodity, week) as stored for the book."""
    return {
        (account_id, commodity, week): (int(units), int(net_units))
        for account_id, commodity, week, units, net_units in conn.execute(
            _BOOK_STORED, {"book_id": book_id}
        ).tuples()
    }
