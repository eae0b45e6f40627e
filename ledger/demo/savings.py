"""Two savings groups in Kampong Thom, each with its own book: weekly meetings from September
to December 2018 with shares, the social fund, fines, loans and their repayments, a
social-fund grant after a death in a member's family, and (in the first group) the end of the
cycle with its share-out. Members are numbered; names never enter a group's book."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from sqlalchemy import Connection

from ledger.households.rules import PersonFacts
from ledger.savings import queries, rules, service
from ledger.savings.service import (
    ConstitutionDraft,
    EntryDraft,
    GroupDraft,
    LoanDraft,
    MeetingDraft,
)

D = datetime.date
TREASURER = "srey.treasurer"
FORMED_ON = D(2018, 8, 27)
CYCLE_END = D(2018, 12, 24)
FIRST_MEETING = D(2018, 9, 3)
WEEKS = 17  # Mondays, 3 September to 24 December 2018
LOAN_ROUNDING = 10_000


@dataclass(frozen=True, slots=True)
class DemoGroup:
    code: str
    name: str
    village: str
    commune: str
    members: int
    share_price: int
    interest_rate_monthly_percent: str
    interest_method: str
    # week number -> members (by index) who borrow at that meeting
    borrowers: dict[int, tuple[int, ...]]
    # week number -> (member index, grant from the social fund)
    grants: dict[int, tuple[int, int]]
    share_out_on: datetime.date | None
    # week number -> (riel missing from the count, the reason the group accepted)
    short_counts: dict[int, tuple[int, str]] = dataclasses.field(default_factory=dict)
    planned_end: datetime.date = CYCLE_END


GROUPS = (
    DemoGroup(
        code="sg-kt-001",
        name="Prasat Balang women's savings group / ក្រុមសន្សំប្រាសាទបល្ល័ង្គ",
        village="Kampong Svay",
        commune="Prasat Balang",
        members=18,
        share_price=5_000,
        interest_rate_monthly_percent="3",
        interest_method="flat",
        borrowers={3: (1, 3, 5), 5: (2, 4, 8), 8: (6, 10, 12)},
        grants={9: (7, 40_000)},
        share_out_on=D(2018, 12, 26),
    ),
    DemoGroup(
        code="sg-kt-002",
        name="Stoung livestock savings group / ក្រុមសន្សំស្ទោង",
        village="Chamnar Krom",
        commune="Chamnar Leu",
        members=15,
        share_price=2_000,
        interest_rate_monthly_percent="2",
        interest_method="declining",
        borrowers={4: (1, 2, 9), 7: (3, 11), 10: (5,)},
        grants={12: (4, 20_000)},
        share_out_on=None,
        short_counts={14: (200, "Two 100 riel notes lost in the rain / បាត់ក្រដាសប្រាក់ពីរសន្លឹក")},
    ),
)


def _number(index: int) -> str:
    return f"M{index:02d}"


def _is_absent(index: int, week: int) -> bool:
    return (index + 2 * week) % 13 == 0


def meeting_draft(conn: Connection, group: DemoGroup, week: int) -> MeetingDraft:
    """The treasurer's record of one meeting, with the cash the box then holds."""
    date = FIRST_MEETING + datetime.timedelta(weeks=week)
    stored = queries.get_group(conn, group.code)
    balances = queries.balances_as_of(conn, stored, date)
    cash = balances.get(rules.CASH, 0)
    social = -balances.get(rules.SOCIAL_FUND, 0)
    owed: dict[str, queries.Loan] = {
        loan.member: loan for loan in queries.group_loans(conn, stored, date, active_only=True)
    }
    entries = []
    for index in range(1, group.members + 1):
        number = _number(index)
        if _is_absent(index, week):
            entries.append(EntryDraft(member=number, attendance="absent"))
            continue
        shares = 1 + (index * 7 + week) % 5
        fines = 1_000 if week and _is_absent(index, week - 1) else 0
        if index % 6 == 0 and week % 4 == 1:
            fines += 500  # late
        repaid = 0
        loan = owed.get(number)
        # Repay about a third of the principal with the interest every four weeks.
        if (
            loan is not None
            and (date - loan.disbursed_on).days % 28 == 0
            and date > loan.disbursed_on
        ):
            part = -(-loan.principal // 3 // 100) * 100
            repaid = min(loan.state.owed, loan.state.interest_due + part)
        savings = -balances.get(rules.savings_account(number), 0) + shares * group.share_price
        cash += shares * group.share_price + 500 + fines + repaid
        social += 500
        taken = None
        if index in group.borrowers.get(week, ()) and number not in owed:
            amount = (2 * savings) // LOAN_ROUNDING * LOAN_ROUNDING
            amount = min(amount, (cash - social) // LOAN_ROUNDING * LOAN_ROUNDING)
            if amount > 0:
                taken = LoanDraft(str(amount), 3)
                cash -= amount
        grant = 0
        if group.grants.get(week, (0, 0))[0] == index:
            grant = group.grants[week][1]
            cash -= grant
            social -= grant
        entries.append(
            EntryDraft(
                member=number,
                attendance="present",
                shares=shares,
                social_fund_paid="500",
                fines_paid=str(fines),
                loan_repaid=str(repaid),
                loan_taken=taken,
                grant_received=str(grant),
            )
        )
    short, reason = group.short_counts.get(week, (0, None))
    return MeetingDraft(
        date=date,
        entries=tuple(entries),
        cash_counted=str(cash - short),
        cash_difference_reason=reason,
    )


def create_demo_group(conn: Connection, group: DemoGroup) -> None:
    """The group with its constitution, formed on 27 August 2018, and its members."""
    service.create_group(
        conn,
        GroupDraft(
            code=group.code,
            name=group.name,
            village=group.village,
            commune=group.commune,
            province="Kampong Thom",
            formed_on=FORMED_ON,
            currency="KHR",
            meeting_frequency="weekly",
            constitution=ConstitutionDraft(
                share_price=str(group.share_price),
                shares_per_meeting_min=1,
                shares_per_meeting_max=5,
                social_fund_per_meeting="500",
                interest_rate_monthly_percent=group.interest_rate_monthly_percent,
                interest_method=group.interest_method,
                loan_savings_multiple=3,
                loan_term_months_max=6,
                fine_late="500",
                fine_absent="1000",
                fine_other="500",
            ),
            cycle_start=FORMED_ON,
            cycle_planned_end=group.planned_end,
        ),
    )
    for index in range(1, group.members + 1):
        role = {1: "chair", 2: "treasurer", 3: "key_holder", 4: "key_holder"}.get(index, "member")
        service.add_member(
            conn, group.code, _number(index), role, FORMED_ON, person=_person(group, index)
        )


def _person(group: DemoGroup, index: int) -> PersonFacts:
    """Sex and age band of a member (no names): the women's group is all women; in the other
    group every third member is a man."""
    sex = "male" if "women's" not in group.name and index % 3 == 0 else "female"
    return PersonFacts(sex, None, ("25-34", "35-49", "50-64")[index % 3])


def load_savings_groups(conn: Connection) -> list[str]:
    """Create both groups and record their meetings (and the first group's share-out)."""
    done = []
    for group in GROUPS:
        create_demo_group(conn, group)
        for week in range(WEEKS):
            service.record_meeting(conn, group.code, meeting_draft(conn, group, week), TREASURER)
        done.append(
            f"demo: book {group.code!r}: savings group of {group.members} members, "
            f"{WEEKS} weekly meetings"
        )
        if group.share_out_on is not None:
            shared = service.execute_share_out(
                conn, group.code, 1, group.share_out_on, D(2019, 12, 23), TREASURER
            )
            done.append(
                f"demo: book {group.code!r}: cycle 1 shared out on {group.share_out_on}, "
                f"{shared.result.payouts} riel paid out"
            )
    return done
