"""The savings groups' accounting, without a database: interest, schedules, arrears,
repayment order, the share-out and its closing entries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pytest

from ledger.core.errors import LedgerError
from ledger.core.transaction import validate_transaction
from ledger.savings import rules
from ledger.savings.rules import LoanState, LoanTerms, MemberFlows, MemberPosition, Payment

D = datetime.date
PRECISIONS = {"KHR": 0}
DISBURSED = D(2026, 1, 19)


def terms(
    principal: int = 100_000,
    method: str = "declining",
    months: int = 3,
    rate: str = "2",
) -> LoanTerms:
    return LoanTerms(principal, DISBURSED, Decimal(rate), method, months, 100)


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert rules.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert rules.add_months(D(2026, 11, 15), 3) == D(2027, 2, 15)


def test_each_month_or_part_of_one_is_charged_once_begun() -> None:
    loan = terms()
    assert rules.months_started(loan, D(2026, 1, 19)) == 0
    assert rules.months_started(loan, D(2026, 1, 20)) == 1
    assert rules.months_started(loan, D(2026, 2, 19)) == 1
    assert rules.months_started(loan, D(2026, 2, 20)) == 2


def test_flat_interest_is_on_the_original_principal() -> None:
    loan = terms(method="flat")
    paid = [Payment(D(2026, 2, 10), 2_000, 50_000)]
    assert rules.interest_charged(loan, paid, D(2026, 3, 1)) == 4_000


def test_declining_interest_is_on_what_is_still_owed_when_the_month_begins() -> None:
    loan = terms()
    paid = [Payment(D(2026, 2, 10), 2_000, 50_000)]
    assert rules.interest_charged(loan, paid, D(2026, 3, 1)) == 2_000 + 1_000
    state = rules.loan_state(loan, paid, D(2026, 3, 1))
    assert state == LoanState(principal_outstanding=50_000, interest_due=1_000)
    # A payment on the very day a month begins counts before that month's charge.
    on_the_day = [Payment(D(2026, 2, 19), 2_000, 50_000)]
    assert rules.interest_charged(loan, on_the_day, D(2026, 2, 20)) == 3_000


def test_interest_is_rounded_to_the_cash_unit() -> None:
    loan = terms(principal=123_456, rate="2.5")
    # 2.5% of 123,456 = 3,086.4 -> 3,100
    assert rules.interest_charged(loan, [], D(2026, 1, 20)) == 3_100


def test_schedule_equal_principal_and_interest_by_method() -> None:
    declining = rules.schedule(terms(principal=100_000, months=3))
    assert [(i.due_on, i.principal, i.interest, i.principal_after) for i in declining] == [
        (D(2026, 2, 19), 33_300, 2_000, 66_700),
        (D(2026, 3, 19), 33_300, 1_300, 33_400),
        (D(2026, 4, 19), 33_400, 700, 0),
    ]
    flat = rules.schedule(terms(principal=100_000, months=3, method="flat"))
    assert [i.interest for i in flat] == [2_000, 2_000, 2_000]


def test_arrears_count_from_the_oldest_unpaid_installment() -> None:
    loan = terms(principal=90_000, months=3)
    assert rules.days_in_arrears(loan, [], D(2026, 2, 19)) == 0
    assert rules.days_in_arrears(loan, [], D(2026, 2, 25)) == 6
    paid = [Payment(D(2026, 2, 18), 1_800, 30_000)]
    assert rules.days_in_arrears(loan, paid, D(2026, 3, 25)) == 6
    assert rules.days_in_arrears(loan, [Payment(D(2026, 2, 1), 0, 90_000)], D(2026, 9, 1)) == 0


def test_a_repayment_pays_all_interest_first_then_principal_oldest_loan_first() -> None:
    owed = [(1, LoanState(40_000, 800)), (2, LoanState(60_000, 1_200))]
    assert rules.allocate_repayment(12_000, owed, "f") == [(1, 800, 10_000), (2, 1_200, 0)]
    assert rules.allocate_repayment(102_000, owed, "f") == [(1, 800, 40_000), (2, 1_200, 60_000)]
    too_much = rules.allocate_repayment(102_001, owed, "f")
    assert isinstance(too_much, LedgerError)
    assert too_much.code == "repayment_exceeds_debt"


def test_a_members_meeting_is_one_balanced_transaction() -> None:
    flows = MemberFlows(
        "M01",
        shares=2,
        savings=10_000,
        social_fund_paid=500,
        fines_paid=500,
        interest_paid=1_000,
        principal_repaid=20_000,
        loan_taken=50_000,
        grant_received=0,
    )
    txn = rules.meeting_transaction(D(2026, 3, 2), "meeting-2026-03-02", flows, "KHR")
    assert txn is not None
    assert validate_transaction(txn, PRECISIONS) == ()
    assert {p.account: p.units for p in txn.postings} == {
        "Assets:Cash:Box": 32_000 - 50_000,
        "Liabilities:Members:M01:Savings": -10_000,
        "Equity:Social-Fund": -500,
        "Income:Fines": -500,
        "Income:Interest": -1_000,
        "Assets:Loans:M01": 30_000,
    }
    assert rules.meeting_transaction(D(2026, 3, 2), "m", MemberFlows("M02"), "KHR") is None


def test_share_out_of_a_simple_cycle() -> None:
    """1,001 riel of cash over 3 shares: 333.67 a share, parts rounded down to 100 riel."""
    positions = [MemberPosition("M01", 1, 300), MemberPosition("M02", 2, 600)]
    result = rules.compute_share_out(1_001 * 100, positions, 100)
    assert not isinstance(result, LedgerError)
    assert result.value_per_share == Fraction(100_100, 3)
    assert [line.share_value for line in result.lines] == [33_300, 66_700]
    assert result.carried_forward == 100
    assert rules.fraction_text(result.value_per_share, 4) == "33366.6666"


def test_a_debt_is_settled_from_the_members_part() -> None:
    positions = [
        MemberPosition("M01", 10, 50_000, interest_due=1_000, principal_outstanding=20_000),
        MemberPosition("M02", 10, 50_000),
    ]
    # Fund: 80,000 cash + 21,000 owed = 101,000; 5,050 a share.
    result = rules.compute_share_out(80_000, positions, 100)
    assert not isinstance(result, LedgerError)
    m01, m02 = result.lines
    assert (m01.share_value, m01.interest_deducted, m01.principal_deducted) == (
        50_500,
        1_000,
        20_000,
    )
    assert (m01.payout, m01.loan_carried) == (29_500, 0)
    assert m02.payout == 50_500
    assert result.carried_forward == 0


def test_a_debt_larger_than_the_members_part_rolls_over_and_the_others_are_paid_in_cash() -> None:
    positions = [
        MemberPosition("M01", 2, 10_000, interest_due=1_200, principal_outstanding=30_000),
        MemberPosition("M02", 20, 100_000),
        MemberPosition("M03", 0, 0, principal_outstanding=5_000),
    ]
    result = rules.compute_share_out(80_000, positions, 100)
    assert not isinstance(result, LedgerError)
    assert result.value_per_share == 4_000
    m01, m02, m03 = result.lines
    assert (m01.share_value, m01.loan_deducted, m01.payout, m01.loan_carried) == (
        8_000,
        8_000,
        0,
        23_200,
    )
    assert m02.payout == 80_000
    assert (m03.share_value, m03.loan_carried) == (0, 5_000)
    assert result.loans_carried_forward == 28_200
    assert result.carried_forward == 0


def test_share_out_refusals() -> None:
    short = rules.compute_share_out(-1, [MemberPosition("M01", 1, 5_000)], 100)
    assert isinstance(short, LedgerError)
    assert short.code == "share_out_cash_short"
    nothing = rules.compute_share_out(100, [MemberPosition("M01", 0, 0)], 100)
    assert isinstance(nothing, LedgerError)
    assert nothing.code == "share_out_no_shares"


def test_closing_entries_balance_and_leave_only_the_carried_forward() -> None:
    positions = [
        MemberPosition("M01", 10, 50_000, interest_due=1_000, principal_outstanding=20_000),
        MemberPosition("M02", 10, 50_000),
    ]
    # Before: cash 85,000 available + a social fund of 5,000; loans 20,000; savings 100,000;
    # interest 4,000 and fines 1,000 earned.
    result = rules.compute_share_out(85_000, positions, 100)
    assert not isinstance(result, LedgerError)
    assert result.value_per_share == 5_300
    book: dict[str, int] = defaultdict(int)
    for account, units in (
        ("Assets:Cash:Box", 90_000),
        ("Equity:Social-Fund", -5_000),
        ("Assets:Loans:M01", 20_000),
        ("Liabilities:Members:M01:Savings", -50_000),
        ("Liabilities:Members:M02:Savings", -50_000),
        ("Income:Interest", -4_000),
        ("Income:Fines", -1_000),
    ):
        book[account] += units
    txns = rules.share_out_transactions(
        D(2026, 7, 1),
        1,
        "KHR",
        {a: book[a] for a in rules.RESULT_ACCOUNTS},
        result,
        ["M01", "M02"],
    )
    for txn in txns:
        assert validate_transaction(txn, PRECISIONS) == ()
        for posting in txn.postings:
            book[posting.account] += posting.units
    left = {account: units for account, units in book.items() if units}
    assert left == {"Assets:Cash:Box": 5_000, "Equity:Social-Fund": -5_000}


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Fraction(1, 3), 4, "0.3333"),
        (Fraction(2, 3), 4, "0.6666"),
        (Fraction(-1, 3), 2, "-0.33"),
        (Fraction(5), 0, "5"),
    ],
)
def test_fraction_text_truncates(value: Fraction, places: int, text: str) -> None:
    assert rules.fraction_text(value, places) == text


def test_constitution_limits() -> None:
    good = rules.Constitution(5_000, 1, 5, 500, Decimal(2), "flat", 3, 6, 0, 0, 0, 100)
    assert rules.validate_constitution(good) == ()
    codes = {
        e.code
        for e in rules.validate_constitution(
            rules.Constitution(5_050, 3, 2, -1, Decimal(21), "simple", 0, 40, 0, 0, 0, 100)
        )
    }
    assert codes == {
        "share_price_invalid",
        "shares_per_meeting_invalid",
        "amount_negative",
        "interest_rate_invalid",
        "interest_method_invalid",
        "loan_multiple_invalid",
        "loan_term_invalid",
    }


def test_positions_that_disagree_with_the_book_are_refused() -> None:
    positions = [
        MemberPosition("M01", 2, 10_000, principal_outstanding=5_000),
        MemberPosition("M02", 2, 10_500),
    ]
    found = rules.check_positions(positions, 5_000, {"M01": 4_000})
    assert [e.code for e in found] == ["share_out_loans_mismatch", "share_out_savings_mismatch"]
    assert rules.check_positions(positions[:1], 5_000, {"M01": 5_000}) == ()
