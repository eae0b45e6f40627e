"""Exchange gains and losses (ledger/funds/fx.py), over random exchanges and spends.

A riel account carried at its weighted-average dollar cost: dollars go in by exchanges,
riel leaves by spends measured at any rate and by exchanges back. Whatever the sequence, the
dollars exchanged into it equal its carrying value plus the dollars measured for what left
it less the realised gains, to the cent; and the carrying value plus the unrealised
difference is the balance at the closing rate.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.funds import fx

KHR, USD = 0, 2  # precisions

exchange_in = st.tuples(
    st.just("in"), st.integers(1, 50_000_000), st.integers(3_500, 4_500)
)  # riel received, riel per dollar
spend = st.tuples(
    st.just("out"), st.integers(1, 100), st.integers(3_000, 5_000)
)  # percent of the balance, riel per dollar it is measured at


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(st.one_of(exchange_in, spend), min_size=1, max_size=40),
    closing=st.integers(3_000, 5_000),
)
def test_carrying_plus_measured_less_realised_is_what_was_exchanged(
    steps: list[tuple[str, int, int]], closing: int
) -> None:
    state = fx.Carried()
    exchanged = measured_out = 0
    for kind, amount, rate in steps:
        if kind == "in":
            dollars = max(1, round(Fraction(amount * 100, rate)))
            state = state.move(fx.Movement(amount, dollars))
            exchanged += dollars
        elif state.units:
            leaving = max(1, state.units * amount // 100)
            dollars = round(Fraction(leaving * 100, rate))
            state = state.move(fx.Movement(-leaving, dollars))
            measured_out += dollars
        assert state.units >= 0
        assert state.carrying >= 0
        if state.units == 0:
            assert state.carrying == 0  # emptied: nothing carried is left over
    assert exchanged == state.carrying + measured_out - state.realised
    value = fx.revalued(state.units, KHR, USD, Decimal(closing))
    unrealised = value - state.carrying
    assert state.carrying + unrealised == round(Fraction(state.units * 100, closing))


@given(
    receipts=st.lists(
        st.tuples(st.integers(1, 10_000_000), st.integers(1, 5_000_00)), min_size=1, max_size=10
    ),
    parts=st.lists(st.integers(1, 100), max_size=10),
)
def test_money_leaving_at_its_carrying_share_realises_nothing(
    receipts: list[tuple[int, int]], parts: list[int]
) -> None:
    state = fx.carry([fx.Movement(riel, dollars) for riel, dollars in receipts])
    exchanged = sum(dollars for _, dollars in receipts)
    for percent in parts:
        if not state.units:
            break
        state = state.move(fx.Movement(-max(1, state.units * percent // 100)))
    assert state.realised == 0
    assert state.carrying <= exchanged


def test_the_worked_example_of_accounting_md() -> None:
    """docs/ACCOUNTING.md: 800.00 USD at 4,110, transport of 120,000 riel at 4,100, 200.00
    USD at 4,120, pigs of 600,000 riel at the average 4,112 (145.91), revalued at 4,150."""
    state = fx.carry([fx.Movement(3_288_000, 800_00), fx.Movement(-120_000, 29_27)])
    assert (state.carrying, state.realised) == (770_80, 7)  # 29.27 measured - 29.20 carried
    state = fx.carry([fx.Movement(824_000, 200_00), fx.Movement(-600_000, 145_91)], state)
    assert (state.units, state.carrying, state.realised) == (3_392_000, 824_89, 7)
    value = fx.revalued(state.units, KHR, USD, Decimal(4150))
    assert (value, value - state.carrying) == (817_35, -7_54)
