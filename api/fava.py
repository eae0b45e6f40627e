"""Fava inside the app, behind our sign-in: `/fava/{book}/` for whoever may read the book.

The guard checks the session cookie and the book's scope exactly as for the API's
`GET /api/books/{book}/export.beancount` (`journal.read`): another book is a 404. Fava is a
Flask (WSGI) app; `a2wsgi`'s `WSGIMiddleware` runs it on its own worker threads, never on
the event loop. It is read-only three times over:

- only GET and HEAD reach it (any other method is 405 here, before Fava sees it);
- only an allow-list of Fava's read-only pages and JSON endpoints passes: the editor, the
  source endpoints, imports, uploads, documents and extensions are 404 here;
- Fava runs with `read_only=True` (it refuses any non-GET itself) on a file it never owns:
  the export in a cache directory (`LEDGER_FAVA_DIR`, default `var/fava`).

The export is regenerated only when the book changed: `book_version` (one small read: the
book's chain head, its last account, price and balance assertion) keys it, and a new version
writes the file again (atomically, `os.replace`) and opens a new Fava on it. A request for an
unchanged book reads the version and nothing else.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi_typing import Environ, StartResponse
from fava.application import create_app as create_fava
from litestar import asgi
from litestar.exceptions import NotFoundException
from litestar.types import Receive, Scope, Send
from sqlalchemy import Connection

from api.auth import BOOK_NOT_FOUND, ensure_allowed, policy
from ledger.access.policy import Action, Principal, Target
from ledger.core.errors import LedgerRejected
from ledger.export.beancount import export_book
from ledger.export.version import book_version
from ledger.store import books
from ledger.store.database import Database, run_blocking

FAVA_DIR_ENV = "LEDGER_FAVA_DIR"
FAVA_DIR_DEFAULT = Path("var") / "fava"
FAVA_PATH = "/fava"
# Books whose Fava stays loaded in one process (the least recently used one is dropped).
FAVA_BOOKS_LOADED_MAX = 8
# Threads that run Fava's WSGI requests (a2wsgi), shared by every book.
FAVA_WORKERS = 4
READ_METHODS = frozenset({"GET", "HEAD"})
# Fava's pages that only read (`/<slug>/<report>/`); the editor, import and documents are not.
FAVA_REPORTS = frozenset(
    {
        "income_statement",
        "balance_sheet",
        "trial_balance",
        "journal",
        "query",
        "holdings",
        "commodities",
        "events",
        "statistics",
        "errors",
        "options",
        "help",
        "account",
        "download-query",
        "download-journal",
    }
)
# Fava's JSON endpoints (`/<slug>/api/<name>`) that read the ledger; never the source,
# uploads, importers, documents or the add-entry helpers.
FAVA_API = frozenset(
    {
        "changed",
        "errors",
        "query",
        "context",
        "journal",
        "journal_page",
        "events",
        "options",
        "help",
        "commodities",
        "income_statement",
        "balance_sheet",
        "trial_balance",
        "account_report",
        "statistics",
    }
)


def fava_directory() -> Path:
    return Path(os.environ.get(FAVA_DIR_ENV) or FAVA_DIR_DEFAULT)


def fava_path_allowed(rest: str) -> bool:
    """May this path inside Fava (after `/fava/{book}`) be read? Pure."""
    parts = [p for p in rest.split("/") if p]
    if not parts:
        return True  # Fava's index: a redirect to the income statement
    if parts[0] == "static":
        return True
    if len(parts) == 1:
        return False  # `/jump` and friends: nothing an auditor needs
    if parts[1] == "api":
        return len(parts) == 3 and parts[2] in FAVA_API
    return parts[1] in FAVA_REPORTS


@dataclass(frozen=True, slots=True)
class _Loaded:
    version: str
    app: Callable[..., Iterable[bytes]]


class FavaMount:
    """Each book's export on disk and the Fava opened on it, per process."""

    def __init__(self, db: Database, directory: Path | None = None) -> None:
        self.db = db
        # One directory per database: two servers (or test runs) on different databases
        # never share a file.
        where = db.engine.url.render_as_string(hide_password=True)
        self.directory = (directory or fava_directory()) / hashlib.sha256(
            where.encode()
        ).hexdigest()[:16]
        self._loaded: OrderedDict[str, _Loaded] = OrderedDict()
        self._lock = threading.Lock()
        self.exports = 0  # how many times a book was written out (tests count them)
        self.wsgi = WSGIMiddleware(self._dispatch, workers=FAVA_WORKERS)

    @staticmethod
    def _dispatch(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # a2wsgi keeps the ASGI scope in the environ; `fava()` put the book's Fava in it.
        scope: dict[str, Any] = cast(dict[str, Any], environ)["asgi.scope"]
        app: Callable[..., Iterable[bytes]] = scope["ledger.fava"]
        return app(environ, start_response)

    def file_of(self, book: str) -> Path:
        return self.directory / book / f"{book}.beancount"

    def current(self, book: str, principal: Principal) -> Callable[..., Iterable[bytes]]:
        """Fava on the book's current export, written out first if the book changed; a book
        outside the principal's scope is the same 404 as one that does not exist.
        Blocking: run it on a worker thread."""
        with self.db.read() as conn:
            province = books.find_book_scope(conn, book)
            if province is None:
                raise LedgerRejected([BOOK_NOT_FOUND])
            ensure_allowed(principal, Action.JOURNAL_READ, Target(book, province or None))
            version = book_version(conn, book)
            if version is None:
                raise LedgerRejected([BOOK_NOT_FOUND])
            with self._lock:
                loaded = self._loaded.get(book)
                if loaded is not None and loaded.version == version:
                    self._loaded.move_to_end(book)
                    return loaded.app
            path = self._write(conn, book)
        app = create_fava([path], read_only=True, poll_watcher=True)
        with self._lock:
            self._loaded[book] = _Loaded(version, app)
            self._loaded.move_to_end(book)
            while len(self._loaded) > FAVA_BOOKS_LOADED_MAX:
                self._loaded.popitem(last=False)
        return app

    def _write(self, conn: Connection, book: str) -> Path:
        """The export, written beside its final name and moved there in one step."""
        path = self.file_of(book)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                for text in export_book(conn, book):
                    out.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.exports += 1
        return path


def split_fava_path(path: str) -> tuple[str, str] | None:
    """`/fava/org/ctip/income_statement/` -> ("org", "/ctip/income_statement/"). Pure."""
    if not path.startswith(FAVA_PATH + "/"):
        return None
    book, slash, rest = path[len(FAVA_PATH) + 1 :].partition("/")
    if not book:
        return None
    return book, slash + rest


@asgi(
    FAVA_PATH,
    is_mount=True,
    opt={**policy(Action.JOURNAL_READ), "page": True},
    include_in_schema=False,
    copy_scope=True,
)
async def fava(scope: Scope, receive: Receive, send: Send) -> None:
    """Fava on a book's export, for a signed-in user who may read the book: the guard
    checked the role (journal.read); the book's scope is checked here, 404 outside it."""
    principal: Principal = scope["state"]["principal"]
    found = split_fava_path(scope["raw_path"].decode("latin-1").split("?")[0])
    if found is None:
        raise NotFoundException()
    book, rest = found
    if scope.get("method") not in READ_METHODS:
        await _plain(send, 405, b"Fava is read-only here.")
        return
    if not fava_path_allowed(rest):
        raise NotFoundException()
    mount: FavaMount = scope["app"].state.fava
    app = await run_blocking(mount.current, book, principal)
    if not rest:
        await _redirect(send, f"{FAVA_PATH}/{book}/")
        return
    root = f"{FAVA_PATH}/{book}"
    inner: dict[str, Any] = {**scope, "root_path": root, "path": root + rest}
    inner["ledger.fava"] = app
    await mount.wsgi(inner, receive, send)  # type: ignore[arg-type]


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 308,
            "headers": [(b"location", location.encode("latin-1"))],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET")],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
