"""A page of trainings is read in a fixed number of SQL statements, however many trainings
it holds and however many participants, attendance days and cost items each has; a write
answers with what it wrote, without reading the training back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ledger.store.database import Database
from tests.api.grants_world import AWARD, BAVET, household, ok
from tests.api.training_world import TRAINING_LINE, build_cohort

# The page, the attendance, the participants, the cost items (the precisions are read too,
# from the commodities).
TRAINING_PAGE_STATEMENTS = 4


@contextmanager
def statements_naming(word: str) -> Iterator[list[str]]:
    """The SQL statements run while inside, that name `word` (a table's name, say)."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        statement = args[2]
        if word in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def _another_training(client: TestClient[Any], officer: dict[str, str], day: int) -> None:
    training = ok(
        client.post(
            "/api/trainings",
            json={
                "topics": ["pig_raising"],
                "title": f"Pig raising, course {day}",
                "start_date": f"2018-11-{day:02d}",
                "end_date": f"2018-11-{day + 1:02d}",
                "province": "Svay Rieng",
                "place": "Bavet commune hall",
                "trainer": "Provincial Department of Agriculture",
                "award": AWARD,
                "budget_line": TRAINING_LINE,
            },
            headers=officer,
        )
    )
    path = f"/api/trainings/{training['id']}"
    for case in ("DV-009", "LA-101"):
        ok(client.post(f"{path}/participants", json={"case_code": case}, headers=officer))
    present = [{"case_code": "DV-009"}, {"case_code": "LA-101"}]
    for date in (f"2018-11-{day:02d}", f"2018-11-{day + 1:02d}"):
        ok(
            client.post(
                f"{path}/attendance", json={"date": date, "present": present}, headers=officer
            )
        )
    cost = {"item": "meals", "date": f"2018-11-{day:02d}", "paid_from": BAVET, "amount": "50000"}
    ok(client.post(f"{path}/costs", json=cost, headers=officer))


def test_a_page_of_trainings_takes_the_same_statements_for_one_or_three(
    client: TestClient[Any], db: Database
) -> None:
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    with statements_naming("training") as one:
        first = ok(client.get("/api/trainings", headers=officer), 200)
    for day in (12, 20):
        _another_training(client, officer, day)
    with statements_naming("training") as three:
        page = ok(client.get("/api/trainings", headers=officer), 200)
    assert [t["households"] for t in page["items"]] == [2, 2, 2]
    assert len(first["items"]) == 1
    assert len(one) == len(three) == TRAINING_PAGE_STATEMENTS


def test_registering_a_participant_reads_the_training_once(
    client: TestClient[Any], db: Database
) -> None:
    cohort = build_cohort(client, db)
    officer = cohort.world.officer
    ok(client.post("/api/households", json=household("LA-102"), headers=officer))
    path = f"/api/trainings/{cohort.training_id}/participants"
    with statements_naming("training") as seen:
        answer = ok(client.post(path, json={"case_code": "LA-102"}, headers=officer))
    shown = ok(client.get(f"/api/trainings/{cohort.training_id}", headers=officer), 200)
    assert answer == shown
    # The scope check, the training (page, attendance, participants, costs) and the insert.
    assert len(seen) == 1 + TRAINING_PAGE_STATEMENTS + 1
