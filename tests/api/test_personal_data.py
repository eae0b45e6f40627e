"""Invariant 8: names, phone numbers and addresses live in one place and leak nowhere else.

Households are seeded with Khmer and Latin names, phones and addresses; transactions about
them carry only their case codes. Then everything the ledger can hand out is scanned for the
personal data: the Beancount export of every book, every API response other than the
contacts route, every database table other than `contacts` (the audit trail and the
idempotency store included), every log record at DEBUG and everything written to the
console, and the problem+json bodies of refused requests that carried a name.

There are no PDF reports yet; when there are, their extracted text joins this scan.

Sex and birth year (household members, savings members) are scanned the same way: only the
routes that record them show them; the indicator report, every other response, the export
and the logs carry counts at most.
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import Connection, select

from api.fava import FAVA_PATH
from ledger.export.beancount import export_book
from ledger.households import service as households
from ledger.store.database import Database
from ledger.store.tables import contacts, metadata
from tests.api.conftest import bearer, exchange, make_client
from tests.api.grants_world import household_draft
from tests.api.savings_support import CODE as GROUP
from tests.api.savings_support import group_body

# (case code, province, name, phone, address): what only the contacts route may show.
HOUSEHOLDS = (
    ("DV-009", "Svay Rieng", "Sok Dara", "+855 12 345 678", "Phum Thmei, Sangkat Bavet"),
    ("DV-010", "Svay Rieng", "ស៊ុន ស្រីពៅ", "+855 97 765 4321", "ភូមិ​ព្រៃ​ខ្លា ឃុំ​ចេក"),
    ("TK-021", "Banteay Meanchey", "Chann Sreymom", "(012) 555-019", "House 12, Street 7, Poipet"),
)


def _needles() -> list[str]:
    found: list[str] = []
    for _case, _province, name, phone, address in HOUSEHOLDS:
        found += [name, phone, address, re.sub(r"\D", "", phone)]
        found += [part for part in name.split() if len(part) >= 5]  # "Sreymom", "ស្រីពៅ"
    return found


NEEDLES = _needles()


def _register(db: Database, *cases: tuple[str, str]) -> None:
    """Register households (case code, province): contact details belong to one."""

    def work(conn: Connection) -> None:
        for case_code, province in cases:
            households.register_household(
                conn, household_draft(case_code, province), datetime.date(2026, 1, 1), "setup"
            )

    db.write(work)


SQL_LOGGERS = ("sqlalchemy",)


def _leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


def _is_contacts_route(path: str) -> bool:
    return path.startswith("/api/contacts/")


@contextmanager
def _every_log_record(caplog: pytest.LogCaptureFixture, *, sql: bool) -> Iterator[None]:
    """Capture every logger at DEBUG, including those the app configured not to propagate.

    Litestar's start-up replaces the root handlers (caplog's among them), so this is called
    once the app exists. SQLAlchemy's own statement log (`sqlalchemy.*`, WARNING unless an
    operator turns it on) is included only with `sql=True`.
    """
    existing = logging.root.manager.loggerDict.items()
    names = ["", *sorted(name for name, logger in existing if isinstance(logger, logging.Logger))]
    attached: list[logging.Logger] = []
    for name in names:
        if not sql and name.startswith(SQL_LOGGERS):
            continue
        caplog.set_level(logging.DEBUG, logger=name or None)
        logger = logging.getLogger(name or None)
        if not name or not logger.propagate:
            logger.addHandler(caplog.handler)
            attached.append(logger)
    try:
        yield
    finally:
        for logger in attached:
            logger.removeHandler(caplog.handler)


class Recorder:
    """Every response the scenario received, except those of the contacts route."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.seen: list[tuple[str, str, int, str]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code < 500, (method, path, response.text)
        if not _is_contacts_route(path):
            headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
            self.seen.append((method, path, response.status_code, f"{headers}\n{response.text}"))
        return response


def _get_routes(app: Litestar) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for route in app.routes:
        if route.path == FAVA_PATH:  # Fava shows the export, read above through the API
            continue
        assert isinstance(route, HTTPRoute)
        for handler in route.route_handlers:
            if "GET" in handler.http_methods and not route.path.startswith(
                ("/schema", "/api/contacts")
            ):
                found.append((route.path, tuple(route.path_parameters)))
    return found


def _fill(path: str, values: dict[str, Any]) -> str:
    """`/api/books/{book:str}` with `values` filled in (1 for anything not given)."""

    def value(match: re.Match[str]) -> str:
        return str(values.get(match.group(1), 1))

    return re.sub(r"\{(\w+):\w+\}", value, path)


def _run_scenario(
    db: Database, client: TestClient[Any], out: Recorder
) -> dict[str, dict[str, str]]:
    """Seed the households, post about them, and read everything back. Returns who is who."""
    admin = bearer(db, "admin", "admin")
    officer = bearer(db, "sokha.officer", "officer", ("province:Svay Rieng",))
    auditor = bearer(db, "chan.auditor", "auditor")
    finance = bearer(db, "sopheap.finance", "finance")
    people = {"admin": admin, "officer": officer, "auditor": auditor, "finance": finance}

    for book, province in (("org", None), ("sg-sr-001", "Svay Rieng")):
        created = out.request(
            "POST",
            "/api/books",
            json={
                "code": book,
                "name": f"Book {book}",
                "kind": "organisation" if book == "org" else "savings_group",
                "operating_currency": "USD" if book == "org" else "KHR",
                "province": province,
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
    for book, name, currencies in (
        ("org", "Assets:Cash:Bavet-KHR", ["KHR"]),
        ("org", "Equity:Opening-Balances", []),
        ("org", "Expenses:Grants:Cash:CTIP-2018", []),
        ("sg-sr-001", "Assets:Cash:Box-KHR", ["KHR"]),
        ("sg-sr-001", "Liabilities:Members:Savings", ["KHR"]),
    ):
        opened = out.request(
            "POST",
            f"/api/books/{book}/accounts",
            json={"name": name, "open_date": "2018-01-01", "currencies": currencies},
            headers=finance,
        )
        assert opened.status_code == 201, opened.text

    _register(db, *((case, province) for case, province, *_ in HOUSEHOLDS))
    # The one place: written by an admin and by the officer of the province.
    for case, province, name, phone, address in HOUSEHOLDS:
        writer = officer if province == "Svay Rieng" else admin
        put = out.request(
            "PUT",
            f"/api/contacts/{case}",
            json={"province": province, "name": name, "phone": phone, "address": address},
            # A retry key must not make the idempotency store keep a copy.
            headers={**writer, "Idempotency-Key": f"contact-{case}"},
        )
        assert put.status_code == 200, put.text
        assert put.json()["name"] == name

    funded = out.request(
        "POST",
        "/api/books/org/transactions",
        json={
            "date": "2018-07-02",
            "narration": "Cash advance for grants",
            "postings": [
                {"account": "Assets:Cash:Bavet-KHR", "amount": "4100000", "currency": "KHR"},
                {"account": "Equity:Opening-Balances", "amount": "-4100000", "currency": "KHR"},
            ],
        },
        headers=finance,
    )
    assert funded.status_code == 201, funded.text
    for case, *_ in HOUSEHOLDS:
        grant = out.request(
            "POST",
            "/api/books/org/transactions",
            json={
                "date": "2018-11-05",
                "narration": f"Small-business grant, household {case}",
                "tags": ["ctip"],
                "meta": {"case": case},
                "postings": [
                    {
                        "account": "Expenses:Grants:Cash:CTIP-2018",
                        "amount": "400000",
                        "currency": "KHR",
                    },
                    {"account": "Assets:Cash:Bavet-KHR", "amount": "-400000", "currency": "KHR"},
                ],
            },
            headers={**finance, "Idempotency-Key": f"grant-{case}"},
        )
        assert grant.status_code == 201, grant.text
        saved = out.request(
            "POST",
            "/api/books/sg-sr-001/transactions",
            json={
                "date": "2018-11-06",
                "narration": "Savings deposit",
                "meta": {"case": case, "member": case},
                "postings": [
                    {"account": "Assets:Cash:Box-KHR", "amount": "10000", "currency": "KHR"},
                    {
                        "account": "Liabilities:Members:Savings",
                        "amount": "-10000",
                        "currency": "KHR",
                    },
                ],
            },
            headers=finance,
        )
        assert saved.status_code == 201, saved.text
    reversed_ = out.request(
        "POST",
        f"/api/books/org/transactions/{grant.json()['id']}/reverse",
        json={"narration": "Entered twice"},
        headers=finance,
    )
    assert reversed_.status_code == 201
    token = out.request("POST", "/api/auth/tokens", json={"name": "Bavet phone"}, headers=officer)
    assert token.status_code == 201
    return people


def _read_everything(
    client: TestClient[Any], out: Recorder, people: dict[str, dict[str, str]]
) -> None:
    """Every GET route of the app, for every book and transaction, as admin and auditor."""
    app = client.app
    books = [
        b["code"] for b in out.request("GET", "/api/books", headers=people["admin"]).json()["items"]
    ]
    assert sorted(books) == ["hh-dv-009", "hh-dv-010", "hh-tk-021", "org", "sg-sr-001"]
    transactions = {
        book: [
            t["id"]
            for t in out.request(
                "GET",
                f"/api/books/{book}/transactions",
                params={"limit": 1000},
                headers=people["admin"],
            ).json()["items"]
        ]
        for book in books
    }
    for path, params in _get_routes(app):
        for who in ("admin", "auditor", "officer"):
            fills: list[dict[str, Any]] = [{}]
            if "book" in params:
                fills = [{"book": b} for b in books]
            if "transaction_id" in params:
                # A page (`/journal/{transaction_id}`) shows the organisation's book.
                fills = [
                    {**f, "transaction_id": t}
                    for f in fills
                    for t in transactions[f.get("book", "org")]
                ]
            for fill in fills:
                out.request("GET", _fill(path, fill), headers=people[who])
    assert any(p.endswith("export.beancount") and s == 200 for _m, p, s, _t in out.seen)


def test_personal_data_appears_only_in_the_contacts_route(
    db: Database, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with make_client(db) as client, _every_log_record(caplog, sql=False):
        out = Recorder(client)
        people = _run_scenario(db, client, out)
        _read_everything(client, out, people)

        # The contacts route itself does show them, to those allowed.
        shown = client.get("/api/contacts/DV-010", headers=people["officer"])
        assert shown.json()["name"] == "ស៊ុន ស្រីពៅ"

    # API responses (headers and bodies), other than the contacts route.
    assert len(out.seen) > 40
    leaking = [(m, p, s, _leaks(t)) for m, p, s, t in out.seen if _leaks(t)]
    assert not leaking, leaking

    # The Beancount export of every book, as the command line writes it.
    with db.read() as conn:
        for book in ("org", "sg-sr-001"):
            text = "".join(export_book(conn, book))
            assert "DV-009" in text or book != "org"
            assert not _leaks(text), (book, _leaks(text))

    # Every table but `contacts`: the journal, its metadata, the audit trail, the
    # idempotency store, users and tokens.
    with db.read() as conn:
        assert len(conn.execute(select(contacts)).all()) == len(HOUSEHOLDS)
        for table in metadata.sorted_tables:
            if table is contacts:
                continue
            for row in conn.execute(select(table)):
                assert not _leaks(str(tuple(row))), (table.name, row)

    # Every log record (messages, arguments and tracebacks) and the console.
    assert caplog.records, "the capture saw no log records at all"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert not _leaks(text), (record.name, text[:300])
    assert not _leaks(caplog.text)
    captured = capfd.readouterr()
    assert not _leaks(captured.out + captured.err)


def test_no_personal_data_in_the_sql_log_either(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with make_client(db) as client, _every_log_record(caplog, sql=True):
        admin = bearer(db, "admin", "admin")
        case, province, name, phone, address = HOUSEHOLDS[0]
        _register(db, (case, province))
        put = client.put(
            f"/api/contacts/{case}",
            json={"province": province, "name": name, "phone": phone, "address": address},
            headers=admin,
        )
        assert put.status_code == 200
    leaking = [r.getMessage()[:200] for r in caplog.records if _leaks(r.getMessage())]
    assert not leaking, leaking


def test_concurrent_first_writes_of_a_household_neither_fail_nor_log_it(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Two devices saving the same new household at once (a retry on a bad connection)."""
    admin = bearer(db, "admin", "admin")
    _case, province, name, phone, address = HOUSEHOLDS[0]
    body = {"province": province, "name": name, "phone": phone, "address": address}
    _register(db, *((f"DV-{100 + number}", province) for number in range(10)))
    statuses: list[int] = []
    lock = threading.Lock()
    with make_client(db) as client, _every_log_record(caplog, sql=False):
        for number in range(10):
            start = threading.Barrier(3)

            def put(
                path: str = f"/api/contacts/DV-{100 + number}", start: threading.Barrier = start
            ) -> None:
                start.wait()
                response = client.put(path, json=body, headers=admin)
                with lock:
                    statuses.append(response.status_code)

            threads = [threading.Thread(target=put) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert not _leaks(caplog.text), caplog.text[-2000:]
    assert statuses == [200] * 30


def test_refused_requests_do_not_echo_personal_data(
    db: Database, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    admin = bearer(db, "admin", "admin")
    officer = bearer(db, "sokha.officer", "officer", ("province:Svay Rieng",))
    finance = bearer(db, "sopheap.finance", "finance")
    case, province, name, phone, address = HOUSEHOLDS[0]
    khmer = HOUSEHOLDS[1][2]
    good = {"province": province, "name": name, "phone": phone, "address": address}
    _register(db, (case, province))
    with make_client(db) as client, _every_log_record(caplog, sql=False):
        org = client.post(
            "/api/books",
            json={
                "code": "org",
                "name": "Org",
                "kind": "organisation",
                "operating_currency": "USD",
            },
            headers=admin,
        )
        assert org.status_code == 201
        refusals: list[tuple[str, str, dict[str, str], Any, int, str]] = [
            ("PUT", f"/api/contacts/{case}", admin, {**good, "phone": name}, 422, "phone_invalid"),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "phone": f"{phone} ({name})"},
                422,
                "phone_invalid",
            ),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "name": f"{name} " * 30},
                422,
                "request_invalid",
            ),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "name": f"{name}\x00"},
                422,
                "text_control_character",
            ),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "name": [name]},
                422,
                "request_invalid",
            ),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "nickname": name},
                422,
                "request_invalid",
            ),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "province": ""},
                422,
                "province_invalid",
            ),
            (
                "PUT",
                f"/api/contacts/{case}",
                admin,
                {**good, "address": address * 200},
                422,
                "request_invalid",
            ),
            ("PUT", "/api/contacts/dv-9", admin, good, 422, "case_code_invalid"),
            (
                "PUT",
                f"/api/contacts/{case}",
                officer,
                {**good, "province": "Kampot", "name": khmer},
                422,
                "contact_province_mismatch",
            ),
            (
                "PUT",
                "/api/contacts/ZZ-999",
                officer,
                {**good, "name": khmer},
                404,
                "household_not_found",
            ),
            ("PUT", f"/api/contacts/{case}", finance, good, 403, "forbidden"),
            ("PUT", f"/api/contacts/{case}", {}, good, 401, "unauthorized"),
            (
                "POST",
                "/api/books/org/transactions",
                finance,
                {**exchange(), "payee": name, "narration": f"Grant to {khmer}"},
                422,
                "account_unknown",
            ),
            (
                "POST",
                "/api/auth/login",
                {},
                {"username": name, "password": phone},
                401,
                "invalid_credentials",
            ),
        ]
        for method, path, headers, body, status, code in refusals:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == status, (path, body, response.text)
            assert response.json()["code"] == code, response.text
            assert not _leaks(response.text), (code, response.text)
        malformed = client.put(
            f"/api/contacts/{case}",
            content=f'{{"province": "{province}", "name": "{name}",'.encode(),
            headers={**admin, "content-type": "application/json"},
        )
        assert malformed.status_code in (400, 422)
        assert not _leaks(malformed.text), malformed.text

    with db.read() as conn:
        assert conn.execute(select(contacts)).all() == []  # nothing was stored either
    for record in caplog.records:
        assert not _leaks(record.getMessage() + (record.exc_text or "")), record.getMessage()
    captured = capfd.readouterr()
    assert not _leaks(captured.out + captured.err)


# Sex and birth year are not names, but they describe one person: only the routes that record
# them (a household's and a savings group's members) show them; reports and exports count them.
BIRTH_YEARS = re.compile(r"(?<![0-9A-Za-z])(1931|1947)(?![0-9A-Za-z])")


def _people_scenario(db: Database, client: TestClient[Any], out: Recorder) -> dict[str, str]:
    admin = bearer(db, "admin", "admin")
    _register(db, ("DV-009", "Svay Rieng"), ("DV-010", "Svay Rieng"))
    for number, (case, body) in enumerate(
        (
            ("DV-009", {"role": "head", "sex": "female", "birth_year": 1931}),
            ("DV-010", {"role": "head", "sex": "male", "birth_year": 1947}),
            ("DV-010", {"role": "child", "sex": "female", "age_band": "under-18"}),
        )
    ):
        added = out.request(
            "POST",
            f"/api/households/{case}/members",
            json=body,
            headers={**admin, "Idempotency-Key": f"member-{number}"},
        )
        assert added.status_code == 201, added.text
    fixed = out.request(
        "PUT",
        "/api/households/DV-010/members/1",
        json={"role": "head", "sex": "male", "birth_year": 1947},
        headers=admin,
    )
    assert fixed.status_code == 200, fixed.text
    finance = bearer(db, "sopheap.finance", "finance")
    assert out.request("POST", "/api/groups", json=group_body(), headers=finance).status_code == 201
    member = out.request(
        "POST",
        f"/api/groups/{GROUP}/members",
        json={"number": "M01", "joined_on": "2026-01-05", "sex": "female", "birth_year": 1931},
        headers=finance,
    )
    assert member.status_code == 201, member.text
    return admin


def test_sex_and_birth_years_leave_only_as_counts(
    db: Database, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with make_client(db) as client, _every_log_record(caplog, sql=False):
        out = Recorder(client)
        admin = _people_scenario(db, client, out)
        books = [b["code"] for b in out.request("GET", "/api/books", headers=admin).json()["items"]]
        for path, params in _get_routes(client.app):
            if "transaction_id" in params:
                continue
            for book in books if "book" in params else [None]:
                values = {"book": book, "case": "DV-010", "number": 1, "training_id": 1}
                out.request("GET", _fill(path, values), headers=admin)
        counted = out.request("GET", "/api/indicators", headers=admin).json()
        assert counted["reached"]["people"]["people"] == 3
        assert counted["reached"]["people"]["girls"] == 1
        assert counted["savings"]["people"]["women"] == 1
    assert len(out.seen) > 40
    shown = [(p, s) for _m, p, s, t in out.seen if BIRTH_YEARS.search(t)]
    assert shown, "the members routes show what they recorded"
    assert all(p.endswith(("/members", "/members/1")) for p, _s in shown), shown
    with db.read() as conn:
        for book in books:
            text = "".join(export_book(conn, book))
            assert not BIRTH_YEARS.search(text), book
            assert "birth_year" not in text
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert not BIRTH_YEARS.search(text), (record.name, text[:300])
    captured = capfd.readouterr()
    assert not BIRTH_YEARS.search(captured.out + captured.err)
