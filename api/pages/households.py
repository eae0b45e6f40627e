"""The livelihood officer's household pages: the households of their provinces (their home),
registering one, a household's page (grants, herd, visits, income against the baseline),
its contact details (only for the roles allowed to read them), and the follow-up visit form
that works offline (one visit = one request with the Idempotency-Key made when the form was
opened, `POST /api/households/{case}/follow-ups` behind it).

A household outside the officer's provinces is a 404, as in the API (`api/scopes.py`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar_htmx import HTMXRequest
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.pages import household_forms as forms
from api.pages.forms import new_idempotency_key
from api.pages.household_views import (
    HOUSEHOLDS_PER_PAGE,
    HouseholdPage,
    read_household_page,
    read_households,
)
from api.pages.render import page
from api.schemas.grants import Household as HouseholdOut
from api.schemas.training import FollowUp
from api.scopes import province_in_scope, scoped_household
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target, decide, visible_provinces
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.households import rules as household_rules
from ledger.households import service as household_service
from ledger.households.service import HOUSEHOLD_NOT_FOUND, Household
from ledger.income import rules as income_rules
from ledger.livestock import follow_up
from ledger.livestock import rules as livestock_rules
from ledger.people import contacts
from ledger.store.books import utc_today
from ledger.store.database import Database, run_blocking

# What the forms offer (the services refuse anything else).
CHOICES = {
    "sexes": household_rules.SEXES,
    "age_bands": household_rules.AGE_BANDS,
    "categories": household_rules.CATEGORIES,
    "livestock": household_rules.LIVESTOCK,
    "money": household_rules.MONEY,
    "causes": livestock_rules.DEATH_CAUSES,
    "sources": income_rules.SOURCES,
}
SPECIES_ROWS_MAX = livestock_rules.SPECIES_PER_VISIT_MAX


def _placed(
    read: forms.ReadForm, rejected: tuple[LedgerError, ...]
) -> tuple[dict[str, LedgerError], list[LedgerError]]:
    """The service's errors beside the form's fields; those naming none go above the form."""
    errors = dict(read.errors)
    general = []
    for error in rejected:
        name = forms.form_field(error.field, read.fields)
        if name is not None and (name in read.values or name in ("income.month", "date")):
            errors.setdefault(name, error)
        else:
            general.append(error)
    return errors, general


def _register_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    read: forms.ReadForm,
    rejected: tuple[LedgerError, ...] = (),
    status_code: int = 200,
) -> Template:
    errors, general = _placed(read, rejected)
    provinces = visible_provinces(principal, Action.HOUSEHOLDS_WRITE)
    context = {
        "values": read.values,
        "errors": errors,
        "general_errors": general,
        "key": read.key,
        "provinces": sorted(provinces) if provinces is not None else None,
        **CHOICES,
    }
    return page(request, "household_new.html", context, status_code=status_code)


def _visit_page(
    request: Request[Any, Any, Any],
    found: HouseholdPage,
    read: forms.ReadForm,
    rejected: tuple[LedgerError, ...] = (),
    status_code: int = 200,
) -> Template:
    errors, general = _placed(read, rejected)
    rows = [
        row for row in range(SPECIES_ROWS_MAX) if forms.species_field(row, "species") in read.values
    ]
    held = {h.species: h.closing for h in found.outcome.herds} if found.outcome else {}
    context = {
        "found": found,
        "h": found.household,
        "values": read.values,
        "errors": errors,
        "general_errors": general,
        "key": read.key,
        "rows": rows,
        "held": held,
        **CHOICES,
    }
    return page(request, "visit.html", context, status_code=status_code)


def _redirect(request: HTMXRequest, target: str) -> Response[Any]:
    if request.htmx:
        return Response(None, status_code=200, headers={"HX-Redirect": target})
    return Redirect(target, status_code=HTTP_303_SEE_OTHER)


class HouseholdPages(Controller):
    path = "/households"
    include_in_schema = False
    request_class = HTMXRequest

    @get("/", opt=policy(Action.HOUSEHOLDS_READ))
    async def households(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        q: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
    ) -> Template:
        """The officer's home: the households of their provinces, searched by case code, a
        page at a time."""
        search = forms.search_text(q)
        scope = visible_provinces(principal, Action.HOUSEHOLDS_READ)

        def read() -> list[Household]:
            with db.read() as conn:
                return read_households(conn, scope, search, forms.search_text(after))

        found = await run_blocking(read)
        context = {
            "households": found,
            "more": found[-1].case_code if len(found) == HOUSEHOLDS_PER_PAGE else None,
            "q": (q or "")[: forms.SEARCH_TEXT_LENGTH_MAX],
            "can_register": decide(principal, Action.HOUSEHOLDS_WRITE) == "allow",
        }
        return page(request, "households.html", context)

    @get("/new", opt=policy(Action.HOUSEHOLDS_WRITE))
    async def new_household(
        self, request: HTMXRequest, principal: NamedDependency[Principal]
    ) -> Template:
        values = {"consent_date": utc_today().isoformat(), "members": "", "children": "0"}
        provinces = visible_provinces(principal, Action.HOUSEHOLDS_WRITE)
        if provinces is not None and len(provinces) == 1:
            values["province"] = next(iter(provinces))
        read = forms.ReadForm(values, {}, None, new_idempotency_key())
        return _register_page(request, principal, read)

    @post("/new", opt=policy(Action.HOUSEHOLDS_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def register(
        self,
        request: HTMXRequest,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        """Register through the households service, as `POST /api/households` does."""
        read = forms.read_household_form(dict(await request.form()))
        if read.data is None:
            return _register_page(request, principal, read, status_code=422)
        data = read.data
        today = utc_today()

        def work(conn: Connection) -> HouseholdOut:
            return HouseholdOut.of(
                household_service.register_household(
                    conn, data.to_draft(), today, principal.username
                )
            )

        try:
            province_in_scope(principal, Action.HOUSEHOLDS_WRITE, data.province)
            await writer.write("household.create", work, data, key=read.key)
        except LedgerRejected as rejected:
            status = STATUS_BY_KIND[rejected.first.kind]
            return _register_page(request, principal, read, rejected.errors, status)
        return _redirect(request, f"/households/{data.case_code}?registered=1")

    @get("/{case_code:str}", opt=policy(Action.HOUSEHOLDS_READ))
    async def household(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case_code: FromPath[str],
    ) -> Template:
        found = await run_blocking(_read_page, db, principal, case_code)
        target = Target(province=found.household.province)
        context = {
            "found": found,
            "h": found.household,
            "saved": request.query_params.get("saved") == "1",
            "registered": request.query_params.get("registered") == "1",
            "can_visit": decide(principal, Action.OUTCOMES_WRITE, target) == "allow",
            "can_contacts": decide(principal, Action.CONTACTS_READ, target) == "allow",
        }
        return page(request, "household.html", context)

    @get("/{case_code:str}/contacts", opt=policy(Action.HOUSEHOLDS_READ))
    async def household_contacts(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case_code: FromPath[str],
    ) -> Template:
        """Names and phones: only for the roles the API lets read contacts (else 404)."""

        def read() -> tuple[Household, contacts.Contact | None]:
            with db.read() as conn:
                household = scoped_household(conn, principal, Action.HOUSEHOLDS_READ, case_code)
                target = Target(province=household.province)
                if decide(principal, Action.CONTACTS_READ, target) != "allow":
                    raise LedgerRejected([HOUSEHOLD_NOT_FOUND])
                try:
                    return household, contacts.get_contact(conn, case_code)
                except LedgerRejected:
                    return household, None

        household, contact = await run_blocking(read)
        return page(request, "household_contacts.html", {"h": household, "contact": contact})

    @get("/{case_code:str}/visits/new", opt=policy(Action.OUTCOMES_WRITE))
    async def new_visit(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case_code: FromPath[str],
    ) -> Template:
        """A blank visit: one row per species the household holds, and one to add."""
        found = await run_blocking(_read_page, db, principal, case_code, Action.OUTCOMES_WRITE)
        today = utc_today()
        values = {"date": today.isoformat(), "currency": "KHR", "income.month": ""}
        held = [h.species for h in found.outcome.herds if h.closing] if found.outcome else []
        for row, species in enumerate([*held, ""][:SPECIES_ROWS_MAX]):
            values[forms.species_field(row, "species")] = species
        read = forms.ReadForm(values, {}, None, new_idempotency_key())
        return _visit_page(request, found, read)

    @post("/{case_code:str}/visits/", opt=policy(Action.OUTCOMES_WRITE), status_code=303)
    async def record_visit(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case_code: FromPath[str],
    ) -> Response[Any] | Template:
        """The whole visit in one write (once per key): herd and income, all or nothing."""
        found = await run_blocking(_read_page, db, principal, case_code, Action.OUTCOMES_WRITE)
        read = forms.read_visit_form(dict(await request.form()), principal.username)
        if read.data is None:
            return _visit_page(request, found, read, status_code=422)
        draft = read.data.to_draft(case_code)

        def work(conn: Connection) -> FollowUp:
            return FollowUp.of(
                follow_up.record_follow_up(conn, draft, utc_today(), principal.username)
            )

        try:
            await writer.write("follow_up.create", work, read.data, key=read.key)
        except LedgerRejected as rejected:
            status = STATUS_BY_KIND[rejected.first.kind]
            return _visit_page(request, found, read, rejected.errors, status)
        return _redirect(request, f"/households/{case_code}?saved=1")


def _read_page(
    db: Database, principal: Principal, case_code: str, action: Action = Action.HOUSEHOLDS_READ
) -> HouseholdPage:
    with db.read() as conn:
        household = scoped_household(conn, principal, action, case_code)
        return read_household_page(conn, household)
