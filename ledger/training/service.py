"""Trainings against the stored books: describe one, post its cost items on its budget line
(through `ledger.funds.service.post_expense`, so through `spend_transaction`, the one home of
budget consumption), register participating households and record each day's attendance.

Each write returns the training (or cost) as it stands after the write, built from what it
read and wrote; a page of trainings is read in a fixed number of statements."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, and_, exists, insert, select

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, not_found, reject_if
from ledger.funds import service as funds
from ledger.households import members as household_people
from ledger.households import service as households
from ledger.store import books
from ledger.store.book_accounts import account_currency, positive_amount
from ledger.store.tables import (
    awards,
    budget_lines,
    budget_spends,
    household_members,
    training_attendance,
    training_costs,
    training_participants,
    training_trainees,
    trainings,
    transactions,
)
from ledger.store.tables import households as household_table
from ledger.training import rules
from ledger.training.rules import Cost, CostDraft, Participant, Training, TrainingDraft

TRAINING_NOT_FOUND = not_found("training_not_found", "No training has this id.", "training")


_TRAININGS = (
    select(
        trainings,
        awards.c.code.label("award_code"),
        awards.c.currency.label("award_currency"),
        budget_lines.c.code.label("line_code"),
    )
    .join(awards, awards.c.id == trainings.c.award_id)
    .join(budget_lines, budget_lines.c.id == trainings.c.budget_line_id)
)


# -- reading -------------------------------------------------------------------------------


def _attendance(
    conn: Connection, training_ids: Sequence[int]
) -> dict[tuple[int, int], list[datetime.date]]:
    """The days each household attended, by (training, household), in date order."""
    attended: dict[tuple[int, int], list[datetime.date]] = defaultdict(list)
    for training_id, household_id, date in conn.execute(
        select(
            training_attendance.c.training_id,
            training_attendance.c.household_id,
            training_attendance.c.date,
        )
        .where(training_attendance.c.training_id.in_(training_ids))
        .order_by(training_attendance.c.date)
    ):
        attended[(training_id, household_id)].append(date)
    return attended


def _participants(conn: Connection, rows: Sequence[Row[Any]]) -> dict[int, tuple[Participant, ...]]:
    """The participants of these trainings by case code, by training."""
    days_min = {r.id: r.completion_days_min for r in rows}
    attended = _attendance(conn, list(days_min))
    found: dict[int, list[Participant]] = defaultdict(list)
    # One row per trainee named (or one with no number): in the same statement as before.
    for r in conn.execute(
        _PARTICIPANTS.where(training_participants.c.training_id.in_(list(days_min)))
    ):
        days = attended[(r.training_id, r.household_id)]
        group = found[r.training_id]
        if group and group[-1].case_code == r.case_code:
            group[-1] = replace(group[-1], trainees=(*group[-1].trainees, r.number))
            continue
        group.append(
            Participant(
                r.case_code,
                r.province,
                r.people,
                tuple(days),
                rules.completed(days, days_min[r.training_id]),
                () if r.number is None else (r.number,),
            )
        )
    return {training_id: tuple(group) for training_id, group in found.items()}


_TRAINEE_JOIN = and_(
    training_trainees.c.training_id == training_participants.c.training_id,
    training_trainees.c.household_id == training_participants.c.household_id,
)
_PARTICIPANTS = (
    select(
        training_participants.c.training_id,
        training_participants.c.household_id,
        training_participants.c.people,
        household_table.c.case_code,
        household_table.c.province,
        household_members.c.number,
    )
    .join(household_table, household_table.c.id == training_participants.c.household_id)
    .outerjoin(training_trainees, _TRAINEE_JOIN)
    .outerjoin(household_members, household_members.c.id == training_trainees.c.member_id)
    .order_by(household_table.c.case_code, household_members.c.number)
)


def _costs(
    conn: Connection, rows: Sequence[Row[Any]], precisions: dict[str, int]
) -> dict[int, tuple[Cost, ...]]:
    """The cost items of these trainings whose transaction stands (a reversed one stops
    counting, as it does on the budget line), by training."""
    award_precision = {r.id: precisions[r.award_currency] for r in rows}
    reversed_ = exists().where(transactions.c.reverses_id == training_costs.c.transaction_id)
    found: dict[int, list[Cost]] = defaultdict(list)
    for r in conn.execute(
        select(training_costs, budget_spends.c.award_units)
        .join(budget_spends, budget_spends.c.transaction_id == training_costs.c.transaction_id)
        .where(and_(training_costs.c.training_id.in_(list(award_precision)), ~reversed_))
        .order_by(training_costs.c.id)
    ):
        found[r.training_id].append(
            Cost(
                id=r.id,
                item=r.item,
                date=r.date,
                currency=r.currency,
                precision=precisions[r.currency],
                units=r.units,
                award_units=r.award_units,
                award_precision=award_precision[r.training_id],
                transaction_id=r.transaction_id,
            )
        )
    return {training_id: tuple(group) for training_id, group in found.items()}


def _trainings_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Training]:
    """The trainings of these rows with their participants and costs: four statements
    whatever the number of rows."""
    if not rows:
        return []
    precisions = books.commodity_precisions(conn)
    participants = _participants(conn, rows)
    costs = _costs(conn, rows, precisions)
    return [
        Training(
            id=row.id,
            topics=tuple(row.topics.split()),
            title=row.title,
            start_date=row.start_date,
            end_date=row.end_date,
            province=row.province,
            place=row.place,
            trainer=row.trainer,
            award_code=row.award_code,
            award_currency=row.award_currency,
            award_precision=precisions[row.award_currency],
            budget_line=row.line_code,
            completion_days_min=row.completion_days_min,
            participants=participants.get(row.id, ()),
            costs=costs.get(row.id, ()),
        )
        for row in rows
    ]


def get_training(conn: Connection, training_id: int, *, lock: bool = False) -> Training:
    """The training; with `lock`, its row stays locked (PostgreSQL) until the write's
    transaction ends, so two registrations or attendance registers for it run one after
    the other."""
    statement = _TRAININGS.where(trainings.c.id == training_id)
    if lock:
        statement = statement.with_for_update(of=trainings)
    row = conn.execute(statement).first()
    if row is None:
        raise LedgerRejected([TRAINING_NOT_FOUND])
    return _trainings_from_rows(conn, [row])[0]


def training_province(conn: Connection, training_id: int) -> str | None:
    """The province a training was held in (what scopes an officer), or None."""
    row = conn.execute(select(trainings.c.province).where(trainings.c.id == training_id)).first()
    return None if row is None else str(row.province)


def list_trainings(
    conn: Connection,
    provinces: Collection[str] | None,
    after: int | None = None,
    limit: int = limits.PAGE_SIZE_DEFAULT,
) -> list[Training]:
    """Trainings in id order; `provinces` limits them to a scope (None: all)."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = _TRAININGS.order_by(trainings.c.id).limit(limit)
    if provinces is not None:
        statement = statement.where(trainings.c.province.in_(sorted(provinces)))
    if after is not None:
        statement = statement.where(trainings.c.id > after)
    return _trainings_from_rows(conn, conn.execute(statement).all())


# -- writing -------------------------------------------------------------------------------


def create_training(
    conn: Connection,
    draft: TrainingDraft,
    award_code: str,
    budget_line: str,
    created_by: str | None,
) -> Training:
    """A training paid from `budget_line` of `award_code`, held within the award's dates."""
    reject_if(rules.validate_training(draft))
    award = funds.get_award(conn, award_code)
    line = award.line(budget_line)
    funds.check_award_active(award, draft.start_date, "start_date")
    funds.check_award_active(award, draft.end_date, "end_date")
    days_min = draft.completion_days_min or len(
        rules.training_days(draft.start_date, draft.end_date)
    )
    training_id: int = conn.execute(
        insert(trainings)
        .values(
            topics=" ".join(draft.topics),
            title=draft.title,
            start_date=draft.start_date,
            end_date=draft.end_date,
            province=draft.province,
            place=draft.place,
            trainer=draft.trainer,
            award_id=award.id,
            budget_line_id=line.id,
            completion_days_min=days_min,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(trainings.c.id)
    ).scalar_one()
    return Training(
        id=training_id,
        topics=draft.topics,
        title=draft.title,
        start_date=draft.start_date,
        end_date=draft.end_date,
        province=draft.province,
        place=draft.place,
        trainer=draft.trainer,
        award_code=award.code,
        award_currency=award.currency,
        award_precision=award.precision,
        budget_line=line.code,
        completion_days_min=days_min,
        participants=(),
        costs=(),
    )


def add_participant(
    conn: Connection,
    training_id: int,
    case_code: str,
    people: int | float | None,
    created_by: str | None,
    trainees: Sequence[int] = (),
) -> Training:
    """Register a household (by case code) and its trainees: the people recorded under its
    case code, by number (`people` then counts them), or how many of its people take part
    when they are not named. Returns the training with it."""
    training = get_training(conn, training_id, lock=True)
    people, error = rules.trainees_error(people, trainees)
    if error is not None:
        raise LedgerRejected([error])
    household = households.get_household(conn, case_code)
    ids = household_people.member_ids(conn, household, trainees) if trainees else {}
    if training.participant(case_code) is not None:
        raise LedgerRejected(
            [conflict("participant_exists", "This household takes part already.", "case_code")]
        )
    if len(training.participants) >= rules.PARTICIPANTS_PER_TRAINING_MAX:
        raise LedgerRejected(
            [
                conflict(
                    "too_many_participants",
                    f"A training has at most {rules.PARTICIPANTS_PER_TRAINING_MAX} households.",
                    "case_code",
                )
            ]
        )
    conn.execute(
        insert(training_participants).values(
            training_id=training_id,
            household_id=household.id,
            people=int(people),
            created_at=books.utc_now(),
            created_by=created_by,
        )
    )
    if ids:
        conn.execute(
            insert(training_trainees),
            [
                {"training_id": training_id, "member_id": i, "household_id": household.id}
                for i in ids.values()
            ],
        )
    joined = Participant(
        household.case_code,
        household.province,
        int(people),
        (),
        rules.completed((), training.completion_days_min),
        tuple(sorted(ids)),
    )
    # In the order a training is read back: by case code.
    participants = sorted((*training.participants, joined), key=lambda p: p.case_code)
    return replace(training, participants=tuple(participants))


def _attendance_errors(
    training: Training, date: datetime.date, present: Sequence[tuple[str, int | float]]
) -> list[LedgerError]:
    """Every problem with a day's register, invalid input first (a 422 says what to fix
    before a 409 says what exists)."""
    errors: list[LedgerError] = []
    date_error = rules.attendance_date_error(date, training.start_date, training.end_date)
    if date_error is not None:
        errors.append(date_error)
    if not present or len(present) > rules.PARTICIPANTS_PER_TRAINING_MAX:
        errors.append(
            invalid("present_invalid", "List the households present (one or more).", "present")
        )
    if len({case for case, _ in present}) != len(present):
        errors.append(invalid("present_repeated", "A household is listed twice.", "present"))
    for index, (case, people) in enumerate(present):
        error = _presence_error(training.participant(case), date, people, f"present[{index}]")
        if error is not None:
            errors.append(error)
    errors.sort(key=lambda e: e.kind != "invalid")
    return errors


def _presence_error(
    participant: Participant | None, date: datetime.date, people: int | float, field: str
) -> LedgerError | None:
    if participant is None:
        return invalid(
            "not_a_participant",
            "This household is not registered for the training.",
            f"{field}.case_code",
        )
    error = rules.people_error(people, f"{field}.people")
    if error is not None:
        return error
    if people > participant.people:
        return invalid(
            "people_more_than_registered",
            "More people than the household registered.",
            f"{field}.people",
        )
    if date in participant.days_attended:
        return conflict(
            "attendance_recorded",
            "This household's attendance for this day is recorded already.",
            f"{field}.case_code",
        )
    return None


def record_attendance(
    conn: Connection,
    training_id: int,
    date: datetime.date,
    present: Sequence[tuple[str, int | float]],
) -> Training:
    """One day's register: the households present and how many of their people came.
    A household's attendance for a day is recorded once. Returns the training with it."""
    training = get_training(conn, training_id, lock=True)
    reject_if(_attendance_errors(training, date, present))
    ids = dict(
        conn.execute(
            select(household_table.c.case_code, household_table.c.id).where(
                household_table.c.case_code.in_([case for case, _ in present])
            )
        )
        .tuples()
        .all()
    )
    conn.execute(
        insert(training_attendance),
        [
            {"training_id": training_id, "household_id": ids[case], "date": date, "people": int(n)}
            for case, n in present
        ],
    )
    came = {case for case, _ in present}
    return replace(
        training,
        participants=tuple(
            _attended(p, date, training.completion_days_min) if p.case_code in came else p
            for p in training.participants
        ),
    )


def _attended(participant: Participant, date: datetime.date, days_min: int) -> Participant:
    days = tuple(sorted((*participant.days_attended, date)))
    return replace(participant, days_attended=days, completed=rules.completed(days, days_min))


def post_cost(conn: Connection, training_id: int, draft: CostDraft, created_by: str | None) -> Cost:
    """A cost item of the training, posted as an expense on its budget line."""
    training = get_training(conn, training_id)
    item = draft.item
    if item not in rules.COST_ITEMS:
        raise LedgerRejected(
            [invalid("cost_item_invalid", f"item is one of {', '.join(rules.COST_ITEMS)}.", "item")]
        )
    award = funds.get_award(conn, training.award_code, lock=True)
    line = award.line(training.budget_line)
    currency = account_currency(conn, award.book_id, draft.paid_from, "paid_from")
    units = positive_amount(conn, currency, draft.amount, "amount")
    text = draft.narration or (
        f"Training {training.id} ({training.title}): {item.replace('_', ' ')}"
    )
    expense = funds.ExpenseDraft(
        date=draft.date,
        paid_from=draft.paid_from,
        units=units,
        currency=currency,
        narration=text[: limits.NARRATION_LENGTH_MAX],
        kind="training",
        payee=draft.payee,
        explicit_rate=funds.parse_rate(draft.exchange_rate),
        extra_meta=(("training", str(training.id)), ("cost-item", item)),
        tags=(rules.TRAINING_TAG,),
        links=(rules.training_link(training.id),),
    )
    spent = funds.post_expense(conn, award, line, expense, created_by)
    cost_id: int = conn.execute(
        insert(training_costs)
        .values(
            training_id=training.id,
            transaction_id=spent.transaction_id,
            item=item,
            date=draft.date,
            currency=currency,
            units=units,
        )
        .returning(training_costs.c.id)
    ).scalar_one()
    return Cost(
        id=cost_id,
        item=item,
        date=draft.date,
        currency=currency,
        precision=books.commodity_precisions(conn, [currency])[currency],
        units=units,
        award_units=spent.conversion.award_units,
        award_precision=training.award_precision,
        transaction_id=spent.transaction_id,
    )
