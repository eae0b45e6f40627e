"""The rules of a person under a case code (pure): what is refused, and how a report counts
them (a child is under 18 in the year counted)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.households.rules import (
    AGE_BANDS,
    NOT_RECORDED,
    MemberDraft,
    PersonFacts,
    age_group,
    member_errors,
    person_errors,
)
from ledger.outcomes.indicators import Tally


def _codes(person: PersonFacts, *, required: bool = True) -> list[str]:
    return [e.code for e in person_errors(person, 2026, required=required)]


def test_what_a_person_may_not_be() -> None:
    assert _codes(PersonFacts("female", 2011, None)) == []
    assert _codes(PersonFacts("female", None, "under-18")) == []
    assert _codes(PersonFacts("female", 2027, None)) == ["birth_year_in_future"]
    assert _codes(PersonFacts("male", 1899, None)) == ["birth_year_too_early"]
    assert _codes(PersonFacts("F", 1990, None)) == ["sex_invalid"]
    assert _codes(PersonFacts(None, 1990, None)) == ["sex_invalid"]
    assert _codes(PersonFacts("other", 1990, "18-24")) == ["birth_year_and_age_band"]
    assert _codes(PersonFacts("other", None, None)) == ["birth_year_or_age_band_required"]
    assert _codes(PersonFacts("other", None, "kid")) == ["age_band_invalid"]
    # A savings member may leave both unsaid.
    assert _codes(NOT_RECORDED, required=False) == []
    draft = MemberDraft("boss", PersonFacts("female", 2011, None), number=51)
    assert [e.code for e in member_errors(draft, 2026)] == [
        "household_role_invalid",
        "household_member_number_invalid",
    ]


def test_a_child_is_under_18_in_the_year_counted() -> None:
    assert age_group(PersonFacts("female", 2001, None), 2018) == "child"  # 17
    assert age_group(PersonFacts("female", 2000, None), 2018) == "adult"  # 18
    assert age_group(PersonFacts("male", None, "under-18"), 2018) == "child"
    assert age_group(PersonFacts("male", None, "18-24"), 2018) == "adult"
    assert age_group(NOT_RECORDED, 2018) == "unknown"


people = st.builds(
    PersonFacts,
    st.sampled_from([None, "female", "male", "other"]),
    st.one_of(st.none(), st.integers(1900, 2026)),
    st.one_of(st.none(), st.sampled_from(AGE_BANDS)),
)


@given(st.lists(st.tuples(people, st.integers(1900, 2100)), max_size=60))
def test_a_tally_counts_everyone_once(found: list[tuple[PersonFacts, int]]) -> None:
    tally = Tally.of(found)
    assert tally.total == len(found)
    by_age = sum(tally.count(age=a) for a in ("child", "adult", "unknown"))
    by_sex = sum(tally.count(sex=s) for s in ("female", "male", "other", "unknown"))
    assert by_age == by_sex == len(found)
    halves = Tally.of(found[: len(found) // 2]) + Tally.of(found[len(found) // 2 :])
    assert halves.cells == tally.cells
