"""Grants in pure code: statuses, maker-checker, what can be paid, receipt numbers, and what
a household's own book records when it receives cash or livestock.

The scenario: DV-009 receives a pig-raising grant from CTIP-2018: two pigs at 300,000 riel
and ten chickens at 25,000 riel in kind, then cash.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.core.transaction import Posting, Price, residuals, validate_transaction
from ledger.grants.rules import (
    DISBURSEMENT_LINK_PREFIX,
    ENDINGS,
    STATUSES,
    DisbursementFacts,
    Item,
    approval_error,
    disbursable_error,
    disbursement_link,
    disbursement_transactions,
    household_disbursement,
    receipt_number,
    status_after,
)
from ledger.households.rules import holding_account
from ledger.store.reversal_owners import owner_of_link

D = datetime.date
PRECISIONS = {"KHR": 0, "USD": 2, "THB": 2, "PIG": 0, "CHICKEN": 0, "FEED-KG": 0, "RICE.KG": 0}
INCOME = "Income:Grants:CTIP-2018"


# -- statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approved", "disbursed", "status"),
    [
        (30_000, 0, "approved"),
        (30_000, 1, "disbursing"),
        (30_000, 14_591, "disbursing"),
        (30_000, 29_999, "disbursing"),
        (30_000, 30_000, "fully_disbursed"),
        (1, 1, "fully_disbursed"),
    ],
)
def test_status_after(approved: int, disbursed: int, status: str) -> None:
    assert status_after(approved, disbursed) == status


@pytest.mark.parametrize(("approved", "disbursed"), [(30_000, 30_001), (30_000, -1)])
def test_status_after_refuses_the_impossible(approved: int, disbursed: int) -> None:
    with pytest.raises(AssertionError):
        status_after(approved, disbursed)


def test_endings() -> None:
    """Only an unfinished grant is cancelled; only one paid in full is closed."""
    assert ENDINGS == {
        "cancelled": ("proposed", "approved", "disbursing"),
        "closed": ("fully_disbursed",),
    }
    assert {s for ending in ENDINGS.values() for s in ending} | set(ENDINGS) == set(STATUSES)


# -- maker-checker -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proposer", "approver", "amount", "threshold", "refused"),
    [
        ("dara", "dara", 25_001, 25_000, True),  # above the threshold, by the proposer
        ("dara", "sokha", 25_001, 25_000, False),  # a second person
        ("dara", "dara", 25_000, 25_000, False),  # at the threshold the proposer may
        ("dara", "dara", 4_000, 25_000, False),
        ("dara", "dara", 1, 0, True),  # a zero threshold: always two people
    ],
)
def test_approval_error(
    proposer: str, approver: str, amount: int, threshold: int, refused: bool
) -> None:
    error = approval_error(proposer, approver, amount, threshold)
    if not refused:
        assert error is None
        return
    assert error is not None
    assert (error.code, error.kind) == ("approval_needs_second_person", "forbidden")


# -- what can be paid --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("approved", None),
        ("disbursing", None),
        ("proposed", "grant_not_approved"),
        ("cancelled", "grant_cancelled"),
        ("fully_disbursed", "grant_fully_disbursed"),
        ("closed", "grant_closed"),
    ],
)
def test_disbursable_error(status: str, code: str | None) -> None:
    error = disbursable_error(status)
    assert (error.code if error else None) == code
    if error is not None:
        assert error.kind == "conflict"


def test_every_status_is_answered() -> None:
    for status in STATUSES:
        disbursable_error(status)  # raises for a status it does not know


# -- receipt numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("book", "year", "number", "receipt"),
    [
        ("org", 2018, 1, "ORG-2018-0001"),
        ("org", 2018, 7, "ORG-2018-0007"),
        ("org", 2019, 9_999, "ORG-2019-9999"),
        ("ccpcr-sr", 2020, 42, "CCPCR-SR-2020-0042"),
    ],
)
def test_receipt_number(book: str, year: int, number: int, receipt: str) -> None:
    assert receipt_number(book, year, number) == receipt
    assert disbursement_link(receipt) == f"disbursement-{receipt}"


@pytest.mark.parametrize("number", [0, -1, 10_000])
def test_receipt_number_out_of_range(number: int) -> None:
    with pytest.raises(AssertionError):
        receipt_number("org", 2018, number)


def test_receipt_numbers_sort_in_order_within_a_year() -> None:
    numbers = [receipt_number("org", 2018, n) for n in (1, 2, 10, 100, 999, 1000, 9999)]
    assert sorted(numbers) == numbers


# -- the household's book ----------------------------------------------------------------------


def _received(
    items: tuple[Item, ...], units: int, currency: str = "KHR", precision: int = 0
) -> tuple[Posting, ...]:
    txn = household_disbursement(
        D(2018, 11, 20),
        "CTIP-2018",
        7,
        "ORG-2018-0001",
        currency,
        units,
        items,
        precision,
        PRECISIONS,
        "Grant 7 (pig raising) to DV-009",
    )
    assert validate_transaction(txn, PRECISIONS) == ()
    assert residuals(txn, PRECISIONS) == {}
    assert txn.links == ("disbursement-ORG-2018-0001",)
    assert txn.meta == (("award", "CTIP-2018"), ("grant", "7"), ("receipt", "ORG-2018-0001"))
    assert txn.tags == ("grant",)
    return txn.postings


def test_pigs_and_chickens_at_their_cost() -> None:
    """2 pigs at 300,000 and 10 chickens at 25,000 riel: 850,000 riel received as a grant."""
    items = (Item("PIG", 2, 300_000), Item("CHICKEN", 10, 25_000))
    assert [item.value for item in items] == [600_000, 250_000]
    assert _received(items, 850_000) == (
        Posting("Assets:Livestock:Pig", 2, "PIG", Price("KHR", per_unit=Decimal(300_000))),
        Posting("Assets:Livestock:Chicken", 10, "CHICKEN", Price("KHR", per_unit=Decimal(25_000))),
        Posting(INCOME, -850_000, "KHR"),
    )


def test_items_priced_in_dollars_keep_their_cents() -> None:
    """A sow at 150.75 USD paid from the bank: a per-unit price of 150.75, exact."""
    postings = _received((Item("PIG", 1, 15_075),), 15_075, "USD", 2)
    assert postings[0].price == Price("USD", per_unit=Decimal("150.75"))
    assert postings[1] == Posting(INCOME, -15_075, "USD")


def test_goods_that_are_not_livestock() -> None:
    """50 kg of feed at 2,400 riel: kept as goods, in an account named after the commodity."""
    postings = _received((Item("FEED-KG", 50, 2_400), Item("RICE.KG", 3, 3_000)), 129_000)
    assert [p.account for p in postings] == ["Assets:Goods:FEED-KG", "Assets:Goods:RICE-KG", INCOME]
    assert holding_account("GOAT") == "Assets:Livestock:Goat"


def test_cash_is_received_as_cash() -> None:
    assert _received((), 616_500) == (
        Posting("Assets:Cash", 616_500, "KHR"),
        Posting(INCOME, -616_500, "KHR"),
    )


def test_items_must_add_up_to_the_amount() -> None:
    with pytest.raises(AssertionError):
        _received((Item("PIG", 2, 300_000),), 600_001)
    with pytest.raises(AssertionError):
        _received((), 0)


# -- one disbursement, both books --------------------------------------------------------------

EXPENSE = "Expenses:Grants:Livelihood:CTIP-2018"
BAVET = "Assets:Cash:Bavet-KHR"


def _facts(units: int, items: tuple[Item, ...], narration: str | None = None) -> DisbursementFacts:
    """Grant 7 to DV-009 on CTIP-2018's livelihood-grants line, paid from the Bavet cash box."""
    return DisbursementFacts(
        date=D(2018, 11, 20),
        grant_id=7,
        case_code="DV-009",
        business_type="pig_raising",
        award_code="CTIP-2018",
        budget_line="livelihood-grants",
        expense_account=EXPENSE,
        paid_from=BAVET,
        currency="KHR",
        units=units,
        items=items,
        receipt="ORG-2018-0001",
        narration=narration,
    )


def test_pigs_in_kind_post_in_both_books_linked() -> None:
    """Two pigs at 300,000 riel: 600,000 riel out of the Bavet cash box on the grants line,
    and two pigs at their cost into the household's book, one link between them."""
    posted = disbursement_transactions(_facts(600_000, (Item("PIG", 2, 300_000),)), PRECISIONS)
    org, household = posted.organisation, posted.household
    for txn in (org, household):
        assert validate_transaction(txn, PRECISIONS) == ()
        assert residuals(txn, PRECISIONS) == {}
        assert txn.links == (posted.link,) == ("disbursement-ORG-2018-0001",)
        assert txn.tags == ("grant",)
        assert txn.date == D(2018, 11, 20)
        assert txn.narration == "Grant 7 (pig raising) to DV-009, receipt ORG-2018-0001"
    assert org.postings == (
        Posting(EXPENSE, 600_000, "KHR"),
        Posting(BAVET, -600_000, "KHR"),
    )
    assert org.meta == (
        ("award", "CTIP-2018"),
        ("budget-line", "livelihood-grants"),
        ("grant", "7"),
        ("case", "DV-009"),
        ("receipt", "ORG-2018-0001"),
    )
    assert org.payee is None
    assert household.postings == (
        Posting("Assets:Livestock:Pig", 2, "PIG", Price("KHR", per_unit=Decimal(300_000))),
        Posting(INCOME, -600_000, "KHR"),
    )
    assert household.meta == (
        ("award", "CTIP-2018"),
        ("grant", "7"),
        ("receipt", "ORG-2018-0001"),
    )


def test_cash_posts_the_same_amount_in_both_books() -> None:
    posted = disbursement_transactions(_facts(616_500, (), "Second tranche"), PRECISIONS)
    assert posted.organisation.postings == (
        Posting(EXPENSE, 616_500, "KHR"),
        Posting(BAVET, -616_500, "KHR"),
    )
    assert posted.household.postings == (
        Posting("Assets:Cash", 616_500, "KHR"),
        Posting(INCOME, -616_500, "KHR"),
    )
    assert posted.organisation.narration == posted.household.narration == "Second tranche"


def test_items_must_add_up_to_what_is_paid() -> None:
    with pytest.raises(AssertionError):
        disbursement_transactions(_facts(600_001, (Item("PIG", 2, 300_000),)), PRECISIONS)


def test_the_store_knows_a_disbursement_is_reversed_through_its_grant() -> None:
    """The link both books carry is the mark the generic reverse route refuses."""
    owner = owner_of_link(disbursement_link("ORG-2018-0001"))
    assert owner is not None
    assert (owner.area, owner.code, owner.link_prefix) == (
        "grants",
        "reverse_through_grant",
        DISBURSEMENT_LINK_PREFIX,
    )
    assert owner_of_link("fx-2018-11-02-1") is None
