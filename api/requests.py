"""Per-request context: a request id on every response, security headers, audit facts."""

from __future__ import annotations

import random
import re
from typing import Any, get_args
from urllib.parse import parse_qsl

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.content_type import check_json_content_type
from ledger.access.audit import RequestFacts
from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.core.text import has_forbidden_character

# Ids are INTEGER columns (4 bytes on PostgreSQL): a larger number in a path or a query names
# nothing the database could hold, and PostgreSQL would refuse to compare with it.
PATH_ID_MAX = limits.ID_MAX
# An integer's text longer than this is out of range before it is parsed (no 5,000-digit ints).
_INTEGER_DIGITS_MAX = len(str(PATH_ID_MAX))
_INTEGER_RE = re.compile(r"\s*[+-]?0*([0-9]+)\s*")
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{8,64}")
_ids = random.Random()  # noqa: S311 - request ids trace requests, they guard nothing
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
# The API serves data, never pages; only the OpenAPI viewer under /schema runs scripts.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
_SCHEMA_HEADERS = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_API_HEADERS = [
    *_SCHEMA_HEADERS,
    (b"content-security-policy", API_CSP.encode()),
    (b"cache-control", b"no-store"),
]
# The web pages (api/pages) run our own scripts and styles only: no inline code, no other
# origin. They set their own cache-control (a page may be kept for offline use).
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_PAGE_HEADERS = [*_SCHEMA_HEADERS, (b"content-security-policy", PAGE_CSP.encode())]
_API_PREFIXES = ("/api/", "/api", "/health")
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
# The names each set replaces (with the request id), for one pass over a response's headers.
_SCHEMA_NAMES = frozenset({_REQUEST_ID_NAME, *(name for name, _ in _SCHEMA_HEADERS)})
_API_NAMES = frozenset({_REQUEST_ID_NAME, *(name for name, _ in _API_HEADERS)})
_PAGE_NAMES = frozenset({_REQUEST_ID_NAME, *(name for name, _ in _PAGE_HEADERS)})


def request_id_of(scope: Scope) -> str:
    state: dict[str, Any] = scope.setdefault("state", {})
    existing = state.get("request_id")
    if isinstance(existing, str):
        return existing
    supplied = ""
    for name, value in scope["headers"]:  # the last one, as a dict of them would keep
        if name == _REQUEST_ID_NAME:
            supplied = value.decode("latin-1")
    # 128 random bits in hex, like a uuid4's; from the process's generator (seeded from the
    # OS at start), which costs far less than reading the OS's per request (~18 us here):
    # the id traces a request, it guards nothing.
    request_id = supplied if _REQUEST_ID_RE.fullmatch(supplied) else f"{_ids.getrandbits(128):032x}"
    state["request_id"] = request_id
    return request_id


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (kept from X-Request-ID when sane) and every response the
    security headers and that id; refuse path and query parameters that no database column
    could hold before anything (the guard included) looks them up: NUL and other control
    characters, tabs and line breaks included (PostgreSQL text cannot hold NUL; no parameter
    is more than one line; the document's pattern says the same) and ids beyond INTEGER.
    422, never a 500 from the driver; and a body that is not JSON on a route that reads JSON
    (415, `api.content_type`). One middleware for all three: each layer costs every
    request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        errors = _parameter_errors(scope)
        if errors:
            raise LedgerRejected(errors)
        check_json_content_type(scope)
        request_id = request_id_of(scope)
        path = str(scope.get("path", ""))
        if path.startswith("/schema"):
            added, added_names = _SCHEMA_HEADERS, _SCHEMA_NAMES
        elif path.startswith(_API_PREFIXES):
            added, added_names = _API_HEADERS, _API_NAMES
        else:
            added, added_names = _PAGE_HEADERS, _PAGE_NAMES
        request_id_bytes = request_id.encode("latin-1")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Plain lists of byte pairs: MutableScopeHeaders scans the list once per header.
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in added_names]
                message["headers"] = [*kept, *added, (_REQUEST_ID_NAME, request_id_bytes)]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def _integer_query_names(scope: Scope) -> frozenset[str]:
    """The parameters the route's handler reads as integers (ids, cursors, counts)."""
    handler: Any = scope.get("route_handler")
    if handler is None:
        return frozenset()
    return frozenset(
        name
        for name, field in handler.parsed_fn_signature.parameters.items()
        if int in (field.annotation, *get_args(field.annotation))
    )


def _is_out_of_range(text: str) -> bool:
    """An integer's text beyond +-2^31 - 1 (anything else is the parser's to refuse)."""
    match = _INTEGER_RE.fullmatch(text)
    if match is None:
        return False
    digits = match.group(1)
    return len(digits) > _INTEGER_DIGITS_MAX or int(digits) > PATH_ID_MAX


def _parameter_errors(scope: Scope) -> list[LedgerError]:
    errors: list[LedgerError] = []
    query = bytes(scope.get("query_string", b"")).decode("utf-8", "surrogateescape")
    values: list[tuple[str, object]] = list(dict(scope.get("path_params", {})).items())
    values += parse_qsl(query, keep_blank_values=True, errors="surrogateescape")
    # Every list route's ids and cursors, bounded here once for all of them.
    integers = _integer_query_names(scope) if query else frozenset()
    for name, value in values:
        if isinstance(value, int) and not -PATH_ID_MAX <= value <= PATH_ID_MAX:
            errors.append(invalid("request_invalid", "An id is at most 2^31 - 1.", name))
        elif isinstance(value, str) and name in integers and _is_out_of_range(value):
            errors.append(
                invalid("request_invalid", "An id, a cursor or a count is at most 2^31 - 1.", name)
            )
        elif isinstance(value, str) and has_forbidden_character(f"{name}{value}", one_line=True):
            errors.append(
                invalid(
                    "text_control_character",
                    "Paths and query parameters hold no control characters (such as NUL).",
                    name,
                )
            )
    return errors


def request_facts(request: Request[Any, Any, Any]) -> RequestFacts:
    scope = request.scope
    path = scope.get("root_path", "") + scope["path"]  # as `request.url.path` gives it
    return RequestFacts(method=scope["method"], path=path, request_id=request_id_of(scope))
