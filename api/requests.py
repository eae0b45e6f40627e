"""Per-request context: a request id on every response, security headers, audit facts."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ledger.access.audit import RequestFacts
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.core.text import has_forbidden_character

# Ids are INTEGER columns (4 bytes on PostgreSQL): a larger number in a path names nothing
# the database could hold, and PostgreSQL would refuse to compare with it.
PATH_ID_MAX = 2**31 - 1
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{8,64}")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
# The API serves data, never pages; only the OpenAPI viewer under /schema runs scripts.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def request_id_of(scope: Scope) -> str:
    state: dict[str, Any] = scope.setdefault("state", {})
    existing = state.get("request_id")
    if isinstance(existing, str):
        return existing
    supplied = dict(scope.get("headers", [])).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
    request_id = supplied if _REQUEST_ID_RE.fullmatch(supplied) else uuid.uuid4().hex
    state["request_id"] = request_id
    return request_id


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (kept from X-Request-ID when sane) and every response the
    security headers and that id."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        is_schema = str(scope.get("path", "")).startswith("/schema")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not is_schema:
                    headers["content-security-policy"] = API_CSP
                    headers["cache-control"] = "no-store"
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def _parameter_errors(scope: Scope) -> list[LedgerError]:
    errors: list[LedgerError] = []
    query = bytes(scope.get("query_string", b"")).decode("utf-8", "surrogateescape")
    values: list[tuple[str, object]] = list(dict(scope.get("path_params", {})).items())
    values += parse_qsl(query, keep_blank_values=True, errors="surrogateescape")
    for name, value in values:
        if isinstance(value, int) and not -PATH_ID_MAX <= value <= PATH_ID_MAX:
            errors.append(invalid("request_invalid", "An id is at most 2^31 - 1.", name))
        elif isinstance(value, str) and has_forbidden_character(f"{name}{value}"):
            errors.append(
                invalid(
                    "text_control_character",
                    "Paths and query parameters hold no control characters (such as NUL).",
                    name,
                )
            )
    return errors


def parameter_check_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse path and query parameters no database column could hold before anything (the
    guard included) looks them up: NUL and other control characters (PostgreSQL text cannot
    hold NUL) and ids beyond INTEGER. 422, never a 500 from the driver."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            errors = _parameter_errors(scope)
            if errors:
                raise LedgerRejected(errors)
        await app(scope, receive, send)

    return middleware


def request_facts(request: Request[Any, Any, Any]) -> RequestFacts:
    return RequestFacts(
        method=request.method, path=request.url.path, request_id=request_id_of(request.scope)
    )
