"""Posting rules of a follow-up visit in a household's tracking book. Pure.

Head of livestock are commodities (`PIG`, `CHICKEN`) held in `Assets:Livestock:<Species>`.
Movements in head balance against income and expense accounts counted in head, so the book
shows how a herd grew and shrank; money from sales and spent on feed and the vet balances in
its own currency:

    births      Assets:Livestock:Pig  8 PIG          Income:Livestock:Births  -8 PIG
    deaths      Expenses:Livestock:Deaths:Disease 1 PIG   Assets:Livestock:Pig  -1 PIG
    bought      Assets:Livestock:Pig  2 PIG @@ 400000 KHR      Assets:Cash  -400000 KHR
    sold        Assets:Livestock:Pig -3 PIG @@ 1500000 KHR     Assets:Cash 1500000 KHR
                Expenses:Livestock:Sold 3 PIG @@ 1500000 KHR   Income:Livestock:Sales -1500000 KHR
    eaten, passed on, count differences: like deaths, to their own expense accounts
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, get_args

from ledger.core import limits
from ledger.core.errors import LedgerError, conflict, invalid
from ledger.core.text import validate_text
from ledger.core.transaction import Posting, Price, Transaction
from ledger.households.rules import CASH_ACCOUNT, LIVESTOCK, holding_account

DeathCause = Literal["disease", "accident", "predator", "weather", "unknown", "other"]
DEATH_CAUSES: tuple[str, ...] = get_args(DeathCause)

BIRTHS_ACCOUNT = "Income:Livestock:Births"
DEATHS_ROOT = "Expenses:Livestock:Deaths"
SOLD_ACCOUNT = "Expenses:Livestock:Sold"
SALES_ACCOUNT = "Income:Livestock:Sales"
EATEN_ACCOUNT = "Expenses:Livestock:Eaten"
PASSED_ON_ACCOUNT = "Expenses:Livestock:Passed-On"
COUNT_DIFFERENCES_ACCOUNT = "Expenses:Livestock:Count-Differences"
FEED_ACCOUNT = "Expenses:Livestock:Feed"
VET_ACCOUNT = "Expenses:Livestock:Vet"
VISIT_TAG = "visit"
ADJUSTMENT_TAG = "count-adjustment"

# One visit's species (one line each) and a head count's magnitude.
SPECIES_PER_VISIT_MAX = len(LIVESTOCK)
HEAD_MAX = 1_000_000
REASON_LENGTH_MAX = 500
NOTE_LENGTH_MAX = 1_000
OFFICER_LENGTH_MAX = 64


def deaths_account(cause: str) -> str:
    return f"{DEATHS_ROOT}:{cause.capitalize()}"


@dataclass(frozen=True, slots=True)
class SpeciesCount:
    """What the officer found for one species, in whole head; prices are totals in the
    visit's currency (smallest units)."""

    species: str
    counted: int
    births: int = 0
    deaths: tuple[tuple[str, int], ...] = ()  # (cause, head)
    bought: int = 0
    bought_price: int = 0
    sold: int = 0
    sold_price: int = 0
    eaten: int = 0
    passed_on: int = 0
    adjustment_reason: str | None = None

    @property
    def died(self) -> int:
        return sum(head for _, head in self.deaths)

    @property
    def head_in(self) -> int:
        return self.births + self.bought

    @property
    def head_out(self) -> int:
        return self.died + self.sold + self.eaten + self.passed_on


def whole_head(value: int | float, field: str) -> int | LedgerError:
    """A head count as sent (JSON may carry 2.5): whole, not negative, within the limit."""
    if isinstance(value, float) and not value.is_integer():
        return invalid("head_count_fractional", "Livestock are counted in whole head.", field)
    if value < 0:
        return invalid("head_count_negative", "A head count is zero or more.", field)
    if value > HEAD_MAX:
        return invalid("head_count_too_large", f"At most {HEAD_MAX} head.", field)
    return int(value)


def validate_count(count: SpeciesCount, field: str) -> list[LedgerError]:
    """Problems with one species line that need no stored state."""
    errors: list[LedgerError] = []
    if count.species not in LIVESTOCK:
        errors.append(
            invalid(
                "species_invalid", f"species is one of {', '.join(LIVESTOCK)}.", f"{field}.species"
            )
        )
    causes = [cause for cause, _ in count.deaths]
    if len(set(causes)) != len(causes):
        errors.append(
            invalid("death_cause_repeated", "A cause is listed twice.", f"{field}.deaths")
        )
    for index, (cause, head) in enumerate(count.deaths):
        if cause not in DEATH_CAUSES:
            errors.append(
                invalid(
                    "death_cause_invalid",
                    f"cause is one of {', '.join(DEATH_CAUSES)}.",
                    f"{field}.deaths[{index}].cause",
                )
            )
        if head <= 0:
            errors.append(
                invalid(
                    "head_count_negative",
                    "Deaths are one head or more per cause.",
                    f"{field}.deaths[{index}].head",
                )
            )
    for head, price, name in (
        (count.bought, count.bought_price, "bought"),
        (count.sold, count.sold_price, "sold"),
    ):
        if (head > 0) != (price > 0):
            errors.append(
                invalid(
                    "price_required",
                    f"{name}_price is the total paid for the head {name}, given with them.",
                    f"{field}.{name}_price",
                )
            )
    if count.adjustment_reason is not None:
        error = validate_text(count.adjustment_reason, REASON_LENGTH_MAX, f"{field}.reason")
        if error is not None:
            errors.append(error)
    return errors


def expected_head(held: int, count: SpeciesCount, field: str) -> int | LedgerError:
    """What the book should hold after the visit's movements, given `held` before it."""
    if count.head_out > held + count.head_in:
        return conflict(
            "more_than_held",
            "More head died, were sold, eaten or passed on than the household held.",
            field,
        )
    return held + count.head_in - count.head_out


def adjustment_error(count: SpeciesCount, expected: int, field: str) -> LedgerError | None:
    if count.counted != expected and not (count.adjustment_reason or "").strip():
        return invalid(
            "count_reason_required",
            f"The count differs from the book's {expected} head: give the reason.",
            f"{field}.reason",
        )
    return None


def visit_link(visit_id: int) -> str:
    return f"visit-{visit_id}"


def _meta(case_code: str, visit_id: int, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("case", case_code), ("visit", str(visit_id)), *extra)


def species_movements(
    date: datetime.date,
    case_code: str,
    visit_id: int,
    count: SpeciesCount,
    expected: int,
    currency: str,
) -> Transaction | None:
    """The visit's movements of one species as one transaction (None when nothing moved)."""
    herd = holding_account(count.species)
    commodity = count.species
    postings: list[Posting] = []

    def head(account: str, units: int) -> None:
        if units:
            postings.extend((Posting(herd, units, commodity), Posting(account, -units, commodity)))

    head(BIRTHS_ACCOUNT, count.births)
    for cause, dead in count.deaths:
        head(deaths_account(cause), -dead)
    if count.bought:
        total = Price(currency, total=count.bought_price)
        postings.extend(
            (
                Posting(herd, count.bought, commodity, total),
                Posting(CASH_ACCOUNT, -count.bought_price, currency),
            )
        )
    if count.sold:
        total = Price(currency, total=count.sold_price)
        postings.extend(
            (
                Posting(herd, -count.sold, commodity, total),
                Posting(SOLD_ACCOUNT, count.sold, commodity, total),
                Posting(CASH_ACCOUNT, count.sold_price, currency),
                Posting(SALES_ACCOUNT, -count.sold_price, currency),
            )
        )
    head(EATEN_ACCOUNT, -count.eaten)
    head(PASSED_ON_ACCOUNT, -count.passed_on)
    difference = count.counted - expected
    head(COUNT_DIFFERENCES_ACCOUNT, difference)
    if not postings:
        return None
    assert len(postings) <= limits.POSTINGS_PER_TRANSACTION_MAX
    extra: list[tuple[str, str]] = [("species", commodity), ("counted", str(count.counted))]
    if difference:
        extra.append(("adjustment-reason", (count.adjustment_reason or "").strip()))
    return Transaction(
        date=date,
        narration=f"Visit {visit_id} to {case_code}: {commodity.lower()} counted {count.counted}",
        tags=(VISIT_TAG, ADJUSTMENT_TAG) if difference else (VISIT_TAG,),
        links=(visit_link(visit_id),),
        meta=_meta(case_code, visit_id, *extra),
        postings=tuple(postings),
    )


def visit_costs(
    date: datetime.date,
    case_code: str,
    visit_id: int,
    feed: int,
    vet: int,
    currency: str,
) -> Transaction | None:
    """Feed and vet costs since the last visit, paid from the household's cash."""
    assert feed >= 0
    assert vet >= 0
    if not feed and not vet:
        return None
    postings = [
        Posting(account, units, currency)
        for account, units in ((FEED_ACCOUNT, feed), (VET_ACCOUNT, vet))
        if units
    ]
    return Transaction(
        date=date,
        narration=f"Visit {visit_id} to {case_code}: feed and vet costs",
        tags=(VISIT_TAG,),
        links=(visit_link(visit_id),),
        meta=_meta(case_code, visit_id),
        postings=(*postings, Posting(CASH_ACCOUNT, -(feed + vet), currency)),
    )
