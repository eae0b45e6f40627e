"""The pure rules of trainings, visits, income and outcomes, worked by hand."""

from __future__ import annotations

import datetime
from dataclasses import replace
from fractions import Fraction

from ledger.core.errors import LedgerError
from ledger.core.transaction import residuals, validate_transaction
from ledger.income.rules import income_account, income_record, month_end, parse_month
from ledger.livestock.rules import (
    SpeciesCount,
    adjustment_error,
    expected_head,
    species_movements,
    visit_costs,
    whole_head,
)
from ledger.outcomes.rules import Exchanged, Rates, convert, herd_by_month, income_change, median
from ledger.reports.charts import grouped_bars
from ledger.training.rules import TrainingDraft, completed, validate_training

D = datetime.date
PRECISIONS = {"KHR": 0, "USD": 2, "THB": 2, "PIG": 0, "CHICKEN": 0}


def test_a_visit_balances_in_every_currency_and_lands_on_the_count() -> None:
    count = SpeciesCount(
        species="PIG",
        counted=3,
        births=8,
        deaths=(("disease", 2), ("accident", 1)),
        bought=1,
        bought_price=400_000,
        sold=3,
        sold_price=1_500_000,
        eaten=1,
        adjustment_reason="One missing",
    )
    expected = expected_head(2, count, "counted")
    assert expected == 2 + 8 + 1 - 3 - 3 - 1  # 4
    txn = species_movements(D(2019, 5, 10), "DV-009", 7, count, 4, "KHR")
    assert txn is not None
    assert validate_transaction(txn, PRECISIONS) == ()
    assert residuals(txn, PRECISIONS) == {}
    herd = sum(p.units for p in txn.postings if p.account == "Assets:Livestock:Pig")
    assert herd == 3 - 2  # from 2 held to 3 counted
    assert ("adjustment-reason", "One missing") in txn.meta
    assert "count-adjustment" in txn.tags


def test_more_out_than_held_and_a_count_without_reason() -> None:
    dying = SpeciesCount("PIG", counted=0, deaths=(("disease", 3),))
    refused = expected_head(2, dying, "counted")
    assert isinstance(refused, LedgerError)
    assert (refused.code, refused.kind) == ("more_than_held", "conflict")
    off = SpeciesCount("PIG", counted=5)
    assert adjustment_error(off, 2, "species[0]") is not None
    assert adjustment_error(SpeciesCount("PIG", counted=2), 2, "species[0]") is None


def test_head_counts_are_whole_and_not_negative() -> None:
    assert whole_head(3, "f") == 3
    assert whole_head(3.0, "f") == 3
    assert isinstance(whole_head(2.5, "f"), LedgerError)
    negative = whole_head(-1, "f")
    assert isinstance(negative, LedgerError)
    assert negative.code == "head_count_negative"


def test_nothing_moved_posts_nothing_and_costs_balance() -> None:
    assert species_movements(D(2019, 1, 1), "X-1", 1, SpeciesCount("PIG", 2), 2, "KHR") is None
    costs = visit_costs(D(2019, 1, 1), "X-1", 1, 60_000, 15_000, "KHR")
    assert costs is not None
    assert residuals(costs, PRECISIONS) == {}
    assert visit_costs(D(2019, 1, 1), "X-1", 1, 0, 0, "KHR") is None


def test_income_records_post_on_the_month_end() -> None:
    month = parse_month("2019-02")
    assert month == D(2019, 2, 1)
    assert month_end(D(2020, 2, 1)) == D(2020, 2, 29)
    assert isinstance(parse_month("2019-2"), LedgerError)
    assert income_account("small_business") == "Income:Household:Small-Business"
    txn = income_record("LA-001", D(2019, 2, 1), "crops", 350_000, "KHR", baseline=True)
    assert txn.date == D(2019, 2, 28)
    assert set(txn.tags) == {"income", "baseline"}
    assert residuals(txn, PRECISIONS) == {}


def test_rates_weighted_inverse_and_through_a_third_currency() -> None:
    rates = Rates(
        [
            Exchanged(D(2018, 11, 2), "USD", 80_000, "KHR", 3_288_000),  # 800.00 at 4,110
            Exchanged(D(2018, 11, 5), "USD", 20_000, "KHR", 824_000),  # 200.00 at 4,120
            Exchanged(D(2018, 11, 5), "USD", 30_000, "THB", 975_000),  # 300.00 at 32.50
        ]
    )
    # 4,112,000 riel for 100,000 cents: 41.12 riel a cent.
    assert rates.rate("USD", "KHR", D(2018, 12, 1)) == Fraction(4_112_000, 100_000)
    assert convert(200_000, "KHR", "USD", D(2018, 12, 1), rates) == 4864  # 48.638 -> 48.64
    assert convert(200_000, "KHR", "USD", D(2018, 11, 3), rates) == 4866  # 4,110 only
    # 1,500.00 baht = 46.15 USD = 189,797 riel (through the dollar, rounded once).
    assert convert(150_000, "THB", "KHR", D(2018, 12, 1), rates) == round(
        Fraction(150_000 * 30_000 * 4_112_000, 975_000 * 100_000)
    )
    missing = convert(1000, "KHR", "USD", D(2018, 1, 1), rates)
    assert isinstance(missing, LedgerError)
    assert missing.code == "exchange_rate_required"


def test_income_change_and_median() -> None:
    assert income_change([200_000], [300_000, 1_600_000]) == 750_000
    assert income_change([], [1]) is None
    assert median([750_000, -100_000]) == 325_000
    assert median([3, 1, 2]) == 2
    assert median([1, 2]) == 2  # 1.5 rounds half to even
    assert median([]) is None


def test_herd_by_month_carries_each_households_last_count() -> None:
    counts = [
        ("LA-101", D(2019, 2, 1), "CHICKEN", 10),
        ("DV-009", D(2019, 3, 10), "PIG", 8),
        ("LA-101", D(2019, 4, 1), "CHICKEN", 25),
        ("DV-009", D(2019, 5, 10), "PIG", 3),
    ]
    assert herd_by_month(counts) == {
        D(2019, 2, 1): {"CHICKEN": 10},
        D(2019, 3, 1): {"CHICKEN": 10, "PIG": 8},
        D(2019, 4, 1): {"CHICKEN": 25, "PIG": 8},
        D(2019, 5, 1): {"CHICKEN": 25, "PIG": 3},
    }


def test_completion_and_training_dates() -> None:
    draft = TrainingDraft(
        ("pig_raising",), "Pig raising", D(2018, 8, 26), D(2018, 8, 28), "Svay Rieng", "Hall",
        "PDA", None,
    )  # fmt: skip
    assert validate_training(draft) == ()
    assert completed([D(2018, 8, 26), D(2018, 8, 27)], 3) is False
    assert completed([D(2018, 8, 26), D(2018, 8, 27), D(2018, 8, 28)], 3) is True
    backwards = replace(draft, start_date=D(2018, 8, 28), end_date=D(2018, 8, 26))
    assert [e.code for e in validate_training(backwards)] == ["training_dates_invalid"]


def test_a_chart_scales_from_zero_in_round_steps() -> None:
    chart = grouped_bars(["Feb", "Mar"], [("pigs", [0, 8]), ("chickens", [10, 25])], str)
    assert [t.label for t in chart.ticks] == ["0", "10", "20", "30", "40"]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.label == "25"
    assert tallest.height == (chart.plot_bottom - 22.0) * 25 / 40
    assert len(chart.bars) == 4
