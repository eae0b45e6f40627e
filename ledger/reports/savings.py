"""A savings group's two printed documents, bilingual (Khmer, then English):

- the member passbook: every meeting of a cycle with the member's shares, social fund, fines,
  loans and repayments, and running totals of shares, savings and the loan balance;
- the share-out statement: the group's figures and one line per member with a box to sign
  or press a thumb in, and boxes for the chair, the treasurer and the key holders.

The view models are read through `ledger.savings.service`; members appear by number only
(no field can hold a name, a phone number or an address).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection

from ledger.core.amount import units_to_decimal
from ledger.reports.formats import format_amount
from ledger.reports.pdf import render_html, render_pdf
from ledger.savings import queries

PASSBOOK_TEMPLATE = "savings_passbook.html"
SHARE_OUT_TEMPLATE = "savings_share_out.html"
VALUE_PER_SHARE_PLACES = 2

ATTENDANCE: dict[str, tuple[str, str]] = {
    "present": ("មានវត្តមាន", "present"),
    "absent": ("អវត្តមាន", "absent"),
    "represented": ("មានអ្នកតំណាង", "represented"),
}
ROLES: dict[str, tuple[str, str]] = {
    "chair": ("ប្រធាន", "Chair"),
    "treasurer": ("ហេរញ្ញិក", "Treasurer"),
    "key_holder": ("អ្នកកាន់កូនសោ", "Key holder"),
    "member": ("សមាជិក", "Member"),
}
METHODS: dict[str, tuple[str, str]] = {
    "flat": ("លើប្រាក់ដើម", "flat, on the original principal"),
    "declining": ("លើសមតុល្យនៅសល់", "on the declining balance"),
}


@dataclass(frozen=True, slots=True)
class GroupHeading:
    code: str
    name: str
    village: str
    commune: str
    province: str
    currency: str
    share_price: Decimal
    interest: str  # "2% a month"
    method_km: str
    method_en: str


@dataclass(frozen=True, slots=True)
class PassbookRow:
    date: datetime.date
    meeting: int
    attendance_km: str
    attendance_en: str
    shares: int
    shares_total: int
    savings_total: Decimal
    social_fund: Decimal
    fines: Decimal
    loan_taken: Decimal
    interest_paid: Decimal
    principal_repaid: Decimal
    loan_balance: Decimal
    grant: Decimal


@dataclass(frozen=True, slots=True)
class PassbookView:
    group: GroupHeading
    member: str
    role_km: str
    role_en: str
    joined_on: datetime.date
    left_on: datetime.date | None
    cycle: int
    cycle_start: datetime.date
    cycle_end: datetime.date
    rows: tuple[PassbookRow, ...]
    social_fund_total: Decimal
    fines_total: Decimal
    interest_total: Decimal
    printed_on: datetime.date


@dataclass(frozen=True, slots=True)
class ShareOutRow:
    member: str
    shares: int
    savings: Decimal
    profit: Decimal
    share_value: Decimal
    loan_deducted: Decimal
    payout: Decimal
    loan_carried: Decimal


@dataclass(frozen=True, slots=True)
class ShareOutStatementView:
    group: GroupHeading
    cycle: int
    date: datetime.date
    executed: bool
    value_per_share: str
    total_shares: int
    fund: Decimal
    cash_held: Decimal
    social_fund: Decimal
    payouts: Decimal
    carried_forward: Decimal
    loans_carried_forward: Decimal
    interest_income: Decimal
    fines_income: Decimal
    write_offs: Decimal
    cash_differences: Decimal
    carried_in: Decimal
    rows: tuple[ShareOutRow, ...]
    savings_total: Decimal
    profit_total: Decimal
    loan_deducted_total: Decimal


def _heading(group: queries.Group) -> GroupHeading:
    c = group.constitution
    method_km, method_en = METHODS[c.interest_method]
    return GroupHeading(
        code=group.code,
        name=group.name,
        village=group.village,
        commune=group.commune,
        province=group.province,
        currency=group.currency,
        share_price=units_to_decimal(c.share_price, group.precision),
        interest=f"{c.interest_rate_monthly_percent}%",
        method_km=method_km,
        method_en=method_en,
    )


def _loan_balance(loans: list[queries.Loan], on: datetime.date) -> int:
    """What a member owed in principal at the end of `on`; a loan rolled into the next cycle
    counts from its new loan on."""
    total = 0
    for loan in loans:
        if loan.disbursed_on > on:
            continue
        if loan.status == "rolled_over" and loan.closed_on is not None and loan.closed_on <= on:
            continue
        total += loan.principal - sum(p.principal for p in loan.payments if p.date <= on)
    return total


def passbook(
    conn: Connection, code: str, number: str, cycle_number: int | None = None
) -> PassbookView:
    """The member's passbook for one cycle (default: the open cycle)."""
    group = queries.get_group(conn, code)
    member = queries.get_member(conn, code, number)
    cycle = (
        queries.open_cycle(conn, group)
        if cycle_number is None
        else queries.get_cycle(conn, group, cycle_number)
    )
    meetings = queries.list_meetings(conn, code, cycle.number)
    printed_on = datetime.datetime.now(datetime.UTC).date()
    # Every payment up to the last meeting printed (or today) is read.
    as_of = max([printed_on, cycle.start_date, *(m.date for m in meetings)])
    loans = [loan for loan in queries.group_loans(conn, group, as_of) if loan.member == number]

    def money(units: int) -> Decimal:
        return units_to_decimal(units, group.precision)

    rows = []
    shares_total = 0
    for meeting in meetings:
        entry = next((e for e in meeting.entries if e.member == number), None)
        if entry is None:
            continue
        shares_total += entry.shares
        km, en = ATTENDANCE[entry.attendance]
        rows.append(
            PassbookRow(
                date=meeting.date,
                meeting=meeting.number,
                attendance_km=km,
                attendance_en=en,
                shares=entry.shares,
                shares_total=shares_total,
                savings_total=money(shares_total * group.constitution.share_price),
                social_fund=money(entry.social_fund_paid),
                fines=money(entry.fines_paid),
                loan_taken=money(entry.loan_taken),
                interest_paid=money(entry.interest_paid),
                principal_repaid=money(entry.principal_repaid),
                loan_balance=money(_loan_balance(loans, meeting.date)),
                grant=money(entry.grant_received),
            )
        )
    role_km, role_en = ROLES[member.role]
    return PassbookView(
        group=_heading(group),
        member=member.number,
        role_km=role_km,
        role_en=role_en,
        joined_on=member.joined_on,
        left_on=member.left_on,
        cycle=cycle.number,
        cycle_start=cycle.start_date,
        cycle_end=cycle.shared_out_on or cycle.planned_end_date,
        rows=tuple(rows),
        social_fund_total=sum((r.social_fund for r in rows), Decimal(0)),
        fines_total=sum((r.fines for r in rows), Decimal(0)),
        interest_total=sum((r.interest_paid for r in rows), Decimal(0)),
        printed_on=printed_on,
    )


def share_out_statement(
    conn: Connection, code: str, cycle_number: int, date: datetime.date | None = None
) -> ShareOutStatementView:
    """The statement of a cycle's share-out: executed, or a preview marked as a draft."""
    group = queries.get_group(conn, code)
    view = queries.preview_share_out(conn, code, cycle_number, date)
    r = view.result

    def money(units: int) -> Decimal:
        return units_to_decimal(units, group.precision)

    rows = tuple(
        ShareOutRow(
            member=line.member,
            shares=line.shares,
            savings=money(line.savings),
            profit=money(line.profit),
            share_value=money(line.share_value),
            loan_deducted=money(line.loan_deducted),
            payout=money(line.payout),
            loan_carried=money(line.loan_carried),
        )
        for line in r.lines
    )
    return ShareOutStatementView(
        group=_heading(group),
        cycle=view.cycle,
        date=view.date,
        executed=view.executed,
        value_per_share=format_amount(
            Decimal(r.value_per_share_text(group.precision, VALUE_PER_SHARE_PLACES))
        ),
        total_shares=r.total_shares,
        fund=money(r.fund_units),
        cash_held=money(view.cash_held),
        social_fund=money(view.social_fund),
        payouts=money(r.payouts),
        carried_forward=money(r.carried_forward),
        loans_carried_forward=money(r.loans_carried_forward),
        interest_income=money(view.interest_income),
        fines_income=money(view.fines_income),
        write_offs=money(view.write_offs),
        cash_differences=money(view.cash_differences),
        carried_in=money(view.carried_in),
        rows=rows,
        savings_total=sum((x.savings for x in rows), Decimal(0)),
        profit_total=sum((x.profit for x in rows), Decimal(0)),
        loan_deducted_total=sum((x.loan_deducted for x in rows), Decimal(0)),
    )


def passbook_html(view: PassbookView) -> str:
    return render_html(PASSBOOK_TEMPLATE, {"book": view})


def render_passbook(view: PassbookView) -> bytes:
    return render_pdf(PASSBOOK_TEMPLATE, {"book": view})


def share_out_html(view: ShareOutStatementView) -> str:
    return render_html(SHARE_OUT_TEMPLATE, {"statement": view})


def render_share_out(view: ShareOutStatementView) -> bytes:
    return render_pdf(SHARE_OUT_TEMPLATE, {"statement": view})
