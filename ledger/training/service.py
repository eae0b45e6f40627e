"""Trainings against the stored books: describe one, post its cost items on its budget line
(through `ledger.funds.service.spend`, the one home of budget consumption), register
participating households and record each day's attendance."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import Connection, and_, exists, insert, select

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, not_found, reject_if
from ledger.funds import service as funds
from ledger.households import service as households
from ledger.store import books
from ledger.store.tables import (
    awards,
    budget_lines,
    budget_spends,
    training_attendance,
    training_costs,
    training_participants,
    trainings,
    transactions,
)
from ledger.store.tables import households as household_table
from ledger.training import rules
from ledger.training.rules import Cost, Participant, Training, TrainingDraft

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


def _participants(conn: Connection, row: object) -> tuple[Participant, ...]:
    training_id: int = row.id  # type: ignore[attr-defined]
    days_min: int = row.completion_days_min  # type: ignore[attr-defined]
    attended: dict[int, list[datetime.date]] = defaultdict(list)
    for household_id, date in conn.execute(
        select(training_attendance.c.household_id, training_attendance.c.date)
        .where(training_attendance.c.training_id == training_id)
        .order_by(training_attendance.c.date)
    ):
        attended[household_id].append(date)
    rows = conn.execute(
        select(
            training_participants.c.household_id,
            training_participants.c.people,
            household_table.c.case_code,
            household_table.c.province,
        )
        .join(household_table, household_table.c.id == training_participants.c.household_id)
        .where(training_participants.c.training_id == training_id)
        .order_by(household_table.c.case_code)
    )
    return tuple(
        Participant(
            r.case_code,
            r.province,
            r.people,
            tuple(attended[r.household_id]),
            rules.completed(attended[r.household_id], days_min),
        )
        for r in rows
    )


def _costs(conn: Connection, training_id: int) -> tuple[Cost, ...]:
    """The training's cost items whose transaction stands (a reversed one stops counting, as
    it does on the budget line)."""
    reversed_ = exists().where(transactions.c.reverses_id == training_costs.c.transaction_id)
    rows = conn.execute(
        select(training_costs, budget_spends.c.award_units)
        .join(budget_spends, budget_spends.c.transaction_id == training_costs.c.transaction_id)
        .where(and_(training_costs.c.training_id == training_id, ~reversed_))
        .order_by(training_costs.c.id)
    )
    return tuple(
        Cost(r.id, r.item, r.date, r.currency, r.units, r.award_units, r.transaction_id)
        for r in rows
    )


def _training_from_row(conn: Connection, row: object) -> Training:
    training_id: int = row.id  # type: ignore[attr-defined]
    currency: str = row.award_currency  # type: ignore[attr-defined]
    return Training(
        id=training_id,
        topics=tuple(row.topics.split()),  # type: ignore[attr-defined]
        title=row.title,  # type: ignore[attr-defined]
        start_date=row.start_date,  # type: ignore[attr-defined]
        end_date=row.end_date,  # type: ignore[attr-defined]
        province=row.province,  # type: ignore[attr-defined]
        place=row.place,  # type: ignore[attr-defined]
        trainer=row.trainer,  # type: ignore[attr-defined]
        award_code=row.award_code,  # type: ignore[attr-defined]
        award_currency=currency,
        award_precision=books.commodity_precisions(conn)[currency],
        budget_line=row.line_code,  # type: ignore[attr-defined]
        completion_days_min=row.completion_days_min,  # type: ignore[attr-defined]
        participants=_participants(conn, row),
        costs=_costs(conn, training_id),
    )


def get_training(conn: Connection, training_id: int, *, lock: bool = False) -> Training:
    """The training; with `lock`, its row stays locked (PostgreSQL) until the unit of work
    ends, so two registrations or attendance registers for it run one after the other."""
    statement = _TRAININGS.where(trainings.c.id == training_id)
    if lock:
        statement = statement.with_for_update(of=trainings)
    row = conn.execute(statement).first()
    if row is None:
        raise LedgerRejected([TRAINING_NOT_FOUND])
    return _training_from_row(conn, row)


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
    return [_training_from_row(conn, row) for row in conn.execute(statement).all()]


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
    days = len(rules.training_days(draft.start_date, draft.end_date))
    training_id = conn.execute(
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
            completion_days_min=draft.completion_days_min or days,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(trainings.c.id)
    ).scalar_one()
    return get_training(conn, training_id)


def add_participant(
    conn: Connection, training_id: int, case_code: str, people: int | float, created_by: str | None
) -> Training:
    """Register a household (by case code) and how many of its people take part."""
    training = get_training(conn, training_id, lock=True)
    error = rules.people_error(people, "people")
    if error is not None:
        raise LedgerRejected([error])
    household = households.get_household(conn, case_code)
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
    return get_training(conn, training_id)


def record_attendance(
    conn: Connection,
    training_id: int,
    date: datetime.date,
    present: Sequence[tuple[str, int | float]],
) -> Training:
    """One day's register: the households present and how many of their people came.
    A household's attendance for a day is recorded once."""
    training = get_training(conn, training_id, lock=True)
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
        field = f"present[{index}]"
        participant = training.participant(case)
        if participant is None:
            errors.append(
                invalid(
                    "not_a_participant",
                    "This household is not registered for the training.",
                    f"{field}.case_code",
                )
            )
            continue
        error = rules.people_error(people, f"{field}.people")
        if error is not None:
            errors.append(error)
        elif people > participant.people:
            errors.append(
                invalid(
                    "people_more_than_registered",
                    "More people than the household registered.",
                    f"{field}.people",
                )
            )
        elif date in participant.days_attended:
            errors.append(
                conflict(
                    "attendance_recorded",
                    "This household's attendance for this day is recorded already.",
                    f"{field}.case_code",
                )
            )
    # Invalid input first: a 422 says what to fix before a 409 says what exists.
    errors.sort(key=lambda e: e.kind != "invalid")
    reject_if(errors)
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
    return get_training(conn, training_id)


def post_cost(
    conn: Connection,
    training_id: int,
    item: str,
    date: datetime.date,
    paid_from: str,
    amount: str,
    narration: str | None,
    payee: str | None,
    exchange_rate: str | None,
    created_by: str | None,
) -> Cost:
    """A cost item of the training, posted as an expense on its budget line."""
    training = get_training(conn, training_id)
    if item not in rules.COST_ITEMS:
        raise LedgerRejected(
            [invalid("cost_item_invalid", f"item is one of {', '.join(rules.COST_ITEMS)}.", "item")]
        )
    award = funds.get_award(conn, training.award_code, lock=True)
    line = award.line(training.budget_line)
    currency = funds.account_currency(conn, award.book_id, paid_from, "paid_from")
    units = funds.positive_amount(conn, currency, amount, "amount")
    text = narration or f"Training {training.id} ({training.title}): {item.replace('_', ' ')}"
    spent = funds.spend(
        conn,
        award,
        line,
        date,
        paid_from,
        units,
        currency,
        text[: limits.NARRATION_LENGTH_MAX],
        payee,
        "training",
        funds.parse_rate(exchange_rate),
        created_by,
        extra_meta=(("training", str(training.id)), ("cost-item", item)),
        tags=(rules.TRAINING_TAG,),
        links=(rules.training_link(training.id),),
    )
    cost_id = conn.execute(
        insert(training_costs)
        .values(
            training_id=training.id,
            transaction_id=spent.transaction_id,
            item=item,
            date=date,
            currency=currency,
            units=units,
        )
        .returning(training_costs.c.id)
    ).scalar_one()
    return Cost(
        cost_id, item, date, currency, units, spent.conversion.award_units, spent.transaction_id
    )
