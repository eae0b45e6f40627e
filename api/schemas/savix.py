"""Savings groups across the programme (SAVIX) as the API returns them. Amounts are decimal
strings in the currency named beside them; ratios decimal strings with four places, `null`
when their denominator is zero. Formulas: docs/ACCOUNTING.md."""

from __future__ import annotations

import datetime
from fractions import Fraction

import msgspec

from ledger.core.amount import format_units
from ledger.savings.rules import fraction_text
from ledger.savings.savix import AreaSavix, Figures, GroupSavix, ProgrammeSavix, ratios

RATIO_PLACES = 4


def _ratio(value: Fraction | None) -> str | None:
    return None if value is None else fraction_text(value, RATIO_PLACES)


class SavixFigures(msgspec.Struct):
    currency: str
    groups: int
    members: int
    members_women: int | None  # null while no member's sex is recorded
    women_rate: str | None  # of the members whose sex is recorded
    members_enrolled_in_cycle: int
    members_dropped_out: int
    dropout_rate: str | None
    attendance_rate: str | None
    savings: str
    savings_per_member: str | None
    loans_active: int
    loans_outstanding: str
    portfolio_at_risk_30: str | None
    portfolio_at_risk_30_value: str
    cash_held: str
    social_fund_balance: str
    total_assets: str
    cycle_profit: str
    return_on_savings_annualised: str | None
    return_on_assets_annualised: str | None

    @classmethod
    def of(cls, f: Figures, currency: str, precision: int) -> SavixFigures:
        r = ratios(f)
        per_member = r.savings_per_member
        return cls(
            currency=currency,
            groups=f.groups,
            members=f.members,
            members_women=f.women if f.sex_recorded else None,
            women_rate=_ratio(r.women),
            members_enrolled_in_cycle=f.enrolled,
            members_dropped_out=f.dropped_out,
            dropout_rate=_ratio(r.dropout),
            attendance_rate=_ratio(r.attendance),
            savings=format_units(f.savings, precision),
            savings_per_member=None
            if per_member is None
            else format_units(int(per_member), precision),
            loans_active=f.loans_active,
            loans_outstanding=format_units(f.loans_outstanding, precision),
            portfolio_at_risk_30=_ratio(r.portfolio_at_risk_30),
            portfolio_at_risk_30_value=format_units(f.at_risk_30, precision),
            cash_held=format_units(f.cash, precision),
            social_fund_balance=format_units(f.social_fund, precision),
            total_assets=format_units(f.assets, precision),
            cycle_profit=format_units(f.cycle_profit, precision),
            return_on_savings_annualised=_ratio(r.return_on_savings_annualised),
            return_on_assets_annualised=_ratio(r.return_on_assets_annualised),
        )


class SavixGroup(msgspec.Struct):
    code: str
    name: str
    province: str
    cycle: int
    cycle_start: datetime.date
    figures: SavixFigures

    @classmethod
    def of(cls, g: GroupSavix) -> SavixGroup:
        return cls(
            code=g.code,
            name=g.name,
            province=g.province,
            cycle=g.cycle,
            cycle_start=g.cycle_start,
            figures=SavixFigures.of(g.figures, g.currency, g.precision),
        )


class SavixArea(msgspec.Struct):
    province: str | None  # null for the programme
    figures: SavixFigures

    @classmethod
    def of(cls, a: AreaSavix) -> SavixArea:
        return cls(a.province, SavixFigures.of(a.figures, a.currency, a.precision))


class SavixReport(msgspec.Struct):
    """Every group's, each province's and the programme's indicators (one programme entry
    per currency: money is never added across currencies)."""

    as_of: datetime.date
    programme: list[SavixArea]
    provinces: list[SavixArea]
    groups: list[SavixGroup]

    @classmethod
    def of(cls, found: ProgrammeSavix) -> SavixReport:
        return cls(
            as_of=found.as_of,
            programme=[SavixArea.of(a) for a in found.programme],
            provinces=[SavixArea.of(a) for a in found.provinces],
            groups=[SavixGroup.of(g) for g in found.groups],
        )
