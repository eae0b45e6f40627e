"""The share-out: post the cycle's closing entries and payouts, keep the share-out's record,
settle every loan from the payouts, and open the next cycle."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection, insert, update

from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, reject_if
from ledger.savings import rules
from ledger.savings.queries import (
    Cycle,
    Group,
    Loan,
    Member,
    ShareOutView,
    balances_as_of,
    current_balances,
    get_cycle,
    group_loans,
    group_members,
    last_meeting_date,
    share_out_view,
)
from ledger.savings.rules import CASH
from ledger.savings.service.groups import lock_group
from ledger.savings.service.loans import NewLoan, insert_loans
from ledger.store import journal
from ledger.store.books import utc_now
from ledger.store.tables import (
    savings_cycles,
    savings_loan_payments,
    savings_loans,
    savings_share_out_lines,
    savings_share_outs,
)


def _next_planned_end(
    conn: Connection,
    group: Group,
    cycle: Cycle,
    date: datetime.date,
    next_planned_end: datetime.date | None,
) -> datetime.date:
    """The checks on the date of a share-out; the planned end of the next cycle."""
    if cycle.status == "shared_out":
        raise LedgerRejected([conflict("cycle_shared_out", "This cycle is shared out already.")])
    errors: list[LedgerError] = []
    if date < cycle.planned_end_date:
        errors.append(
            conflict(
                "cycle_not_ended",
                f"The cycle is planned to end on {cycle.planned_end_date.isoformat()}.",
                "date",
            )
        )
    last = last_meeting_date(conn, group)
    if last is not None and date <= last:
        errors.append(
            conflict(
                "share_out_before_last_meeting",
                "A share-out comes after the cycle's last meeting (its cash count closed "
                "that day).",
                "date",
            )
        )
    planned_end = next_planned_end or date + (cycle.planned_end_date - cycle.start_date)
    if planned_end <= date:
        errors.append(
            invalid("cycle_end_invalid", "The next cycle ends after it starts.", "next_planned_end")
        )
    reject_if(errors)
    return planned_end


def execute_share_out(
    conn: Connection,
    code: str,
    cycle_number: int,
    date: datetime.date,
    next_planned_end: datetime.date | None,
    created_by: str | None,
) -> ShareOutView:
    """Post the cycle's closing entries and payouts, settle loans, open the next cycle.
    Returns the share-out as executed."""
    group = lock_group(conn, code)
    cycle = get_cycle(conn, group, cycle_number)
    planned_end = _next_planned_end(conn, group, cycle, date, next_planned_end)
    balances = balances_as_of(conn, group, date)
    view = share_out_view(conn, group, cycle, date, balances)
    # Compared without zero balances: an account whose postings net to zero within each
    # transaction (a loan paid out of the box the same day it came in) has no balance row.
    current = current_balances(conn, group)
    if _nonzero(current) != _nonzero(balances):
        raise LedgerRejected(
            [conflict("postings_after_share_out", "The book has postings after this date.", "date")]
        )
    members = {m.number: m for m in group_members(conn, group)}
    txns = rules.share_out_transactions(
        date,
        cycle.number,
        group.currency,
        {a: current.get(a, 0) for a in rules.RESULT_ACCOUNTS},
        view.result,
        members,
    )
    journal.post_many(conn, code, txns, created_by=created_by)
    journal.assert_balance(
        conn, code, CASH, group.currency, date, view.social_fund + view.result.carried_forward
    )
    _store_share_out(conn, group, cycle, view, members, created_by)
    next_cycle_id = _close_cycle(conn, group, cycle, date, planned_end)
    _settle_loans(conn, group, date, view.result, members, next_cycle_id)
    return replace(view, executed=True)


def _store_share_out(
    conn: Connection,
    group: Group,
    cycle: Cycle,
    view: ShareOutView,
    members: dict[str, Member],
    created_by: str | None,
) -> None:
    """The share-out's record: its totals and each member's line, as a read shows them."""
    result = view.result
    share_out_id = conn.execute(
        insert(savings_share_outs)
        .values(
            book_id=group.book_id,
            cycle_id=cycle.id,
            date=view.date,
            total_shares=result.total_shares,
            cash_available=result.cash_available,
            value_per_share=f"{result.value_per_share.numerator}/"
            f"{result.value_per_share.denominator}",
            social_fund=view.social_fund,
            carried_forward=result.carried_forward,
            loans_carried_forward=result.loans_carried_forward,
            interest_income=view.interest_income,
            fines_income=view.fines_income,
            write_offs=view.write_offs,
            cash_differences=view.cash_differences,
            carried_in=view.carried_in,
            created_at=utc_now(),
            created_by=created_by,
        )
        .returning(savings_share_outs.c.id)
    ).scalar_one()
    conn.execute(
        insert(savings_share_out_lines),
        [
            {
                "share_out_id": int(share_out_id),
                "member_id": members[line.member].id,
                "book_id": group.book_id,
                "shares": line.shares,
                "savings": line.savings,
                "interest_due": line.interest_due,
                "share_value": line.share_value,
                "profit": line.profit,
                "interest_deducted": line.interest_deducted,
                "principal_deducted": line.principal_deducted,
                "payout": line.payout,
                "loan_carried": line.loan_carried,
            }
            for line in result.lines
        ],
    )


def _close_cycle(
    conn: Connection,
    group: Group,
    cycle: Cycle,
    date: datetime.date,
    planned_end: datetime.date,
) -> int:
    """The cycle is shared out; the next one opens the day after. Its id."""
    conn.execute(
        update(savings_cycles)
        .where(savings_cycles.c.id == cycle.id)
        .values(status="shared_out", shared_out_on=date)
    )
    return int(
        conn.execute(
            insert(savings_cycles)
            .values(
                book_id=group.book_id,
                number=cycle.number + 1,
                start_date=date + datetime.timedelta(days=1),
                planned_end_date=planned_end,
                status="open",
            )
            .returning(savings_cycles.c.id)
        ).scalar_one()
    )


def _settle_loans(
    conn: Connection,
    group: Group,
    date: datetime.date,
    result: rules.ShareOut,
    members: dict[str, Member],
    next_cycle_id: int,
) -> None:
    """Each active loan: its interest due and principal settled from the payout, oldest loan
    first; what a payout cannot cover becomes one new loan in the next cycle."""
    by_member: dict[str, list[Loan]] = defaultdict(list)
    for loan in group_loans(conn, group, date, active_only=True):
        by_member[loan.member].append(loan)
    payments: list[dict[str, object]] = []
    closed: dict[str, list[int]] = defaultdict(list)  # loan ids by their new status
    rolled: list[NewLoan] = []
    for line in result.lines:
        loans = by_member.get(line.member, [])
        if not loans:
            continue
        payments.extend(_share_out_payments(group, date, line, loans))
        closed["rolled_over" if line.loan_carried else "repaid"].extend(x.id for x in loans)
        if line.loan_carried:
            rolled.append(
                NewLoan(
                    cycle_id=next_cycle_id,
                    member_id=members[line.member].id,
                    disbursed_on=date,
                    principal=line.loan_carried,
                    term_months=1,
                    rolled_from_id=loans[-1].id,
                )
            )
    if payments:
        conn.execute(insert(savings_loan_payments), payments)
    for status, loan_ids in closed.items():
        conn.execute(
            update(savings_loans)
            .where(savings_loans.c.id.in_(loan_ids))
            .values(status=status, closed_on=date)
        )
    insert_loans(conn, group, rolled)


def _share_out_payments(
    group: Group, date: datetime.date, line: rules.ShareOutLine, loans: Sequence[Loan]
) -> list[dict[str, object]]:
    """What one member's share-out line pays on their loans, as payment rows."""
    allocated = rules.allocate_repayment(
        line.loan_deducted, [(loan.id, loan.state) for loan in loans], "payout"
    )
    # The share-out settled at most the debt these loans hold.
    assert not isinstance(allocated, LedgerError)
    return [
        {
            "book_id": group.book_id,
            "loan_id": loan_id,
            "date": date,
            "kind": "share_out",
            "interest": interest,
            "principal": principal,
            "meeting_id": None,
        }
        for loan_id, interest, principal in allocated
    ]


def _nonzero(balances: dict[str, int]) -> dict[str, int]:
    return {name: units for name, units in balances.items() if units != 0}
