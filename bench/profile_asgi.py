"""What one HTTP POST of a transaction costs the server's CPU without sockets: the app from
`api.app.create_app` on a fresh SQLite file, `--in-flight` POSTs at a time through
`app(scope, receive, send)` on one event loop (the app's code, its middleware and the SQLite
writer thread; no uvicorn, no wrk). Prints the process's CPU per POST and the writer thread's
share, the minimum over `--rounds` rounds (the machine's noise only adds).

    .venv/bin/python -m bench.profile_asgi --rounds 8 --posts 640
    .venv/bin/python -m bench.profile_asgi --profile 40     # cProfile of one round, top 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar

from bench.common import BANK, BOOK_CODE, account_names
from ledger.store.database import _GroupWriter, _Queued

PATH = f"/api/books/{BOOK_CODE}/transactions"


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


async def call(
    app: Litestar, method: str, path: str, body: bytes = b"", token: str | None = None
) -> Answer:
    """One request through the app's ASGI interface, as uvicorn would hand it over."""
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # the client never disconnects
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    answer = Answer(0, [], b"")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await app(scope, receive, send)  # type: ignore[arg-type]
    return answer


async def call_json(
    app: Litestar, method: str, path: str, payload: object, token: str | None = None
) -> Any:
    answer = await call(app, method, path, json.dumps(payload).encode(), token)
    if answer.status >= 300:
        raise SystemExit(f"{method} {path}: {answer.status} {answer.body[:300]!r}")
    return answer.json()


async def set_up(app: Litestar, admin_password: str, accounts_n: int) -> str:
    """A book with its accounts, and the API token of a finance user who posts (as bench_http)."""
    login = "/api/auth/login"
    admin = (
        await call_json(app, "POST", login, {"username": "admin", "password": admin_password})
    )["access_token"]
    password = secrets.token_urlsafe(24)
    user = {"username": "bench.finance", "password": password, "role": "finance", "scopes": []}
    await call_json(app, "POST", "/api/users", user, admin)
    finance = (
        await call_json(app, "POST", login, {"username": "bench.finance", "password": password})
    )["access_token"]
    token = str(
        (await call_json(app, "POST", "/api/auth/tokens", {"name": "b", "days": 1}, finance))[
            "token"
        ]
    )
    book = {"code": BOOK_CODE, "name": "Bench", "kind": "organisation", "operating_currency": "USD"}
    await call_json(app, "POST", "/api/books", book, admin)
    for name in account_names(accounts_n):
        account = {"name": name, "open_date": "2018-01-01", "currencies": ["USD"]}
        await call_json(app, "POST", f"/api/books/{BOOK_CODE}/accounts", account, token)
    return token


def post_body(counter: int, accounts_n: int) -> bytes:
    """The body bench_http's wrk script sends."""
    cents = 100 + counter % 5000
    amount = f"{cents // 100}.{cents % 100:02d}"
    line = f"Expenses:Grants:Cash:G-{counter % accounts_n:04d}"
    return (
        f'{{"date":"2018-11-04","narration":"Cash grant {counter}",'
        f'"postings":[{{"account":"{BANK}","amount":"-{amount}","currency":"USD"}},'
        f'{{"account":"{line}","amount":"{amount}","currency":"USD"}}]}}'
    ).encode()


async def round_of_posts(
    app: Litestar, token: str, posts: int, in_flight: int, accounts_n: int, start: int
) -> None:
    """`posts` POSTs, `in_flight` at a time (each of `in_flight` clients posts in turn)."""

    async def client(first: int) -> None:
        for counter in range(first, start + posts, in_flight):
            answer = await call(app, "POST", PATH, post_body(counter, accounts_n), token)
            if answer.status != 201:
                raise SystemExit(f"POST: {answer.status} {answer.body[:300]!r}")

    await asyncio.gather(*(client(start + i) for i in range(in_flight)))


def writer_thread_cpu() -> float:
    """CPU seconds of the database's writer thread so far (0 before it starts)."""
    for thread in threading.enumerate():
        if "writer" in thread.name.lower() and thread.native_id is not None:
            try:
                stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
            except FileNotFoundError:
                return 0.0
            fields = stat.rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def profile_writer() -> cProfile.Profile:
    """A profile of the SQLite writer thread's batches from now on (cProfile sees one thread)."""
    # CPU time of this thread, not wall time: a statement's wall time includes waiting for
    # the GIL the event loop holds.
    profiler = cProfile.Profile(time.thread_time)
    run_batch = _GroupWriter._run_batch_safely

    def profiled(writer: _GroupWriter, batch: list[_Queued[Any]]) -> None:
        profiler.enable()
        try:
            run_batch(writer, batch)
        finally:
            profiler.disable()

    _GroupWriter._run_batch_safely = profiled  # type: ignore[method-assign,assignment]
    return profiler


def count_batches() -> list[int]:
    """A counter of the writer's batches (one COMMIT each) from now on."""
    counted = [0]
    run_batch = _GroupWriter._run_batch_safely

    def counting(writer: _GroupWriter, batch: list[_Queued[Any]]) -> None:
        counted[0] += 1
        run_batch(writer, batch)

    _GroupWriter._run_batch_safely = counting  # type: ignore[method-assign,assignment]
    return counted


class Lifespan:
    """The app's start-up and shut-down, through its ASGI lifespan protocol."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.done: asyncio.Queue[str] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.done.put_nowait(message["type"])

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.receive, self.send))  # type: ignore[arg-type]
        self.inbox.put_nowait({"type": "lifespan.startup"})
        print(await self.done.get())

    async def stop(self) -> None:
        self.inbox.put_nowait({"type": "lifespan.shutdown"})
        await self.done.get()
        if self.task is not None:
            await self.task


async def run(args: argparse.Namespace) -> None:
    from api.app import create_app  # after the environment is set

    app = create_app(f"sqlite:///{Path(args.dir) / 'ledger.sqlite'}")
    life = Lifespan(app)
    await life.start()
    token = await set_up(app, os.environ["LEDGER_ADMIN_PASSWORD"], args.accounts)
    await round_of_posts(app, token, args.posts, args.in_flight, args.accounts, 0)  # warm up
    start = args.posts
    if args.profile:
        profiler, writer_profiler = cProfile.Profile(time.thread_time), profile_writer()
        profiler.enable()
        await round_of_posts(app, token, args.posts, args.in_flight, args.accounts, start)
        profiler.disable()
        print("The event loop's thread:")
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)
        print("The writer thread:")
        pstats.Stats(writer_profiler).sort_stats(args.sort).print_stats(args.profile)
        await life.stop()
        return
    batches = count_batches()
    totals: list[float] = []
    loops: list[float] = []
    writers: list[float] = []
    for _ in range(args.rounds):
        cpu, loop, writer = time.process_time(), time.thread_time(), writer_thread_cpu()
        await round_of_posts(app, token, args.posts, args.in_flight, args.accounts, start)
        totals.append((time.process_time() - cpu) / args.posts * 1e6)
        loops.append((time.thread_time() - loop) / args.posts * 1e6)
        writers.append((writer_thread_cpu() - writer) / args.posts * 1e6)
        start += args.posts
    print("CPU us per POST, rounds:", " ".join(f"{t:.0f}" for t in totals))
    # Each thread's least: the noise of a busy machine only adds.
    print(
        f"min {min(totals):.0f}: event loop min {min(loops):.0f}, writer thread min"
        f" {min(writers):.0f}; {args.posts * args.rounds / max(batches[0], 1):.1f} POSTs per"
        " COMMIT"
    )
    await life.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--posts", type=int, default=640)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--sort", default="tottime", help="the profile's order (pstats)")
    parser.add_argument("--dir", default="")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("LEDGER_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ["LEDGER_ADMIN_PASSWORD"] = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as directory:
        args.dir = args.dir or directory
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
