"""Deny by default, proved on the application's own route table.

Every route handler names the one `Action` it performs, and every role gets exactly what
`ledger.access.policy.POLICY` gives it: 403 where its row has no cell, 404 (the answer for an
object that does not exist) for a book or household outside its scope, and a working answer
otherwise. The expectations are derived from POLICY, and docs/SECURITY.md is parsed and
compared with POLICY and with the route table, so the code, the tests and the docs move
together.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, get
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import select

from api.app import create_app
from api.auth import AuthSettings, authorize
from api.errors import EXCEPTION_HANDLERS
from api.schemas.transactions import TransactionCreate
from ledger.access import users
from ledger.access.policy import POLICY, ROLES, Action
from ledger.access.tokens import issue_access_token
from ledger.funds import service as funds
from ledger.funds.service import AwardDraft, BudgetLineDraft, ExchangeDraft
from ledger.grants import service as grants
from ledger.grants.service import DisbursementDraft, GrantDraft
from ledger.households import members as household_people
from ledger.households import service as households
from ledger.households.rules import HouseholdDraft, MemberDraft, PersonFacts
from ledger.people import contacts
from ledger.reconcile import service as reconcile
from ledger.reconcile.rules import ColumnMapping
from ledger.store import books, journal
from ledger.store.database import Database
from ledger.store.tables import postings, statement_lines
from ledger.training import service as trainings
from ledger.training.rules import TrainingDraft
from tests.api.conftest import PASSWORD, TEST_SECRET_KEY, make_client
from tests.api.grants_world import create_ctip, household_draft

SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
PUBLIC_PATHS = ("/health", "/api/auth/login")
# What each role's user is scoped to: everything in-scope lives in `sg-a` (Kampong Thom).
SCOPES: dict[str, tuple[str, ...]] = {
    "admin": (),
    "finance": (),
    "officer": ("province:Kampong Thom",),
    "treasurer": ("book:sg-a",),
    "auditor": (),
}
# Trainings are numbered as `_build_world` creates them: 1 in Kampong Thom, 2 in Svay Rieng.
# A grant's id is known once the world is built: `World.out_of_scope` adds it.
IN_SCOPE = {"book": "sg-a", "case_code": "DV-009", "case": "DV-009", "training_id": "1"}
OUT_OF_SCOPE = {"book": "sg-b", "case_code": "DV-077", "case": "DV-077", "training_id": "2"}
HIDDEN_CODE = {
    "book": "book_not_found",
    "case_code": "contact_not_found",
    "case": "household_not_found",
    "grant_id": "grant_not_found",
    "training_id": "training_not_found",
}
AWARD = "CTIP-2018"
BANK = "Assets:Bank:Operating-USD"
CASH = "Assets:Cash:Bavet-KHR"
WALK_AWARD = "WALK-2018"
TRAINING_LINE = "training"


def _app(db: Database) -> Litestar:
    url = db.engine.url.render_as_string(hide_password=False)
    return create_app(url, migrate=False, auth=AuthSettings(secret_key=TEST_SECRET_KEY))


def _is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path == "/schema" or path.startswith("/schema/")


def _is_automatic_options(handler: HTTPRouteHandler) -> bool:
    """Litestar adds an OPTIONS handler to every path; it declares nothing (and is shut)."""
    return handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler"


def _plain(path: str) -> str:
    """`/api/books/{book:str}` -> `/api/books/{book}` (how the docs write a path)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # as Litestar declares it, with parameter types
    action: Action | None
    params: tuple[str, ...]


def _is_web_page(path: str, handler: HTTPRouteHandler) -> bool:
    """The web pages and their static files answer in HTML (a sign-in redirect, not a 401):
    tests/web/test_page_routes.py holds their route table."""
    return bool(handler.opt.get("page")) or path.startswith("/static/")


def _endpoints(app: Litestar) -> Iterator[tuple[Endpoint, HTTPRouteHandler]]:
    for route in app.routes:
        assert isinstance(route, HTTPRoute), f"unexpected route kind at {route.path}"
        for handler in route.route_handlers:
            if _is_automatic_options(handler) or _is_web_page(route.path, handler):
                continue
            action = handler.opt.get("action")
            for method in sorted(handler.http_methods):
                yield (
                    Endpoint(
                        method=method,
                        path=route.path,
                        action=action if isinstance(action, Action) else None,
                        params=tuple(route.path_parameters),
                    ),
                    handler,
                )


def _guarded(app: Litestar) -> list[Endpoint]:
    return [e for e, _ in _endpoints(app) if not _is_public_path(e.path)]


# -- the route table -------------------------------------------------------------------------


def test_every_route_declares_an_action(db: Database) -> None:
    app = _app(db)
    missing = [
        f"{e.method} {e.path}"
        for e, handler in _endpoints(app)
        if not _is_public_path(e.path) and not isinstance(handler.opt.get("action"), Action)
    ]
    assert not missing, f"routes without opt=policy(Action.X): {missing}"
    public = {f"{e.method} {e.path}" for e, h in _endpoints(app) if h.opt.get("public")}
    assert "GET /health" in public
    assert "POST /api/auth/login" in public
    assert all(p.split(" ", 1)[1].startswith(("/schema", *PUBLIC_PATHS)) for p in public), public
    assert len(_guarded(app)) >= 20  # the walk really saw the API


def test_public_routes_answer_without_a_token(db: Database) -> None:
    with make_client(db) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/schema/openapi.json").status_code == 200
        refused = client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_credentials"


def test_automatic_options_handlers_are_shut(db: Database) -> None:
    """They declare no action, so deny-by-default answers 403 before looking at the token."""
    with make_client(db) as client:
        for path in ("/api/users", "/api/contacts/DV-009", "/api/books/org/transactions"):
            response = client.options(path)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["code"] == "forbidden"


def test_a_route_without_a_policy_is_shut() -> None:
    """The guard itself: a handler that forgot `opt=policy(...)` is 403 for everyone."""

    @get("/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "should never be served"

    @get("/stringly", sync_to_thread=False, opt={"action": "books.read"})
    def stringly() -> str:
        return "should never be served"

    app = Litestar(
        route_handlers=[forgotten, stringly],
        guards=[authorize],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    with TestClient(app) as client:
        for path in ("/forgotten", "/stringly"):
            response = client.get(path, headers={"Authorization": "Bearer anything"})
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "forbidden"
            assert "never be served" not in response.text


def test_every_guarded_route_refuses_a_missing_or_bad_token(db: Database) -> None:
    with make_client(db) as client:
        for endpoint in _guarded(client.app):
            path = _fill(endpoint, IN_SCOPE, {})
            for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "x"}):
                response = client.request(endpoint.method, path, headers=headers, json={})
                assert response.status_code == 401, (endpoint, headers, response.text)
                assert response.json()["code"] == "unauthorized"
                assert response.headers["www-authenticate"].startswith("Bearer")


# -- the docs cannot drift ---------------------------------------------------------------------

NEVER = "—"


def _markdown_rows(text: str, first_cell: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not re.match(rf"^\|\s*{first_cell}\s*\|", line):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _documented_matrix() -> dict[str, dict[str, str]]:
    text = SECURITY_MD.read_text(encoding="utf-8")
    headers = _markdown_rows(text, "Action")
    assert len(headers) == 1, "docs/SECURITY.md has one matrix, headed | Action | roles... |"
    roles = headers[0][1:]
    assert sorted(roles) == sorted(ROLES), f"matrix columns {roles} are not the roles {ROLES}"
    matrix: dict[str, dict[str, str]] = {}
    for cells in _markdown_rows(text, r"`[a-z_.]+`"):
        if len(cells) != len(roles) + 1:
            continue  # another table whose first column is code (the routes table)
        action = cells[0].strip("`")
        assert action not in matrix, f"{action} appears twice in the matrix"
        matrix[action] = dict(zip(roles, cells[1:], strict=True))
    return matrix


def test_security_md_matrix_matches_policy() -> None:
    documented = _documented_matrix()
    expected = {
        action.value: {role: POLICY[action].get(role, NEVER) for role in ROLES} for action in Action
    }
    assert set(documented) == set(expected), "actions in docs/SECURITY.md differ from POLICY"
    differences = [
        f"{action} / {role}: docs say {documented[action][role]!r}, POLICY says {cell!r}"
        for action, row in expected.items()
        for role, cell in row.items()
        if documented[action][role] != cell
    ]
    assert not differences, differences


def test_routes_table_matches_app(db: Database) -> None:
    text = SECURITY_MD.read_text(encoding="utf-8")
    documented = {
        (cells[0], cells[1].strip("`"), cells[2].strip("`"))
        for cells in _markdown_rows(text, "(GET|POST|PUT|PATCH|DELETE)")
    }
    actual = {
        (e.method, _plain(e.path), e.action.value if e.action else "") for e in _guarded(_app(db))
    }
    assert documented == actual, (
        f"docs/SECURITY.md routes table: missing {sorted(actual - documented)}, "
        f"stale {sorted(documented - actual)}"
    )


# -- every role against every route ----------------------------------------------------------


@dataclass
class World:
    """What the role-by-route walk needs to exist: users, books, accounts, tokens, contacts."""

    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    closable: dict[str, int] = field(default_factory=dict)
    reversible: dict[str, int] = field(default_factory=dict)
    transaction_id: int = 0
    disposable_user_id: int = 0
    # Grants on DV-009 (Kampong Thom), one per role and purpose: "proposed" to approve,
    # "approved" to disburse or cancel, "paid" in full to close, "disbursed" once with
    # `disbursement_ids` to read and reverse.
    grants: dict[str, dict[str, int]] = field(default_factory=dict)
    disbursement_ids: dict[str, int] = field(default_factory=dict)
    hidden_grant_id: int = 0  # a grant on DV-077 (Svay Rieng), outside every scope

    def grant(self, purpose: str, role: str) -> int:
        return self.grants[purpose][role]

    @property
    def out_of_scope(self) -> dict[str, str]:
        return OUT_OF_SCOPE | {"grant_id": str(self.hidden_grant_id)}

    bank_account_id: int = 0  # sg-a's bank account, with a statement imported
    cash_account_id: int = 0  # sg-a's cash box
    match: dict[str, list[int]] = field(default_factory=dict)  # a line and its posting
    rejection: dict[str, list[int]] = field(default_factory=dict)


def _share_purchase(units: str = "20000") -> dict[str, Any]:
    return {
        "date": "2018-11-04",
        "narration": "Share purchase at the monthly meeting",
        "meta": {"case": "DV-009"},
        "postings": [
            {"account": "Assets:Cash:Box-KHR", "amount": units, "currency": "KHR"},
            {"account": "Equity:Shares", "amount": f"-{units}", "currency": "KHR"},
        ],
    }


def _build_world(db: Database, roles: tuple[str, ...] = ROLES) -> World:
    """Three books (org; sg-a in Kampong Thom, in every scope; sg-b in Svay Rieng, in none),
    a household on file in each province, and one signed-in user per role in `roles`."""
    world = World()
    now = datetime.datetime.now(datetime.UTC)

    def setup(conn: Any) -> None:
        books.create_book(conn, "org", "CCPCR livelihood programme", "organisation", "USD")
        books.create_book(conn, "sg-a", "Group A", "savings_group", "KHR", "Kampong Thom")
        books.create_book(conn, "sg-b", "Group B", "savings_group", "KHR", "Svay Rieng")
        for code in ("sg-a", "sg-b"):
            books.open_account(
                conn, code, "Assets:Cash:Box-KHR", datetime.date(2018, 1, 1), ["KHR"], True
            )
            books.open_account(
                conn, code, "Equity:Shares", datetime.date(2018, 1, 1), ["KHR"], False
            )
        for role in ROLES:
            account = books.open_account(
                conn,
                "sg-a",
                f"Assets:Closable:{role.capitalize()}",
                datetime.date(2018, 1, 1),
                [],
                False,
            )
            world.closable[role] = account.id
        draft = msgspec.convert(_share_purchase(), TransactionCreate).to_draft()
        for role in ROLES:
            world.reversible[role] = journal.post_draft(conn, "sg-a", draft, "setup")
        _reconciliation_world(conn, world)
        _fund_and_grant(conn, world)  # registers DV-009 and DV-077, whose contacts these are
        contacts.put_contact(conn, "DV-009", "Kampong Thom", "Test Person A", "", "", None)
        contacts.put_contact(conn, "DV-077", "Svay Rieng", "Test Person B", "", "", None)
        _training_world(conn)
        for role in roles:
            user = users.create_user(conn, f"{role}.walk", PASSWORD, role, SCOPES[role])
            token, _ = issue_access_token(user.id, TEST_SECRET_KEY, now)
            world.headers[role] = {"Authorization": f"Bearer {token}"}
            api_token, _secret = users.create_api_token(conn, user.id, "phone", 30, now)
            world.token_ids[role] = api_token.id

        leaving = users.create_user(conn, "leaving.walk", PASSWORD, "auditor")
        world.disposable_user_id = leaving.id

    db.write(setup)
    world.transaction_id = world.reversible["admin"]
    return world


def _grant(conn: Any, case_code: str, stage: str) -> tuple[int, int | None]:
    """A 10.00 USD grant to `case_code`, taken to `stage`; its id and its disbursement's."""
    proposal = GrantDraft(
        case_code=case_code,
        award_code=AWARD,
        budget_line="livelihood-grants",
        business_type="chicken_raising",
        approved_amount="10.00",
        tranches=(),
        purpose="Hens",
    )
    proposed = grants.propose_grant(conn, proposal, "setup")
    if stage == "proposed":
        return proposed.id, None
    grants.approve_grant(conn, proposed.id, "checker")
    if stage == "approved":
        return proposed.id, None
    payment = DisbursementDraft(
        date=datetime.date(2018, 11, 20),
        method="bank_transfer",
        paid_from=BANK,
        amount="10.00" if stage == "paid" else "4.00",
        items=(),
        exchange_rate=None,
        narration=None,
    )
    made = grants.disburse(conn, proposed.id, payment, "setup")
    return proposed.id, made.id


def _fund_and_grant(conn: Any, world: World) -> None:
    """CTIP-2018 in the org book, funded; households DV-009 (in scope) and DV-077 (not);
    grants on DV-009 for every role and purpose, and one grant on DV-077."""
    for name, currencies in ((BANK, ["USD"]), (CASH, ["KHR"])):
        books.open_account(conn, "org", name, datetime.date(2018, 1, 1), currencies, True)
    lines = [
        BudgetLineDraft("livelihood-grants", "Grants", "2000.00", "Expenses:Grants:CTIP-2018"),
        BudgetLineDraft("transport", "Transport", "500.00", "Expenses:Transport:CTIP-2018"),
    ]
    create_ctip(conn, lines)
    funds.receive_funds(
        conn, AWARD, datetime.date(2018, 7, 2), BANK, "5000.00", None, None, "setup"
    )
    today = datetime.date(2026, 1, 1)
    for case_code, province in (("DV-009", "Kampong Thom"), ("DV-077", "Svay Rieng")):
        draft = replace(
            household_draft(case_code, province), consent_date=datetime.date(2018, 7, 1)
        )
        registered = households.register_household(conn, draft, today, "setup")
        person = MemberDraft("head", PersonFacts("female", 1980, None))
        household_people.add_member(conn, registered, person, today, "setup")
    for stage in ("proposed", "approved", "paid", "disbursed"):
        world.grants[stage] = {}
        for role in ROLES:
            grant_id, disbursement_id = _grant(conn, "DV-009", stage)
            world.grants[stage][role] = grant_id
            if stage == "disbursed" and disbursement_id is not None:
                world.disbursement_ids[role] = disbursement_id
    world.hidden_grant_id, _ = _grant(conn, "DV-077", "disbursed")


def _walk_household(case_code: str, province: str) -> HouseholdDraft:
    return HouseholdDraft(
        case_code=case_code,
        province=province,
        district="Stoung",
        commune="Chamna Kraom",
        village="Trapeang Veng",
        head_sex="female",
        head_age_band="35-49",
        members=5,
        children=2,
        category="other",
        referral_source="",
        consent_date=datetime.date(2018, 7, 1),
    )


def _training_world(conn: Any) -> None:
    """An award with a training line, households on file in both provinces (DV-1nn take part
    in training 1, DV-2nn may be registered by the role nn), training 1 in Kampong Thom
    (DV-009 attended every day) and training 2 in Svay Rieng."""
    today = datetime.date(2026, 1, 1)
    books.open_account(conn, "org", "Assets:Bank:Walk-USD", datetime.date(2018, 1, 1), ["USD"])
    award = AwardDraft(
        "org", WALK_AWARD, "A donor", "USD", "5000.00", datetime.date(2018, 7, 1),
        datetime.date(2019, 6, 30), "0", "Income:Restricted:Walk",
        (BudgetLineDraft(TRAINING_LINE, "Training", "1000.00", "Expenses:Training:Walk"),),
    )  # fmt: skip
    funds.create_award(conn, award, "setup")
    # Income in riel is reported in the award's dollars at the rate of this exchange.
    books.open_account(conn, "org", "Assets:Cash:Walk-KHR", datetime.date(2018, 1, 1), ["KHR"])
    exchange = ExchangeDraft(
        "org", datetime.date(2018, 7, 2), "Assets:Bank:Walk-USD", "Assets:Cash:Walk-KHR",
        "100.00", None, "4100", None,
    )  # fmt: skip
    funds.record_exchange(conn, exchange, "setup")
    register = households.register_household
    # DV-009 (Kampong Thom) and DV-077 (Svay Rieng) are registered by `_fund_and_grant`.
    for index in range(len(ROLES)):
        register(conn, _walk_household(f"DV-1{index:02d}", "Kampong Thom"), today, "setup")
        register(conn, _walk_household(f"DV-2{index:02d}", "Kampong Thom"), today, "setup")
    for province in ("Kampong Thom", "Svay Rieng"):
        draft = TrainingDraft(
            ("pig_raising",), "Pig raising", datetime.date(2018, 8, 26),
            datetime.date(2018, 8, 28), province, "Commune hall", "PDA", None,
        )  # fmt: skip
        trainings.create_training(conn, draft, WALK_AWARD, TRAINING_LINE, "setup")
    trainings.add_participant(conn, 1, "DV-009", 1, "setup")
    for index in range(len(ROLES)):
        trainings.add_participant(conn, 1, f"DV-1{index:02d}", 2, "setup")
    for day in (26, 27, 28):
        trainings.record_attendance(conn, 1, datetime.date(2018, 8, day), [("DV-009", 1)])


def _reconciliation_world(conn: Any, world: World) -> None:
    """sg-a's bank account with two deposits in the books and on an imported statement (the
    CTIP award of `_fund_and_grant` gives the donor report its figures)."""
    bank = books.open_account(
        conn, "sg-a", "Assets:Bank:Group-KHR", datetime.date(2018, 1, 1), ["KHR"], False
    )
    world.bank_account_id = bank.id
    world.cash_account_id = next(
        a.id for a in books.list_accounts(conn, "sg-a") if a.name == "Assets:Cash:Box-KHR"
    )
    posting_ids = []
    for units in ("50000", "70000"):
        deposit = _share_purchase(units)
        deposit["postings"][0]["account"] = "Assets:Bank:Group-KHR"
        draft = msgspec.convert(deposit, TransactionCreate).to_draft()
        transaction_id = journal.post_draft(conn, "sg-a", draft, "setup")
        posting_ids.append(
            conn.execute(
                select(postings.c.id).where(
                    (postings.c.transaction_id == transaction_id)
                    & (postings.c.account_id == bank.id)
                )
            ).scalar_one()
        )
    mapping = ColumnMapping(date="Date", description="Description", amount="Amount")
    text = "Date,Description,Amount\n2018-11-04,Deposit,50000\n2018-11-04,Deposit,70000\n"
    reconcile.import_statement(conn, "sg-a", bank.id, text, mapping, "", "setup")
    line_ids = sorted(
        conn.execute(
            select(statement_lines.c.id).where(statement_lines.c.account_id == bank.id)
        ).scalars()
    )
    world.match = {"line_ids": [line_ids[0]], "posting_ids": [posting_ids[0]]}
    world.rejection = {"line_ids": [line_ids[1]], "posting_ids": [posting_ids[0]]}


@dataclass(frozen=True, slots=True)
class Call:
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    query: dict[str, Any] = field(default_factory=dict)


Sample = Callable[[str, World], Call]

# A sensible request per route and role: what that role would send to do the thing.
SAMPLES: dict[tuple[str, str], Sample] = {
    ("GET", "/api/auth/me"): lambda role, w: Call(),
    ("POST", "/api/auth/password"): lambda role, w: Call(
        json={"current_password": PASSWORD, "new_password": f"a new password for {role}"}
    ),
    ("POST", "/api/auth/tokens"): lambda role, w: Call(json={"name": f"{role} phone", "days": 7}),
    ("GET", "/api/auth/tokens"): lambda role, w: Call(),
    ("DELETE", "/api/auth/tokens/{token_id}"): lambda role, w: Call(
        params={"token_id": w.token_ids[role]}
    ),
    ("POST", "/api/users"): lambda role, w: Call(
        json={"username": f"made.by.{role}", "password": PASSWORD, "role": "auditor"}
    ),
    ("GET", "/api/users"): lambda role, w: Call(),
    ("POST", "/api/users/{user_id}/disable"): lambda role, w: Call(
        params={"user_id": w.disposable_user_id}
    ),
    ("GET", "/api/audit"): lambda role, w: Call(),
    ("POST", "/api/books"): lambda role, w: Call(
        json={
            "code": f"sg-new-{role}",
            "name": "A new savings group",
            "kind": "savings_group",
            "operating_currency": "KHR",
            "province": "Kampong Thom",
        }
    ),
    ("GET", "/api/books"): lambda role, w: Call(),
    ("GET", "/api/books/{book}"): lambda role, w: Call(),
    ("PUT", "/api/books/{book}/lock-date"): lambda role, w: Call(json={"lock_date": "2018-01-01"}),
    ("GET", "/api/books/{book}/balances"): lambda role, w: Call(),
    ("POST", "/api/books/{book}/balance-assertions"): lambda role, w: Call(
        json={
            "account": "Assets:Cash:Box-KHR",
            "currency": "KHR",
            "amount": "0",
            "date": f"2018-02-{ROLES.index(role) + 1:02d}",
        }
    ),
    ("GET", "/api/books/{book}/export.beancount"): lambda role, w: Call(),
    ("POST", "/api/commodities"): lambda role, w: Call(
        json={"code": f"T{role.upper()}", "precision": 0, "name": "test"}
    ),
    ("GET", "/api/commodities"): lambda role, w: Call(),
    ("POST", "/api/books/{book}/accounts"): lambda role, w: Call(
        json={"name": f"Assets:Cash:{role.capitalize()}", "open_date": "2018-06-01"}
    ),
    ("GET", "/api/books/{book}/accounts"): lambda role, w: Call(),
    ("POST", "/api/books/{book}/accounts/{account_id}/close"): lambda role, w: Call(
        params={"account_id": w.closable[role]}, json={"date": "2018-12-31"}
    ),
    ("POST", "/api/books/{book}/transactions"): lambda role, w: Call(json=_share_purchase()),
    ("GET", "/api/books/{book}/transactions"): lambda role, w: Call(),
    ("GET", "/api/books/{book}/transactions/{transaction_id}"): lambda role, w: Call(
        params={"transaction_id": w.transaction_id}
    ),
    ("POST", "/api/books/{book}/transactions/{transaction_id}/reverse"): lambda role, w: Call(
        params={"transaction_id": w.reversible[role]}, json={"narration": "Entered twice"}
    ),
    ("POST", "/api/books/{book}/accounts/{account_id}/statements"): lambda role, w: Call(
        params={"account_id": w.bank_account_id},
        json={
            "csv": f"Date,Description,Amount\n2018-11-0{ROLES.index(role) + 5},Deposit,1000\n",
            "mapping": {"date": "Date", "description": "Description", "amount": "Amount"},
        },
    ),
    ("GET", "/api/books/{book}/accounts/{account_id}/statements"): lambda role, w: Call(
        params={"account_id": w.bank_account_id}
    ),
    ("GET", "/api/books/{book}/accounts/{account_id}/unmatched"): lambda role, w: Call(
        params={"account_id": w.bank_account_id}
    ),
    ("GET", "/api/books/{book}/accounts/{account_id}/proposals"): lambda role, w: Call(
        params={"account_id": w.bank_account_id}
    ),
    ("POST", "/api/books/{book}/accounts/{account_id}/matches"): lambda role, w: Call(
        params={"account_id": w.bank_account_id}, json=w.match
    ),
    ("POST", "/api/books/{book}/accounts/{account_id}/rejections"): lambda role, w: Call(
        params={"account_id": w.bank_account_id}, json=w.rejection
    ),
    ("POST", "/api/books/{book}/accounts/{account_id}/reconciliations"): lambda role, w: Call(
        params={"account_id": w.bank_account_id},
        json={"date": "2018-01-20", "closing_balance": "0"},
    ),
    ("GET", "/api/books/{book}/accounts/{account_id}/reconciliations"): lambda role, w: Call(
        params={"account_id": w.bank_account_id}
    ),
    ("POST", "/api/books/{book}/accounts/{account_id}/cash-counts"): lambda role, w: Call(
        params={"account_id": w.cash_account_id}, json={"date": "2018-01-15", "amount": "0"}
    ),
    # The same day as the lock-date sample: neither moves the other back.
    ("POST", "/api/books/{book}/period-close"): lambda role, w: Call(json={"date": "2018-01-01"}),
    ("GET", "/api/awards/{award}/donor-report"): lambda role, w: Call(
        params={"award": "CTIP-2018"}
    ),
    ("GET", "/api/awards/{award}/donor-report.csv"): lambda role, w: Call(
        params={"award": "CTIP-2018"}
    ),
    ("GET", "/api/awards/{award}/donor-report.pdf"): lambda role, w: Call(
        params={"award": "CTIP-2018"}
    ),
    ("GET", "/api/contacts/{case_code}"): lambda role, w: Call(),
    ("POST", "/api/trainings"): lambda role, w: Call(
        json={
            "topics": ["chicken_raising"],
            "title": f"Chicken raising by {role}",
            "start_date": "2018-09-03",
            "end_date": "2018-09-04",
            "province": "Kampong Thom",
            "place": "Commune hall",
            "trainer": "PDA",
            "award": WALK_AWARD,
            "budget_line": TRAINING_LINE,
        }
    ),
    ("GET", "/api/trainings"): lambda role, w: Call(),
    ("GET", "/api/trainings/{training_id}"): lambda role, w: Call(),
    ("POST", "/api/trainings/{training_id}/participants"): lambda role, w: Call(
        json={"case_code": f"DV-2{ROLES.index(role):02d}", "people": 2}
    ),
    ("POST", "/api/trainings/{training_id}/attendance"): lambda role, w: Call(
        json={"date": "2018-08-26", "present": [{"case_code": f"DV-1{ROLES.index(role):02d}"}]}
    ),
    ("POST", "/api/trainings/{training_id}/costs"): lambda role, w: Call(
        json={
            "item": "venue",
            "date": "2018-08-26",
            "paid_from": "Assets:Bank:Walk-USD",
            "amount": "40.00",
        }
    ),
    ("GET", "/api/trainings/{training_id}/certificates/{case}"): lambda role, w: Call(),
    ("GET", "/api/trainings/{training_id}/outcomes"): lambda role, w: Call(),
    ("GET", "/api/trainings/{training_id}/outcomes.csv"): lambda role, w: Call(),
    ("GET", "/api/trainings/{training_id}/outcomes.pdf"): lambda role, w: Call(),
    ("POST", "/api/households/{case}/visits"): lambda role, w: Call(
        json={
            "date": f"2018-12-{ROLES.index(role) + 1:02d}",
            "officer": f"{role}.walk",
            # Finance visits first, then the officer: one pig born at each visit.
            "species": [{"species": "PIG", "counted": ROLES.index(role), "births": 1}],
        }
    ),
    ("GET", "/api/households/{case}/visits"): lambda role, w: Call(),
    ("POST", "/api/households/{case}/members"): lambda role, w: Call(
        json={"role": "child", "sex": "female", "birth_year": 2011}
    ),
    ("GET", "/api/households/{case}/members"): lambda role, w: Call(),
    ("PUT", "/api/households/{case}/members/{number}"): lambda role, w: Call(
        params={"number": 1}, json={"role": "head", "sex": "female", "birth_year": 1979}
    ),
    ("POST", "/api/households/{case}/income"): lambda role, w: Call(
        json={"month": f"2018-{ROLES.index(role) + 7:02d}", "source": "crops", "amount": "1000"}
    ),
    ("GET", "/api/households/{case}/income"): lambda role, w: Call(),
    ("GET", "/api/households/{case}/outcomes"): lambda role, w: Call(),
    ("GET", "/api/households/{case}/outcomes.csv"): lambda role, w: Call(),
    ("GET", "/api/households/{case}/outcomes.pdf"): lambda role, w: Call(),
    ("GET", "/api/outcomes"): lambda role, w: Call(),
    ("GET", "/api/outcomes.csv"): lambda role, w: Call(),
    ("GET", "/api/outcomes.pdf"): lambda role, w: Call(),
    ("PUT", "/api/contacts/{case_code}"): lambda role, w: Call(
        json={"province": "Kampong Thom", "name": "Test Person A", "phone": "+855 12 000 000"}
    ),
    # Donor funds (the organisation's book).
    ("POST", "/api/awards"): lambda role, w: Call(
        json={
            "book": "org",
            "code": f"AWARD-{role.upper()}",
            "donor": "Another donor",
            "currency": "USD",
            "amount": "100.00",
            "start_date": "2019-01-01",
            "end_date": "2019-12-31",
            "income_account": f"Income:Restricted:{role.capitalize()}",
            "budget_lines": [
                {
                    "code": "training",
                    "name": "Training",
                    "amount": "100.00",
                    "expense_account": f"Expenses:Training:{role.capitalize()}",
                }
            ],
        }
    ),
    ("GET", "/api/awards"): lambda role, w: Call(),
    ("GET", "/api/awards/{award}"): lambda role, w: Call(params={"award": AWARD}),
    ("POST", "/api/awards/{award}/budget-lines"): lambda role, w: Call(
        params={"award": AWARD},
        json={
            "code": f"line-{role}",
            "name": "Follow-up visits",
            "amount": "10.00",
            "expense_account": "Expenses:Visits:CTIP-2018",
        },
    ),
    ("POST", "/api/awards/{award}/receipts"): lambda role, w: Call(
        params={"award": AWARD},
        json={"date": "2018-08-01", "bank_account": BANK, "amount": "100.00"},
    ),
    ("POST", "/api/awards/{award}/expenses"): lambda role, w: Call(
        params={"award": AWARD},
        json={
            "date": "2018-11-04",
            "budget_line": "transport",
            "paid_from": BANK,
            "amount": "5.00",
            "narration": "Transport home for a returnee",
        },
    ),
    ("GET", "/api/awards/{award}/budget"): lambda role, w: Call(params={"award": AWARD}),
    ("GET", "/api/awards/{award}/budget.csv"): lambda role, w: Call(params={"award": AWARD}),
    ("POST", "/api/exchanges"): lambda role, w: Call(
        json={
            "book": "org",
            "date": "2018-11-02",
            "from_account": BANK,
            "to_account": CASH,
            "from_amount": "10.00",
            "rate": "4100",
        }
    ),
    ("GET", "/api/exchanges"): lambda role, w: Call(query={"book": "org"}),
    # Households (scoped by province).
    ("POST", "/api/households"): lambda role, w: Call(
        json={
            "case_code": f"DV-3{ROLES.index(role):02d}",
            "province": "Kampong Thom",
            "district": "Baray",
            "commune": "Ballangk",
            "village": "Kampong Thmar",
            "head_sex": "male",
            "head_age_band": "25-34",
            "members": 3,
            "children": 1,
            "category": "at_risk_of_unsafe_migration",
            "consent_date": "2018-11-04",
        }
    ),
    ("GET", "/api/households"): lambda role, w: Call(),
    ("GET", "/api/households/{case}"): lambda role, w: Call(),
    # Grants (scoped by the household's province).
    ("POST", "/api/grants"): lambda role, w: Call(
        json={
            "case_code": "DV-009",
            "award": AWARD,
            "budget_line": "livelihood-grants",
            "business_type": "grocery",
            "approved_amount": "20.00",
            "purpose": "Stock for a village shop",
        }
    ),
    ("GET", "/api/grants"): lambda role, w: Call(),
    ("GET", "/api/grants/register.csv"): lambda role, w: Call(),
    ("GET", "/api/grants/{grant_id}"): lambda role, w: Call(
        params={"grant_id": w.grant("disbursed", role)}
    ),
    ("POST", "/api/grants/{grant_id}/approve"): lambda role, w: Call(
        params={"grant_id": w.grant("proposed", role)}
    ),
    ("POST", "/api/grants/{grant_id}/cancel"): lambda role, w: Call(
        params={"grant_id": w.grant("approved", role)}, json={"reason": "Moved to Phnom Penh"}
    ),
    ("POST", "/api/grants/{grant_id}/close"): lambda role, w: Call(
        params={"grant_id": w.grant("paid", role)}, json={"reason": "Paid in full"}
    ),
    ("POST", "/api/grants/{grant_id}/disbursements"): lambda role, w: Call(
        params={"grant_id": w.grant("disbursed", role)},
        json={
            "date": "2018-12-20",
            "method": "bank_transfer",
            "paid_from": BANK,
            "amount": "1.00",
        },
    ),
    ("GET", "/api/grants/{grant_id}/disbursements"): lambda role, w: Call(
        params={"grant_id": w.grant("disbursed", role)}
    ),
    ("GET", "/api/grants/{grant_id}/disbursements/{disbursement_id}"): lambda role, w: Call(
        params={
            "grant_id": w.grant("disbursed", role),
            "disbursement_id": w.disbursement_ids[role],
        }
    ),
    ("GET", "/api/grants/{grant_id}/disbursements/{disbursement_id}/receipt.pdf"): lambda role, w: (
        Call(
            params={
                "grant_id": w.grant("disbursed", role),
                "disbursement_id": w.disbursement_ids[role],
            }
        )
    ),
    ("POST", "/api/grants/{grant_id}/disbursements/{disbursement_id}/reverse"): lambda role, w: (
        Call(
            params={
                "grant_id": w.grant("disbursed", role),
                "disbursement_id": w.disbursement_ids[role],
            },
            json={"date": "2018-12-21", "reason": "Paid to the wrong account"},
        )
    ),
}


def _fill(endpoint: Endpoint, scoped: dict[str, str], params: dict[str, Any]) -> str:
    """The endpoint's path with every parameter filled: sample values, else scoped ones, else
    a harmless default (a route added later is still walked, with a generic request)."""

    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if name in params:
            return str(params[name])
        if name in scoped:
            return scoped[name]
        return "999999" if kind == "int" else "x"

    return re.sub(r"\{(\w+):(\w+)\}", value, endpoint.path)


def test_every_role_against_every_route(db: Database) -> None:
    """403 exactly where POLICY has no cell for the role; otherwise the route works."""
    with make_client(db) as client:
        world = _build_world(db)
        wrong: list[str] = []
        walked = 0
        # A password change voids the caller's earlier access tokens: walk it last.
        endpoints = sorted(
            _guarded(client.app), key=lambda e: _plain(e.path) == "/api/auth/password"
        )
        for endpoint in endpoints:
            assert endpoint.action is not None
            sample = SAMPLES.get((endpoint.method, _plain(endpoint.path)))
            for role in ROLES:
                call = sample(role, world) if sample else Call(json={})
                path = _fill(endpoint, IN_SCOPE, call.params)
                response = client.request(
                    endpoint.method,
                    path,
                    json=call.json,
                    params=call.query,
                    headers=world.headers[role],
                )
                walked += 1
                may = role in POLICY[endpoint.action]
                status = response.status_code
                where = f"{role} {endpoint.method} {path} ({endpoint.action.value}): {status}"
                if not may:
                    if status != 403 or response.json().get("code") != "forbidden":
                        wrong.append(f"{where}, expected 403 forbidden")
                elif status in (401, 403) or status >= 500:
                    wrong.append(f"{where}, expected access: {response.text[:200]}")
                elif sample is not None and not 200 <= status < 300:
                    wrong.append(f"{where}, expected success: {response.text[:200]}")
        assert walked >= 5 * 20
        assert not wrong, "\n".join(wrong)


def _scoped_endpoints(app: Litestar) -> Iterator[tuple[Endpoint, str]]:
    for endpoint in _guarded(app):
        assert endpoint.action is not None
        for role, reach in POLICY[endpoint.action].items():
            if reach == "scope" and set(endpoint.params) & set(HIDDEN_CODE):
                yield endpoint, role


def test_scoped_roles_get_404_outside_their_scope(db: Database) -> None:
    """A book, household or grant outside the scope answers exactly as one that does not
    exist, whatever else the request names (the sample's own objects are in scope)."""
    with make_client(db) as client:
        scoped_roles = {
            r for row in POLICY.values() for r, reach in row.items() if reach == "scope"
        }
        world = _build_world(db, tuple(sorted(scoped_roles)))
        wrong: list[str] = []
        pairs = list(_scoped_endpoints(client.app))
        assert len(pairs) >= 10
        for endpoint, role in pairs:
            sample = SAMPLES.get((endpoint.method, _plain(endpoint.path)))
            call = sample(role, world) if sample else Call(json={})
            hidden = world.out_of_scope
            params = {k: v for k, v in call.params.items() if k not in hidden}
            path = _fill(endpoint, hidden, params)
            response = client.request(
                endpoint.method,
                path,
                json=call.json,
                params=call.query,
                headers=world.headers[role],
            )
            name = next(p for p in endpoint.params if p in HIDDEN_CODE)
            # Writing a contact names the household it belongs to (reading names the contact).
            written = endpoint.method == "PUT" and name == "case_code"
            expected = "household_not_found" if written else HIDDEN_CODE[name]
            if response.status_code != 404 or response.json().get("code") != expected:
                wrong.append(
                    f"{role} {endpoint.method} {path}: {response.status_code} "
                    f"{response.text[:150]}, expected 404 {expected}"
                )
        assert not wrong, "\n".join(wrong)


def test_every_route_has_a_sample(db: Database) -> None:
    """The walks are only as good as their requests: the funds, households and grants routes
    each have a sensible one (other areas add theirs as they come), and no sample is stale."""
    routes = {(e.method, _plain(e.path)) for e in _guarded(_app(db))}
    areas = ("/api/awards", "/api/exchanges", "/api/households", "/api/grants")
    walked = {route for route in routes if route[1].startswith(areas)}
    assert len(walked) >= 25
    assert walked - set(SAMPLES) == set(), "routes without a SAMPLES entry"
    assert set(SAMPLES) - routes == set(), "SAMPLES for routes that do not exist"


def test_scope_named_in_the_body_or_in_a_listing(db: Database) -> None:
    """Where the household is named in the body (or not at all), the officer's scope still
    holds: registering in another province is 403, proposing for a household there is 404 as
    for one that does not exist, and listings leave other provinces out."""
    with make_client(db) as client:
        world = _build_world(db, ("officer",))
        officer = world.headers["officer"]
        household = SAMPLES[("POST", "/api/households")]("officer", world).json
        elsewhere = client.post(
            "/api/households", json=household | {"province": "Svay Rieng"}, headers=officer
        )
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (403, "province_not_in_scope")
        proposal = SAMPLES[("POST", "/api/grants")]("officer", world).json
        hidden = client.post(
            "/api/grants", json=proposal | {"case_code": "DV-077"}, headers=officer
        )
        assert (hidden.status_code, hidden.json()["code"]) == (404, "household_not_found")
        unknown = client.post(
            "/api/grants", json=proposal | {"case_code": "DV-404"}, headers=officer
        )
        assert unknown.json() | {"instance": ""} == hidden.json() | {"instance": ""}
        book = client.get("/api/books/hh-dv-077/balances", headers=officer)
        assert (book.status_code, book.json()["code"]) == (404, "book_not_found")

        listed = client.get("/api/households", params={"limit": 1000}, headers=officer).json()[
            "items"
        ]
        assert "DV-009" in {h["case_code"] for h in listed}
        assert {h["province"] for h in listed} == {"Kampong Thom"}
        register = client.get("/api/grants", params={"limit": 1000}, headers=officer).json()
        assert {g["case_code"] for g in register["items"]} == {"DV-009"}
        assert world.hidden_grant_id not in {g["id"] for g in register["items"]}
        csv = client.get("/api/grants/register.csv", headers=officer).text
        assert "DV-077" not in csv
        assert "Svay Rieng" not in csv
        assert len(csv.strip().splitlines()) == 1 + len(register["items"])
