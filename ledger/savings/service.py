"""Savings groups: validate each request against what is stored, then hand the posting rules'
transactions to the journal and keep the group's own records beside them.

Every function takes the caller's open `Connection` (one unit of work: a meeting lands whole
or not at all) and raises `LedgerRejected` with every problem found, as data.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Connection, and_, func, insert, select, update

from ledger.core.amount import parse_units
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    invalid,
    reject_if,
)
from ledger.core.text import has_forbidden_character, validate_text
from ledger.people.contacts import validate_case_code
from ledger.savings import rules
from ledger.savings.queries import (
    PLACE_LENGTH_MAX,
    Cycle,
    Group,
    Loan,
    Meeting,
    Member,
    ShareOutView,
    balances_as_of,
    constitution_columns,
    current_balances,
    get_cycle,
    get_group,
    get_loan,
    get_meeting,
    get_member,
    group_loans,
    last_meeting_date,
    list_members,
    open_cycle,
    preview_share_out,
)
from ledger.savings.rules import (
    ATTENDANCES,
    CASH,
    MEETING_FREQUENCIES,
    MEMBER_ROLES,
    SOCIAL_FUND,
    Constitution,
    MemberFlows,
    Payment,
)
from ledger.store import books, journal
from ledger.store.books import utc_now
from ledger.store.tables import (
    savings_cycles,
    savings_groups,
    savings_loan_payments,
    savings_loans,
    savings_meeting_entries,
    savings_meetings,
    savings_members,
    savings_share_out_lines,
    savings_share_outs,
)

# The smallest amount handed over in cash, per currency (smallest units): 100 riel.
CASH_UNIT_DEFAULT = {"KHR": 100}


@dataclass(frozen=True, slots=True)
class ConstitutionDraft:
    """The constitution as a client sends it: amounts are decimal strings."""

    share_price: str
    shares_per_meeting_min: int
    shares_per_meeting_max: int
    social_fund_per_meeting: str
    interest_rate_monthly_percent: str
    interest_method: str
    loan_savings_multiple: int
    loan_term_months_max: int
    fine_late: str = "0"
    fine_absent: str = "0"
    fine_other: str = "0"
    cash_unit: str | None = None
    lend_to_members_in_arrears: bool = False


@dataclass(frozen=True, slots=True)
class GroupDraft:
    code: str
    name: str
    village: str
    commune: str
    province: str
    formed_on: datetime.date
    currency: str
    meeting_frequency: str
    constitution: ConstitutionDraft
    cycle_start: datetime.date
    cycle_planned_end: datetime.date


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


def lock_group(conn: Connection, code: str) -> Group:
    """The group, locked for this write: a group's writes (meetings, members, loans, the
    share-out) run one after another, so each sees what the one before it committed and two
    phones recording the same meeting get a 409, never a unique-index error. SQLite writes
    are serialised already."""
    group = get_group(conn, code)
    conn.execute(
        select(savings_groups.c.book_id)
        .where(savings_groups.c.book_id == group.book_id)
        .with_for_update()
    )
    return group


def _amount(text: str, group: Group | int, field: str, errors: list[LedgerError]) -> int:
    """Non-negative smallest units, or 0 with the reason appended to `errors`."""
    precision = group if isinstance(group, int) else group.precision
    units = parse_units(text, precision, field)
    if isinstance(units, LedgerError):
        errors.append(units)
        return 0
    if units < 0:
        errors.append(invalid("amount_negative", "Amounts here are zero or more.", field))
        return 0
    return units


def _one_line(value: str, field: str, code: str, errors: list[LedgerError]) -> None:
    if (
        not value.strip()
        or len(value) > PLACE_LENGTH_MAX
        or has_forbidden_character(value, one_line=True)
    ):
        errors.append(invalid(code, f"One line of 1 to {PLACE_LENGTH_MAX} characters.", field))


def _constitution(
    draft: ConstitutionDraft, precision: int, currency: str, errors: list[LedgerError]
) -> Constitution:
    rate = rules.parse_rate(draft.interest_rate_monthly_percent, "interest_rate_monthly_percent")
    if isinstance(rate, LedgerError):
        errors.append(rate)
        rate = Decimal(0)
    if draft.cash_unit is None:
        cash_unit = CASH_UNIT_DEFAULT.get(currency, 1)
    else:
        cash_unit = _amount(draft.cash_unit, precision, "cash_unit", errors)
    return Constitution(
        share_price=_amount(draft.share_price, precision, "share_price", errors),
        shares_per_meeting_min=draft.shares_per_meeting_min,
        shares_per_meeting_max=draft.shares_per_meeting_max,
        social_fund_per_meeting=_amount(
            draft.social_fund_per_meeting, precision, "social_fund_per_meeting", errors
        ),
        interest_rate_monthly_percent=rate,
        interest_method=draft.interest_method,
        loan_savings_multiple=draft.loan_savings_multiple,
        loan_term_months_max=draft.loan_term_months_max,
        fine_late=_amount(draft.fine_late, precision, "fine_late", errors),
        fine_absent=_amount(draft.fine_absent, precision, "fine_absent", errors),
        fine_other=_amount(draft.fine_other, precision, "fine_other", errors),
        cash_unit=cash_unit,
        lend_to_members_in_arrears=draft.lend_to_members_in_arrears,
    )


def create_group(conn: Connection, draft: GroupDraft) -> Group:
    """A new group: its book, the group's accounts, its constitution and its first cycle."""
    errors: list[LedgerError] = []
    precision = books.commodity_precisions(conn).get(draft.currency)
    constitution = _constitution(draft.constitution, precision or 0, draft.currency, errors)
    if precision is not None:
        errors.extend(rules.validate_constitution(constitution))
    _one_line(draft.village, "village", "village_invalid", errors)
    _one_line(draft.commune, "commune", "commune_invalid", errors)
    if draft.meeting_frequency not in MEETING_FREQUENCIES:
        errors.append(
            invalid(
                "meeting_frequency_invalid",
                f"meeting_frequency is one of {', '.join(MEETING_FREQUENCIES)}.",
                "meeting_frequency",
            )
        )
    if draft.cycle_start < draft.formed_on:
        errors.append(
            invalid(
                "cycle_before_formed",
                "The first cycle starts on or after the group forms.",
                "cycle_start",
            )
        )
    if draft.cycle_planned_end <= draft.cycle_start:
        errors.append(
            invalid("cycle_end_invalid", "A cycle ends after it starts.", "cycle_planned_end")
        )
    # The book's own checks (code, name, currency, province) come with the rest.
    try:
        book = books.create_book(
            conn, draft.code, draft.name, "savings_group", draft.currency, draft.province
        )
    except LedgerRejected as rejected:
        raise LedgerRejected([*rejected.errors, *errors]) from None
    reject_if(errors)
    for name, non_negative in rules.GROUP_ACCOUNTS:
        books.open_account(conn, book.code, name, draft.formed_on, [draft.currency], non_negative)
    conn.execute(
        insert(savings_groups).values(
            book_id=book.id,
            village=draft.village,
            commune=draft.commune,
            formed_on=draft.formed_on,
            meeting_frequency=draft.meeting_frequency,
            **constitution_columns(constitution),
            created_at=utc_now(),
        )
    )
    conn.execute(
        insert(savings_cycles).values(
            book_id=book.id,
            number=1,
            start_date=draft.cycle_start,
            planned_end_date=draft.cycle_planned_end,
            status="open",
        )
    )
    return get_group(conn, draft.code)


def add_member(
    conn: Connection,
    code: str,
    number: str,
    role: str,
    joined_on: datetime.date,
    case_code: str | None = None,
) -> Member:
    """A new member and their savings and loan accounts, open from the day they join."""
    group = lock_group(conn, code)
    errors: list[LedgerError] = []
    if not rules.MEMBER_NUMBER_RE.fullmatch(number):
        errors.append(
            invalid(
                "member_number_invalid",
                "A member number has 1 to 16 letters, digits and hyphens and starts with a"
                " capital or a digit (e.g. M01).",
                "number",
            )
        )
    if role not in MEMBER_ROLES:
        errors.append(
            invalid("member_role_invalid", f"role is one of {', '.join(MEMBER_ROLES)}.", "role")
        )
    if case_code is not None:
        case_error = validate_case_code(case_code)
        if case_error:
            errors.append(case_error)
    if joined_on < group.formed_on:
        errors.append(
            invalid(
                "member_joined_before_formed", "Members join once the group is formed.", "joined_on"
            )
        )
    reject_if(errors)
    members = list_members(conn, code)
    if any(m.number == number for m in members):
        raise LedgerRejected([conflict("member_exists", "This member number is taken.", "number")])
    if len(members) >= rules.MEMBERS_PER_GROUP_MAX:
        raise LedgerRejected(
            [
                conflict(
                    "member_limit_reached",
                    f"A group has at most {rules.MEMBERS_PER_GROUP_MAX} members.",
                )
            ]
        )
    for account in rules.member_accounts(number):
        books.open_account(conn, code, account, joined_on, [group.currency])
    conn.execute(
        insert(savings_members).values(
            book_id=group.book_id,
            number=number,
            case_code=case_code,
            role=role,
            joined_on=joined_on,
            left_on=None,
            created_at=utc_now(),
        )
    )
    return get_member(conn, code, number)


def member_leaves(conn: Connection, code: str, number: str, left_on: datetime.date) -> Member:
    """From `left_on`, the member takes part in no meeting; their savings wait for the
    share-out and any loan stays theirs to repay."""
    group = lock_group(conn, code)
    member = get_member(conn, code, number)
    if member.left_on is not None:
        raise LedgerRejected([conflict("member_left", "This member has left already.")])
    if left_on < member.joined_on:
        raise LedgerRejected(
            [invalid("left_before_joined", "A member leaves on or after joining.", "date")]
        )
    last = _last_meeting_entry_date(conn, member)
    if last is not None and left_on <= last:
        raise LedgerRejected(
            [
                conflict(
                    "left_before_last_meeting",
                    "The member took part in a meeting on or after this date.",
                    "date",
                )
            ]
        )
    conn.execute(
        update(savings_members)
        .where(and_(savings_members.c.id == member.id, savings_members.c.book_id == group.book_id))
        .values(left_on=left_on)
    )
    return get_member(conn, code, number)


def _last_meeting_entry_date(conn: Connection, member: Member) -> datetime.date | None:
    last: datetime.date | None = conn.execute(
        select(func.max(savings_meetings.c.date))
        .join(
            savings_meeting_entries, savings_meeting_entries.c.meeting_id == savings_meetings.c.id
        )
        .where(savings_meeting_entries.c.member_id == member.id)
    ).scalar_one()
    return last


def write_off_loan(
    conn: Connection,
    code: str,
    loan_id: int,
    date: datetime.date,
    reason: str,
    created_by: str | None,
) -> Loan:
    """The group decided the loan will not be repaid: its principal becomes a loss, which
    lowers the fund the members share out."""
    group = lock_group(conn, code)
    loan = get_loan(conn, code, loan_id, date)
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
    cycle = open_cycle(conn, group)
    if date < cycle.start_date:
        errors.append(conflict("cycle_closed", "This date is in a closed cycle.", "date"))
    reject_if(errors)
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
    return get_loan(conn, code, loan_id, date)


@dataclass(frozen=True, slots=True)
class _Planned:
    """One member's part of a meeting, checked: flows, repayments per loan, a new loan."""

    member: Member
    attendance: str
    flows: MemberFlows
    repayments: tuple[tuple[int, int, int], ...]  # (loan id, interest, principal)
    loan_term_months: int


def _plan_entry(
    index: int,
    entry: EntryDraft,
    group: Group,
    date: datetime.date,
    members: dict[str, Member],
    loans: Sequence[Loan],
    savings_before: int,
    errors: list[LedgerError],
) -> _Planned | None:
    field = f"entries[{index}]"
    c = group.constitution
    member = members.get(entry.member)
    if member is None:
        errors.append(invalid("member_unknown", "No such member in this group.", f"{field}.member"))
        return None
    if member.left_on is not None and member.left_on <= date:
        errors.append(conflict("member_left", "This member has left the group.", f"{field}.member"))
        return None
    if member.joined_on > date:
        errors.append(
            invalid("member_not_joined", "The member joins after this date.", f"{field}.member")
        )
        return None
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
    before = len(errors)
    social = _amount(entry.social_fund_paid, group, f"{field}.social_fund_paid", errors)
    fines = _amount(entry.fines_paid, group, f"{field}.fines_paid", errors)
    repaid = _amount(entry.loan_repaid, group, f"{field}.loan_repaid", errors)
    grant = _amount(entry.grant_received, group, f"{field}.grant_received", errors)
    taken = 0
    term = 0
    if entry.loan_taken is not None:
        taken = _amount(entry.loan_taken.amount, group, f"{field}.loan_taken.amount", errors)
        term = entry.loan_taken.term_months
        if taken == 0 and len(errors) == before:
            errors.append(
                invalid("amount_zero", "A loan is more than zero.", f"{field}.loan_taken.amount")
            )
        if not 1 <= term <= c.loan_term_months_max:
            errors.append(
                invalid(
                    "loan_term_above_limit",
                    f"The constitution allows loans of 1 to {c.loan_term_months_max} months.",
                    f"{field}.loan_taken.term_months",
                )
            )
    if len(errors) > before:
        return None
    owed = [(loan.id, loan.state) for loan in loans]
    repayments: list[tuple[int, int, int]] = []
    if repaid:
        allocated = rules.allocate_repayment(repaid, owed, f"{field}.loan_repaid")
        if isinstance(allocated, LedgerError):
            errors.append(allocated)
            return None
        repayments = allocated
    interest_paid = sum(i for _, i, _ in repayments)
    principal_paid = sum(p for _, _, p in repayments)
    savings = entry.shares * c.share_price
    if taken:
        outstanding = sum(loan.state.principal_outstanding for loan in loans) - principal_paid
        limit = c.loan_savings_multiple * (savings_before + savings)
        if outstanding + taken > limit:
            errors.append(
                invalid(
                    "loan_above_limit",
                    f"Loans outstanding would be {outstanding + taken}; the constitution allows "
                    f"{c.loan_savings_multiple} times the member's savings: {limit}.",
                    f"{field}.loan_taken.amount",
                )
            )
        if not c.lend_to_members_in_arrears:
            paid_now = dict((loan_id, (i, p)) for loan_id, i, p in repayments)
            for loan in loans:
                i, p = paid_now.get(loan.id, (0, 0))
                after = (*loan.payments, Payment(date, i, p)) if i or p else loan.payments
                if rules.days_in_arrears(loan.terms, after, date) > 0:
                    errors.append(
                        conflict(
                            "member_in_arrears",
                            "The constitution lends nothing to a member with a loan in arrears.",
                            f"{field}.loan_taken",
                        )
                    )
                    break
    return _Planned(
        member=member,
        attendance=entry.attendance,
        flows=MemberFlows(
            member=member.number,
            shares=entry.shares,
            savings=savings,
            social_fund_paid=social,
            fines_paid=fines,
            interest_paid=interest_paid,
            principal_repaid=principal_paid,
            loan_taken=taken,
            grant_received=grant,
        ),
        repayments=tuple(repayments),
        loan_term_months=term,
    )


def _check_meeting_date(
    conn: Connection, group: Group, cycle: Cycle, date: datetime.date
) -> list[LedgerError]:
    last = last_meeting_date(conn, group)
    if last is not None and date <= last:
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


def record_meeting(
    conn: Connection, code: str, draft: MeetingDraft, created_by: str | None
) -> Meeting:
    """One whole meeting: every member's part posts, the cash count is checked and asserted,
    or nothing lands."""
    group = lock_group(conn, code)
    cycle = open_cycle(conn, group)
    errors = _check_meeting_date(conn, group, cycle, draft.date)
    reject_if(errors)
    members = {m.number: m for m in list_members(conn, code)}
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
    counted = _amount(draft.cash_counted, group, "cash_counted", errors)
    reason = draft.cash_difference_reason
    if reason is not None:
        text_error = validate_text(reason, rules.REASON_LENGTH_MAX, "cash_difference_reason")
        if text_error:
            errors.append(text_error)
    reject_if(errors)

    before = balances_as_of(conn, group, draft.date)
    loans_by_member: dict[str, list[Loan]] = defaultdict(list)
    for loan in group_loans(conn, group, draft.date, active_only=True):
        loans_by_member[loan.member].append(loan)
    planned: list[_Planned] = []
    for index, entry in enumerate(draft.entries):
        plan = _plan_entry(
            index,
            entry,
            group,
            draft.date,
            members,
            loans_by_member.get(entry.member, []),
            -before.get(rules.savings_account(entry.member), 0),
            errors,
        )
        if plan is not None:
            planned.append(plan)
    reject_if(errors)

    social_after = (
        -before.get(SOCIAL_FUND, 0)
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
    cash_after = before.get(CASH, 0) + sum(p.flows.cash_in - p.flows.cash_out for p in planned)
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
    reject_if(errors)

    meeting_id = int(
        conn.execute(
            insert(savings_meetings)
            .values(
                book_id=group.book_id,
                cycle_id=cycle.id,
                date=draft.date,
                cash_counted=counted,
                cash_difference=difference,
                cash_difference_reason=reason if difference else None,
                created_at=utc_now(),
                created_by=created_by,
            )
            .returning(savings_meetings.c.id)
        ).scalar_one()
    )
    link = f"meeting-{draft.date.isoformat()}"
    txns = [
        t
        for p in planned
        if (t := rules.meeting_transaction(draft.date, link, p.flows, group.currency)) is not None
    ]
    if difference:
        assert reason is not None
        txns.append(
            rules.cash_difference_transaction(
                draft.date, link, difference, reason.strip(), group.currency
            )
        )
    journal.post_many(conn, code, txns, created_by=created_by)
    journal.assert_balance(conn, code, CASH, group.currency, draft.date, counted)
    loan_ids = _store_entries(conn, group, cycle, meeting_id, draft.date, planned, loans_by_member)
    return replace(get_meeting(conn, code, meeting_id), loan_ids=tuple(loan_ids))


def _store_entries(
    conn: Connection,
    group: Group,
    cycle: Cycle,
    meeting_id: int,
    date: datetime.date,
    planned: Sequence[_Planned],
    loans_by_member: dict[str, list[Loan]],
) -> list[int]:
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
    payments = [
        {
            "book_id": group.book_id,
            "loan_id": loan_id,
            "date": date,
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
    for p in planned:
        paid = {loan_id: principal for loan_id, _, principal in p.repayments}
        for loan in loans_by_member.get(p.member.number, []):
            if loan.id in paid and loan.state.principal_outstanding == paid[loan.id]:
                conn.execute(
                    update(savings_loans)
                    .where(savings_loans.c.id == loan.id)
                    .values(status="repaid", closed_on=date)
                )
    loan_ids = []
    c = group.constitution
    for p in planned:
        if p.flows.loan_taken:
            loan_ids.append(
                _insert_loan(
                    conn,
                    group,
                    cycle.id,
                    p.member.id,
                    meeting_id,
                    date,
                    p.flows.loan_taken,
                    p.loan_term_months,
                    c,
                )
            )
    return loan_ids


def _insert_loan(
    conn: Connection,
    group: Group,
    cycle_id: int,
    member_id: int,
    meeting_id: int | None,
    date: datetime.date,
    principal: int,
    term_months: int,
    c: Constitution,
    rolled_from_id: int | None = None,
) -> int:
    return int(
        conn.execute(
            insert(savings_loans)
            .values(
                book_id=group.book_id,
                cycle_id=cycle_id,
                member_id=member_id,
                meeting_id=meeting_id,
                disbursed_on=date,
                principal=principal,
                interest_rate_monthly_percent=str(c.interest_rate_monthly_percent),
                interest_method=c.interest_method,
                term_months=term_months,
                status="active",
                closed_on=None,
                rolled_from_id=rolled_from_id,
            )
            .returning(savings_loans.c.id)
        ).scalar_one()
    )


def execute_share_out(
    conn: Connection,
    code: str,
    cycle_number: int,
    date: datetime.date,
    next_planned_end: datetime.date | None,
    created_by: str | None,
) -> ShareOutView:
    """Post the cycle's closing entries and payouts, settle loans, open the next cycle."""
    group = lock_group(conn, code)
    cycle = get_cycle(conn, group, cycle_number)
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
    view = preview_share_out(conn, code, cycle_number, date)
    current = current_balances(conn, group)
    if current != balances_as_of(conn, group, date):
        raise LedgerRejected(
            [conflict("postings_after_share_out", "The book has postings after this date.", "date")]
        )
    result = view.result
    members = {m.number: m for m in list_members(conn, code)}
    txns = rules.share_out_transactions(
        date,
        cycle.number,
        group.currency,
        {a: current.get(a, 0) for a in rules.RESULT_ACCOUNTS},
        result,
        members,
    )
    journal.post_many(conn, code, txns, created_by=created_by)
    journal.assert_balance(
        conn, code, CASH, group.currency, date, view.social_fund + result.carried_forward
    )
    share_out_id = int(
        conn.execute(
            insert(savings_share_outs)
            .values(
                book_id=group.book_id,
                cycle_id=cycle.id,
                date=date,
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
    )
    conn.execute(
        insert(savings_share_out_lines),
        [
            {
                "share_out_id": share_out_id,
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
    conn.execute(
        update(savings_cycles)
        .where(savings_cycles.c.id == cycle.id)
        .values(status="shared_out", shared_out_on=date)
    )
    next_cycle_id = int(
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
    _settle_loans(conn, group, date, result, members, next_cycle_id)
    return replace(view, executed=True)


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
    for line in result.lines:
        loans = by_member.get(line.member, [])
        if not loans:
            continue
        allocated = rules.allocate_repayment(
            line.loan_deducted, [(loan.id, loan.state) for loan in loans], "payout"
        )
        assert not isinstance(allocated, LedgerError)
        if allocated:
            conn.execute(
                insert(savings_loan_payments),
                [
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
                ],
            )
        status = "rolled_over" if line.loan_carried else "repaid"
        for loan in loans:
            conn.execute(
                update(savings_loans)
                .where(savings_loans.c.id == loan.id)
                .values(status=status, closed_on=date)
            )
        if line.loan_carried:
            _insert_loan(
                conn,
                group,
                next_cycle_id,
                members[line.member].id,
                None,
                date,
                line.loan_carried,
                1,
                group.constitution,
                rolled_from_id=loans[-1].id,
            )
