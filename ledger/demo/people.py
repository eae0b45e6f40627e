"""The people of the demo's households, by sex and birth year (or age band), never by name.

The Long An cohort: the 33 people repatriated through Bavet on 4 November 2018, 25 children
(14 girls, 11 boys) and 8 adults, recorded under their ten households' case codes; the
households' other members are in their declared sizes only. DV-009 has no people recorded
(its declared size stands). The training's 33 trainees are the people their households
sent (`record_trainees`)."""

from __future__ import annotations

import datetime

from sqlalchemy import Connection

from ledger.households import members
from ledger.households import service as households
from ledger.households.rules import MemberDraft, PersonFacts

OFFICER = "dara.officer"
RECORDED_ON = datetime.date(2018, 11, 5)
# (role, sex, birth year or age band) per household of the cohort.
Person = tuple[str, str, int | str]
LONG_AN: tuple[tuple[str, tuple[Person, ...]], ...] = (
    ("LA-001", (("head", "female", 1979), ("child", "female", 2006), ("child", "male", 2008),
                ("child", "female", 2010), ("child", "male", 2012))),
    ("LA-002", (("head", "female", "25-34"), ("child", "female", 2005),
                ("child", "female", 2009), ("child", "male", 2011))),
    ("LA-003", (("head", "male", 1981), ("child", "male", 2003), ("child", "female", 2005),
                ("child", "male", 2007), ("child", "female", "under-18"))),
    ("LA-004", (("head", "female", 1966), ("grandchild", "female", 2004),
                ("grandchild", "male", 2006), ("grandchild", "female", 2010))),
    ("LA-005", (("head", "female", 1991), ("child", "male", 2007), ("child", "female", 2009),
                ("child", "male", 2012))),
    ("LA-006", (("head", "male", 1978), ("child", "female", 2002), ("child", "male", 2004))),
    ("LA-007", (("head", "female", 1997), ("child", "male", 2010), ("child", "female", 2012))),
    ("LA-008", (("child", "female", 2003),)),
    ("LA-009", (("head", "male", 1988), ("child", "male", 2009))),
    ("LA-010", (("child", "female", 2004), ("child", "female", 2007))),
)  # fmt: skip


def _draft(role: str, sex: str, born: int | str) -> MemberDraft:
    if isinstance(born, int):
        return MemberDraft(role, PersonFacts(sex, born, None))
    return MemberDraft(role, PersonFacts(sex, None, born))


def load_people(conn: Connection) -> list[str]:
    """The Long An cohort's repatriated people under their households' case codes."""
    count = 0
    for case, people in LONG_AN:
        household = households.get_household(conn, case)
        for role, sex, born in people:
            members.add_member(conn, household, _draft(role, sex, born), RECORDED_ON, OFFICER)
            count += 1
    return [f"demo: {count} people of the Long An cohort by sex and birth year (no names)"]


def record_trainees(conn: Connection, case: str, people: int, today: datetime.date) -> list[int]:
    """The `people` a training household sent (its head, then their spouse): three in five
    women, born 1966 to 1998. Returns their numbers under the case code."""
    household = households.get_household(conn, case)
    numbers = []
    for index in range(people):
        k = int(case.split("-")[1]) * 2 + index
        sex = "male" if k % 5 in (1, 3) else "female"
        draft = MemberDraft(
            "head" if index == 0 else "spouse", PersonFacts(sex, 1966 + (k * 7) % 33, None)
        )
        numbers.append(members.add_member(conn, household, draft, today, OFFICER).number)
    return numbers
