"""The people of a household under its case code: a role, a sex and a birth year (or an age
band when the year is unknown). No names: those are contacts. Public to the other areas
(docs/ARCHITECTURE.md): training names its trainees among them, reports count them.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from ledger.core import limits
from ledger.core.errors import LedgerRejected, conflict, invalid, not_found, reject_if
from ledger.households import rules
from ledger.households.records import lock_household
from ledger.households.rules import MemberDraft, PersonFacts
from ledger.households.service import Household
from ledger.store.books import utc_now
from ledger.store.tables import household_members

MEMBER_NOT_FOUND = not_found(
    "household_member_not_found", "This household has no member with this number.", "number"
)


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    id: int
    household_id: int
    number: int
    role: str
    person: PersonFacts
    created_at: datetime.datetime


def _member_from_row(row: Row[Any]) -> HouseholdMember:
    return HouseholdMember(
        id=row.id,
        household_id=row.household_id,
        number=row.number,
        role=row.role,
        person=PersonFacts(row.sex, row.birth_year, row.age_band),
        created_at=row.created_at,
    )


def list_members(conn: Connection, household: Household) -> list[HouseholdMember]:
    """The household's people, by number."""
    rows = conn.execute(
        select(household_members)
        .where(household_members.c.household_id == household.id)
        .order_by(household_members.c.number)
    )
    return [_member_from_row(r) for r in rows]


def members_of(conn: Connection, household_ids: Collection[int]) -> list[HouseholdMember]:
    """The people of these households, by household then number (reports count them)."""
    if not household_ids:
        return []
    rows = conn.execute(
        select(household_members)
        .where(household_members.c.household_id.in_(sorted(household_ids)))
        .order_by(household_members.c.household_id, household_members.c.number)
    )
    return [_member_from_row(r) for r in rows]


def _head_taken(members: Sequence[HouseholdMember], role: str, number: int | None) -> None:
    if role == "head" and any(m.role == "head" and m.number != number for m in members):
        raise LedgerRejected(
            [conflict("household_head_exists", "This household has a head already.", "role")]
        )


def add_member(
    conn: Connection,
    household: Household,
    draft: MemberDraft,
    today: datetime.date,
    created_by: str | None,
) -> HouseholdMember:
    """Record one person of the household; returns them as stored, with their number."""
    reject_if(rules.member_errors(draft, today.year))
    lock_household(conn, household)
    members = list_members(conn, household)
    if len(members) >= limits.HOUSEHOLD_MEMBERS_MAX:
        raise LedgerRejected(
            [
                conflict(
                    "household_member_limit_reached",
                    f"A household has at most {limits.HOUSEHOLD_MEMBERS_MAX} people recorded.",
                )
            ]
        )
    taken = {m.number for m in members}
    if draft.number in taken:
        raise LedgerRejected(
            [conflict("household_member_exists", "This member number is taken.", "number")]
        )
    _head_taken(members, draft.role, None)
    number = draft.number or min(
        n for n in range(1, limits.HOUSEHOLD_MEMBERS_MAX + 1) if n not in taken
    )
    now = utc_now()
    member_id = conn.execute(
        insert(household_members)
        .values(
            household_id=household.id,
            number=number,
            role=draft.role,
            sex=draft.person.sex,
            birth_year=draft.person.birth_year,
            age_band=draft.person.age_band,
            created_at=now,
            created_by=created_by,
        )
        .returning(household_members.c.id)
    ).scalar_one()
    return HouseholdMember(int(member_id), household.id, number, draft.role, draft.person, now)


def update_member(
    conn: Connection, household: Household, number: int, draft: MemberDraft, today: datetime.date
) -> HouseholdMember:
    """Correct a person's role, sex and birth year or age band (the number stays)."""
    if draft.number is not None and draft.number != number:
        raise LedgerRejected(
            [invalid("household_member_number_fixed", "A member keeps their number.", "number")]
        )
    reject_if(rules.member_errors(draft, today.year))
    lock_household(conn, household)
    members = list_members(conn, household)
    found = next((m for m in members if m.number == number), None)
    if found is None:
        raise LedgerRejected([MEMBER_NOT_FOUND])
    _head_taken(members, draft.role, number)
    conn.execute(
        update(household_members)
        .where(household_members.c.id == found.id)
        .values(
            role=draft.role,
            sex=draft.person.sex,
            birth_year=draft.person.birth_year,
            age_band=draft.person.age_band,
        )
    )
    return HouseholdMember(
        found.id, household.id, number, draft.role, draft.person, found.created_at
    )


def member_ids(conn: Connection, household: Household, numbers: Sequence[int]) -> dict[int, int]:
    """The ids of these people of the household by number; a number it has not is refused."""
    rows = conn.execute(
        select(household_members.c.number, household_members.c.id).where(
            household_members.c.household_id == household.id,
            household_members.c.number.in_(sorted(set(numbers))),
        )
    ).all()
    found = {int(r.number): int(r.id) for r in rows}
    missing = [i for i, n in enumerate(numbers) if n not in found]
    if missing:
        raise LedgerRejected(
            [
                invalid(
                    "trainee_not_household_member",
                    "Trainees are people recorded under the household's case code.",
                    f"members[{missing[0]}]",
                )
            ]
        )
    return found
