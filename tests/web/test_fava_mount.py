"""Fava inside the app (`/fava/{book}/`): only for a signed-in reader of the book, read-only,
and written out again only when the book changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.fava import FAVA_DIR_ENV, fava_path_allowed
from api.ratelimit import SlidingWindowLimiter
from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import bearer, make_client
from tests.api.grants_world import ok, programme
from tests.web.conftest import sign_in

AUDITOR = "chan.auditor"


@pytest.fixture(autouse=True)
def fava_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FAVA_DIR_ENV, str(tmp_path / "fava"))


@pytest.fixture
def client(db: Database) -> Iterator[TestClient[Any]]:
    """Finance, through the API: keeps the organisation's book."""
    with make_client(db) as api:
        api.headers.update(bearer(db, "sopheap.finance", "finance"))
        yield api


TREASURER = "dara.treasurer"


@pytest.fixture
def auditor(db: Database, client: TestClient[Any]) -> Iterator[TestClient[Any]]:
    """The grants programme in the organisation's book, and an auditor signed in."""
    programme(client, db)
    db.write(lambda conn: users.create_user(conn, AUDITOR, "correct horse battery", "auditor", ()))
    with make_client(db) as pages:
        pages.app.state.login_limiter = SlidingWindowLimiter(1000)
        assert sign_in(pages, AUDITOR, "correct horse battery").status_code == 303
        yield pages


def test_the_auditor_reads_the_income_statement_in_fava(auditor: TestClient[Any]) -> None:
    index = auditor.get("/fava/org/", follow_redirects=False)
    assert index.status_code in (302, 303, 307), index.text
    target = index.headers["location"]
    assert target.startswith("/fava/org/")
    assert target.endswith("/income_statement/")
    page = auditor.get(target)
    assert page.status_code == 200
    assert "/fava/org/static/" in page.text  # Fava's own page, under our path
    slug = target.split("/")[3]
    tree = auditor.get(f"/fava/org/{slug}/api/income_statement")
    assert tree.status_code == 200, tree.text
    assert "Expenses" in tree.text


def test_not_signed_in_goes_to_the_sign_in_form(db: Database, client: TestClient[Any]) -> None:
    with make_client(db) as anonymous:
        answer = anonymous.get("/fava/org/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?next=/fava/org/"


def test_a_book_outside_the_scope_is_404(
    db: Database, client: TestClient[Any], auditor: TestClient[Any]
) -> None:
    assert auditor.get("/fava/no-such-book/").status_code == 404
    db.write(
        lambda conn: users.create_user(
            conn, TREASURER, "correct horse battery", "treasurer", ("book:sg-kt-001",)
        )
    )
    with make_client(db) as pages:
        pages.app.state.login_limiter = SlidingWindowLimiter(1000)
        assert sign_in(pages, TREASURER, "correct horse battery").status_code == 303
        assert pages.get("/fava/org/").status_code == 404
        assert pages.get("/fava/org/static/app.js").status_code == 404


def test_the_editor_upload_and_writes_are_not_reachable(
    db: Database, auditor: TestClient[Any]
) -> None:
    target = auditor.get("/fava/org/", follow_redirects=False).headers["location"]
    slug = target.split("/")[3]
    path = auditor.app.state.fava.file_of("org")
    before = path.read_bytes()
    base = f"/fava/org/{slug}"
    for blocked in ("editor/", "import/", "document/?filename=x", "api/source",
                    "api/source_slice?entry_hash=x", "api/imports", "api/documents"):  # fmt: skip
        assert auditor.get(f"{base}/{blocked}").status_code == 404, blocked
    for method in ("PUT", "POST", "DELETE"):
        for name in ("source", "add_document", "upload_import_file", "add_entries"):
            answer = auditor.request(method, f"{base}/api/{name}", content=b"{}")
            assert answer.status_code in (403, 404, 405), (method, name, answer.status_code)
    assert path.read_bytes() == before


def test_the_export_is_written_again_only_when_the_book_changes(
    client: TestClient[Any], auditor: TestClient[Any]
) -> None:
    mount = auditor.app.state.fava
    target = auditor.get("/fava/org/", follow_redirects=False).headers["location"]
    slug = target.split("/")[3]
    for _ in range(3):
        assert auditor.get(f"/fava/org/{slug}/api/income_statement").status_code == 200
    assert mount.exports == 1
    ok(
        client.post(
            "/api/books/org/accounts",
            json={"name": "Expenses:Bank-Charges", "open_date": "2018-01-01"},
        )
    )
    accounts = auditor.get(f"/fava/org/{slug}/api/income_statement")
    assert accounts.status_code == 200
    assert mount.exports == 2
    assert "Expenses:Bank-Charges" in mount.file_of("org").read_text()


def test_the_allowed_paths() -> None:
    assert fava_path_allowed("/")
    assert fava_path_allowed("")
    assert fava_path_allowed("/static/app.js")
    assert fava_path_allowed("/org/income_statement/")
    assert fava_path_allowed("/org/api/income_statement")
    assert not fava_path_allowed("/org/editor/")
    assert not fava_path_allowed("/org/api/source")
    assert not fava_path_allowed("/org/api/add_entries")
    assert not fava_path_allowed("/org/import/")
    assert not fava_path_allowed("/jump")
