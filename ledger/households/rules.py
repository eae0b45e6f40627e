"""What a household record may hold, and the accounts of its tracking book. Pure."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, get_args

from ledger.core import limits
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


# -- people of a household (and of a savings group): sex, birth year or age band, role -------
# No names: those are contacts. Exports and reports only ever count these, never list them.

Role = Literal[
    "head", "spouse", "child", "grandchild", "parent", "sibling", "other_relative", "other"
]
ROLES: tuple[str, ...] = get_args(Role)
# Children are people under 18 on the day a report counts them (the age band "under-18").
ADULT_AGE = 18
CHILD_AGE_BAND = "under-18"


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What a person is recorded with: a sex and a birth year, or an age band when the birth
    year is unknown (None where the record has neither, e.g. a savings member added before
    these were recorded)."""

    sex: str | None
    birth_year: int | None
    age_band: str | None


# A savings member added before sex and age were recorded, or whose are not said.
NOT_RECORDED = PersonFacts(None, None, None)


@dataclass(frozen=True, slots=True)
class MemberDraft:
    """A person of a household; `number` None takes the household's next free number."""

    role: str
    person: PersonFacts
    number: int | None = None


def person_errors(
    person: PersonFacts, this_year: int, *, required: bool, prefix: str = ""
) -> list[LedgerError]:
    """Every problem with a person's sex and age. `required`: a household member has a sex
    and a birth year or age band; a savings member may leave them unsaid (None)."""
    errors: list[LedgerError] = []
    if (person.sex is not None or required) and person.sex not in SEXES:
        errors.append(invalid("sex_invalid", f"sex is one of {', '.join(SEXES)}.", prefix + "sex"))
    if person.birth_year is not None and person.age_band is not None:
        errors.append(
            invalid(
                "birth_year_and_age_band",
                "Give a birth year, or an age band when the birth year is unknown: not both.",
                prefix + "age_band",
            )
        )
    elif required and person.birth_year is None and person.age_band is None:
        errors.append(
            invalid(
                "birth_year_or_age_band_required",
                "Give a birth year, or an age band when the birth year is unknown.",
                prefix + "birth_year",
            )
        )
    errors += _age_errors(person, this_year, prefix)
    return errors


def _age_errors(person: PersonFacts, this_year: int, prefix: str) -> list[LedgerError]:
    errors: list[LedgerError] = []
    if person.birth_year is not None and person.birth_year > this_year:
        errors.append(
            invalid(
                "birth_year_in_future", "This birth year has not come yet.", prefix + "birth_year"
            )
        )
    elif person.birth_year is not None and person.birth_year < limits.BIRTH_YEAR_MIN:
        errors.append(
            invalid(
                "birth_year_too_early",
                f"A birth year is {limits.BIRTH_YEAR_MIN} or later.",
                prefix + "birth_year",
            )
        )
    if person.age_band is not None and person.age_band not in AGE_BANDS:
        errors.append(
            invalid(
                "age_band_invalid",
                f"age_band is one of {', '.join(AGE_BANDS)}.",
                prefix + "age_band",
            )
        )
    return errors


def member_errors(draft: MemberDraft, this_year: int) -> list[LedgerError]:
    """Every problem with a household member as data (the household's own limits aside)."""
    errors: list[LedgerError] = []
    if draft.role not in ROLES:
        errors.append(
            invalid("household_role_invalid", f"role is one of {', '.join(ROLES)}.", "role")
        )
    if draft.number is not None and not 1 <= draft.number <= limits.HOUSEHOLD_MEMBERS_MAX:
        errors.append(
            invalid(
                "household_member_number_invalid",
                f"A member number is 1 to {limits.HOUSEHOLD_MEMBERS_MAX}.",
                "number",
            )
        )
    return errors + person_errors(draft.person, this_year, required=True)


AgeGroup = Literal["child", "adult", "unknown"]


def age_group(person: PersonFacts, year: int) -> AgeGroup:
    """A child (under 18) or an adult in `year` (age = year - birth year: the birth day is not
    recorded), by age band when the birth year is unknown; unknown when neither is recorded."""
    if person.birth_year is not None:
        return "child" if year - person.birth_year < ADULT_AGE else "adult"
    if person.age_band is not None:
        return "child" if person.age_band == CHILD_AGE_BAND else "adult"
    return "unknown"
