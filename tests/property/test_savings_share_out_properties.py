"""Properties of the share-out, for random groups and random cycles.

Pure (many examples): for any cash and any members' shares, savings and debts, the payouts
plus what is carried forward are the cash available; nothing carried forward is negative;
each member's part is shares x value rounded down to the cash unit (so within one cash unit);
a debt is settled only from its member's part, and what is not settled rolls over.

Through the service on a real database (fewer examples, each a whole cycle): random weekly
meetings with shares, social fund, fines, loans within the limits and repayments, then the
share-out is executed. Afterwards payouts + social fund + carried forward = the cash the
group held, the box holds exactly the social fund and the carried forward, and
`livelihood-ledger verify` finds nothing wrong in the group's book.
"""

from __future__ import annotations

import datetime
import functools
import itertools
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from ledger.core.errors import LedgerError
from ledger.savings import queries, rules, service
from ledger.savings.rules import MemberPosition
from ledger.store.database import Database
from ledger.verify import verify_book

CASH_UNIT = 100
SHARE_PRICE = 5_000
GROUP_NUMBERS = itertools.count(1)

positions = st.lists(
    st.builds(
        MemberPosition,
        member=st.just(""),
        shares=st.integers(0, 300),
        savings=st.integers(0, 2_000_000),
        interest_due=st.integers(0, 50_000),
        principal_outstanding=st.one_of(st.just(0), st.integers(0, 3_000_000)),
    ),
    min_size=1,
    max_size=40,
).map(lambda found: [MemberPosition(f"M{i:02d}", *_fields(p)) for i, p in enumerate(found)])


def _fields(p: MemberPosition) -> tuple[int, int, int, int]:
    return p.shares, p.savings, p.interest_due, p.principal_outstanding


@settings(max_examples=500, deadline=None)
@given(cash=st.integers(0, 100_000_000), members=positions)
def test_share_out_pays_what_the_box_holds_and_each_part_is_within_one_cash_unit(
    cash: int, members: list[MemberPosition]
) -> None:
    result = rules.compute_share_out(cash, members, CASH_UNIT)
    if sum(m.shares for m in members) == 0:
        assert isinstance(result, LedgerError)
        assert result.code == "share_out_no_shares"
        return
    assert not isinstance(result, LedgerError)
    assert result.payouts + result.carried_forward == cash
    assert result.carried_forward >= 0
    value = result.value_per_share
    for member, line in zip(members, result.lines, strict=True):
        exact = member.shares * value
        assert line.payout % CASH_UNIT == 0
        assert 0 <= exact - line.share_value < CASH_UNIT
        assert line.payout >= 0
        assert line.loan_deducted + line.loan_carried == member.debt
        assert line.interest_deducted <= member.interest_due
        assert line.payout + line.loan_deducted == line.share_value
        # A debt rolls over only when it is more than the member's part.
        assert line.loan_carried == 0 or line.payout == 0
        assert line.profit == line.share_value - member.savings
    # The fund is the cash plus the debts settled from the parts.
    settled = sum(
        m.debt for m, line in zip(members, result.lines, strict=True) if not line.loan_carried
    )
    insolvent_parts = sum(
        m.shares * value for m, line in zip(members, result.lines, strict=True) if line.loan_carried
    )
    assert result.fund == cash + settled + insolvent_parts


# -- whole cycles through the service ----------------------------------------------------------

member_week = st.tuples(
    st.integers(0, 5),  # shares (0: absent)
    st.sampled_from((0, 500)),  # social fund
    st.sampled_from((0, 0, 0, 500, 1_000)),  # fines
    st.sampled_from((0, 0, 1, 2)),  # repay nothing, half or all of what is owed
    st.sampled_from((0, 0, 0, 1, 2, 3)),  # borrow nothing, or a part of what is allowed
)
cycles = st.integers(2, 6).flatmap(
    lambda members: st.lists(
        st.lists(member_week, min_size=members, max_size=members), min_size=1, max_size=6
    )
)


def _group(conn: Connection, code: str, members: int, method: str) -> None:
    service.create_group(
        conn,
        service.GroupDraft(
            code=code,
            name="Random group",
            village="Village",
            commune="Commune",
            province="Kampong Thom",
            formed_on=datetime.date(2026, 1, 1),
            currency="KHR",
            meeting_frequency="weekly",
            constitution=service.ConstitutionDraft(
                share_price=str(SHARE_PRICE),
                shares_per_meeting_min=0,
                shares_per_meeting_max=5,
                social_fund_per_meeting="500",
                interest_rate_monthly_percent="3",
                interest_method=method,
                loan_savings_multiple=3,
                loan_term_months_max=3,
                lend_to_members_in_arrears=True,
            ),
            cycle_start=datetime.date(2026, 1, 1),
            cycle_planned_end=datetime.date(2026, 1, 2),
        ),
    )
    for index in range(members):
        service.add_member(conn, code, f"M{index:02d}", "member", datetime.date(2026, 1, 1))


def _meeting(conn: Connection, code: str, date: datetime.date, week: list[tuple[int, ...]]) -> None:
    """Record one meeting, each member's wishes clamped to what the rules allow."""
    group = queries.get_group(conn, code)
    balances = queries.balances_as_of(conn, group, date)
    owed: dict[str, int] = {}
    outstanding: dict[str, int] = {}
    for loan in queries.group_loans(conn, group, date, active_only=True):
        owed[loan.member] = owed.get(loan.member, 0) + loan.state.owed
        outstanding[loan.member] = (
            outstanding.get(loan.member, 0) + loan.state.principal_outstanding
        )
    cash = balances.get(rules.CASH, 0)
    social = -balances.get(rules.SOCIAL_FUND, 0)
    entries = []
    for index, (shares, social_paid, fines, repay, borrow) in enumerate(week):
        number = f"M{index:02d}"
        repaid = {0: 0, 1: owed.get(number, 0) // 2, 2: owed.get(number, 0)}[repay]
        cash += shares * SHARE_PRICE + social_paid + fines + repaid
        social += social_paid
        savings = -balances.get(rules.savings_account(number), 0) + shares * SHARE_PRICE
        # What is still owed before this repayment counts against the limit (conservative).
        room = max(0, 3 * savings - outstanding.get(number, 0))
        wanted = (room * borrow // 4) // CASH_UNIT * CASH_UNIT
        lend = max(0, min(wanted, (cash - social) // CASH_UNIT * CASH_UNIT))
        cash -= lend
        entries.append(
            service.EntryDraft(
                member=number,
                attendance="present" if shares else "absent",
                shares=shares,
                social_fund_paid=str(social_paid),
                fines_paid=str(fines),
                loan_repaid=str(repaid),
                loan_taken=service.LoanDraft(str(lend), 2) if lend else None,
            )
        )
    service.record_meeting(
        conn, code, service.MeetingDraft(date, tuple(entries), str(cash)), "property"
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(weeks=cycles, method=st.sampled_from(rules.INTEREST_METHODS), days_after=st.integers(1, 60))
# Found by hypothesis: a loan paid out of the box at the meeting that filled it leaves the cash
# box netting to zero with no balance row, which once refused the share-out as "postings after".
@example(weeks=[[(0, 0, 500, 0, 0), (1, 0, 0, 0, 2)]], method="flat", days_after=1)
def test_a_random_cycle_shares_out_exactly_the_cash_the_group_holds(
    db: Database, weeks: list[list[tuple[int, ...]]], method: str, days_after: int
) -> None:
    code = f"sg-prop-{next(GROUP_NUMBERS)}"
    db.write(lambda conn: _group(conn, code, len(weeks[0]), method))
    dates = [datetime.date(2026, 1, 5) + datetime.timedelta(weeks=w) for w in range(len(weeks))]
    for date, week in zip(dates, weeks, strict=True):
        db.write(functools.partial(_meeting, code=code, date=date, week=week))
    when = dates[-1] + datetime.timedelta(days=days_after)
    with db.read() as conn:
        group = queries.get_group(conn, code)
        held = queries.balances_as_of(conn, group, when).get(rules.CASH, 0)
        total_shares = sum(e.shares for m in queries.list_meetings(conn, code) for e in m.entries)
    if total_shares == 0:
        return

    def share_out(conn: Connection) -> queries.ShareOutView:
        return service.execute_share_out(conn, code, 1, when, None, "property")

    view = db.write(share_out)
    result = view.result
    assert result.payouts + view.social_fund + result.carried_forward == held
    assert result.carried_forward >= 0
    for line in result.lines:
        assert 0 <= line.shares * result.value_per_share - line.share_value < CASH_UNIT
        assert line.payout % CASH_UNIT == 0
    assert result.value_per_share == Fraction(result.fund, result.total_shares)
    with db.read() as conn:
        after = queries.current_balances(conn, group)
    assert after.get(rules.CASH, 0) == view.social_fund + result.carried_forward
    assert all(units == 0 for account, units in after.items() if account.startswith("Liabilities:"))
    report = verify_book(db, code)
    assert report.ok, report.differences
