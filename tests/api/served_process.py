"""`livelihood-ledger serve` in a process of its own, on loopback, as an operator starts it.

For what a server in a thread cannot show: several worker processes, and a server killed
with SIGKILL. Each test gets a fresh PostgreSQL database of its own (`fresh_postgres`), made
on the server at `TEST_POSTGRES_URL` whatever the suite's engine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.api.conftest import PASSWORD, TEST_SECRET_KEY
from tests.conftest import TEST_POSTGRES_URL

REPOSITORY = Path(__file__).resolve().parents[2]
START_SECONDS_MAX = 90.0
STARTED_LINE = "Application startup complete."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fresh_postgres(name: str) -> Iterator[str]:
    """An empty PostgreSQL database `name` (with this process's id); yields its URL."""
    name = f"{name}_{os.getpid()}"
    admin = create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield TEST_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cli(database_url: str, directory: Path, *args: str) -> subprocess.Popen[str]:
    """`livelihood-ledger *args` on `database_url`, run in `directory`; output in its log."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEDGER_SECRET_KEY": TEST_SECRET_KEY,
        "LEDGER_ADMIN_PASSWORD": PASSWORD,
        "PYTHONPATH": str(REPOSITORY),
    }
    log = (directory / "server.log").open("a", encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main())", *args],
        cwd=directory,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its workers are killed with it (`stop`)
    )


def start_server(
    database_url: str, directory: Path, port: int, workers: int
) -> subprocess.Popen[str]:
    """`serve --workers N`, returned once every worker has started (else AssertionError)."""
    log = directory / "server.log"
    started_before = _count_started(log)
    server = cli(database_url, directory, "serve", "--port", str(port), "--workers", str(workers))
    deadline = time.monotonic() + START_SECONDS_MAX
    while _count_started(log) - started_before < workers:
        if server.poll() is not None or time.monotonic() > deadline:
            stop(server, signal.SIGKILL)
            raise AssertionError(f"the server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    _wait_for_health(f"http://127.0.0.1:{port}", deadline)
    return server


def _count_started(log: Path) -> int:
    return log.read_text(encoding="utf-8").count(STARTED_LINE) if log.exists() else 0


def _wait_for_health(base: str, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server does not answer /health"
        time.sleep(0.1)


def stop(server: subprocess.Popen[str], how: signal.Signals = signal.SIGTERM) -> None:
    """Stop the server and its workers (its process group), and wait for it."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, how)
    try:
        server.wait(START_SECONDS_MAX)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(START_SECONDS_MAX)
