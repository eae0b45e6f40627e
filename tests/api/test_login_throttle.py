"""Wrong passwords slow the guesser down and never keep the real user out.

The probe: ten wrong passwords for `admin`, from anyone, locked `admin` for 15 minutes, the
right password included, forever. Now an address that keeps failing waits longer and longer,
and so does a username, but only at the addresses that keep failing for it: after 1,000 wrong
guesses from one address, the admin signs in from another address at once.

The server runs on loopback with a controlled clock (the throttle's time), so the delays of
a thousand guesses pass without sleeping; 127.0.0.2 and 127.0.0.3 are loopback too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.auth import AuthSettings
from api.login_throttle import GrowingDelay, LoginThrottle, ThrottleSettings, delay_seconds
from ledger.access import users
from ledger.store.database import Database
from ledger.store.tables import audit_events
from tests.api.conftest import PASSWORD, TEST_SECRET_KEY
from tests.api.live_server import serving

ATTACKER = "127.0.0.2"
ADMIN_DESK = "127.0.0.1"
OTHER = "127.0.0.3"
SETTINGS = ThrottleSettings()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(db: Database, clock: Clock) -> Iterator[tuple[Any, str]]:
    """The app on loopback, its throttle on `clock`; yields (app, base url)."""
    db.write(lambda conn: users.create_user(conn, "admin", PASSWORD, "admin"))
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(url, migrate=False, auth=AuthSettings(secret_key=TEST_SECRET_KEY, clock=clock))
    with serving(app) as (host, port):
        yield app, f"http://{host}:{port}"


def _login(base: str, address: str, password: str, username: str = "admin") -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base, transport=transport, timeout=30) as client:
        return client.post("/api/auth/login", json={"username": username, "password": password})


def _status(response: httpx.Response) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, body.get("code")


def test_the_delay_doubles_after_the_free_failures_up_to_its_maximum() -> None:
    delays = [delay_seconds(n, SETTINGS) for n in range(0, 12)]
    assert delays == [0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert delay_seconds(1_000_000, SETTINGS) == SETTINGS.delay_seconds_max


def test_failures_are_forgotten_after_a_quiet_hour() -> None:
    clock = Clock()
    delay = GrowingDelay(SETTINGS, clock)
    for _ in range(20):
        delay.record_failure("x")
    assert delay.wait_seconds("x") == SETTINGS.delay_seconds_max
    clock.now += SETTINGS.delay_seconds_max
    assert delay.wait_seconds("x") == 0  # may try again, and one more failure waits long again
    clock.now += SETTINGS.forget_seconds + 1
    delay.record_failure("x")
    assert delay.count("x") == 1


def test_a_thousand_wrong_guesses_from_one_address_do_not_keep_the_admin_out(
    db: Database, server: tuple[Any, str], clock: Clock
) -> None:
    app, base = server
    # Over HTTP: the free failures, then the address waits (the right password too).
    guesses = [_status(_login(base, ATTACKER, f"guess {n}")) for n in range(7)]
    assert guesses == [(401, "invalid_credentials")] * 6 + [(429, "login_throttled")]
    assert _status(_login(base, ATTACKER, PASSWORD)) == (429, "login_throttled")
    clock.now += 1.0  # the first delay
    assert _status(_login(base, ATTACKER, "guess 7")) == (401, "invalid_credentials")
    # ... and so on, each guess after its delay: 1,000 wrong guesses in about ten days.
    throttle: LoginThrottle = app.state.login_throttle
    for _ in range(1_000 - 7):
        clock.now += throttle.wait_seconds("admin", ATTACKER)
        assert throttle.wait_seconds("admin", ATTACKER) == 0
        throttle.record_failure("admin", ATTACKER)
    assert throttle.by_username.count("admin") == 1_000
    assert throttle.wait_seconds("admin", ATTACKER) == SETTINGS.delay_seconds_max

    # The admin, at another address, signs in at once (the clock has not moved): even after
    # a typo or two.
    assert _status(_login(base, ADMIN_DESK, "a typo")) == (401, "invalid_credentials")
    signed_in = _login(base, ADMIN_DESK, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["access_token"]
    # The guesser still waits, with the right password too.
    assert _status(_login(base, ATTACKER, PASSWORD)) == (429, "login_throttled")

    # A third address guessing `admin` gets two unthrottled tries more than the free ones of
    # a clean address, then the username's delay (the attacker's 1,000) applies to it.
    statuses = [_status(_login(base, OTHER, f"other {n}")) for n in range(4)]
    assert statuses == [(401, "invalid_credentials")] * 3 + [(429, "login_throttled")]

    with db.read() as conn:
        outcomes = [
            row.outcome
            for row in conn.execute(
                select(audit_events.c.outcome)
                .where(audit_events.c.action == "auth.login")
                .order_by(audit_events.c.id)
            )
        ]
    assert outcomes.count("login_throttled") == 4
    assert outcomes.count("ok") == 1


def test_guessing_many_usernames_from_one_address_is_slowed_too(
    db: Database, server: tuple[Any, str], clock: Clock
) -> None:
    _app, base = server
    statuses = [_status(_login(base, ATTACKER, "x" * 12, f"user.{n}")) for n in range(7)]
    assert statuses == [(401, "invalid_credentials")] * 6 + [(429, "login_throttled")]
    # Another address is not slowed by it.
    assert _login(base, ADMIN_DESK, PASSWORD).status_code == 200
    clock.now += 1.0
    assert _status(_login(base, ATTACKER, "x" * 12, "user.7")) == (401, "invalid_credentials")
