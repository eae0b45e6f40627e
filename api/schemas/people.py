"""People under a case code: role, sex, birth year or age band. Never a name (those are
contacts). A value outside its list is refused by the ledger with a stable code
(`sex_invalid`, `age_band_invalid`, `household_role_invalid`), not by the decoder."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ledger.core import limits
from ledger.households.members import HouseholdMember as StoredMember
from ledger.households.rules import MemberDraft, PersonFacts

Sex = Annotated[str, msgspec.Meta(max_length=10, examples=["female"])]
# A four-digit year; the ledger refuses one before 1900 or after this year.
BirthYear = Annotated[int, msgspec.Meta(ge=0, le=9999, examples=[2011])]
AgeBand = Annotated[str, msgspec.Meta(max_length=10, examples=["under-18"])]
MemberNumber = Annotated[int, msgspec.Meta(ge=1, le=limits.HOUSEHOLD_MEMBERS_MAX)]


class HouseholdMemberIn(msgspec.Struct, forbid_unknown_fields=True):
    """A person of the household: a birth year, or an age band when the year is unknown.
    `number` is theirs under the case code (left out: the next free one)."""

    role: Annotated[str, msgspec.Meta(max_length=20, examples=["child"])]
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
