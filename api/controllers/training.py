"""Trainings: describe one, post its cost items on its budget line, register participating
households, record each day's attendance; certificates for those who completed; outcomes."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.cursors import Cursor, PageSize, id_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.schemas.training import (
    EXAMPLE_TRAINING,
    AttendanceCreate,
    ParticipantCreate,
    Training,
    TrainingCost,
    TrainingCostCreate,
    TrainingCreate,
    TrainingOutcome,
    TrainingPage,
)
from api.scopes import household_in_scope, province_in_scope, scoped_training, training_in_scope
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.core import limits
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

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Describe a training paid from an award's budget line",
        opt=policy(Action.TRAININGS_WRITE),
    )
    async def create(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        data: Annotated[
            TrainingCreate,
            Body(examples=[Example(summary="Chicken and pig raising", value=EXAMPLE_TRAINING)]),
        ],
    ) -> Response[Training]:
        province_in_scope(principal, Action.TRAININGS_WRITE, data.province)
        draft = data.to_draft()

        def work(conn: Connection) -> Training:
            return Training.of(
                trainings.create_training(
                    conn, draft, data.award, data.budget_line, principal.username
                )
            )

        return await writer.write("training.create", work, data)

    @get(
        "/",
        sync_to_thread=True,
        summary="Trainings in id order (those held in your provinces)",
        opt=policy(Action.TRAININGS_READ),
    )
    def list_trainings(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        cursor: Cursor = None,
        limit: PageSize = limits.PAGE_SIZE_DEFAULT,
    ) -> TrainingPage:
        scope = visible_provinces(principal, Action.TRAININGS_READ)
        with db.read() as conn:
            found = trainings.list_trainings(conn, scope, id_after(cursor), limit)
        return TrainingPage.of(found, limit)

    @get(
        "/{training_id:int}",
        sync_to_thread=True,
        summary="One training: participants, attendance, completion, cost items",
        opt=policy(Action.TRAININGS_READ),
    )
    def get_training(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
    ) -> Training:
        with db.read() as conn:
            return Training.of(scoped_training(conn, principal, Action.TRAININGS_READ, training_id))

    @post(
        "/{training_id:int}/participants",
        status_code=HTTP_201_CREATED,
        summary="Register a household (by case code) and its trainees (or how many take part)",
        opt=policy(Action.TRAININGS_WRITE),
    )
    async def add_participant(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        data: JSONBody[ParticipantCreate],
    ) -> Response[Training]:
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

    @post(
        "/{training_id:int}/attendance",
        status_code=HTTP_201_CREATED,
        summary="One day's attendance register: the households present and how many came",
        opt=policy(Action.TRAININGS_WRITE),
    )
    async def attendance(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        data: JSONBody[AttendanceCreate],
    ) -> Response[Training]:
        present = [(p.case_code, p.people) for p in data.present]

        def work(conn: Connection) -> Training:
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            return Training.of(trainings.record_attendance(conn, training_id, data.date, present))

        return await writer.write("training.attendance", work, data)

    @post(
        "/{training_id:int}/costs",
        status_code=HTTP_201_CREATED,
        summary="A cost item (venue, trainer fee, materials, transport, meals), posted as an "
        "expense on the training's budget line",
        opt=policy(Action.TRAININGS_WRITE),
    )
    async def add_cost(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        data: JSONBody[TrainingCostCreate],
    ) -> Response[TrainingCost]:
        draft = data.to_draft()

        def work(conn: Connection) -> TrainingCost:
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            return TrainingCost.of(
                trainings.post_cost(conn, training_id, draft, principal.username)
            )

        return await writer.write("training.cost", work, data)

    @get(
        "/{training_id:int}/certificates/{case:str}",
        sync_to_thread=True,
        summary="The certificate (Khmer and English, PDF) of a household that completed it",
        opt=policy(Action.TRAININGS_READ),
        media_type=PDF,
    )
    def certificate(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        case: FromPath[str],
    ) -> Response[bytes]:
        with db.read() as conn:
            training = scoped_training(conn, principal, Action.TRAININGS_READ, training_id)
            household_in_scope(conn, principal, Action.TRAININGS_READ, case)
            view = certificate(training, case)
        return pdf_response(render_certificate(view), f"certificate-{view.number}.pdf")

    @get(
        "/{training_id:int}/outcomes",
        sync_to_thread=True,
        summary="Outcomes: completion, herd at each visit, mortality, sales, income change",
        opt=policy(Action.OUTCOMES_READ),
    )
    def outcomes(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        currency: FromQuery[str | None] = None,
    ) -> TrainingOutcome:
        return TrainingOutcome.of(_training_outcome(db, principal, training_id, currency))

    @get(
        "/{training_id:int}/outcomes.csv",
        sync_to_thread=True,
        summary="The participants' income against their baselines, as CSV",
        opt=policy(Action.OUTCOMES_READ),
        media_type=CSV,
    )
    def outcomes_csv(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        currency: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        found = _training_outcome(db, principal, training_id, currency)
        return csv_response(
            to_csv(HOUSEHOLD_HEADER, household_rows(found.households, found.report)),
            f"training-{training_id}.csv",
        )

    @get(
        "/{training_id:int}/outcomes.pdf",
        sync_to_thread=True,
        summary="The outcome report (Khmer and English, PDF, with the herd chart)",
        opt=policy(Action.OUTCOMES_READ),
        media_type=PDF,
    )
    def outcomes_pdf(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        currency: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        found = _training_outcome(db, principal, training_id, currency)
        return pdf_response(
            render_outcomes(training_view(found, utc_today())),
            f"training-{training_id}-outcomes.pdf",
        )
