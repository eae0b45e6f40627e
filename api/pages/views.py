"""What the treasurer's pages show, read from the savings area's queries in one read.

Plain frozen values: a template shows them, it computes nothing.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection

from ledger.savings import queries, rules

MEETING_INTERVAL_DAYS = {"weekly": 7, "fortnightly": 14}


@dataclass(frozen=True, slots=True)
class MemberLine:
    number: str
    role: str
    shares: int
    savings: int
    owed: int  # on all active loans, interest due included, at the next meeting
    loans: int  # active loans


@dataclass(frozen=True, slots=True)
class GroupHome:
    group: queries.Group
    cycle: queries.Cycle
    cash_box: int
    social_fund: int
    loan_fund: int  # the cash box less the social fund: what the group can lend
    loans_out: int  # principal outstanding on every active loan
    members: tuple[MemberLine, ...]
    last_meeting: datetime.date | None
    next_meeting: datetime.date
    meetings_in_cycle: int


def next_meeting_date(
    group: queries.Group, cycle: queries.Cycle, last: datetime.date | None
) -> datetime.date:
    """The group's next meeting day by its frequency: the cycle's start before any meeting."""
    if last is None or last < cycle.start_date:
        return cycle.start_date
    days = MEETING_INTERVAL_DAYS.get(group.meeting_frequency)
    return last + datetime.timedelta(days=days) if days else rules.add_months(last, 1)


def owed_by_member(
    conn: Connection, group: queries.Group, as_of: datetime.date
) -> dict[str, tuple[int, int, int]]:
    """Per member: (owed, principal outstanding, active loans) on `as_of`."""
    owed: dict[str, tuple[int, int, int]] = defaultdict(lambda: (0, 0, 0))
    for loan in queries.group_loans(conn, group, as_of, active_only=True):
        total, principal, count = owed[loan.member]
        owed[loan.member] = (
            total + loan.state.owed,
            principal + loan.state.principal_outstanding,
            count + 1,
        )
    return dict(owed)


def read_group_home(conn: Connection, code: str) -> GroupHome:
    group = queries.get_group(conn, code)
    cycle = queries.open_cycle(conn, group)
    balances = queries.current_balances(conn, group)
    members = queries.list_members(conn, code)
    last = queries.last_meeting_date(conn, group)
    next_meeting = next_meeting_date(group, cycle, last)
    # What each member owes on the day the treasurer collects it: the next meeting.
    owed = owed_by_member(conn, group, next_meeting)
    cash = balances.get(rules.CASH, 0)
    social = -balances.get(rules.SOCIAL_FUND, 0)
    price = group.constitution.share_price
    lines = []
    for member in members:
        if member.left_on is not None:
            continue
        savings = -balances.get(rules.savings_account(member.number), 0)
        total, _, count = owed.get(member.number, (0, 0, 0))
        lines.append(
            MemberLine(
                member.number, member.role, savings // price if price else 0, savings, total, count
            )
        )
    meetings = queries.list_meetings(conn, code, cycle.number)
    return GroupHome(
        group=group,
        cycle=cycle,
        cash_box=cash,
        social_fund=social,
        loan_fund=cash - social,
        loans_out=sum(principal for _, principal, _ in owed.values()),
        members=tuple(lines),
        last_meeting=last,
        next_meeting=next_meeting,
        meetings_in_cycle=len(meetings),
    )
