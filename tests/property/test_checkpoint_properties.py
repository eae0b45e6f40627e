"""Balances as of a date, read from the week-end checkpoints, equal the sum of the postings.

Each example opens a fresh book (unique code, same database) with four accounts that take
USD and KHR, then runs a random sequence of posts dated anywhere in 14 months (so many are
back-dated behind later ones), bulk posts spanning several weeks in one call, and reversals
of earlier transactions (dated on or after their original). Afterwards, for random dates
inside and around the book, and for the last day of every month and the Sunday and Monday of
one week in five:

1. the trial balance as of the date is the postings summed up to it;
2. each account's balance as of the date, and each (account, commodity)'s units through the
   date (what a balance assertion checks), are the same sums;
3. `verify` finds every checkpoint equal to its recomputation from the postings.

All of it on the real database the suite runs on (SQLite, or PostgreSQL).
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from functools import partial

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, and_, func, select

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import Posting, Transaction
from ledger.store import books, checkpoints, journal, queries
from ledger.store.database import Database
from ledger.store.journal_reads import balance_units_through
from ledger.store.tables import accounts, postings
from ledger.verify import stored_checkpoint_differences

ACCOUNTS = (
    "Assets:Bank:Operating",
    "Assets:Cash:Box",
    "Expenses:Grants:Cash",
    "Income:Grants:CTIP",
)
COMMODITIES = ("USD", "KHR")
OPENED = datetime.date(2019, 12, 1)
FIRST_DAY = datetime.date(2020, 1, 1)
DAYS = 430  # 14 months and a bit: crosses a year end and a leap day
BOOK_NUMBERS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Post:
    txns: tuple[Transaction, ...]  # one: a post; several: one `post_many` call


@dataclass(frozen=True, slots=True)
class Reverse:
    which: int  # index into the transactions posted so far (modulo their number)
    days_later: int


days = st.integers(min_value=0, max_value=DAYS)


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    pairs = draw(st.integers(min_value=1, max_value=3))
    entries: list[Posting] = []
    for _ in range(pairs):
        debit, credit = draw(st.permutations(ACCOUNTS))[:2]
        commodity = draw(st.sampled_from(COMMODITIES))
        units = draw(st.integers(min_value=1, max_value=10**9))
        entries += [Posting(debit, units, commodity), Posting(credit, -units, commodity)]
    date = FIRST_DAY + datetime.timedelta(days=draw(days))
    return Transaction(date=date, narration="checkpoint property", postings=tuple(entries))


steps = st.lists(
    st.one_of(
        st.builds(lambda t: Post((t,)), transactions()),
        st.builds(lambda ts: Post(tuple(ts)), st.lists(transactions(), min_size=2, max_size=6)),
        st.builds(Reverse, st.integers(min_value=0, max_value=10**6), st.integers(0, 60)),
    ),
    min_size=1,
    max_size=25,
)
dates_asked = st.lists(
    st.integers(min_value=-20, max_value=DAYS + 40).map(
        lambda n: FIRST_DAY + datetime.timedelta(days=n)
    ),
    min_size=1,
    max_size=6,
)


def open_book(db: Database) -> str:
    code = f"cp-{next(BOOK_NUMBERS)}"

    def create(conn: Connection) -> None:
        books.create_book(conn, code, "Checkpoint property", "organisation", "USD")
        for name in ACCOUNTS:
            books.open_account(conn, code, name, OPENED, list(COMMODITIES))

    db.write(create)
    return code


def run(db: Database, code: str, sequence: list[Post | Reverse]) -> None:
    posted: list[tuple[int, datetime.date]] = []
    for step in sequence:
        if isinstance(step, Post):
            ids = db.write(partial(journal.post_many, book_code=code, txns=step.txns))
            posted += zip(ids, (t.date for t in step.txns), strict=True)
        elif posted:
            txn_id, date = posted[step.which % len(posted)]
            when = date + datetime.timedelta(days=step.days_later)
            refused = reverse(db, code, txn_id, when)
            assert refused in {None, "already_reversed", "reversal_not_reversible"}


def reverse(db: Database, code: str, txn_id: int, when: datetime.date) -> str | None:
    """Reverse a transaction; the code of the refusal, if refused."""
    try:
        db.write(lambda c: journal.reverse(c, code, txn_id, when))
    except LedgerRejected as rejected:
        return rejected.first.code
    return None


def summed(conn: Connection, code: str, as_of: datetime.date) -> dict[tuple[str, str], int]:
    """The postings summed up to the end of `as_of`: the definition, no checkpoint read."""
    rows = conn.execute(
        select(accounts.c.name, postings.c.commodity, func.sum(postings.c.units))
        .join(accounts, accounts.c.id == postings.c.account_id)
        .where(and_(accounts.c.book_id == books.get_book(conn, code).id, postings.c.date <= as_of))
        .group_by(accounts.c.name, postings.c.commodity)
    )
    return {(name, commodity): int(units) for name, commodity, units in rows if units}


def period_edges() -> list[datetime.date]:
    """Month ends, and the Sunday and Monday around every fifth week's end."""
    edges = []
    day = FIRST_DAY
    while day <= FIRST_DAY + datetime.timedelta(days=DAYS):
        following = day + datetime.timedelta(days=1)
        if following.day == 1:
            edges.append(day)
        if day.weekday() == 6 and day.toordinal() // 7 % 5 == 0:
            edges += [day, following]
        day = following
    return edges


def check_as_of(conn: Connection, code: str, as_of: datetime.date) -> None:
    expected = summed(conn, code, as_of)
    trial = {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, code, as_of)}
    assert trial == expected, as_of
    for account in books.list_accounts(conn, code):
        held = queries.account_balance(conn, code, account.id, as_of)
        assert held == {c: u for (a, c), u in expected.items() if a == account.name}, as_of
        for commodity in COMMODITIES:
            through = balance_units_through(conn, account.id, commodity, as_of)
            assert through == expected.get((account.name, commodity), 0), as_of


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps, asked=dates_asked)
def test_as_of_balances_from_checkpoints_equal_the_postings(
    db: Database, sequence: list[Post | Reverse], asked: list[datetime.date]
) -> None:
    code = open_book(db)
    run(db, code, sequence)
    with db.read() as conn:
        for as_of in [*asked, *period_edges()]:
            check_as_of(conn, code, as_of)
        assert stored_checkpoint_differences(conn, code) == []
        # The current balances still agree with the latest checkpoints.
        latest = summed(conn, code, FIRST_DAY + datetime.timedelta(days=DAYS + 60))
        current = {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, code)}
        assert current == latest


def test_every_week_after_a_back_dated_post_is_carried_forward(db: Database) -> None:
    """A post dated three weeks back adds to the checkpoints of the weeks after it."""
    code = open_book(db)
    bank, income = ACCOUNTS[0], ACCOUNTS[3]

    def pay(date: datetime.date, units: int) -> Transaction:
        return Transaction(
            date=date,
            narration="grant tranche",
            postings=(Posting(bank, units, "USD"), Posting(income, -units, "USD")),
        )

    for day in (6, 15, 22, 29):  # Monday 6 January 2020, then three Wednesdays
        db.write(partial(journal.post, book_code=code, txn=pay(datetime.date(2020, 1, day), 100)))
    db.write(lambda c: journal.post(c, code, pay(datetime.date(2020, 1, 12), 7)))  # a Sunday
    with db.read() as conn:
        bank_id = books.find_account(conn, books.get_book(conn, code).id, bank)
        assert bank_id is not None
        stored = checkpoints.stored_checkpoints(conn, books.get_book(conn, code).id)
        week_ends_units = {
            week: units
            for (account_id, _commodity, week), (units, _net) in stored.items()
            if account_id == bank_id.id
        }
        assert week_ends_units == {
            datetime.date(2020, 1, 6): 107,
            datetime.date(2020, 1, 13): 207,
            datetime.date(2020, 1, 20): 307,
            datetime.date(2020, 1, 27): 407,
        }
        assert queries.account_balance(conn, code, bank_id.id, datetime.date(2020, 1, 11)) == {
            "USD": 100
        }
        assert stored_checkpoint_differences(conn, code) == []


def test_postings_that_cancel_out_in_a_week_keep_their_row(db: Database) -> None:
    """Two days of one week that cancel out: as of a day between, the account holds money."""
    code = open_book(db)
    bank, income = ACCOUNTS[0], ACCOUNTS[3]
    there = Transaction(
        date=datetime.date(2020, 5, 4),
        narration="in",
        postings=(Posting(bank, 500, "KHR"), Posting(income, -500, "KHR")),
    )
    back = Transaction(
        date=datetime.date(2020, 5, 9),
        narration="out",
        postings=(Posting(bank, -500, "KHR"), Posting(income, 500, "KHR")),
    )
    db.write(lambda c: journal.post_many(c, code, [there, back]))
    with db.read() as conn:
        book_id = books.get_book(conn, code).id
        trial = queries.trial_balance(conn, code, datetime.date(2020, 5, 6))
        assert [(r.account, r.units) for r in trial] == [(bank, 500), (income, -500)]
        assert queries.trial_balance(conn, code, datetime.date(2020, 5, 10)) == []
        assert len(checkpoints.stored_checkpoints(conn, book_id)) == 2  # zero-change rows
        assert stored_checkpoint_differences(conn, code) == []
