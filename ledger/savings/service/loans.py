"""Loans in the group's records: new loans (from a meeting or rolled over at a share-out) and
write-offs by the group's decision."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, update

from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, reject_if
from ledger.core.text import validate_text
from ledger.savings import rules
from ledger.savings.queries import Group, Loan, closed_loan, group_loan, open_cycle
from ledger.savings.rules import Payment
from ledger.savings.service.groups import lock_group
from ledger.store import journal
from ledger.store.tables import savings_loan_payments, savings_loans


@dataclass(frozen=True, slots=True)
class NewLoan:
    """A loan to record, at the group's current interest rate and method."""

    cycle_id: int
    member_id: int
    disbursed_on: datetime.date
    principal: int
    term_months: int
    meeting_id: int | None = None  # None: rolled over at a share-out
    rolled_from_id: int | None = None


def insert_loans(conn: Connection, group: Group, loans: Sequence[NewLoan]) -> list[int]:
    """Record `loans` in one statement; their ids, in the order given."""
    if not loans:
        return []
    c = group.constitution
    rows = [
        {
            "book_id": group.book_id,
            "cycle_id": loan.cycle_id,
            "member_id": loan.member_id,
            "meeting_id": loan.meeting_id,
            "disbursed_on": loan.disbursed_on,
            "principal": loan.principal,
            "interest_rate_monthly_percent": str(c.interest_rate_monthly_percent),
            "interest_method": c.interest_method,
            "term_months": loan.term_months,
            "status": "active",
            "closed_on": None,
            "rolled_from_id": loan.rolled_from_id,
        }
        for loan in loans
    ]
    ids = conn.execute(
        insert(savings_loans).returning(savings_loans.c.id, sort_by_parameter_order=True), rows
    ).scalars()
    return [int(loan_id) for loan_id in ids]


def _check_write_off(
    conn: Connection, group: Group, loan: Loan, date: datetime.date, reason: str
) -> None:
    if loan.status != "active":
        raise LedgerRejected([conflict("loan_not_active", "This loan is not active.")])
    errors: list[LedgerError] = []
    if not reason.strip():
        errors.append(invalid("reason_required", "Say why the group writes it off.", "reason"))
    text_error = validate_text(reason, rules.REASON_LENGTH_MAX, "reason")
    if text_error:
        errors.append(text_error)
    last_payment = max((p.date for p in loan.payments), default=loan.disbursed_on)
    if date < last_payment:
        errors.append(
            invalid(
                "write_off_before_last_payment",
                "A write-off is dated on or after the loan's last payment.",
                "date",
            )
        )
    if date < open_cycle(conn, group).start_date:
        errors.append(conflict("cycle_closed", "This date is in a closed cycle.", "date"))
    reject_if(errors)


def write_off_loan(
    conn: Connection,
    code: str,
    loan_id: int,
    date: datetime.date,
    reason: str,
    created_by: str | None,
) -> Loan:
    """The group decided the loan will not be repaid: its principal becomes a loss, which
    lowers the fund the members share out. Returns the loan as it stands on `date`."""
    group = lock_group(conn, code)
    loan = group_loan(conn, group, loan_id, date)
    _check_write_off(conn, group, loan, date, reason)
    principal = loan.state.principal_outstanding
    journal.post(
        conn,
        code,
        rules.write_off_transaction(date, loan.member, loan.id, principal, reason, group.currency),
        created_by=created_by,
    )
    conn.execute(
        insert(savings_loan_payments).values(
            book_id=group.book_id,
            loan_id=loan.id,
            date=date,
            kind="write_off",
            interest=0,
            principal=principal,
            meeting_id=None,
        )
    )
    conn.execute(
        update(savings_loans)
        .where(savings_loans.c.id == loan.id)
        .values(status="written_off", closed_on=date)
    )
    return closed_loan(loan, "written_off", date, Payment(date, 0, principal))
