"""Backups while the ledger runs, and restores into a fresh database.

- SQLite: the backup API copies the database page by page under one read transaction, so
  the copy is the database at one moment (writers in WAL mode carry on meanwhile). A restore
  copies a backup file into the target the same way.
- PostgreSQL: `pg_dump --format=custom` (one snapshot, consistent) and `pg_restore` in one
  transaction. `pg_dump` refuses a server newer than itself, so its major version is checked
  against the server's first and a mismatch is reported plainly.

A restore goes into an empty database only (no tables, or a SQLite file that does not exist):
it never merges into, or overwrites, books that are in use.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from ledger.core.errors import LedgerRejected, conflict, invalid
from ledger.store.database import Database

PG_TOOL_SECONDS_MAX = 3_600
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)")


@dataclass(frozen=True, slots=True)
class BackupDone:
    path: Path
    engine: str  # "sqlite" or "postgresql"
    size_bytes: int


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise LedgerRejected([invalid("sqlite_path_missing", "A SQLite database is a file.")])
    return Path(database)


def _libpq_url(db: Database) -> str:
    """The database's URL as pg_dump reads it (no SQLAlchemy driver suffix)."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # An argument list, never a shell: the URL and path are passed as they are.
    return subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=PG_TOOL_SECONDS_MAX, check=False
    )


def _tool_error(
    code: str, tool: str, completed: subprocess.CompletedProcess[str]
) -> LedgerRejected:
    first_line = (completed.stderr.strip().splitlines() or ["(no message)"])[0][:300]
    return LedgerRejected([invalid(code, f"{tool}: {first_line}")])


def check_pg_dump_version(db: Database, tool: str = "pg_dump") -> int:
    """The server's major version, when `tool` is at least as new; else rejected."""
    completed = _run([tool, "--version"])
    match = _VERSION_RE.search(completed.stdout)
    if completed.returncode != 0 or match is None:
        raise LedgerRejected([invalid("pg_dump_missing", f"{tool} is not installed.")])
    with db.engine.connect() as conn:
        server_major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000
    tool_major = int(match.group(1))
    if tool_major < server_major:
        raise LedgerRejected(
            [
                invalid(
                    "pg_dump_too_old",
                    f"{tool} {tool_major} cannot dump a PostgreSQL {server_major} server: "
                    f"install the client tools of version {server_major} or newer.",
                )
            ]
        )
    return server_major


def backup(db: Database, path: Path) -> BackupDone:
    """A consistent copy of the whole database at `path` (which must not exist yet)."""
    if path.exists():
        raise LedgerRejected([conflict("backup_exists", "The backup file exists already.")])
    if db.engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(db.engine.url.render_as_string(hide_password=False)))
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return BackupDone(path, "sqlite", path.stat().st_size)
    check_pg_dump_version(db)
    completed = _run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(path), _libpq_url(db)]
    )
    if completed.returncode != 0:
        path.unlink(missing_ok=True)
        raise _tool_error("backup_failed", "pg_dump", completed)
    return BackupDone(path, "postgresql", path.stat().st_size)


def _ensure_empty(db: Database) -> None:
    if inspect(db.engine).get_table_names():
        raise LedgerRejected(
            [
                conflict(
                    "restore_target_not_empty",
                    "Restore into an empty database: this one has tables.",
                )
            ]
        )


def restore(url: str, path: Path) -> None:
    """Restore the backup at `path` into the empty database at `url`."""
    if not path.is_file():
        raise LedgerRejected([invalid("backup_missing", "No backup file at this path.")])
    if make_url(url).get_backend_name() == "sqlite":
        target_path = _sqlite_path(url)
        if target_path.exists() and target_path.stat().st_size > 0:
            raise LedgerRejected(
                [conflict("restore_target_not_empty", "Restore into a new SQLite file.")]
            )
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    db = Database.connect(url)
    try:
        _ensure_empty(db)
        check_pg_dump_version(db, "pg_restore")
        completed = _run(
            [
                "pg_restore",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                _libpq_url(db),
                str(path),
            ]
        )
    finally:
        db.dispose()
    if completed.returncode != 0:
        raise _tool_error("restore_failed", "pg_restore", completed)


def check_archive(path: Path) -> int:
    """How many entries a pg_dump archive lists (`pg_restore --list`); rejected if unreadable."""
    completed = _run(["pg_restore", "--list", str(path)])
    if completed.returncode != 0:
        raise _tool_error("backup_unreadable", "pg_restore", completed)
    return sum(1 for line in completed.stdout.splitlines() if line and not line.startswith(";"))
