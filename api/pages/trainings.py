"""The livelihood officer's training pages: the trainings in their provinces, and one
training with its participants, attendance per day, cost items and certificates.

The three forms of a training's page (a participant, a day's attendance, a cost item) post
through the API's write path with the training services `/api/trainings` uses, each with the
Idempotency-Key made when the page was opened. A refused form comes back beside its fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.files import PDF, pdf_response
from api.pages.grant_forms import (
    ReadForm,
    attendance_rows,
    blank_form,
    place_errors,
    present_row,
    read_attendance_form,
    read_cost_form,
    read_participant_form,
)
from api.pages.grant_views import PayingAccount, paying_accounts
from api.pages.render import page
from api.schemas.training import Training as TrainingOut
from api.schemas.training import TrainingCost
from api.scopes import household_in_scope, scoped_training, training_in_scope
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target, decide, visible_provinces
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.funds import service as funds
from ledger.reports.certificate import certificate, render_certificate
from ledger.store.database import Database, run_blocking
from ledger.training import rules
from ledger.training import service as trainings
from ledger.training.rules import Training

TRAININGS_PER_PAGE = 50
FORM_FIELDS = {
    "participant": ("case_code", "people"),
    "attendance": ("date", "present"),
    "cost": ("item", "date", "paid_from", "amount", "payee", "narration"),
}


@dataclass(frozen=True, slots=True)
class TrainingPageView:
    training: Training
    accounts: tuple[PayingAccount, ...]
    can_write: bool


def _read_training(db: Database, principal: Principal, training_id: int) -> TrainingPageView:
    with db.read() as conn:
        training = scoped_training(conn, principal, Action.TRAININGS_READ, training_id)
        award = funds.get_award(conn, training.award_code)
        accounts = paying_accounts(conn, award.book_code)
    target = Target(province=training.province)
    can_write = decide(principal, Action.TRAININGS_WRITE, target) == "allow"
    return TrainingPageView(training, accounts, can_write)


def _training_page(
    request: Request[Any, Any, Any],
    view: TrainingPageView,
    forms: dict[str, ReadForm[Any]] | None = None,
    *,
    failed: str | None = None,
    rejected: tuple[LedgerError, ...] = (),
    status_code: int = 200,
) -> Template:
    """The training's page with its three forms (each blank, or `failed` as typed with the
    service's errors beside its fields)."""
    start = view.training.start_date.isoformat()
    account = view.accounts[0].name if view.accounts else ""
    shown = {
        "participant": blank_form({"people": "1"}),
        "attendance": blank_form({"date": start}),
        "cost": blank_form({"date": start, "paid_from": account}),
    }
    shown.update(forms or {})
    errors = {name: dict(form.errors) for name, form in shown.items()}
    general: list[LedgerError] = []
    if failed is not None:
        beside, general = place_errors(rejected, FORM_FIELDS[failed])
        cases = tuple(p.case_code for p in view.training.participants)
        rows = attendance_rows(shown["attendance"].values, cases)
        for error in list(general):
            # An error on one household of the register (`present[1].people` of the request)
            # shows beside that household's row of the form.
            row = present_row(error.field or "", rows) if failed == "attendance" else None
            if row is not None:
                beside[row] = error
                general.remove(error)
        errors[failed].update(beside)
    context = {
        "view": view,
        "forms": shown,
        "errors_of": errors,
        "failed": failed,
        "general_errors": general,
        "saved": request.query_params.get("saved"),
        "cost_items": rules.COST_ITEMS,
    }
    return page(request, "training.html", context, status_code=status_code)


class TrainingPages(Controller):
    path = "/trainings"
    include_in_schema = False

    @get("/", opt=policy(Action.TRAININGS_READ))
    async def training_list(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        after: FromQuery[int | None] = None,
    ) -> Template:
        scope = visible_provinces(principal, Action.TRAININGS_READ)

        def read() -> list[Training]:
            with db.read() as conn:
                return trainings.list_trainings(conn, scope, after, TRAININGS_PER_PAGE + 1)

        found = await run_blocking(read)
        more = len(found) > TRAININGS_PER_PAGE
        shown = found[:TRAININGS_PER_PAGE]
        context = {"trainings": shown, "next_after": shown[-1].id if more else None}
        return page(request, "trainings.html", context)

    @get("/{training_id:int}", opt=policy(Action.TRAININGS_READ))
    async def training_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
    ) -> Template:
        view = await run_blocking(_read_training, db, principal, training_id)
        return _training_page(request, view)

    @post("/{training_id:int}/participants", opt=policy(Action.TRAININGS_WRITE), status_code=303)
    async def add_participant(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
    ) -> Response[Any] | Template:
        read = read_participant_form(dict(await request.form()))
        data = read.request

        def work(conn: Connection) -> TrainingOut:
            assert data is not None
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            household_in_scope(conn, principal, Action.TRAININGS_WRITE, data.case_code)
            return TrainingOut.of(
                trainings.add_participant(
                    conn, training_id, data.case_code, data.people, principal.username
                )
            )

        return await _save(request, db, writer, principal, training_id, "participant", read, work)

    @post("/{training_id:int}/attendance", opt=policy(Action.TRAININGS_WRITE), status_code=303)
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
    ) -> Response[Any] | Template:
        view = await run_blocking(_read_training, db, principal, training_id)
        cases = tuple(p.case_code for p in view.training.participants)
        read = read_attendance_form(dict(await request.form()), cases)
        data = read.request

        def work(conn: Connection) -> TrainingOut:
            assert data is not None
            present = [(p.case_code, p.people) for p in data.present]
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            return TrainingOut.of(
                trainings.record_attendance(conn, training_id, data.date, present)
            )

        return await _save(request, db, writer, principal, training_id, "attendance", read, work)

    @post("/{training_id:int}/costs", opt=policy(Action.TRAININGS_WRITE), status_code=303)
    async def add_cost(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
    ) -> Response[Any] | Template:
        read = read_cost_form(dict(await request.form()))
        data = read.request

        def work(conn: Connection) -> TrainingCost:
            assert data is not None
            training_in_scope(conn, principal, Action.TRAININGS_WRITE, training_id)
            return TrainingCost.of(
                trainings.post_cost(conn, training_id, data.to_draft(), principal.username)
            )

        return await _save(request, db, writer, principal, training_id, "cost", read, work)

    @get(
        "/{training_id:int}/certificates/{case:str}",
        opt=policy(Action.TRAININGS_READ),
        media_type=PDF,
    )
    async def certificate_pdf(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        training_id: FromPath[int],
        case: FromPath[str],
    ) -> Response[bytes]:
        """The certificate the API prints, under the page's session (`.pdf` in the link is
        the name a phone saves it under)."""
        case_code = case.removesuffix(".pdf")

        def render() -> tuple[bytes, str]:
            with db.read() as conn:
                training = scoped_training(conn, principal, Action.TRAININGS_READ, training_id)
                household_in_scope(conn, principal, Action.TRAININGS_READ, case_code)
                view = certificate(training, case_code)
            return render_certificate(view), f"certificate-{view.number}.pdf"

        content, name = await run_blocking(render)
        return pdf_response(content, name)


async def _save(
    request: Request[Any, Any, Any],
    db: Database,
    writer: AuditedWriter,
    principal: Principal,
    training_id: int,
    form: str,
    read: ReadForm[Any],
    work: Callable[[Connection], msgspec.Struct],
) -> Response[Any] | Template:
    """Write `work` once per form key and go back to the training; or show the page again
    with the form as typed and its errors."""
    data = read.request
    if data is not None:
        try:
            await writer.write(f"training.{form}", work, data, key=read.key)
        except LedgerRejected as rejected:
            view = await run_blocking(_read_training, db, principal, training_id)
            status = STATUS_BY_KIND[rejected.first.kind]
            return _training_page(
                request,
                view,
                {form: read},
                failed=form,
                rejected=rejected.errors,
                status_code=status,
            )
        return Redirect(f"/trainings/{training_id}?saved={form}", status_code=HTTP_303_SEE_OTHER)
    view = await run_blocking(_read_training, db, principal, training_id)
    return _training_page(request, view, {form: read}, failed=form, status_code=422)
