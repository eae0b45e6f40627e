"""`livelihood-ledger`: serve, migrate, demo, export, verify.

The database comes from `DATABASE_URL` (default: a SQLite file under ./var/).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ledger.access import users
from ledger.access.policy import ROLES
from ledger.core.errors import LedgerRejected
from ledger.demo import load_demo
from ledger.export.beancount import export_book, export_organisation
from ledger.store import backup, books
from ledger.store.books import utc_now
from ledger.store.database import Database, database_url_from_env
from ledger.store.idempotency import KEY_RETENTION_DAYS, purge_expired_keys
from ledger.store.migrate import upgrade
from ledger.verify import VerifyReport, verify_all, verify_book


def _database() -> Database:
    db = Database.connect()
    upgrade(db.engine)
    return db


def cmd_serve(args: argparse.Namespace) -> int:
    db = _database()  # migrate before binding the port, so a broken database fails loudly
    url = db.engine.url.render_as_string(hide_password=True)
    workers = args.workers or default_workers(db)
    _purge_expired_keys(db)
    db.dispose()
    print(
        f"livelihood-ledger: database {url}; {workers} worker(s);"
        f" http://{args.host}:{args.port}/schema",
        flush=True,
    )
    serve(args.host, args.port, workers, access_log=not args.no_access_log)
    return 0


def default_workers(db: Database) -> int:
    """One process on SQLite (one writer serves the file best: group commit needs the writes
    in one process); one per core on PostgreSQL, which takes concurrent writers."""
    return 1 if db.is_sqlite else os.cpu_count() or 1


def serve(host: str, port: int, workers: int, *, access_log: bool = True) -> None:
    """uvicorn with read deadlines and a connection bound (api/serving.py), in one process or
    in `workers` processes sharing the port. Each worker builds its app from
    `api.app:create_app` and runs the start-up work under the database's start-up lock."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.app import create_app
    from api.serving import server_config

    if workers == 1:
        config = server_config(create_app(), host, port, log_level="info", access_log=access_log)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down cleanly
            uvicorn.Server(config).run()
        return
    config = server_config(
        "api.app:create_app",
        host,
        port,
        factory=True,
        workers=workers,
        log_level="info",
        access_log=access_log,
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def cmd_purge_keys(_args: argparse.Namespace) -> int:
    db = _database()
    try:
        purged = _purge_expired_keys(db)
    finally:
        db.dispose()
    print(f"purged {purged} idempotency key(s) older than {KEY_RETENTION_DAYS} days")
    return 0


def _purge_expired_keys(db: Database) -> int:
    return db.write(lambda conn: purge_expired_keys(conn, utc_now()))


def cmd_migrate(_args: argparse.Namespace) -> int:
    db = _database()
    print(f"migrated {db.engine.url.render_as_string(hide_password=True)}")
    db.dispose()
    return 0


def cmd_demo(_args: argparse.Namespace) -> int:
    db = _database()
    try:
        loaded = load_demo(db)
    finally:
        db.dispose()
    print("\n".join(loaded))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if (args.book is None) == (not args.all):
        print("export: name a book, or --all for one file of every book", file=sys.stderr)
        return 2
    db = _database()
    try:
        with db.read() as conn:
            if args.all:
                found = sorted(
                    books.list_books(conn), key=lambda b: (b.kind != "organisation", b.code)
                )
                chunks = export_organisation(conn, "Every book", [b.code for b in found])
            else:
                books.get_book(conn, args.book)
                chunks = export_book(conn, args.book)
            if args.output:
                with Path(args.output).open("w", encoding="utf-8", newline="\n") as out:
                    for chunk in chunks:
                        out.write(chunk)
            else:
                for chunk in chunks:
                    sys.stdout.write(chunk)
    finally:
        db.dispose()
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    db = _database()
    try:
        reports = [verify_book(db, args.book)] if args.book else verify_all(db)
    finally:
        db.dispose()
    failed = _print_reports(reports)
    if not reports:
        print("no books to verify")
    return 1 if failed else 0


def _print_reports(reports: list[VerifyReport]) -> int:
    """Print what `verify` found; how many books differ."""
    failed = 0
    for report in reports:
        # The head hash, kept elsewhere, shows later whether the chain was rewritten.
        head = f" (head {report.head})" if report.head else ""
        if report.ok:
            print(f"{report.book}: ok{head}")
            continue
        failed += 1
        print(f"{report.book}: {len(report.differences)} difference(s){head}")
        for difference in report.differences:
            print(f"  {difference}")
    return failed


def _verify_database(url: str) -> int:
    db = Database.connect(url)
    try:
        upgrade(db.engine)  # a backup made by an older version is brought up to date
        reports = verify_all(db)
    finally:
        db.dispose()
    return _print_reports(reports)


def cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy while the ledger runs, then `verify` on what it holds: the copy
    itself for SQLite; for PostgreSQL, the archive's table of contents and the database it
    was taken from (an archive is verified in full by restoring it)."""
    path = Path(args.path)
    db = _database()
    try:
        done = backup.backup(db, path)
        print(f"backed up {done.engine} to {done.path} ({done.size_bytes} bytes)")
        if done.engine == "postgresql":
            print(f"{backup.check_archive(path)} archive entries readable")
            return 1 if _print_reports(verify_all(db)) else 0
    finally:
        db.dispose()
    return 1 if _verify_database(f"sqlite:///{path.resolve()}") else 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup into the empty database of DATABASE_URL, then `verify` it."""
    url = database_url_from_env()
    backup.restore(url, Path(args.path))
    print(f"restored {args.path}")
    return 1 if _verify_database(url) else 0


def _read_password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise SystemExit("error: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_users_create(args: argparse.Namespace) -> int:
    password = _read_password()
    db = _database()
    try:
        user = db.write(
            lambda conn: users.create_user(conn, args.username, password, args.role, args.scope)
        )
    finally:
        db.dispose()
    scopes = ", ".join(user.scopes) or "no scope"
    print(f"created user {user.username!r} ({user.role}; {scopes})")
    return 0


def positive_int(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livelihood-ledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=positive_int,
        help="server processes (default: 1 on SQLite, the number of cores on PostgreSQL)",
    )
    serve.add_argument(
        "--no-access-log",
        action="store_true",
        help="do not log a line per request (e.g. when a proxy in front logs them)",
    )
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    commands.add_parser(
        "purge-idempotency-keys",
        help=f"delete idempotency keys older than {KEY_RETENTION_DAYS} days (serve does at start)",
    ).set_defaults(run=cmd_purge_keys)
    commands.add_parser("demo", help="load the demo organisation book").set_defaults(run=cmd_demo)
    export = commands.add_parser("export", help="write a book as Beancount text")
    export.add_argument("book", nargs="?")
    export.add_argument(
        "--all", action="store_true", help="one file of every book, for Fava (with budgets)"
    )
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=cmd_export)
    verify = commands.add_parser(
        "verify",
        help="check the hash chains, recompute balances and check the Beancount export against"
        " them; print each chain's head hash",
    )
    verify.add_argument("book", nargs="?")
    verify.set_defaults(run=cmd_verify)
    backup_parser = commands.add_parser(
        "backup", help="copy the database consistently while it runs, then verify the copy"
    )
    backup_parser.add_argument("path", help="the backup file to write (must not exist)")
    backup_parser.set_defaults(run=cmd_backup)
    restore_parser = commands.add_parser(
        "restore", help="restore a backup into an empty DATABASE_URL, then verify it"
    )
    restore_parser.add_argument("path", help="a file written by `backup`")
    restore_parser.set_defaults(run=cmd_restore)
    users_parser = commands.add_parser("users", help="manage users")
    users_commands = users_parser.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser(
        "create",
        help="create a user; the password is read from a prompt or standard input",
    )
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        help="book:CODE or province:NAME (repeat for several)",
    )
    create.set_defaults(run=cmd_users_create)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except LedgerRejected as rejected:
        for error in rejected.errors:
            print(f"error: {error.code}: {error.message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
