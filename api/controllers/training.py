"""Trainings: describe one, post its cost items on its budget line, register participating
households, record each day's attendance; certificates for those who completed; outcomes."""

from __future__ import annotations

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlalchemy import Connection

from api.cursors import id_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Caller, Db, Page, Writer
from api.routes import creates, reads
from api.schemas.training import (
    AttendanceBody,
    CostBody,
    ParticipantBody,
    Training,
    TrainingBody,
    TrainingCost,
    TrainingOutcome,
    TrainingPage,
)
from api.scopes import household_in_scope, province_in_scope, scoped_training, training_in_scope
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.outcomes import rules as outcome_rules
from ledger.outcomes import service as outcomes
from ledger.reports.certificate import certificate, render_certificate
from ledger.reports.outcomes import (
    HOUSEHOLD_HEADER,
    household_rows,
    render_outcomes,
    training_view,
)
from ledger.reports.registers import to_csv
from ledger.store.books import utc_today
from ledger.store.database import Database
from ledger.training import service as trainings


def _training_outcome(
    db: Database, principal: Principal, training_id: int, currency: str | None
) -> outcome_rules.TrainingOutcome:
    """The training's outcome, the same for its JSON, CSV and PDF."""
    with db.read() as conn:
        training = scoped_training(conn, principal, Action.OUTCOMES_READ, training_id)
        return outcomes.training_outcome(conn, training, currency)


class TrainingController(Controller):
    path = "/api/trainings"
    tags = ["trainings"]

    @creates("/", "Describe a training paid from an award's budget line", Action.TRAININGS_WRITE)
    async def create(self, writer: Writer, data: TrainingBody) -> Response[Training]:
        """Records a training (topics, dates, province, place, trainer) paid from a budget
        line of an award, held within the award's dates; nothing is posted until its costs
        are. Refuses 403 `province_not_in_scope`, `training_dates_invalid`,
        `topics_invalid`, `completion_days_invalid`, `award_not_found`,
        `budget_line_not_found` and `award_not_active`."""
        principal = writer.principal
        province_in_scope(principal, Action.TRAININGS_WRITE, data.province)
        draft = data.to_draft()

        def work(conn: Connection) -> Training:
            return Training.of(
                trainings.create_training(
                    conn, draft, data.award, data.budget_line, principal.username
                )
            )

        return await writer.write("training.create", work, data)

    @reads("/", "Trainings in id order (those held in your provinces)", Action.TRAININGS_READ)
    def list_trainings(self, db: Db, principal: Caller, page: Page) -> TrainingPage:
        """One page of the trainings held in your provinces in id order, each with its
        participants, their attendance and completion, and its cost items. Pass
        `next_cursor` back as `cursor` for the next page."""
        scope = visible_provinces(principal, Action.TRAININGS_READ)
        with db.read() as conn:
            found = trainings.list_trainings(conn, scope, id_after(page.cursor), page.limit)
        return TrainingPage.of(found, page.limit)

    @reads(
        "/{training_id:int}",
        "One training: participants, attendance, completion, cost items",
        Action.TRAININGS_READ,
    )
    def get_training(self, db: Db, principal: Caller, training_id: FromPath[int]) -> Training:
        """The training with each participating household's people, the days it attended and
        whether it completed, and the cost items posted. 404 `training_not_found` for a
        training that does not exist or was held outside your provinces."""
        with db.read() as conn:
            return Training.of(scoped_training(conn, principal, Action.TRAININGS_READ, training_id))

    @creates(
        "/{training_id:int}/participants",
        "Register a household (by case code) and its trainees (or how many take part)",
        Action.TRAININGS_WRITE,
    )
    async def add_participant(
        self, writer: Writer, training_id: FromPath[int], data: ParticipantBody
    ) -> Response[Training]:
        """Registers a household of your provinces as a participant, with its trainees (by
        member number under its case code) or how many of its people take part; answers the
        training. Refuses 409 `participant_exists`, 409 `too_many_participants`,
        `people_invalid`, `people_not_trainees`, `trainee_repeated`; 404 for a household or
        training outside your provinces."""
        principal = writer.principal

        def work(conn: Connection) -> Training:
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            household_in_scope(conn, principal, Action.TRAININGS_WRITE, data.case_code)
            return Training.of(
                trainings.add_participant(
                    conn,
                    training_id,
                    data.case_code,
                    data.people,
                    principal.username,
                    data.trainees,
                )
            )

        return await writer.write("training.participant", work, data)

    @creates(
        "/{training_id:int}/attendance",
        "One day's attendance register: the households present and how many came",
        Action.TRAININGS_WRITE,
    )
    async def attendance(
        self, writer: Writer, training_id: FromPath[int], data: AttendanceBody
    ) -> Response[Training]:
        """Records one day's register once: the participating households present (the others
        were absent) and how many of their people came; completion follows from the days
        attended. Refuses `attendance_date_outside_training`, `present_invalid`,
        `present_repeated`, `not_a_participant`, `people_more_than_registered` and 409
        `attendance_recorded` for a day already recorded."""
        principal = writer.principal
        present = [(p.case_code, p.people) for p in data.present]

        def work(conn: Connection) -> Training:
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            return Training.of(trainings.record_attendance(conn, training_id, data.date, present))

        return await writer.write("training.attendance", work, data)

    @creates(
        "/{training_id:int}/costs",
        "A cost item (venue, trainer fee, materials, transport, meals), posted as an "
        "expense on the training's budget line",
        Action.TRAININGS_WRITE,
    )
    async def add_cost(
        self, writer: Writer, training_id: FromPath[int], data: CostBody
    ) -> Response[TrainingCost]:
        """Posts the cost on the expense account of the training's budget line, paid from a
        bank or cash account in its currency and measured in the award's currency (at
        `exchange_rate` when given); tagged with the training and the item. Refuses
        `cost_item_invalid`, `award_not_active`, `exchange_rate_required` and 409
        `budget_line_exceeded`."""
        principal = writer.principal
        draft = data.to_draft()

        def work(conn: Connection) -> TrainingCost:
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            return TrainingCost.of(
                trainings.post_cost(conn, training_id, draft, principal.username)
            )

        return await writer.write("training.cost", work, data)

    @reads(
        "/{training_id:int}/certificates/{case:str}",
        "The certificate (Khmer and English, PDF) of a household that completed it",
        Action.TRAININGS_READ,
        media_type=PDF,
    )
    def certificate(
        self, db: Db, principal: Caller, training_id: FromPath[int], case: FromPath[str]
    ) -> Response[bytes]:
        """A one-page certificate, numbered, naming the training's topics, dates and trainer
        and the household by case code. Refuses 409 `training_not_completed` and 404
        `not_a_participant`; 404 for a training or household outside your provinces."""
        with db.read() as conn:
            training = scoped_training(conn, principal, Action.TRAININGS_READ, training_id)
            household_in_scope(conn, principal, Action.TRAININGS_READ, case)
            view = certificate(training, case)
        return pdf_response(render_certificate(view), f"certificate-{view.number}.pdf")

    @reads(
        "/{training_id:int}/outcomes",
        "Outcomes: completion, herd at each visit, mortality, sales, income change",
        Action.OUTCOMES_READ,
    )
    def outcomes(
        self,
        db: Db,
        principal: Caller,
        training_id: FromPath[int],
        currency: FromQuery[str | None] = None,
    ) -> TrainingOutcome:
        """What became of the participants: who completed, their herds at each follow-up
        visit, deaths by cause, sales, and their income against their baselines, in
        `currency` (default: the award's). 404 `training_not_found` outside your provinces."""
        return TrainingOutcome.of(_training_outcome(db, principal, training_id, currency))

    @reads(
        "/{training_id:int}/outcomes.csv",
        "The participants' income against their baselines, as CSV",
        Action.OUTCOMES_READ,
        media_type=CSV,
    )
    def outcomes_csv(
        self,
        db: Db,
        principal: Caller,
        training_id: FromPath[int],
        currency: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """One row a participating household (by case code): its mean monthly income at
        baseline and at follow-up in `currency`, the change and its livestock income, for a
        spreadsheet. 404 `training_not_found` outside your provinces."""
        found = _training_outcome(db, principal, training_id, currency)
        return csv_response(
            to_csv(HOUSEHOLD_HEADER, household_rows(found.households, found.report)),
            f"training-{training_id}.csv",
        )

    @reads(
        "/{training_id:int}/outcomes.pdf",
        "The outcome report (Khmer and English, PDF, with the herd chart)",
        Action.OUTCOMES_READ,
        media_type=PDF,
    )
    def outcomes_pdf(
        self,
        db: Db,
        principal: Caller,
        training_id: FromPath[int],
        currency: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The outcomes as a printable report for the donor, in Khmer and English, with the
        chart of the herds at each visit. 404 `training_not_found` outside your provinces."""
        found = _training_outcome(db, principal, training_id, currency)
        return pdf_response(
            render_outcomes(training_view(found, utc_today())),
            f"training-{training_id}-outcomes.pdf",
        )
