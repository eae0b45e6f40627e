"""Posting over HTTP, one transaction per request, against raw `sqlite3` committing the same rows
one transaction at a time with the same durability, in one run.

- server: `uvicorn --factory api.app:create_app`, one worker process, on a fresh SQLite file
  (WAL, synchronous=FULL: every 201 is a durable commit). The book has a bank account and
  `--accounts` grant lines; each request posts a two-posting transaction
  (`POST /api/books/bench/transactions`), the grant line and amount varying per request.
- load: `wrk` (C, one thread, keep-alive) with a Lua script, at 1 and at several concurrent
  connections; optionally with a unique `Idempotency-Key` per request, as field clients send.
- baseline: one thread with a plain `sqlite3` connection and the same pragmas committing
  BEGIN IMMEDIATE; INSERT transaction; INSERT 2 postings; 2 balance upserts; COMMIT, over and
  over, on its own fresh file in the same directory.

Each configuration runs `--duration` seconds, `--runs` times, interleaved with the baseline;
medians are reported, with the CPU the server and wrk used per request.

    .venv/bin/python -m bench.bench_http                      # 4 s per run, 3 runs
    .venv/bin/python -m bench.bench_http --duration 15        # longer runs
    .venv/bin/python -m bench.bench_http --cpu 0             # and a server kept on CPU 0

Target (from the issue): HTTP at least 40% of the raw sqlite3 durable commit rate.
Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from bench.common import (
    BANK,
    BOOK_CODE,
    RAW_INSERT_POSTING,
    RAW_INSERT_TRANSACTION,
    RAW_UPSERT_BALANCE,
    account_names,
    filesystem_of,
    make_transactions,
    median,
    migrated_sqlite,
    next_transaction_id,
    open_book,
    postgres_database,
    postgres_version,
    print_conditions,
    print_table,
    raw_ids,
    raw_rows,
    raw_sqlite,
    scratch_dir,
)
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import journal, journal_reads
from ledger.store.database import Database

TARGET_RATIO = 0.40  # SQLite: of raw sqlite3, at 16 connections
TARGET_RATIO_POSTGRESQL = 0.50  # PostgreSQL: of raw psycopg with 16 clients
PATH = f"/api/books/{BOOK_CODE}/transactions"

LUA = """
counter = 0
prefix = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
lines = %(lines)d
with_key = %(with_key)s
authorization = "%(authorization)s"
request = function()
  counter = counter + 1
  local cents = 100 + counter %% 5000
  local amount = string.format("%%d.%%02d", math.floor(cents / 100), cents %% 100)
  local line = string.format("Expenses:Grants:Cash:G-%%04d", counter %% lines)
  local body = '{"date":"2018-11-04","narration":"Cash grant ' .. counter .. '",'
    .. '"postings":[{"account":"%(bank)s","amount":"-' .. amount .. '","currency":"USD"},'
    .. '{"account":"' .. line .. '","amount":"' .. amount .. '","currency":"USD"}]}'
  local headers = {["Content-Type"] = "application/json"}
  if authorization ~= "" then headers["Authorization"] = authorization end
  if with_key then headers["Idempotency-Key"] = prefix .. "-" .. counter end
  return wrk.format("POST", "%(path)s", headers, body)
end
"""


@dataclass
class HttpResult:
    rate: float
    requests: int
    errors: int
    server_cpu_us: float  # server CPU microseconds per request
    wrk_cpu_us: float
    latency_ms: float  # wrk's average latency


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process, its threads and its live child processes (the
    workers of `serve --workers N`)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in _child_pids(pid))


def _child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return children


def request_json(
    port: int, method: str, path: str, body: object | None = None, token: str | None = None
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"null")


class Server:
    """uvicorn with the API factory on `database`, one worker, no access log."""

    def __init__(self, url: str, workers: int, log: Path, cpu: int | None = None) -> None:
        self.port = free_port()
        self.workers = workers
        self.cpu = cpu
        # A throw-away signing key and first admin password, for this server only.
        self.admin_password = secrets.token_urlsafe(24)
        env = dict(
            os.environ,
            DATABASE_URL=url,
            LEDGER_SECRET_KEY=secrets.token_urlsafe(48),
            LEDGER_ADMIN_PASSWORD=self.admin_password,
        )
        self.log = log.open("w")
        # `livelihood-ledger serve`, as a user starts it: migrations and the first admin under
        # the start-up lock, then `workers` processes sharing the port.
        self.process = subprocess.Popen(
            [
                *(["taskset", "--cpu-list", str(cpu)] if cpu is not None else []),
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                request_json(self.port, "GET", "/health")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {log}") from None
                time.sleep(0.2)

    @property
    def label(self) -> str:
        """`2 workers`, `1 worker on CPU 0`: how the report names this server."""
        w = self.workers
        return f"{w} worker{'s' if w > 1 else ''}" + (
            f" on CPU {self.cpu}" if self.cpu is not None else ""
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def sign_in(port: int, admin_password: str) -> tuple[str | None, str | None]:
    """Tokens for setting up and for posting, or (None, None) when the API has no sign-in.

    The first admin creates the book and a `finance` user (admins may not post); the finance
    user signs in and creates an API token, as a finance officer's client would hold, and
    that token opens the accounts and posts.
    """
    try:
        admin = request_json(
            port, "POST", "/api/auth/login", {"username": "admin", "password": admin_password}
        )["access_token"]
    except urllib.error.HTTPError as error:
        if error.code in (404, 405):
            return None, None
        raise
    password = secrets.token_urlsafe(24)
    request_json(
        port,
        "POST",
        "/api/users",
        {"username": "bench.finance", "password": password, "role": "finance", "scopes": []},
        token=admin,
    )
    finance = request_json(
        port, "POST", "/api/auth/login", {"username": "bench.finance", "password": password}
    )["access_token"]
    created = request_json(
        port, "POST", "/api/auth/tokens", {"name": "benchmark", "days": 1}, token=finance
    )
    return admin, str(created["token"])


def set_up_book(port: int, accounts_n: int, admin: str | None, poster: str | None) -> None:
    request_json(
        port,
        "POST",
        "/api/books",
        {
            "code": BOOK_CODE,
            "name": "Benchmark programme",
            "kind": "organisation",
            "operating_currency": "USD",
        },
        token=admin,
    )
    for name in account_names(accounts_n):
        request_json(
            port,
            "POST",
            f"/api/books/{BOOK_CODE}/accounts",
            {"name": name, "open_date": "2018-01-01", "currencies": ["USD"]},
            token=poster,
        )


def run_wrk(
    port: int,
    script: Path | None,
    connections: int,
    seconds: float,
    server_pid: int,
    path: str = PATH,
    token: str | None = None,
) -> HttpResult:
    """wrk against the server: POSTs from `script`, or plain GETs of `path` without one."""
    before = cpu_seconds(server_pid)
    children_before = _children_cpu()
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            *(["-s", str(script)] if script else []),
            *(["-H", f"Authorization: Bearer {token}"] if token else []),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    server_cpu = cpu_seconds(server_pid) - before
    wrk_cpu = _children_cpu() - children_before
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency_ms = float(latency.group(1)) * scale[latency.group(2)] if latency else float("nan")
    # Only successful responses count: a refused request posted nothing.
    succeeded = max(requests - errors, 0)
    return HttpResult(
        rate=rate * succeeded / max(requests, 1),
        requests=requests,
        errors=errors,
        server_cpu_us=server_cpu / max(requests, 1) * 1e6,
        wrk_cpu_us=wrk_cpu / max(requests, 1) * 1e6,
        latency_ms=latency_ms,
    )


def _children_cpu() -> float:
    """CPU seconds used so far by child processes that have been waited for (wrk)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def raw_commits(path: Path, seconds: float, accounts_n: int) -> float:
    """Durable commits per second of raw sqlite3 writing the same rows one transaction each."""
    conn = raw_sqlite(path)
    book_id, account_ids = raw_ids(conn)
    txns = make_transactions(0, 50_000, account_names(accounts_n))
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        txn = txns[count % len(txns)]
        conn.execute("BEGIN IMMEDIATE")
        first_id = next_transaction_id(conn)
        txn_rows, posting_rows, deltas = raw_rows([txn], first_id, book_id, account_ids)
        conn.execute(RAW_INSERT_TRANSACTION, txn_rows[0])
        conn.executemany(RAW_INSERT_POSTING, posting_rows)
        for (account_id, commodity), units in sorted(deltas.items()):
            conn.execute(RAW_UPSERT_BALANCE, (account_id, commodity, book_id, units))
        conn.execute("COMMIT")
        count += 1
    rate = count / (time.perf_counter() - started)
    conn.close()
    return rate


PG_INSERT_TRANSACTION = (
    "INSERT INTO transactions (book_id, date, payee, narration, reverses_id, created_at,"
    " created_by) VALUES (%s, %s, NULL, %s, NULL, now(), NULL) RETURNING id"
)
PG_INSERT_POSTING = RAW_INSERT_POSTING.replace("?", "%s")
PG_UPSERT_BALANCE = RAW_UPSERT_BALANCE.replace("?", "%s")


def raw_postgres_client(
    dsn: str, client: int, seconds: float, ready: Any, go: Any, results: Any
) -> None:
    """One client process of the raw psycopg baseline: once every client is connected and
    `go` is set, commits one transaction at a time (1 transaction row, 2 postings, 2 balance
    upserts) for `seconds`, and puts its count on `results`."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        book_id = conn.execute("SELECT id FROM books WHERE code = %s", (BOOK_CODE,)).fetchone()
        assert book_id is not None
        rows = conn.execute("SELECT name, id FROM accounts WHERE book_id = %s", book_id)
        account_ids: dict[str, int] = dict(rows.fetchall())
        conn.commit()
        txns = make_transactions(client * 10_000, 10_000, sorted(account_ids, key=_bank_first))
        ready.put(client)
        go.wait()
        deadline = time.monotonic() + seconds
        count = 0
        while time.monotonic() < deadline:
            txn = txns[count % len(txns)]
            with conn.cursor() as cur:
                cur.execute(PG_INSERT_TRANSACTION, (book_id[0], txn.date, txn.narration))
                txn_id = cur.fetchone()[0]  # type: ignore[index]
                posting_rows, deltas = _pg_rows(txn, txn_id, book_id[0], account_ids)
                cur.executemany(PG_INSERT_POSTING, posting_rows)
                for (account_id, commodity), units in sorted(deltas.items()):
                    cur.execute(PG_UPSERT_BALANCE, (account_id, commodity, book_id[0], units))
            conn.commit()
            count += 1
    results.put(count)


def _bank_first(name: str) -> tuple[bool, str]:
    return (name != BANK, name)


def _pg_rows(
    txn: Any, txn_id: int, book_id: int, account_ids: dict[str, int]
) -> tuple[list[tuple[Any, ...]], dict[tuple[int, str], int]]:
    _, posting_rows, deltas = raw_rows([txn], txn_id, book_id, account_ids)
    return posting_rows, deltas


def raw_postgres_commits(url: str, seconds: float, clients: int) -> float:
    """Commits per second of `clients` raw psycopg processes writing the same rows as a POST,
    one transaction each, into the migrated database at `url` (its bench book opened). The
    clock starts when every process is connected and ready."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=raw_postgres_client, args=(dsn, c, seconds, ready, go, results))
        for c in range(clients)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    go.set()
    total = sum(int(results.get(timeout=seconds + 120)) for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def journal_commits(db: Database, seconds: float, accounts_n: int) -> tuple[float, float]:
    """What the POST handler's work costs without HTTP: `journal.post_draft` and
    `journal_reads.load_transaction` (the response) in one `db.write` per transaction.

    Returns transactions per second and CPU microseconds per transaction.
    """
    names = account_names(accounts_n)
    count = 0
    cpu_before = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        cents = 100 + count % 5000
        amount = f"{cents // 100}.{cents % 100:02d}"
        draft = TransactionDraft(
            date=datetime.date(2018, 11, 4),
            narration=f"Cash grant {count}",
            postings=(
                PostingDraft(BANK, f"-{amount}", "USD"),
                PostingDraft(names[1 + count % accounts_n], amount, "USD"),
            ),
        )

        def work(conn: Connection, draft: TransactionDraft = draft) -> object:
            return journal_reads.load_transaction(
                conn, BOOK_CODE, journal.post_draft(conn, BOOK_CODE, draft)
            )

        db.write(work)
        count += 1
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    return count / wall, cpu / count * 1e6


@dataclass
class Engine:
    """Where the raw baseline, the in-process journal and each server keep their books."""

    postgresql: bool
    directory: Path
    raw_url: str = ""
    journal_db: Database | None = None
    cleanups: list[Any] | None = None

    def fresh(self, name: str) -> tuple[str, Database]:
        """A new migrated database with the bench book open: its URL and a handle."""
        if self.postgresql:
            db, _, drop = postgres_database(f"bench_http_{name}")
            self.cleanups = [*(self.cleanups or []), drop]
            return str(db.engine.url.render_as_string(hide_password=False)), db
        path = self.directory / f"{name}.sqlite3"
        return f"sqlite:///{path}", migrated_sqlite(path)

    def close(self) -> None:
        for drop in reversed(self.cleanups or []):
            drop()


def raw_rate(engine: Engine, seconds: float, accounts_n: int, clients: int) -> float:
    if engine.postgresql:
        return raw_postgres_commits(engine.raw_url, seconds, clients)
    return raw_commits(Path(engine.raw_url.split("///", 1)[1]), seconds, accounts_n)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", default="1,4,16", help="concurrent connections")
    parser.add_argument("--accounts", type=int, default=50, help="grant lines in the book")
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="PostgreSQL (BENCH_POSTGRES_URL) for the server; raw psycopg as the baseline",
    )
    parser.add_argument(
        "--workers", default="1", help="server worker processes to compare, e.g. 1,2,4"
    )
    parser.add_argument(
        "--cpu",
        type=int,
        metavar="N",
        help="also measure one worker kept on CPU N (`taskset --cpu-list N ... serve`)",
    )
    parser.add_argument(
        "--no-idempotency-run", action="store_true", help="skip the run with Idempotency-Key"
    )
    parser.add_argument("--dir", help="keep the files here (default: a temp dir)")
    return parser.parse_args(argv)


def write_scripts(
    directory: Path, accounts_n: int, token: str | None, name: str = ""
) -> dict[bool, Path]:
    """The wrk scripts that post as `token` (each server has its own: `name` tells them apart)."""
    scripts = {}
    for with_key in (False, True):
        script = directory / f"post{name}-{with_key}.lua"
        script.write_text(
            LUA
            % {
                "lines": accounts_n,
                "with_key": "true" if with_key else "false",
                "bank": BANK,
                "path": PATH,
                "authorization": f"Bearer {token}" if token else "",
            }
        )
        scripts[with_key] = script
    return scripts


@dataclass
class Target:
    """A started server with its book set up and its wrk scripts."""

    server: Server
    token: str | None
    scripts: dict[bool, Path]
    url: str


def start_targets(
    engine: Engine, workers: Sequence[int], accounts_n: int, cpu: int | None = None
) -> list[Target]:
    """A server for each worker count, and one worker on CPU `cpu` if it is given."""
    targets = []
    for n, on_cpu in [*((n, None) for n in workers), *([(1, cpu)] if cpu is not None else [])]:
        name = f"{n}w" if on_cpu is None else f"1w-cpu{on_cpu}"
        url, db = engine.fresh(f"api_{name}")
        db.dispose()
        server = Server(url, n, engine.directory / f"server-{name}.log", on_cpu)
        admin, token = sign_in(server.port, server.admin_password)
        set_up_book(server.port, accounts_n, admin, token)
        targets.append(
            Target(
                server, token, write_scripts(engine.directory, accounts_n, token, f"-{name}"), url
            )
        )
    return targets


def configurations(
    targets: Sequence[Target], levels: Sequence[int], idempotency_run: bool
) -> list[tuple[str, Target, int, bool]]:
    configs = []
    for target in targets:
        suffix = f", {target.server.label}"
        for c in levels:
            configs.append(
                (f"HTTP, {c} connection{'s' if c > 1 else ''}{suffix}", target, c, False)
            )
        if idempotency_run:
            c = levels[min(1, len(levels) - 1)]
            configs.append((f"HTTP, {c} connections, Idempotency-Key{suffix}", target, c, True))
    return configs


@dataclass
class Measured:
    raw: list[float]
    in_process: list[tuple[float, float]]
    health: list[HttpResult]
    signed_in_read: list[HttpResult]
    http: dict[str, list[HttpResult]]


def measure(
    engine: Engine,
    args: argparse.Namespace,
    targets: Sequence[Target],
    configs: Sequence[tuple[str, Target, int, bool]],
) -> Measured:
    first = targets[0]
    clients = max(int(c) for c in args.connections.split(","))
    result = Measured([], [], [], [], {label: [] for label, _, _, _ in configs})
    for target in targets:  # warm up
        run_wrk(target.server.port, target.scripts[False], 1, 2, target.server.process.pid)
    assert engine.journal_db is not None
    for run in range(args.runs):
        result.raw.append(raw_rate(engine, args.duration, args.accounts, clients))
        result.in_process.append(journal_commits(engine.journal_db, args.duration, args.accounts))
        port, pid = first.server.port, first.server.process.pid
        result.health.append(run_wrk(port, None, 1, args.duration, pid, "/health"))
        result.signed_in_read.append(
            run_wrk(port, None, 1, args.duration, pid, f"/api/books/{BOOK_CODE}", first.token)
        )
        line = [f"raw {result.raw[-1]:,.0f}/s", f"in-process {result.in_process[-1][0]:,.0f}/s"]
        for label, target, connections, with_key in configs:
            server = target.server
            measured = run_wrk(
                server.port,
                target.scripts[with_key],
                connections,
                args.duration,
                server.process.pid,
            )
            result.http[label].append(measured)
            line.append(f"{label} {measured.rate:,.0f}/s")
        print(f"  run {run + 1}: " + ", ".join(line), flush=True)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    levels = [int(c) for c in args.connections.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    with scratch_dir(args.dir) as directory:
        engine = Engine(args.postgresql, directory)
        targets: list[Target] = []
        try:
            engine.raw_url, raw_db = engine.fresh("raw")
            open_book(raw_db, args.accounts)
            raw_db.dispose()
            _, engine.journal_db = engine.fresh("journal")
            open_book(engine.journal_db, args.accounts)
            targets = start_targets(engine, workers, args.accounts, args.cpu)
            configs = configurations(targets, levels, not args.no_idempotency_run)
            print_conditions(
                "HTTP posting vs raw database commits",
                conditions(engine, args, workers, targets[0].token),
            )
            measured = measure(engine, args, targets, configs)
            stored = {t.server.label: count_transactions(t.url) for t in targets}
        finally:
            for target in targets:
                target.server.stop()
            if engine.journal_db is not None:
                engine.journal_db.dispose()
            engine.close()
    report(engine, measured, levels)
    for name, count in stored.items():
        print(f"transactions stored by the server with {name}: {count:,} (each 201 is one)")


def conditions(
    engine: Engine, args: argparse.Namespace, workers: Sequence[int], token: str | None
) -> dict[str, str]:
    clients = max(int(c) for c in args.connections.split(","))
    if engine.postgresql:
        database = f"{postgres_version()} on 127.0.0.1 (loopback TCP)"
        baseline = f"raw psycopg, {clients} client processes, one commit per transaction each"
    else:
        database = f"SQLite files in {engine.directory} on {filesystem_of(engine.directory)}"
        baseline = "raw sqlite3, 1 writer, WAL, synchronous=FULL, one commit per transaction"
    return {
        "database": database,
        "baseline": baseline,
        "rows per transaction": "1 transaction + 2 postings + 2 balance upserts",
        "server": f"livelihood-ledger serve --workers {{{','.join(map(str, workers))}}}"
        " --no-access-log"
        + (
            f"; and taskset --cpu-list {args.cpu} ... serve --workers 1"
            if args.cpu is not None
            else ""
        ),
        "authentication": "Bearer API token of a finance user" if token else "none",
        "load": "wrk -t1 (one thread, keep-alive), Lua-generated bodies",
        "book": f"1 bank account + {args.accounts} grant lines",
        "runs": f"{args.runs} x {args.duration:g} s per configuration, interleaved; medians",
    }


def report(engine: Engine, measured: Measured, levels: Sequence[int]) -> None:
    print()
    target = TARGET_RATIO_POSTGRESQL if engine.postgresql else TARGET_RATIO
    raw = median(measured.raw)
    clients = max(levels)
    raw_label = f"raw psycopg, {clients} clients" if engine.postgresql else "raw sqlite3, 1 writer"
    rows: list[Sequence[object]] = [(raw_label, round(raw), "", "", "", "1.00x", "", "", "")]
    for label, results in measured.http.items():
        rate = median([r.rate for r in results])
        ratio = rate / raw
        # The target is for the most connections; fewer are reported for the curve.
        targeted = label.startswith(f"HTTP, {clients} connections,") and "Idempotency" not in label
        ok = ratio >= target and not any(r.errors for r in results)
        rows.append(
            (
                label,
                round(rate),
                f"{median([r.latency_ms for r in results]):.2f}",
                f"{median([r.server_cpu_us for r in results]):,.0f}",
                f"{median([r.wrk_cpu_us for r in results]):,.0f}",
                f"{ratio:.2f}x",
                f">= {target:.2f}x" if targeted else "",
                ("PASS" if ok else "FAIL") if targeted else "",
                sum(r.errors for r in results),
            )
        )
    rows += reference_rows(measured, raw)
    print_table(
        [
            "configuration",
            "txns/s",
            "avg latency ms",
            "server CPU us/req",
            "wrk CPU us/req",
            "vs raw",
            "target",
            "result",
            "errors",
        ],
        rows,
    )


def reference_rows(measured: Measured, raw: float) -> list[Sequence[object]]:
    journal_rate = median([r for r, _ in measured.in_process])
    rows: list[Sequence[object]] = [
        (
            "(reference) journal post_draft + load_transaction in-process, 1 commit each",
            round(journal_rate),
            "",
            f"{median([c for _, c in measured.in_process]):,.0f}",
            "",
            f"{journal_rate / raw:.2f}x",
            "",
            "",
            "",
        )
    ]
    for label, results in (
        ("(reference) GET /health over HTTP, 1 connection (no write)", measured.health),
        (
            f"(reference) GET /api/books/{BOOK_CODE}, signed in, 1 connection",
            measured.signed_in_read,
        ),
    ):
        rate = median([r.rate for r in results])
        rows.append(
            (
                label,
                round(rate),
                f"{median([r.latency_ms for r in results]):.2f}",
                f"{median([r.server_cpu_us for r in results]):,.0f}",
                f"{median([r.wrk_cpu_us for r in results]):,.0f}",
                f"{rate / raw:.2f}x",
                "",
                "",
                sum(r.errors for r in results),
            )
        )
    return rows


def count_transactions(url: str) -> int:
    db = Database.connect(url)
    try:
        with db.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM transactions")).scalar_one())
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
