"""Properties of grants in the currency paid (issue 17, item 1), over random riel grants,
approval rates, tranches paid at random rates, reversals and cancellations:

1. On the grants' budget line, spent + committed never exceeds the line's amount.
2. A grant paid in full reserves nothing, and its commitment is what it actually spent in the
   award's currency.
3. What the line reports as committed is the sum of what its grants still reserve.

Each example runs in one database transaction that is rolled back at the end (each operation
in a savepoint, as a request would be its own transaction: a refused one leaves nothing).
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from ledger.core.errors import LedgerRejected
from ledger.funds import service as funds
from ledger.funds.service import BudgetLineDraft, ExchangeDraft
from ledger.grants import service as grants
from ledger.grants.service import DisbursementDraft, GrantDraft
from ledger.households import service as households
from ledger.store import books
from ledger.store.database import Database
from tests.api.grants_world import create_ctip, household_draft

D = datetime.date
AWARD = "CTIP-2018"
BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"
LINE = "livelihood-grants"
PAY_DAY = D(2018, 12, 1)


class ExampleOverError(Exception):
    """Ends an example: its transaction is rolled back, the database is empty again."""


@dataclass(frozen=True)
class NewGrant:
    riel: int
    approval_rate: int | None  # riel per dollar; None: the weighted average of the exchanges


@dataclass(frozen=True)
class Pay:
    grant: int  # index among the grants made so far (modulo)
    percent: int  # of what the grant has left; 100: the rest
    rate: int | None  # the day's rate given with the payment; None: the average


@dataclass(frozen=True)
class Reverse:
    grant: int
    disbursement: int


@dataclass(frozen=True)
class Cancel:
    grant: int


rates = st.integers(min_value=3_600, max_value=4_600)
operations = st.lists(
    st.one_of(
        st.builds(
            NewGrant,
            st.integers(min_value=1, max_value=300).map(lambda n: n * 10_000),
            st.none() | rates,
        ),
        st.builds(
            Pay,
            st.integers(min_value=0, max_value=20),
            st.sampled_from([100, 100, 50, 30, 1]),
            st.none() | rates,
        ),
        st.builds(Reverse, st.integers(min_value=0, max_value=20), st.integers(0, 3)),
        st.builds(Cancel, st.integers(min_value=0, max_value=20)),
    ),
    min_size=1,
    max_size=14,
)


def setting_up(conn: Connection, line_dollars: int, exchange_rates: tuple[int, int]) -> None:
    books.create_book(conn, "org", "Programme", "organisation", "USD")
    books.open_account(conn, "org", BANK, D(2018, 1, 1), ("USD",), True)
    books.open_account(conn, "org", BAVET, D(2018, 1, 1), ("KHR",), True)
    line = BudgetLineDraft(LINE, "Grants", f"{line_dollars}.00", "Expenses:Grants:CTIP")
    create_ctip(conn, [line])
    funds.receive_funds(conn, AWARD, D(2018, 7, 2), BANK, "9000.00", None, None, "finance")
    for day, rate in zip((D(2018, 11, 2), D(2018, 11, 5)), exchange_rates, strict=True):
        draft = ExchangeDraft("org", day, BANK, BAVET, "3000.00", None, str(rate), None)
        funds.record_exchange(conn, draft, "finance")
    households.register_household(conn, household_draft(), D(2018, 11, 4), "officer")


def run(conn: Connection, operation: object, made: list[int]) -> None:
    """One operation in a savepoint: refused ones leave nothing behind."""
    try:
        with conn.begin_nested():
            apply(conn, operation, made)
    except LedgerRejected:
        pass


def apply(conn: Connection, operation: object, made: list[int]) -> None:
    if isinstance(operation, NewGrant):
        draft = GrantDraft(
            "DV-009", AWARD, LINE, "pig_raising", str(operation.riel), (), "Pigs", "KHR"
        )
        grant = grants.propose_grant(conn, draft, "dara")
        rate = None if operation.approval_rate is None else str(operation.approval_rate)
        grants.approve_grant(conn, grant.id, "sokha", rate)
        made.append(grant.id)  # only once approved: a refusal rolls the proposal back too
        return
    if not made:
        return
    grant_id = made[operation.grant % len(made)]  # type: ignore[attr-defined]
    if isinstance(operation, Pay):
        grant = grants.get_grant(conn, grant_id)
        riel = grant.remaining * operation.percent // 100
        rate = None if operation.rate is None else str(operation.rate)
        payment = DisbursementDraft(PAY_DAY, "cash", BAVET, str(max(riel, 1)), (), rate, None)
        grants.disburse(conn, grant_id, payment, "officer")
    elif isinstance(operation, Reverse):
        found = grants.list_disbursements(conn, grant_id)
        if found:
            chosen = found[operation.disbursement % len(found)]
            grants.reverse_disbursement(conn, grant_id, chosen.id, PAY_DAY, None, "finance")
    elif isinstance(operation, Cancel):
        grants.end_grant(conn, grant_id, "cancelled", "Family moved", "finance")


def check(conn: Connection, made: list[int]) -> None:
    award = funds.get_award(conn, AWARD)
    line = award.line(LINE)
    use = funds.line_use(conn, award, line)
    assert use.actual + use.committed <= line.amount, (use.actual, use.committed, line.amount)
    reserved = 0
    for grant_id in made:
        grant = grants.get_grant(conn, grant_id)
        reserved += grant.reserved
        event(grant.status)
        if grant.status in ("fully_disbursed", "closed"):
            assert grant.reserved == 0
            assert grant.committed == grant.award_paid
            assert grant.disbursed == grant.approved_amount
    assert use.committed == reserved


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    line_dollars=st.integers(min_value=100, max_value=2_000),
    exchange_rates=st.tuples(rates, rates),
    steps=operations,
)
def test_committed_and_spent_stay_within_the_line(
    db: Database, line_dollars: int, exchange_rates: tuple[int, int], steps: list[object]
) -> None:
    def work(conn: Connection) -> None:
        setting_up(conn, line_dollars, exchange_rates)
        made: list[int] = []
        for operation in steps:
            run(conn, operation, made)
            check(conn, made)
        raise ExampleOverError

    with contextlib.suppress(ExampleOverError):
        db.write(work)
