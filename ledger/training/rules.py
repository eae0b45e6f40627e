"""What a training may hold, its days, and who completed it. Pure."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from ledger.core.errors import LedgerError, invalid
from ledger.core.text import has_forbidden_character
from ledger.households.rules import MEMBERS_MAX

Topic = Literal["chicken_raising", "pig_raising", "duck_raising", "vegetable_growing", "other"]
TOPICS: tuple[str, ...] = get_args(Topic)
CostItem = Literal["venue", "trainer_fee", "materials", "transport", "meals", "other"]
COST_ITEMS: tuple[str, ...] = get_args(CostItem)
# How each topic is printed on a certificate: English, Khmer.
TOPIC_NAMES: dict[str, tuple[str, str]] = {
    "chicken_raising": ("chicken raising", "ការចិញ្ចឹមមាន់"),
    "pig_raising": ("pig raising", "ការចិញ្ចឹមជ្រូក"),
    "duck_raising": ("duck raising", "ការចិញ្ចឹមទា"),
    "vegetable_growing": ("vegetable growing", "ការដាំបន្លែ"),
    "other": ("other skills", "ជំនាញផ្សេងៗ"),
}

TITLE_LENGTH_MAX = 200
PLACE_LENGTH_MAX = 200
TRAINER_LENGTH_MAX = 200
PROVINCE_LENGTH_MAX = 100
TRAINING_DAYS_MAX = 31
PARTICIPANTS_PER_TRAINING_MAX = 200
PEOPLE_PER_HOUSEHOLD_MAX = MEMBERS_MAX
TRAINING_TAG = "training"


@dataclass(frozen=True, slots=True)
class TrainingDraft:
    topics: tuple[str, ...]
    title: str
    start_date: datetime.date
    end_date: datetime.date
    province: str
    place: str
    trainer: str
    completion_days_min: int | None  # None: every day of the training


@dataclass(frozen=True, slots=True)
class CostDraft:
    """A cost item as the finance team reported it: `amount` is decimal text in the currency
    of the account it was paid from; `exchange_rate` into the award's currency, if not the
    one the exchanges give."""

    item: str
    date: datetime.date
    paid_from: str
    amount: str
    narration: str | None = None
    payee: str | None = None
    exchange_rate: str | None = None


def training_days(start: datetime.date, end: datetime.date) -> tuple[datetime.date, ...]:
    """Every day from `start` to `end`, both included."""
    return tuple(start + datetime.timedelta(days=n) for n in range((end - start).days + 1))


def _one_line_error(value: str, length_max: int, field: str) -> LedgerError | None:
    if (
        not value
        or value.strip() != value
        or len(value) > length_max
        or has_forbidden_character(value, one_line=True)
    ):
        return invalid(
            f"{field}_invalid", f"{field} is one line of 1 to {length_max} characters.", field
        )
    return None


def validate_training(draft: TrainingDraft) -> tuple[LedgerError, ...]:
    """Every problem with a training's description, as data."""
    errors: list[LedgerError] = []
    if not draft.topics or len(set(draft.topics)) != len(draft.topics):
        errors.append(invalid("topics_invalid", "Give one or more different topics.", "topics"))
    for index, topic in enumerate(draft.topics):
        if topic not in TOPICS:
            errors.append(
                invalid(
                    "topic_invalid", f"A topic is one of {', '.join(TOPICS)}.", f"topics[{index}]"
                )
            )
    for value, length_max, field in (
        (draft.title, TITLE_LENGTH_MAX, "title"),
        (draft.province, PROVINCE_LENGTH_MAX, "province"),
        (draft.place, PLACE_LENGTH_MAX, "place"),
        (draft.trainer, TRAINER_LENGTH_MAX, "trainer"),
    ):
        error = _one_line_error(value, length_max, field)
        if error is not None:
            errors.append(error)
    days = (draft.end_date - draft.start_date).days + 1
    if not 1 <= days <= TRAINING_DAYS_MAX:
        errors.append(
            invalid(
                "training_dates_invalid",
                f"A training ends on or after it starts and lasts at most {TRAINING_DAYS_MAX} "
                "days.",
                "end_date",
            )
        )
    elif draft.completion_days_min is not None and not 1 <= draft.completion_days_min <= days:
        errors.append(
            invalid(
                "completion_days_invalid",
                "Completion needs 1 to the number of the training's days.",
                "completion_days_min",
            )
        )
    return tuple(errors)


def attendance_date_error(
    date: datetime.date, start: datetime.date, end: datetime.date
) -> LedgerError | None:
    if start <= date <= end:
        return None
    return invalid(
        "attendance_date_outside_training",
        "Attendance is recorded for a day of the training.",
        "date",
    )


def people_error(people: int | float, field: str) -> LedgerError | None:
    """People are whole and 1 to a household's size."""
    if isinstance(people, float) and not people.is_integer():
        return invalid("people_fractional", "People are counted in whole numbers.", field)
    if not 1 <= people <= PEOPLE_PER_HOUSEHOLD_MAX:
        return invalid(
            "people_invalid", f"1 to {PEOPLE_PER_HOUSEHOLD_MAX} people of a household.", field
        )
    return None


def trainees_error(
    people: int | float | None, trainees: Sequence[int]
) -> tuple[int | float, LedgerError | None]:
    """The participant's head count (its trainees' number when they are named) and the
    problem with what was sent, if any: a person named twice, a count that is not theirs."""
    if not trainees:
        counted = 1 if people is None else people
        return counted, people_error(counted, "people")
    if len(set(trainees)) != len(trainees):
        return len(trainees), invalid(
            "trainee_repeated", "A person is named once among the trainees.", "trainees"
        )
    if people is not None and people != len(trainees):
        return len(trainees), invalid(
            "people_not_trainees",
            "people is the number of trainees named (or leave it out).",
            "people",
        )
    return len(trainees), people_error(len(trainees), "trainees")


def completed(days_attended: Collection[datetime.date], completion_days_min: int) -> bool:
    """The completion rule: attended on at least `completion_days_min` of the days."""
    return len(days_attended) >= completion_days_min


def training_link(training_id: int) -> str:
    return f"training-{training_id}"


def certificate_number(training_id: int, case_code: str) -> str:
    """TRN-0001-LA-001: one certificate per training and household."""
    return f"TRN-{training_id:04d}-{case_code}"


@dataclass(frozen=True, slots=True)
class Participant:
    case_code: str
    province: str
    people: int
    days_attended: tuple[datetime.date, ...]
    completed: bool
    # The household's people (by their number under the case code) who are its trainees;
    # empty for a participant registered as a count only.
    trainees: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Cost:
    """A cost item: `units` in its own currency, `award_units` in the award's (each with the
    precision it is printed in)."""

    id: int
    item: str
    date: datetime.date
    currency: str
    precision: int
    units: int
    award_units: int
    award_precision: int
    transaction_id: int


@dataclass(frozen=True, slots=True)
class Training:
    id: int
    topics: tuple[str, ...]
    title: str
    start_date: datetime.date
    end_date: datetime.date
    province: str
    place: str
    trainer: str
    award_code: str
    award_currency: str
    award_precision: int
    budget_line: str
    completion_days_min: int
    participants: tuple[Participant, ...]
    costs: tuple[Cost, ...]

    @property
    def days(self) -> tuple[datetime.date, ...]:
        return training_days(self.start_date, self.end_date)

    @property
    def people(self) -> int:
        return sum(p.people for p in self.participants)

    @property
    def completers(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.completed)

    @property
    def cost_award_units(self) -> int:
        return sum(c.award_units for c in self.costs)

    def participant(self, case_code: str) -> Participant | None:
        return next((p for p in self.participants if p.case_code == case_code), None)
