"""A budget line's use as of a date, read per week (`ledger.funds.line_weeks`), equals the sum
of its spends that its reversals leave, as the ledger summed them before the weeks existed.

Each example sets up a book and an award of one to three budget lines, then runs a random
sequence of expenses on random lines dated anywhere in the award's year (so many are
back-dated behind later ones, and several fall in one week) and reversals of earlier ones
(dated on or after their original, some after the award's end). Afterwards, for random dates
inside and around the award, the Sunday and Monday of some weeks, and no date at all:

1. `funds.line_use` of every line counts what the old query (kept here as the oracle: every
   spend up to the date whose transaction no reversal up to the date reversed) counts;
2. the stored weeks are their recomputation from the spends (what `verify` checks).

Each example runs in one database transaction, rolled back at the end, on the database the
suite runs on (SQLite, or PostgreSQL).
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, and_, exists, func, select

from ledger.core.errors import LedgerRejected
from ledger.funds import line_weeks
from ledger.funds import service as funds
from ledger.store import books, journal
from ledger.store.database import Database
from ledger.store.tables import budget_spends, transactions

D = datetime.date
AWARD = "WEEKS-2020"
BANK = "Assets:Bank:Operating-USD"
START = D(2020, 1, 1)  # a Wednesday
END = D(2020, 12, 31)
DAYS = (END - START).days


class ExampleOverError(Exception):
    """Ends an example: its transaction is rolled back, the database is empty again."""


@dataclass(frozen=True)
class Spend:
    line: int  # index among the award's lines (modulo)
    day: int  # days after the award's start
    cents: int


@dataclass(frozen=True)
class Reverse:
    which: int  # index among the spends so far (modulo)
    days_later: int


@dataclass(frozen=True)
class Spent:
    transaction_id: int
    date: datetime.date


operations = st.lists(
    st.one_of(
        st.builds(
            Spend,
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=0, max_value=DAYS),
            st.integers(min_value=1, max_value=10**7),
        ),
        st.builds(
            Reverse,
            st.integers(min_value=0, max_value=10**6),
            st.integers(min_value=0, max_value=40),
        ),
    ),
    min_size=1,
    max_size=30,
)
asked_dates = st.lists(
    st.integers(min_value=-10, max_value=DAYS + 50).map(
        lambda n: START + datetime.timedelta(days=n)
    ),
    min_size=1,
    max_size=8,
)


def old_spent(conn: Connection, line_id: int, as_of: datetime.date | None) -> int:
    """The oracle: `funds.line_use`'s sum before the weeks (every spend of the line up to the
    date, each probed for a reversal up to the date)."""
    reversal = transactions.alias("reversal")
    reversed_where = [reversal.c.reverses_id == budget_spends.c.transaction_id]
    spent_where = [budget_spends.c.budget_line_id == line_id]
    if as_of is not None:
        spent_where.append(budget_spends.c.date <= as_of)
        reversed_where.append(reversal.c.date <= as_of)
    spent_where.append(~exists().where(and_(*reversed_where)))
    return int(
        conn.execute(
            select(func.coalesce(func.sum(budget_spends.c.award_units), 0)).where(
                and_(*spent_where)
            )
        ).scalar_one()
    )


def setting_up(conn: Connection, lines_n: int) -> funds.Award:
    books.create_book(conn, "org", "Programme", "organisation", "USD")
    books.open_account(conn, "org", BANK, D(2019, 1, 1), ("USD",))
    lines = tuple(
        funds.BudgetLineDraft(f"line-{n}", f"Line {n}", "10000000.00", f"Expenses:Line-{n}")
        for n in range(lines_n)
    )
    draft = funds.AwardDraft(
        book_code="org",
        code=AWARD,
        donor="Property donor",
        currency="USD",
        amount="30000000.00",
        start_date=START,
        end_date=END,
        approval_threshold="100.00",
        income_account="Income:Restricted:Weeks",
        lines=lines,
    )
    return funds.create_award(conn, draft, "setup")


def apply(conn: Connection, award: funds.Award, operation: object, spent: list[Spent]) -> None:
    if isinstance(operation, Spend):
        line = award.lines[operation.line % len(award.lines)]
        date = START + datetime.timedelta(days=operation.day)
        expense = funds.ExpenseDraft(
            date=date,
            paid_from=BANK,
            units=operation.cents,
            currency="USD",
            narration="weekly property",
            kind="expense",
        )
        posted = funds.post_expense(conn, award, line, expense, "finance")
        spent.append(Spent(posted.transaction_id, date))
    elif isinstance(operation, Reverse) and spent:
        chosen = spent[operation.which % len(spent)]
        when = chosen.date + datetime.timedelta(days=operation.days_later)
        with contextlib.suppress(LedgerRejected), conn.begin_nested():  # already reversed
            journal.reverse(conn, "org", chosen.transaction_id, when, None, "finance")


def week_edges() -> list[datetime.date]:
    """The Sunday and the Monday of every fifth week of the award, and its first and last
    days."""
    edges = [START, END]
    day = START
    while day <= END:
        if day.weekday() == 6 and day.toordinal() // 7 % 5 == 0:
            edges += [day, day + datetime.timedelta(days=1)]
        day += datetime.timedelta(days=1)
    return edges


def check(conn: Connection, asked: list[datetime.date]) -> None:
    award = funds.get_award(conn, AWARD)
    for line in award.lines:
        for as_of in [None, *asked, *week_edges()]:
            use = funds.line_use(conn, award, line, as_of)
            assert use.actual == old_spent(conn, line.id, as_of), (line.code, as_of)
    book_id = books.get_book(conn, "org").id
    assert line_weeks.week_differences(conn, book_id) == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines_n=st.integers(min_value=1, max_value=3),
    steps=operations,
    asked=asked_dates,
)
def test_line_use_from_weeks_equals_the_spends_summed(
    db: Database, lines_n: int, steps: list[object], asked: list[datetime.date]
) -> None:
    def work(conn: Connection) -> None:
        award = setting_up(conn, lines_n)
        spent: list[Spent] = []
        for operation in steps:
            apply(conn, award, operation, spent)
        check(conn, asked)
        raise ExampleOverError

    with contextlib.suppress(ExampleOverError):
        db.write(work)
