"""What a household record may hold, and the accounts of its tracking book. Pure."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, get_args

from ledger.core.errors import LedgerError, invalid
from ledger.core.text import has_forbidden_character

Sex = Literal["female", "male", "other"]
SEXES: tuple[str, ...] = get_args(Sex)
AgeBand = Literal["under-18", "18-24", "25-34", "35-49", "50-64", "65+"]
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)
Category = Literal[
    "repatriated_migrant", "trafficking_survivor", "at_risk_of_unsafe_migration", "other"
]
CATEGORIES: tuple[str, ...] = get_args(Category)
PLACE_LENGTH_MAX = 100
REFERRAL_LENGTH_MAX = 200
MEMBERS_MAX = 50

BOOK_CODE_PREFIX = "hh-"
CASH_ACCOUNT = "Assets:Cash"
OPENING_ACCOUNT = "Equity:Opening-Balances"
GRANTS_INCOME_ROOT = "Income:Grants"
LIVESTOCK_ROOT = "Assets:Livestock"
GOODS_ROOT = "Assets:Goods"
# Commodities counted in head, each kept in an account of its own.
LIVESTOCK = ("PIG", "CHICKEN", "DUCK", "COW", "BUFFALO", "GOAT")
# What a household is paid in or pays with: its income, its sales, its feed and vet costs.
MONEY = ("KHR", "USD", "THB")


@dataclass(frozen=True, slots=True)
class HouseholdDraft:
    case_code: str
    province: str
    district: str
    commune: str
    village: str
    head_sex: str
    head_age_band: str
    members: int
    children: int
    category: str
    referral_source: str
    consent_date: datetime.date


def household_book_code(case_code: str) -> str:
    """DV-009 -> hh-dv-009: a book code (lowercase) that names the case and no person."""
    return BOOK_CODE_PREFIX + case_code.lower()


def grants_income_account(award_code: str) -> str:
    return f"{GRANTS_INCOME_ROOT}:{award_code}"


def holding_account(commodity: str) -> str:
    """Where a household keeps `commodity` received in kind: Assets:Livestock:Pig for head of
    livestock, Assets:Goods:<CODE> for anything else (characters an account name cannot hold
    become hyphens)."""
    if commodity in LIVESTOCK:
        return f"{LIVESTOCK_ROOT}:{commodity.capitalize()}"
    component = "".join(c if c.isalnum() else "-" for c in commodity)
    return f"{GOODS_ROOT}:{component}"


def _place_error(value: str, field: str) -> LedgerError | None:
    if (
        value.strip() != value
        or not value
        or len(value) > PLACE_LENGTH_MAX
        or has_forbidden_character(value, one_line=True)
    ):
        return invalid("place_invalid", "A place name is one line of 1 to 100 characters.", field)
    return None


def validate_household(draft: HouseholdDraft, today: datetime.date) -> tuple[LedgerError, ...]:
    """Every problem with a household record, as data. `case_code` is checked by
    `ledger.people.contacts.validate_case_code` (one home for its format)."""
    errors: list[LedgerError] = []
    for field in ("province", "district", "commune", "village"):
        error = _place_error(getattr(draft, field), field)
        if error is not None:
            errors.append(error)
    if draft.head_sex not in SEXES:
        errors.append(
            invalid("head_sex_invalid", f"head_sex is one of {', '.join(SEXES)}.", "head_sex")
        )
    if draft.head_age_band not in AGE_BANDS:
        errors.append(
            invalid(
                "head_age_band_invalid",
                f"head_age_band is one of {', '.join(AGE_BANDS)}.",
                "head_age_band",
            )
        )
    if draft.category not in CATEGORIES:
        errors.append(
            invalid("category_invalid", f"category is one of {', '.join(CATEGORIES)}.", "category")
        )
    if not 1 <= draft.members <= MEMBERS_MAX:
        errors.append(
            invalid("members_invalid", f"A household has 1 to {MEMBERS_MAX} members.", "members")
        )
    if not 0 <= draft.children <= draft.members:
        errors.append(
            invalid(
                "children_invalid",
                "Children are counted among the members: 0 to the number of members.",
                "children",
            )
        )
    if len(draft.referral_source) > REFERRAL_LENGTH_MAX or has_forbidden_character(
        draft.referral_source, one_line=True
    ):
        errors.append(
            invalid(
                "referral_source_invalid",
                "The referral source is one line of at most 200 characters.",
                "referral_source",
            )
        )
    if draft.consent_date > today:
        errors.append(
            invalid("consent_date_in_future", "Consent is recorded once given.", "consent_date")
        )
    return tuple(errors)
