"""`serve --workers 4` on a fresh PostgreSQL database: every worker migrates and creates the
first admin at start, at the same moment. Before issue 13 the loser of the first-admin race
got `user_exists` in its start-up hook and uvicorn stopped the whole server. Now the start-up
work runs under an advisory lock: every start succeeds, with exactly one admin.

Runs in the PostgreSQL suite run (`TEST_DATABASE=postgresql`, as CI does), on databases of
its own.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ledger.store.database import Database
from ledger.store.tables import users
from tests.api.conftest import PASSWORD
from tests.api.served_process import free_port, fresh_postgres, start_server, stop
from tests.conftest import TEST_DATABASE

STARTS = 5
WORKERS = 4


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="the PostgreSQL suite run starts it")
def test_four_workers_start_at_once_on_a_fresh_postgresql_database(tmp_path: Path) -> None:
    for start in range(STARTS):
        with fresh_postgres(f"ledger_workers_{start}") as url:
            port = free_port()
            server = start_server(url, tmp_path, port, WORKERS)
            try:
                signed_in = httpx.post(
                    f"http://127.0.0.1:{port}/api/auth/login",
                    json={"username": "admin", "password": PASSWORD},
                    timeout=30,
                )
                assert signed_in.status_code == 200, signed_in.text
            finally:
                stop(server)
            db = Database.connect(url)
            try:
                with db.read() as conn:
                    admins = conn.execute(select(func.count()).select_from(users)).scalar_one()
            finally:
                db.dispose()
            assert admins == 1, f"start {start + 1}: {admins} users"
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert "Child process failed to start" not in log
    assert "Traceback" not in log
