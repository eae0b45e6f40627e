"""A whole meeting at once: every member's part is checked against the group's records and
book, posted, and the cash count asserted, or nothing lands."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, update

from ledger.core.errors import LedgerError, conflict, invalid, reject_if
from ledger.core.text import validate_text
from ledger.savings import rules
from ledger.savings.queries import (
    Cycle,
    Group,
    Loan,
    Meeting,
    MeetingDates,
    MeetingEntry,
    Member,
    balances_as_of,
    group_loans,
    group_members,
    meeting_dates,
    open_cycle,
)
from ledger.savings.rules import (
    ATTENDANCES,
    ATTENDED,
    CASH,
    SOCIAL_FUND,
    Constitution,
    MemberFlows,
    Payment,
)
from ledger.savings.service.groups import lock_group, parse_amount
from ledger.savings.service.loans import NewLoan, insert_loans
from ledger.store import journal
from ledger.store.books import utc_now
from ledger.store.tables import (
    savings_loan_payments,
    savings_loans,
    savings_meeting_entries,
    savings_meetings,
)


@dataclass(frozen=True, slots=True)
class LoanDraft:
    amount: str
    term_months: int


@dataclass(frozen=True, slots=True)
class EntryDraft:
    member: str
    attendance: str
    shares: int = 0
    social_fund_paid: str = "0"
    fines_paid: str = "0"
    loan_repaid: str = "0"
    loan_taken: LoanDraft | None = None
    grant_received: str = "0"


@dataclass(frozen=True, slots=True)
class MeetingDraft:
    date: datetime.date
    entries: tuple[EntryDraft, ...]
    cash_counted: str
    cash_difference_reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Before:
    """What the group's records and book say before the meeting."""

    group: Group
    date: datetime.date
    members: dict[str, Member]  # by number, in the order the group lists them
    loans: dict[str, list[Loan]]  # each member's active loans, oldest first
    balances: dict[str, int]  # every account at the end of the meeting's day


@dataclass(frozen=True, slots=True)
class _Planned:
    """One member's part of a meeting, checked: flows, repayments per loan, a new loan."""

    member: Member
    attendance: str
    flows: MemberFlows
    repayments: tuple[tuple[int, int, int], ...]  # (loan id, interest, principal)
    loan_term_months: int


@dataclass(frozen=True, slots=True)
class _Amounts:
    """One entry's amounts in smallest units."""

    social_fund_paid: int
    fines_paid: int
    repaid: int
    grant_received: int
    loan_taken: int
    loan_term_months: int


@dataclass(frozen=True, slots=True)
class _Count:
    """The cash count as the meeting records it."""

    cash_counted: int
    cash_difference: int
    cash_difference_reason: str | None


def _entry_member(
    field: str, entry: EntryDraft, before: _Before, errors: list[LedgerError]
) -> Member | None:
    """The member of an entry, if they may take part on the meeting's date."""
    member = before.members.get(entry.member)
    if member is None:
        errors.append(invalid("member_unknown", "No such member in this group.", f"{field}.member"))
        return None
    if member.left_on is not None and member.left_on <= before.date:
        errors.append(conflict("member_left", "This member has left the group.", f"{field}.member"))
        return None
    if member.joined_on > before.date:
        errors.append(
            invalid("member_not_joined", "The member joins after this date.", f"{field}.member")
        )
        return None
    return member


def _check_shares(
    field: str, entry: EntryDraft, c: Constitution, errors: list[LedgerError]
) -> None:
    if entry.attendance not in ATTENDANCES:
        errors.append(
            invalid(
                "attendance_invalid",
                f"attendance is one of {', '.join(ATTENDANCES)}.",
                f"{field}.attendance",
            )
        )
    if entry.shares > c.shares_per_meeting_max:
        errors.append(
            invalid(
                "shares_above_limit",
                f"The constitution allows at most {c.shares_per_meeting_max} shares per meeting.",
                f"{field}.shares",
            )
        )
    elif entry.attendance == "present" and entry.shares < c.shares_per_meeting_min:
        errors.append(
            invalid(
                "shares_below_minimum",
                f"A member present buys at least {c.shares_per_meeting_min} shares.",
                f"{field}.shares",
            )
        )
    elif entry.shares < 0:
        errors.append(invalid("amount_negative", "Shares are zero or more.", f"{field}.shares"))


def _entry_amounts(
    field: str, entry: EntryDraft, group: Group, errors: list[LedgerError]
) -> _Amounts | None:
    """The entry's amounts, or None when one of them is refused (the reasons in `errors`)."""
    before = len(errors)
    p = group.precision
    social = parse_amount(entry.social_fund_paid, p, f"{field}.social_fund_paid", errors)
    fines = parse_amount(entry.fines_paid, p, f"{field}.fines_paid", errors)
    repaid = parse_amount(entry.loan_repaid, p, f"{field}.loan_repaid", errors)
    grant = parse_amount(entry.grant_received, p, f"{field}.grant_received", errors)
    taken = 0
    term = 0
    if entry.loan_taken is not None:
        taken = parse_amount(entry.loan_taken.amount, p, f"{field}.loan_taken.amount", errors)
        term = entry.loan_taken.term_months
        if taken == 0 and len(errors) == before:
            errors.append(
                invalid("amount_zero", "A loan is more than zero.", f"{field}.loan_taken.amount")
            )
        if not 1 <= term <= group.constitution.loan_term_months_max:
            errors.append(
                invalid(
                    "loan_term_above_limit",
                    "The constitution allows loans of 1 to "
                    f"{group.constitution.loan_term_months_max} months.",
                    f"{field}.loan_taken.term_months",
                )
            )
    if len(errors) > before:
        return None
    return _Amounts(social, fines, repaid, grant, taken, term)


def _check_new_loan(
    field: str,
    flows: MemberFlows,
    savings_before: int,
    loans: Sequence[Loan],
    repayments: Sequence[tuple[int, int, int]],
    before: _Before,
    errors: list[LedgerError],
) -> None:
    """A new loan stays within the multiple of the member's savings, and (unless the
    constitution allows it) goes to no member with a loan in arrears."""
    c = before.group.constitution
    outstanding = sum(loan.state.principal_outstanding for loan in loans) - flows.principal_repaid
    limit = c.loan_savings_multiple * (savings_before + flows.savings)
    if outstanding + flows.loan_taken > limit:
        errors.append(
            invalid(
                "loan_above_limit",
                f"Loans outstanding would be {outstanding + flows.loan_taken}; the constitution "
                f"allows {c.loan_savings_multiple} times the member's savings: {limit}.",
                f"{field}.loan_taken.amount",
            )
        )
    if c.lend_to_members_in_arrears:
        return
    paid_now = {loan_id: (i, p) for loan_id, i, p in repayments}
    for loan in loans:
        i, p = paid_now.get(loan.id, (0, 0))
        after = (*loan.payments, Payment(before.date, i, p)) if i or p else loan.payments
        if rules.days_in_arrears(loan.terms, after, before.date) > 0:
            errors.append(
                conflict(
                    "member_in_arrears",
                    "The constitution lends nothing to a member with a loan in arrears.",
                    f"{field}.loan_taken",
                )
            )
            return


def _plan_entry(
    index: int, entry: EntryDraft, before: _Before, errors: list[LedgerError]
) -> _Planned | None:
    field = f"entries[{index}]"
    member = _entry_member(field, entry, before, errors)
    if member is None:
        return None
    _check_shares(field, entry, before.group.constitution, errors)
    amounts = _entry_amounts(field, entry, before.group, errors)
    if amounts is None:
        return None
    loans = before.loans.get(entry.member, [])
    repayments: list[tuple[int, int, int]] = []
    if amounts.repaid:
        owed = [(loan.id, loan.state) for loan in loans]
        allocated = rules.allocate_repayment(amounts.repaid, owed, f"{field}.loan_repaid")
        if isinstance(allocated, LedgerError):
            errors.append(allocated)
            return None
        repayments = allocated
    flows = MemberFlows(
        member=member.number,
        shares=entry.shares,
        savings=entry.shares * before.group.constitution.share_price,
        social_fund_paid=amounts.social_fund_paid,
        fines_paid=amounts.fines_paid,
        interest_paid=sum(i for _, i, _ in repayments),
        principal_repaid=sum(p for _, _, p in repayments),
        loan_taken=amounts.loan_taken,
        grant_received=amounts.grant_received,
    )
    if flows.loan_taken:
        savings_before = -before.balances.get(rules.savings_account(entry.member), 0)
        _check_new_loan(field, flows, savings_before, loans, repayments, before, errors)
    return _Planned(member, entry.attendance, flows, tuple(repayments), amounts.loan_term_months)


def _check_meeting_date(
    dates: MeetingDates, cycle: Cycle, date: datetime.date
) -> list[LedgerError]:
    last = dates.last
    if last is not None and date == last:
        return [
            conflict(
                "meeting_date_taken",
                f"The group already met on {last.isoformat()}: one meeting a day.",
                "date",
            )
        ]
    if last is not None and date < last:
        return [
            conflict(
                "meeting_date_not_after_previous",
                f"The group's last meeting was on {last.isoformat()}; a meeting comes after it.",
                "date",
            )
        ]
    if date < cycle.start_date:
        if cycle.number > 1:
            return [conflict("cycle_closed", "This date is in a closed cycle.", "date")]
        return [
            invalid("meeting_before_cycle_start", "The group's first cycle starts later.", "date")
        ]
    return []


def _check_draft(draft: MeetingDraft, group: Group, errors: list[LedgerError]) -> int:
    """Each member once, the reason's text; the cash counted in smallest units."""
    seen: set[str] = set()
    for index, entry in enumerate(draft.entries):
        if entry.member in seen:
            errors.append(
                invalid(
                    "member_repeated",
                    "A member appears once per meeting.",
                    f"entries[{index}].member",
                )
            )
        seen.add(entry.member)
    counted = parse_amount(draft.cash_counted, group.precision, "cash_counted", errors)
    reason = draft.cash_difference_reason
    if reason is not None:
        text_error = validate_text(reason, rules.REASON_LENGTH_MAX, "cash_difference_reason")
        if text_error:
            errors.append(text_error)
    return counted


def _check_cash(
    planned: Sequence[_Planned],
    before: _Before,
    counted: int,
    reason: str | None,
    errors: list[LedgerError],
) -> int:
    """The social fund and the loan fund cover the meeting's grants and loans; the count
    agrees with the book or a reason accepts it. The difference, counted less the book."""
    social_after = (
        -before.balances.get(SOCIAL_FUND, 0)
        + sum(p.flows.social_fund_paid for p in planned)
        - sum(p.flows.grant_received for p in planned)
    )
    if social_after < 0:
        errors.append(
            conflict(
                "grant_exceeds_social_fund",
                "Grants at this meeting are more than the social fund holds.",
                "entries",
            )
        )
    cash_after = before.balances.get(CASH, 0) + sum(
        p.flows.cash_in - p.flows.cash_out for p in planned
    )
    if any(p.flows.loan_taken for p in planned) and cash_after - social_after < 0:
        errors.append(
            conflict(
                "loan_fund_insufficient",
                "The loans are more than the cash the group holds outside its social fund.",
                "entries",
            )
        )
    difference = counted - cash_after
    if difference and not (reason and reason.strip()):
        errors.append(
            conflict(
                "cash_count_differs",
                f"The book holds {cash_after} after this meeting, the count says {counted}: "
                "recount, or accept the difference with a cash_difference_reason.",
                "cash_counted",
            )
        )
    return difference


def _read_before(conn: Connection, group: Group, date: datetime.date) -> _Before:
    loans: dict[str, list[Loan]] = defaultdict(list)
    for loan in group_loans(conn, group, date, active_only=True):
        loans[loan.member].append(loan)
    return _Before(
        group=group,
        date=date,
        members={m.number: m for m in group_members(conn, group)},
        loans=loans,
        balances=balances_as_of(conn, group, date),
    )


def record_meeting(
    conn: Connection, code: str, draft: MeetingDraft, created_by: str | None
) -> Meeting:
    """One whole meeting: every member's part posts, the cash count is checked and asserted,
    or nothing lands. Returns the meeting as a read shows it, with the new loans' ids."""
    group = lock_group(conn, code)
    cycle = open_cycle(conn, group)
    dates = meeting_dates(conn, group, cycle)
    reject_if(_check_meeting_date(dates, cycle, draft.date))
    before = _read_before(conn, group, draft.date)
    errors: list[LedgerError] = []
    counted = _check_draft(draft, group, errors)
    reject_if(errors)
    planned = [
        plan
        for index, entry in enumerate(draft.entries)
        if (plan := _plan_entry(index, entry, before, errors)) is not None
    ]
    reject_if(errors)
    reason = draft.cash_difference_reason
    difference = _check_cash(planned, before, counted, reason, errors)
    reject_if(errors)
    count = _Count(counted, difference, reason if difference else None)
    meeting_id = _insert_meeting(conn, before, cycle, count, planned, created_by)
    _post_meeting(conn, before, count, planned, created_by)
    loan_ids = _store_entries(conn, before, cycle, meeting_id, planned)
    return Meeting(
        id=meeting_id,
        cycle=cycle.number,
        number=dates.held_in_cycle + 1,  # the date comes after every meeting of the group
        date=draft.date,
        cash_counted=count.cash_counted,
        cash_difference=count.cash_difference,
        cash_difference_reason=count.cash_difference_reason,
        entries=_entries(planned, before.members),
        precision=group.precision,
        loan_ids=tuple(loan_ids),
    )


def _insert_meeting(
    conn: Connection,
    before: _Before,
    cycle: Cycle,
    count: _Count,
    planned: Sequence[_Planned],
    created_by: str | None,
) -> int:
    return int(
        conn.execute(
            insert(savings_meetings)
            .values(
                book_id=before.group.book_id,
                cycle_id=cycle.id,
                date=before.date,
                cash_counted=count.cash_counted,
                cash_difference=count.cash_difference,
                cash_difference_reason=count.cash_difference_reason,
                created_at=utc_now(),
                created_by=created_by,
                attended=sum(p.attendance in ATTENDED for p in planned),
                attendance_records=len(planned),
            )
            .returning(savings_meetings.c.id)
        ).scalar_one()
    )


def _post_meeting(
    conn: Connection,
    before: _Before,
    count: _Count,
    planned: Sequence[_Planned],
    created_by: str | None,
) -> None:
    """Every member's transaction and the accepted cash difference; the count asserted."""
    group, date = before.group, before.date
    link = f"meeting-{date.isoformat()}"
    txns = [
        t
        for p in planned
        if (t := rules.meeting_transaction(date, link, p.flows, group.currency)) is not None
    ]
    if count.cash_difference_reason is not None:
        txns.append(
            rules.cash_difference_transaction(
                date,
                link,
                count.cash_difference,
                count.cash_difference_reason.strip(),
                group.currency,
            )
        )
    journal.post_many(conn, group.code, txns, created_by=created_by)
    journal.assert_balance(conn, group.code, CASH, group.currency, date, count.cash_counted)


def _entries(planned: Sequence[_Planned], members: dict[str, Member]) -> tuple[MeetingEntry, ...]:
    """The meeting's entries as a read lists them: in the group's order of members."""
    order = {number: position for position, number in enumerate(members)}
    return tuple(
        MeetingEntry(
            member=p.member.number,
            attendance=p.attendance,
            shares=p.flows.shares,
            social_fund_paid=p.flows.social_fund_paid,
            fines_paid=p.flows.fines_paid,
            interest_paid=p.flows.interest_paid,
            principal_repaid=p.flows.principal_repaid,
            loan_taken=p.flows.loan_taken,
            grant_received=p.flows.grant_received,
        )
        for p in sorted(planned, key=lambda p: order[p.member.number])
    )


def _store_entries(
    conn: Connection,
    before: _Before,
    cycle: Cycle,
    meeting_id: int,
    planned: Sequence[_Planned],
) -> list[int]:
    """The group's records of the meeting: entries, repayments, loans repaid and new loans
    (their ids, in the order of the entries)."""
    group, date = before.group, before.date
    if planned:
        conn.execute(
            insert(savings_meeting_entries),
            [
                {
                    "meeting_id": meeting_id,
                    "member_id": p.member.id,
                    "book_id": group.book_id,
                    "attendance": p.attendance,
                    "shares": p.flows.shares,
                    "social_fund_paid": p.flows.social_fund_paid,
                    "fines_paid": p.flows.fines_paid,
                    "interest_paid": p.flows.interest_paid,
                    "principal_repaid": p.flows.principal_repaid,
                    "loan_taken": p.flows.loan_taken,
                    "grant_received": p.flows.grant_received,
                }
                for p in planned
            ],
        )
    _store_repayments(conn, before, meeting_id, planned)
    new_loans = [
        NewLoan(
            cycle_id=cycle.id,
            member_id=p.member.id,
            disbursed_on=date,
            principal=p.flows.loan_taken,
            term_months=p.loan_term_months,
            meeting_id=meeting_id,
        )
        for p in planned
        if p.flows.loan_taken
    ]
    return insert_loans(conn, group, new_loans)


def _store_repayments(
    conn: Connection, before: _Before, meeting_id: int, planned: Sequence[_Planned]
) -> None:
    """Each repayment per loan; a loan whose principal is paid off is repaid."""
    payments = [
        {
            "book_id": before.group.book_id,
            "loan_id": loan_id,
            "date": before.date,
            "kind": "repayment",
            "interest": interest,
            "principal": principal,
            "meeting_id": meeting_id,
        }
        for p in planned
        for loan_id, interest, principal in p.repayments
    ]
    if payments:
        conn.execute(insert(savings_loan_payments), payments)
    repaid = [
        loan.id
        for p in planned
        for loan in before.loans.get(p.member.number, [])
        for loan_id, _, principal in p.repayments
        if loan.id == loan_id and loan.state.principal_outstanding == principal
    ]
    if repaid:
        conn.execute(
            update(savings_loans)
            .where(savings_loans.c.id.in_(repaid))
            .values(status="repaid", closed_on=before.date)
        )
