"""The web pages through Litestar's test client: a group of 20 members, its treasurer signed
in through the sign-in form (with its CSRF token), and a second group they may not see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.ratelimit import SlidingWindowLimiter
from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD, bearer, make_client
from tests.api.savings_support import create_group

GROUP_A = "sg-kt-001"
GROUP_B = "sg-sr-002"
MEMBERS = 20
TREASURER = "chantha.treasurer"
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    """Sign in through the landing page's form, as a browser does."""
    landing = client.get("/")
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "_csrf_token": csrf_of(landing.text)},
        follow_redirects=False,
    )


@pytest.fixture
def groups(db: Database) -> tuple[str, str]:
    """Two groups of 20 members made through the API by finance, and group A's treasurer."""
    with make_client(db) as api:
        api.headers.update(bearer(db, "sopheap.finance", "finance"))
        create_group(api, members=MEMBERS, code=GROUP_A)
        create_group(api, members=3, code=GROUP_B)
    db.write(
        lambda conn: users.create_user(conn, TREASURER, PASSWORD, "treasurer", (f"book:{GROUP_A}",))
    )
    return GROUP_A, GROUP_B


@pytest.fixture
def browser(db: Database, groups: tuple[str, str]) -> Iterator[TestClient[Any]]:
    """A test client signed in as group A's treasurer through the pages."""
    with make_client(db) as client:
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        signed_in = sign_in(client, TREASURER)
        assert signed_in.status_code == 303, signed_in.text
        yield client
