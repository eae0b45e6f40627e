"""Savings groups as the API accepts and returns them. Amounts are decimal strings in the
group's currency ("25000" riel); ratios are decimal strings with four places ("0.8750")."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Annotated, Any, Literal

import msgspec

from api.cursors import dated_cursor, id_cursor, text_cursor
from api.schemas.people import AgeBand, BirthYear, Sex
from ledger.core import limits
from ledger.core.amount import format_units
from ledger.households.rules import PersonFacts
from ledger.savings import queries, rules, service

Amount = Annotated[
    str, msgspec.Meta(max_length=limits.AMOUNT_TEXT_LENGTH_MAX, examples=["25000", "0"])
]
MemberNumber = Annotated[str, msgspec.Meta(max_length=16, examples=["M01"])]
Place = Annotated[str, msgspec.Meta(max_length=queries.PLACE_LENGTH_MAX)]
Reason = Annotated[str, msgspec.Meta(max_length=rules.REASON_LENGTH_MAX)]
RATIO_PLACES = 4
VALUE_PER_SHARE_PLACES = 4

# Request examples, in the order a new group meets them (tests/api/test_savings_pages.py
# sends each one): the group, a member, the first meeting, a write-off, a member leaving,
# the share-out at the cycle's planned end.
#
# 5,000 riel a share, 1 to 5 shares a meeting, 500 riel social fund, 2% a month on the
# declining balance, loans up to 3 times savings for up to 6 months.
EXAMPLE_CONSTITUTION: dict[str, Any] = {
    "share_price": "5000",
    "shares_per_meeting_min": 1,
    "shares_per_meeting_max": 5,
    "social_fund_per_meeting": "500",
    "interest_rate_monthly_percent": "2",
    "interest_method": "declining",
    "loan_savings_multiple": 3,
    "loan_term_months_max": 6,
    "fine_late": "500",
    "fine_absent": "1000",
    "fine_other": "500",
}
EXAMPLE_GROUP = {
    "code": "sg-kt-001",
    "name": "Prasat Balang women's savings group",
    "village": "Kampong Svay",
    "commune": "Prasat Balang",
    "province": "Kampong Thom",
    "formed_on": "2026-01-05",
    "cycle_planned_end": "2026-12-28",
    "currency": "KHR",
    "meeting_frequency": "weekly",
    "constitution": EXAMPLE_CONSTITUTION,
}
EXAMPLE_MEMBER = {
    "number": "M01",
    "role": "chair",
    "joined_on": "2026-01-05",
    "case_code": None,
    "sex": "female",
    "birth_year": 1984,
}
EXAMPLE_MEMBER_PERSON = {"sex": "female", "birth_year": None, "age_band": "35-49"}
EXAMPLE_MEETING = {
    "date": "2026-01-12",
    "entries": [
        {
            "member": "M01",
            "attendance": "present",
            "shares": 3,
            "social_fund_paid": "500",
            "loan_taken": {"amount": "20000", "term_months": 3},
        },
        {
            "member": "M02",
            "attendance": "present",
            "shares": 2,
            "social_fund_paid": "500",
            "fines_paid": "500",
        },
        {"member": "M03", "attendance": "represented", "shares": 1, "social_fund_paid": "500"},
    ],
    "cash_counted": "12000",
}
EXAMPLE_WRITE_OFF = {
    "date": "2026-03-02",
    "reason": "Migrated to Thailand for work; the group voted on 2 March to write the loan off",
}
EXAMPLE_MEMBER_LEAVE = {"date": "2026-03-02"}
EXAMPLE_SHARE_OUT = {"date": "2026-12-28", "next_cycle_planned_end": "2027-12-27"}


class ConstitutionCreate(msgspec.Struct, forbid_unknown_fields=True):
    share_price: Amount
    shares_per_meeting_min: Annotated[int, msgspec.Meta(ge=0, le=rules.SHARES_PER_MEETING_MAX)]
    shares_per_meeting_max: Annotated[int, msgspec.Meta(ge=1, le=rules.SHARES_PER_MEETING_MAX)]
    social_fund_per_meeting: Amount
    interest_rate_monthly_percent: Annotated[str, msgspec.Meta(max_length=12, examples=["2"])]
    interest_method: Annotated[str, msgspec.Meta(max_length=10, examples=["flat", "declining"])]
    loan_savings_multiple: Annotated[int, msgspec.Meta(ge=1, le=rules.LOAN_SAVINGS_MULTIPLE_MAX)]
    loan_term_months_max: Annotated[int, msgspec.Meta(ge=1, le=rules.LOAN_TERM_MONTHS_MAX)]
    fine_late: Amount = "0"
    fine_absent: Amount = "0"
    fine_other: Amount = "0"
    cash_unit: Amount | None = None  # default: 100 for KHR, the smallest unit otherwise
    lend_to_members_in_arrears: bool = False

    def to_draft(self) -> service.ConstitutionDraft:
        return service.ConstitutionDraft(**msgspec.structs.asdict(self))


class Constitution(msgspec.Struct):
    share_price: str
    shares_per_meeting_min: int
    shares_per_meeting_max: int
    social_fund_per_meeting: str
    interest_rate_monthly_percent: str
    interest_method: str
    loan_savings_multiple: int
    loan_term_months_max: int
    fine_late: str
    fine_absent: str
    fine_other: str
    cash_unit: str
    lend_to_members_in_arrears: bool


class GroupCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(max_length=40, examples=["sg-kt-001"])]
    name: Annotated[str, msgspec.Meta(max_length=limits.BOOK_NAME_LENGTH_MAX)]
    village: Place
    commune: Place
    province: Place
    formed_on: datetime.date
    constitution: ConstitutionCreate
    cycle_planned_end: datetime.date
    cycle_start: datetime.date | None = None  # default: formed_on
    currency: Annotated[str, msgspec.Meta(max_length=24)] = "KHR"
    meeting_frequency: Annotated[str, msgspec.Meta(max_length=12)] = "weekly"

    def to_draft(self) -> service.GroupDraft:
        return service.GroupDraft(
            code=self.code,
            name=self.name,
            village=self.village,
            commune=self.commune,
            province=self.province,
            formed_on=self.formed_on,
            currency=self.currency,
            meeting_frequency=self.meeting_frequency,
            constitution=self.constitution.to_draft(),
            cycle_start=self.cycle_start or self.formed_on,
            cycle_planned_end=self.cycle_planned_end,
        )


def _money(
    units: int,
    shown: queries.Group
    | queries.Meeting
    | queries.Loan
    | queries.ShareOutView
    | queries.Indicators,
) -> str:
    """`units` with the precision of the group's currency that `shown` carries."""
    return format_units(units, shown.precision)


def _ratio(value: Fraction | None) -> str | None:
    return None if value is None else rules.fraction_text(value, RATIO_PLACES)


class Group(msgspec.Struct):
    code: str
    name: str
    village: str
    commune: str
    province: str
    formed_on: datetime.date
    currency: str
    meeting_frequency: str
    constitution: Constitution

    @classmethod
    def of(cls, group: queries.Group) -> Group:
        c = group.constitution
        return cls(
            code=group.code,
            name=group.name,
            village=group.village,
            commune=group.commune,
            province=group.province,
            formed_on=group.formed_on,
            currency=group.currency,
            meeting_frequency=group.meeting_frequency,
            constitution=Constitution(
                share_price=_money(c.share_price, group),
                shares_per_meeting_min=c.shares_per_meeting_min,
                shares_per_meeting_max=c.shares_per_meeting_max,
                social_fund_per_meeting=_money(c.social_fund_per_meeting, group),
                interest_rate_monthly_percent=str(c.interest_rate_monthly_percent),
                interest_method=c.interest_method,
                loan_savings_multiple=c.loan_savings_multiple,
                loan_term_months_max=c.loan_term_months_max,
                fine_late=_money(c.fine_late, group),
                fine_absent=_money(c.fine_absent, group),
                fine_other=_money(c.fine_other, group),
                cash_unit=_money(c.cash_unit, group),
                lend_to_members_in_arrears=c.lend_to_members_in_arrears,
            ),
        )


class MemberCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A member; `sex` and `birth_year` (or `age_band` when the year is unknown) may be left
    out, and are then not recorded (a member's SAVIX figures count them as unknown)."""

    number: MemberNumber
    joined_on: datetime.date
    role: Annotated[str, msgspec.Meta(max_length=12)] = "member"
    case_code: Annotated[str, msgspec.Meta(max_length=20, examples=["DV-009"])] | None = None
    sex: Sex | None = None
    birth_year: BirthYear | None = None
    age_band: AgeBand | None = None

    def person(self) -> PersonFacts:
        return PersonFacts(self.sex, self.birth_year, self.age_band)


class MemberPerson(msgspec.Struct, forbid_unknown_fields=True):
    """A member's sex and birth year, or age band when the year is unknown (null: not
    recorded). Replaces what was recorded."""

    sex: Sex | None = None
    birth_year: BirthYear | None = None
    age_band: AgeBand | None = None

    def person(self) -> PersonFacts:
        return PersonFacts(self.sex, self.birth_year, self.age_band)


class Member(msgspec.Struct):
    number: str
    role: str
    joined_on: datetime.date
    left_on: datetime.date | None
    case_code: str | None
    sex: str | None = None
    birth_year: int | None = None
    age_band: str | None = None

    @classmethod
    def of(cls, member: queries.Member) -> Member:
        person = member.person
        return cls(
            member.number,
            member.role,
            member.joined_on,
            member.left_on,
            member.case_code,
            person.sex,
            person.birth_year,
            person.age_band,
        )


class MemberLeave(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date


class Cycle(msgspec.Struct):
    number: int
    start_date: datetime.date
    planned_end_date: datetime.date
    status: str
    shared_out_on: datetime.date | None

    @classmethod
    def of(cls, cycle: queries.Cycle) -> Cycle:
        return cls(
            cycle.number,
            cycle.start_date,
            cycle.planned_end_date,
            cycle.status,
            cycle.shared_out_on,
        )


class LoanCreate(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    term_months: Annotated[int, msgspec.Meta(ge=1, le=rules.LOAN_TERM_MONTHS_MAX)]


class MeetingEntryCreate(msgspec.Struct, forbid_unknown_fields=True):
    """One member at one meeting: what they paid in and what they took out."""

    member: MemberNumber
    attendance: Literal["present", "absent", "represented"]
    shares: Annotated[int, msgspec.Meta(ge=0, le=1_000)] = 0
    social_fund_paid: Amount = "0"
    fines_paid: Amount = "0"
    loan_repaid: Amount = "0"  # interest due first, then principal, oldest loan first
    loan_taken: LoanCreate | None = None
    grant_received: Amount = "0"  # from the social fund


class MeetingCreate(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    entries: Annotated[
        list[MeetingEntryCreate], msgspec.Meta(max_length=rules.MEMBERS_PER_GROUP_MAX)
    ]
    cash_counted: Amount  # the cash box at the close of the meeting
    cash_difference_reason: Reason | None = None  # accepts a count that differs from the book

    def to_draft(self) -> service.MeetingDraft:
        return service.MeetingDraft(
            date=self.date,
            entries=tuple(
                service.EntryDraft(
                    member=e.member,
                    attendance=e.attendance,
                    shares=e.shares,
                    social_fund_paid=e.social_fund_paid,
                    fines_paid=e.fines_paid,
                    loan_repaid=e.loan_repaid,
                    loan_taken=(
                        service.LoanDraft(e.loan_taken.amount, e.loan_taken.term_months)
                        if e.loan_taken
                        else None
                    ),
                    grant_received=e.grant_received,
                )
                for e in self.entries
            ),
            cash_counted=self.cash_counted,
            cash_difference_reason=self.cash_difference_reason,
        )


class MeetingEntry(msgspec.Struct):
    member: str
    attendance: str
    shares: int
    social_fund_paid: str
    fines_paid: str
    interest_paid: str
    principal_repaid: str
    loan_taken: str
    grant_received: str


class Meeting(msgspec.Struct):
    id: int
    cycle: int
    number: int
    date: datetime.date
    cash_counted: str
    cash_difference: str
    cash_difference_reason: str | None
    entries: list[MeetingEntry]
    new_loan_ids: list[int]

    @classmethod
    def of(cls, meeting: queries.Meeting) -> Meeting:
        def m(units: int) -> str:
            return _money(units, meeting)

        return cls(
            id=meeting.id,
            cycle=meeting.cycle,
            number=meeting.number,
            date=meeting.date,
            cash_counted=m(meeting.cash_counted),
            cash_difference=m(meeting.cash_difference),
            cash_difference_reason=meeting.cash_difference_reason,
            entries=[
                MeetingEntry(
                    member=e.member,
                    attendance=e.attendance,
                    shares=e.shares,
                    social_fund_paid=m(e.social_fund_paid),
                    fines_paid=m(e.fines_paid),
                    interest_paid=m(e.interest_paid),
                    principal_repaid=m(e.principal_repaid),
                    loan_taken=m(e.loan_taken),
                    grant_received=m(e.grant_received),
                )
                for e in meeting.entries
            ],
            new_loan_ids=list(meeting.loan_ids),
        )


class LoanPayment(msgspec.Struct):
    date: datetime.date
    interest: str
    principal: str


class Installment(msgspec.Struct):
    number: int
    due_on: datetime.date
    principal: str
    interest: str
    principal_after: str


class Loan(msgspec.Struct):
    id: int
    member: str
    cycle: int
    disbursed_on: datetime.date
    principal: str
    interest_rate_monthly_percent: str
    interest_method: str
    term_months: int
    status: str
    closed_on: datetime.date | None
    rolled_from_id: int | None
    as_of: datetime.date
    principal_outstanding: str
    interest_due: str
    days_in_arrears: int
    payments: list[LoanPayment]
    schedule: list[Installment]

    @classmethod
    def of(cls, loan: queries.Loan) -> Loan:
        def m(units: int) -> str:
            return _money(units, loan)

        return cls(
            id=loan.id,
            member=loan.member,
            cycle=loan.cycle,
            disbursed_on=loan.disbursed_on,
            principal=m(loan.principal),
            interest_rate_monthly_percent=str(loan.interest_rate_monthly_percent),
            interest_method=loan.interest_method,
            term_months=loan.term_months,
            status=loan.status,
            closed_on=loan.closed_on,
            rolled_from_id=loan.rolled_from_id,
            as_of=loan.as_of,
            principal_outstanding=m(loan.state.principal_outstanding),
            interest_due=m(loan.state.interest_due),
            days_in_arrears=loan.days_in_arrears,
            payments=[LoanPayment(p.date, m(p.interest), m(p.principal)) for p in loan.payments],
            schedule=[
                Installment(i.number, i.due_on, m(i.principal), m(i.interest), m(i.principal_after))
                for i in rules.schedule(loan.terms)
            ],
        )


class WriteOffCreate(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    reason: Reason


class ShareOutCreate(msgspec.Struct, forbid_unknown_fields=True):
    date: datetime.date
    next_cycle_planned_end: datetime.date | None = None


class ShareOutLine(msgspec.Struct):
    member: str
    shares: int
    savings: str
    profit: str
    share_value: str  # shares x value per share, less under one cash unit: payout + debt paid
    interest_deducted: str
    principal_deducted: str
    loan_deducted: str
    payout: str  # cash in hand
    loan_carried: str  # debt left as a loan into the next cycle


class ShareOut(msgspec.Struct):
    cycle: int
    date: datetime.date
    executed: bool
    currency: str
    cash_unit: str
    value_per_share: str  # truncated to four places; `value_per_share_exact` is n/d
    value_per_share_exact: str
    total_shares: int
    fund: str  # value per share x total shares, rounded down to the smallest unit
    cash_held: str
    social_fund: str
    cash_available: str
    payouts: str
    carried_forward: str  # cash left in the box for the next cycle, besides the social fund
    loans_carried_forward: str
    interest_income: str
    fines_income: str
    write_offs: str
    cash_differences: str
    carried_in: str
    members: list[ShareOutLine]

    @classmethod
    def of(cls, view: queries.ShareOutView) -> ShareOut:
        def m(units: int) -> str:
            return _money(units, view)

        r = view.result
        value = r.value_per_share
        return cls(
            cycle=view.cycle,
            date=view.date,
            executed=view.executed,
            currency=view.currency,
            cash_unit=m(view.cash_unit),
            value_per_share=r.value_per_share_text(view.precision, VALUE_PER_SHARE_PLACES),
            value_per_share_exact=f"{value.numerator}/{value.denominator}",
            total_shares=r.total_shares,
            fund=m(r.fund_units),
            cash_held=m(view.cash_held),
            social_fund=m(view.social_fund),
            cash_available=m(r.cash_available),
            payouts=m(r.payouts),
            carried_forward=m(r.carried_forward),
            loans_carried_forward=m(r.loans_carried_forward),
            interest_income=m(view.interest_income),
            fines_income=m(view.fines_income),
            write_offs=m(view.write_offs),
            cash_differences=m(view.cash_differences),
            carried_in=m(view.carried_in),
            members=[
                ShareOutLine(
                    member=line.member,
                    shares=line.shares,
                    savings=m(line.savings),
                    profit=m(line.profit),
                    share_value=m(line.share_value),
                    interest_deducted=m(line.interest_deducted),
                    principal_deducted=m(line.principal_deducted),
                    loan_deducted=m(line.loan_deducted),
                    payout=m(line.payout),
                    loan_carried=m(line.loan_carried),
                )
                for line in r.lines
            ],
        )


class Indicators(msgspec.Struct):
    """Formulas in docs/ACCOUNTING.md, section "Savings groups"."""

    as_of: datetime.date
    cycle: int
    currency: str
    members: int
    savings: str
    loans_outstanding: str
    loans_active: int
    cash_held: str
    social_fund_balance: str
    loan_fund_utilisation: str | None
    portfolio_at_risk_30: str | None
    attendance_rate: str | None
    cycle_profit: str
    return_on_savings_annualised: str | None
    cash_differences: str
    meetings_with_cash_difference: int

    @classmethod
    def of(cls, i: queries.Indicators) -> Indicators:
        return cls(
            as_of=i.as_of,
            cycle=i.cycle,
            currency=i.currency,
            members=i.members_active,
            savings=_money(i.savings, i),
            loans_outstanding=_money(i.loans_outstanding, i),
            loans_active=i.loans_active,
            cash_held=_money(i.cash_held, i),
            social_fund_balance=_money(i.social_fund, i),
            loan_fund_utilisation=_ratio(i.loan_fund_utilisation),
            portfolio_at_risk_30=_ratio(i.portfolio_at_risk_30),
            attendance_rate=_ratio(i.attendance_rate),
            cycle_profit=_money(i.cycle_profit, i),
            return_on_savings_annualised=_ratio(i.return_on_savings_annualised),
            cash_differences=_money(i.cash_differences, i),
            meetings_with_cash_difference=i.meetings_with_cash_difference,
        )


MEETINGS_HEADER = (
    "meeting_id",
    "cycle",
    "number",
    "date",
    "cash_counted",
    "cash_difference",
    "cash_difference_reason",
    "member",
    "attendance",
    "shares",
    "social_fund_paid",
    "fines_paid",
    "interest_paid",
    "principal_repaid",
    "loan_taken",
    "grant_received",
)


def meeting_rows(meetings: Iterable[Meeting]) -> Iterator[tuple[str, ...]]:
    """One row per member per meeting."""
    for m in meetings:
        for e in m.entries:
            yield (
                str(m.id),
                str(m.cycle),
                str(m.number),
                m.date.isoformat(),
                m.cash_counted,
                m.cash_difference,
                m.cash_difference_reason or "",
                e.member,
                e.attendance,
                str(e.shares),
                e.social_fund_paid,
                e.fines_paid,
                e.interest_paid,
                e.principal_repaid,
                e.loan_taken,
                e.grant_received,
            )


# -- pages ----------------------------------------------------------------------------------


class GroupPage(msgspec.Struct):
    items: list[Group]
    next_cursor: str | None

    @classmethod
    def of(cls, found: list[queries.Group], limit: int) -> GroupPage:
        last = text_cursor(found[-1].code) if len(found) == limit else None
        return cls([Group.of(g) for g in found], last)


class MemberPage(msgspec.Struct):
    items: list[Member]
    next_cursor: str | None

    @classmethod
    def of(cls, found: list[queries.Member], limit: int) -> MemberPage:
        last = text_cursor(found[-1].number) if len(found) == limit else None
        return cls([Member.of(m) for m in found], last)


class CyclePage(msgspec.Struct):
    items: list[Cycle]
    next_cursor: str | None

    @classmethod
    def of(cls, found: list[queries.Cycle], limit: int) -> CyclePage:
        last = id_cursor(found[-1].number) if len(found) == limit else None
        return cls([Cycle.of(c) for c in found], last)


class MeetingPage(msgspec.Struct):
    items: list[Meeting]
    next_cursor: str | None

    @classmethod
    def of(cls, found: list[queries.Meeting], limit: int) -> MeetingPage:
        last = dated_cursor(found[-1].date, found[-1].id) if len(found) == limit else None
        return cls([Meeting.of(m) for m in found], last)


class LoanPage(msgspec.Struct):
    items: list[Loan]
    next_cursor: str | None

    @classmethod
    def of(cls, found: list[queries.Loan], limit: int) -> LoanPage:
        last = dated_cursor(found[-1].disbursed_on, found[-1].id) if len(found) == limit else None
        return cls([Loan.of(x) for x in found], last)
