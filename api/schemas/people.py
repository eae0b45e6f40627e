"""People under a case code: role, sex, birth year or age band. Never a name (those are
contacts). A value outside its list is refused by the ledger with a stable code
(`sex_invalid`, `age_band_invalid`, `household_role_invalid`), not by the decoder."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ledger.core import limits
from ledger.households.members import HouseholdMember as StoredMember
from ledger.households.rules import AGE_BANDS, ROLES, SEXES, MemberDraft, PersonFacts

Sex = Annotated[
    str,
    msgspec.Meta(
        max_length=10,
        examples=["female"],
        description=f"One of {', '.join(SEXES)} (else 422 sex_invalid).",
    ),
]
# A four-digit year; the ledger refuses one before 1900 or after this year.
BirthYear = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=9999,
        examples=[2011],
        description=f"{limits.BIRTH_YEAR_MIN} to this year (else 422 birth_year_too_early or "
        "birth_year_in_future); leave it out when unknown and give age_band.",
    ),
]
AgeBand = Annotated[
    str,
    msgspec.Meta(
        max_length=10,
        examples=["under-18"],
        description=f"When the birth year is unknown: one of {', '.join(AGE_BANDS)} (else 422 "
        "age_band_invalid; with a birth year, 422 birth_year_and_age_band).",
    ),
]
MemberNumber = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=limits.HOUSEHOLD_MEMBERS_MAX,
        description="The person's number under the case code; left out: the next free one.",
    ),
]
Role = Annotated[
    str,
    msgspec.Meta(
        max_length=20,
        examples=["child"],
        description=f"One of {', '.join(ROLES)} (else 422 household_role_invalid); one head.",
    ),
]


class HouseholdMemberIn(msgspec.Struct, forbid_unknown_fields=True):
    """A person of the household: a birth year, or an age band when the year is unknown.
    `number` is theirs under the case code (left out: the next free one)."""

    role: Role
    sex: Sex
    birth_year: BirthYear | None = None
    age_band: AgeBand | None = None
    number: MemberNumber | None = None

    def to_draft(self) -> MemberDraft:
        return MemberDraft(
            self.role, PersonFacts(self.sex, self.birth_year, self.age_band), self.number
        )


class HouseholdMember(msgspec.Struct):
    case_code: str
    number: int
    role: str
    sex: str
    birth_year: int | None
    age_band: str | None

    @classmethod
    def of(cls, case_code: str, member: StoredMember) -> HouseholdMember:
        person = member.person
        return cls(
            case_code,
            member.number,
            member.role,
            str(person.sex),
            person.birth_year,
            person.age_band,
        )


class HouseholdMemberList(msgspec.Struct):
    items: list[HouseholdMember]


EXAMPLE_MEMBER = {"role": "child", "sex": "female", "birth_year": 2011}
# A household's contact details (`PUT /api/contacts/{case_code}`): the household's province.
EXAMPLE_CONTACT = {
    "province": "Svay Rieng",
    "name": "Chan Sreymom",
    "phone": "+855 12 345 678",
    "address": "Prey Kokir village, Bavet commune, Svay Rieng",
}
