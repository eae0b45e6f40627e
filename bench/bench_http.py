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

Target (from the issue): HTTP at least 40% of the raw sqlite3 durable commit rate.
Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import datetime
import json
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

from sqlalchemy import Connection

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

TARGET_RATIO = 0.40
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
    """User + system CPU of a process and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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

    def __init__(self, database: Path, log: Path) -> None:
        self.port = free_port()
        # A throw-away signing key and first admin password, for this server only.
        self.admin_password = secrets.token_urlsafe(24)
        env = dict(
            os.environ,
            DATABASE_URL=f"sqlite:///{database}",
            LEDGER_SECRET_KEY=secrets.token_urlsafe(48),
            LEDGER_ADMIN_PASSWORD=self.admin_password,
        )
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("uvicorn")),
                "--factory",
                "api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
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


def journal_commits(path: Path, seconds: float, accounts_n: int) -> tuple[float, float]:
    """What the POST handler's work costs without HTTP: `journal.post_draft` and
    `journal_reads.load_transaction` (the response) in one `db.write` per transaction.

    Returns transactions per second and CPU microseconds per transaction.
    """
    db = Database.connect(f"sqlite:///{path}")
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
    db.dispose()
    return count / wall, cpu / count * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", default="1,4,16", help="concurrent connections")
    parser.add_argument("--accounts", type=int, default=50, help="grant lines in the book")
    parser.add_argument(
        "--no-idempotency-run", action="store_true", help="skip the run with Idempotency-Key"
    )
    parser.add_argument("--dir", help="keep the files here (default: a temp dir)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    levels = [int(c) for c in args.connections.split(",")]

    with scratch_dir(args.dir) as directory:
        raw_path = directory / "raw.sqlite3"
        journal_path = directory / "journal.sqlite3"
        for path in (raw_path, journal_path):
            fresh = migrated_sqlite(path)
            open_book(fresh, args.accounts)
            fresh.dispose()
        server = Server(directory / "api.sqlite3", directory / "server.log")
        try:
            admin, token = sign_in(server.port, server.admin_password)
            set_up_book(server.port, args.accounts, admin, token)
            scripts = {}
            for with_key in (False, True):
                script = directory / f"post-{with_key}.lua"
                script.write_text(
                    LUA
                    % {
                        "lines": args.accounts,
                        "with_key": "true" if with_key else "false",
                        "bank": BANK,
                        "path": PATH,
                        "authorization": f"Bearer {token}" if token else "",
                    }
                )
                scripts[with_key] = script
            configs = [(f"HTTP, {c} connection{'s' if c > 1 else ''}", c, False) for c in levels]
            if not args.no_idempotency_run:
                c = levels[min(1, len(levels) - 1)]
                configs.append((f"HTTP, {c} connections, Idempotency-Key", c, True))
            print_conditions(
                "HTTP posting vs raw sqlite3 durable commits",
                {
                    "files": f"{directory} on {filesystem_of(directory)}",
                    "durability": "WAL, synchronous=FULL (both); one commit per transaction",
                    "rows per transaction": "1 transaction + 2 postings + 2 balance upserts",
                    "server": "uvicorn --factory api.app:create_app, 1 worker, no access log",
                    "authentication": "Bearer API token of a finance user"
                    if token
                    else "none (the API has no sign-in)",
                    "load": "wrk -t1 (one thread, keep-alive), Lua-generated bodies",
                    "book": f"1 bank account + {args.accounts} grant lines",
                    "runs": f"{args.runs} x {args.duration:g} s per configuration, interleaved;"
                    " medians",
                },
            )
            run_wrk(server.port, scripts[False], 1, 2, server.process.pid)  # warm up
            raw_rates: list[float] = []
            in_process: list[tuple[float, float]] = []
            health: list[HttpResult] = []
            signed_in_read: list[HttpResult] = []
            http: dict[str, list[HttpResult]] = {label: [] for label, _, _ in configs}
            for run in range(args.runs):
                raw_rates.append(raw_commits(raw_path, args.duration, args.accounts))
                in_process.append(journal_commits(journal_path, args.duration, args.accounts))
                health.append(
                    run_wrk(server.port, None, 1, args.duration, server.process.pid, "/health")
                )
                signed_in_read.append(
                    run_wrk(
                        server.port,
                        None,
                        1,
                        args.duration,
                        server.process.pid,
                        f"/api/books/{BOOK_CODE}",
                        token,
                    )
                )
                line = [
                    f"raw {raw_rates[-1]:,.0f}/s",
                    f"journal in-process {in_process[-1][0]:,.0f}/s",
                    f"GET /health {health[-1].rate:,.0f}/s",
                ]
                for label, connections, with_key in configs:
                    result = run_wrk(
                        server.port,
                        scripts[with_key],
                        connections,
                        args.duration,
                        server.process.pid,
                    )
                    http[label].append(result)
                    line.append(f"{label} {result.rate:,.0f}/s")
                print(f"  run {run + 1}: " + ", ".join(line))
            stored = count_transactions(directory / "api.sqlite3")
        finally:
            server.stop()
    print()
    raw = median(raw_rates)
    rows: list[Sequence[object]] = [
        ("raw sqlite3, 1 writer", round(raw), "", "", "", "1.00x", "", "", "")
    ]
    for label, results in http.items():
        rate = median([r.rate for r in results])
        ratio = rate / raw
        rows.append(
            (
                label,
                round(rate),
                f"{median([r.latency_ms for r in results]):.2f}",
                f"{median([r.server_cpu_us for r in results]):,.0f}",
                f"{median([r.wrk_cpu_us for r in results]):,.0f}",
                f"{ratio:.2f}x",
                f">= {TARGET_RATIO:.2f}x",
                "PASS" if ratio >= TARGET_RATIO and not any(r.errors for r in results) else "FAIL",
                sum(r.errors for r in results),
            )
        )
    journal_rate = median([r for r, _ in in_process])
    rows.append(
        (
            "(reference) journal post_draft + load_transaction in-process, 1 commit each",
            round(journal_rate),
            "",
            f"{median([c for _, c in in_process]):,.0f}",
            "",
            f"{journal_rate / raw:.2f}x",
            "",
            "",
            "",
        )
    )
    for label, results in (
        ("(reference) GET /health over HTTP, 1 connection (no write)", health),
        (f"(reference) GET /api/books/{BOOK_CODE}, signed in, 1 connection", signed_in_read),
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
    print(f"transactions stored by the server: {stored:,} (every 201 is one)")


def count_transactions(path: Path) -> int:
    conn = raw_sqlite(path)
    try:
        return int(conn.execute("SELECT count(*) FROM transactions").fetchone()[0])
    finally:
        conn.close()


if __name__ == "__main__":
    main()
