"""Bar charts as geometry: what an inline SVG in a template draws. Pure.

WeasyPrint renders inline SVG, so a chart needs no plotting library: this module computes
every rectangle, tick and label, and the template (`templates/chart.html`) only draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Colours that stay apart in print and for the common colour-vision deficiencies.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")
TICKS = 4
# Bars stay readable on an A4 page up to this many groups (Cambodia has 25 provinces; three
# years of months). Views chart the last GROUPS_MAX groups and print every one in a table.
GROUPS_MAX = 36
SERIES_MAX = len(PALETTE)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str  # the value, printed above the bar


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class GroupLabel:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class LegendEntry:
    x: float
    fill: str
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: float
    height: float
    plot_left: float
    plot_bottom: float
    plot_right: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    groups: tuple[GroupLabel, ...]
    legend: tuple[LegendEntry, ...]


def _nice_step(value: int) -> int:
    """The smallest 1, 2 or 5 x 10^n whose `TICKS` steps reach `value` (at least 1)."""
    power = 1
    while True:
        for step in (1, 2, 5):
            if step * power * TICKS >= value:
                return step * power
        power *= 10


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    value_label: Callable[[int], str],
    width: float = 520,
    height: float = 220,
) -> BarChart:
    """One cluster of bars per group, one bar per series, on a common scale from zero.

    Values are integers (head, or smallest units of money); `value_label` prints one.
    Negative values are drawn as zero-height bars with their label (the scale starts at 0).
    """
    if not 1 <= len(groups) <= GROUPS_MAX or not 1 <= len(series) <= SERIES_MAX:
        raise ValueError("a chart has 1 to GROUPS_MAX groups and 1 to 6 series")
    for _, values in series:
        if len(values) != len(groups):
            raise ValueError("every series has one value per group")
    left, right, top, bottom = 62.0, width - 8.0, 22.0, height - 24.0
    peak = max([0, *(v for _, values in series for v in values)])
    step = _nice_step(peak)
    scale_top = step * TICKS
    plot_height = bottom - top
    slot = (right - left) / len(groups)
    bar_width = min(28.0, slot * 0.8 / len(series))
    bars = []
    for index, (_, values) in enumerate(series):
        for position, value in enumerate(values):
            shown = max(value, 0)
            bar_height = plot_height * shown / scale_top
            cluster = left + slot * position + (slot - bar_width * len(series)) / 2
            bars.append(
                Bar(
                    x=round(cluster + bar_width * index, 2),
                    y=round(bottom - bar_height, 2),
                    width=round(bar_width, 2),
                    height=round(bar_height, 2),
                    fill=PALETTE[index],
                    label=value_label(value),
                )
            )
    ticks = tuple(
        Tick(round(bottom - plot_height * n / TICKS, 2), value_label(step * n))
        for n in range(TICKS + 1)
    )
    labels = tuple(
        GroupLabel(round(left + slot * (n + 0.5), 2), name) for n, name in enumerate(groups)
    )
    legend = tuple(
        LegendEntry(round(left + 130.0 * n, 2), PALETTE[n], name)
        for n, (name, _) in enumerate(series)
    )
    return BarChart(width, height, left, bottom, right, tuple(bars), ticks, labels, legend)
