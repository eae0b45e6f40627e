"""Map domain errors and framework errors to RFC 9457 problem+json responses.

Only this module knows HTTP statuses. Every problem carries a stable snake_case `code`;
messages never echo request values, so no personal data reaches a response or a log.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, OperationalError

from api.i18n import choose_language, error_text, title_text
from api.requests import request_id_of
from ledger.core.errors import LedgerError, LedgerRejected, invalid
from ledger.store.database import is_database_busy

PROBLEM_MEDIA_TYPE = "application/problem+json"
STATUS_BY_KIND = {
    "invalid": HTTP_422_UNPROCESSABLE_ENTITY,
    "conflict": HTTP_409_CONFLICT,
    "not_found": HTTP_404_NOT_FOUND,
    "forbidden": HTTP_403_FORBIDDEN,
    "unauthenticated": HTTP_401_UNAUTHORIZED,
    "rate_limited": HTTP_429_TOO_MANY_REQUESTS,
    "too_large": HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "unsupported": HTTP_415_UNSUPPORTED_MEDIA_TYPE,
}
TITLES = {
    HTTP_422_UNPROCESSABLE_ENTITY: "Invalid request",
    HTTP_409_CONFLICT: "Conflict",
    HTTP_404_NOT_FOUND: "Not found",
    HTTP_403_FORBIDDEN: "Forbidden",
    HTTP_401_UNAUTHORIZED: "Not signed in",
    HTTP_429_TOO_MANY_REQUESTS: "Too many requests",
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: "Too large",
    HTTP_415_UNSUPPORTED_MEDIA_TYPE: "Unsupported type",
}
_log = logging.getLogger("api.errors")


class ProblemError(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    field: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, extended with the domain `code` and every error found."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[ProblemError] = msgspec.field(default_factory=list)


def problem_type(code: str) -> str:
    return f"urn:livelihood-ledger:error:{code}"


def problem_response(
    request: Request[Any, Any, Any], status: int, errors: list[LedgerError], title: str
) -> Response[Problem]:
    first = errors[0]
    # The stable `code` stays English; the title and messages follow Accept-Language.
    language = choose_language(None, request.headers.get("accept-language", ""))
    body = Problem(
        type=problem_type(first.code),
        title=title_text(language, title),
        status=status,
        code=first.code,
        detail=error_text(language, first.code, first.message),
        # The request id, not the path: a path could carry text someone typed.
        instance=f"urn:request:{request_id_of(request.scope)}",
        field=first.field,
        errors=[
            ProblemError(e.code, error_text(language, e.code, e.message), e.field) for e in errors
        ],
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def on_ledger_rejected(request: Request[Any, Any, Any], error: LedgerRejected) -> Response[Problem]:
    status = STATUS_BY_KIND[error.first.kind]
    response = problem_response(request, status, list(error.errors), TITLES[status])
    if status == HTTP_401_UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="livelihood-ledger"'
    return response


# Litestar's words for a required parameter left out; only the parameter's name is kept
# (the rest quotes the request's path, which may carry text someone typed).
_MISSING_PARAMETER = re.compile(r"Missing required (query|header|cookie) parameter '([\w-]{1,64})'")


def missing_parameter(detail: str) -> LedgerError | None:
    """`parameter_missing` for a required query (header, cookie) parameter left out."""
    found = _MISSING_PARAMETER.match(detail)
    if found is None:
        return None
    where, name = found.groups()
    hint = f": add ?{name}=... to the address" if where == "query" else ""
    return invalid("parameter_missing", f"The {where} parameter {name!r} is required{hint}.", name)


def on_validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[Problem]:
    """Malformed JSON or a field of the wrong type (a float where a string amount belongs),
    or a required query parameter left out."""
    missing = missing_parameter(str(error.detail))
    if missing is not None:
        return problem_response(
            request, HTTP_422_UNPROCESSABLE_ENTITY, [missing], "Invalid request"
        )
    extra = error.extra if isinstance(error.extra, list) else []
    errors = [
        LedgerError(
            code="request_invalid",
            message=str(item.get("message", "Invalid value."))[:300],
            field=str(item.get("key")) if item.get("key") else None,
        )
        for item in extra
        if isinstance(item, dict)
    ] or [
        LedgerError(
            code="request_invalid", message="The request body is not valid JSON for this endpoint."
        )
    ]
    return problem_response(request, HTTP_422_UNPROCESSABLE_ENTITY, errors, "Invalid request")


def on_http_exception(request: Request[Any, Any, Any], error: HTTPException) -> Response[Problem]:
    status = error.status_code
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
        415: "unsupported_media_type",
        429: "too_many_requests",
    }
    code = codes.get(status, "http_error")
    message = error.detail if status < 500 else "Internal error."
    response = problem_response(request, status, [LedgerError(code, message)], message)
    if error.headers and (isinstance(error, MethodNotAllowedException) or status == 401):
        response.headers.update(error.headers)
    return response


def on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """A 500 is a bug: log its type and the frames it passed through, never its message
    (a database error's message can quote the values of a row, names and phones included)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    _log.error(
        "unhandled %s on %s (request %s)\n%s",
        type(error).__name__,
        request.method,
        request_id_of(request.scope),
        frames,
    )
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        [LedgerError("internal_error", "Internal error. It has been logged.")],
        "Internal error",
    )


def on_operational(request: Request[Any, Any, Any], error: OperationalError) -> Response[Problem]:
    """SQLite's write lock held by another process past the busy timeout (a long command-line
    job, a backup): 503 with Retry-After, the write did not happen. Anything else is a bug."""
    if not is_database_busy(error):
        return on_unexpected(request, error)
    _log.warning(
        "database busy: a write waited the busy timeout (request %s)", request_id_of(request.scope)
    )
    response = problem_response(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        [LedgerError("database_busy", "The database is busy with another write; try again.")],
        "Service unavailable",
    )
    response.headers["Retry-After"] = "1"
    return response


def on_recursion(request: Request[Any, Any, Any], error: RecursionError) -> Response[Problem]:
    """JSON nested deeper than the decoder recurses (~1,000 levels) is a bad request, not a
    bug: one short log line, no traceback (a request could otherwise write ~30 lines)."""
    if "deserializing" not in str(error):  # msgspec's decoder; anything else is a bug
        return on_unexpected(request, error)
    _log.info("refused JSON nested too deep (request %s)", request_id_of(request.scope))
    return problem_response(
        request,
        HTTP_400_BAD_REQUEST,
        [LedgerError("json_too_deep", "The JSON body is nested too deeply.")],
        "Bad request",
    )


def on_data_error(request: Request[Any, Any, Any], error: DataError) -> Response[Problem]:
    """PostgreSQL refuses a NUL character in text. A field that reaches a query before its own
    check (a code looked up first) would otherwise be a 500: it is the same 422 as the
    ledger's own text check, and the write's transaction was rolled back. Anything else is a
    bug."""
    if "NUL (0x00)" not in str(error.orig):
        return on_unexpected(request, error)
    return problem_response(
        request,
        HTTP_422_UNPROCESSABLE_ENTITY,
        [
            invalid(
                "text_control_character",
                "Text may contain newlines, carriage returns and tabs but no other control"
                " characters (such as NUL) and no lone surrogates.",
            )
        ],
        "Invalid request",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LedgerRejected: on_ledger_rejected,
    RecursionError: on_recursion,
    OperationalError: on_operational,
    DataError: on_data_error,
    ValidationException: on_validation,
    NotFoundException: on_http_exception,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_MEDIA_TYPE", "MediaType", "Problem"]
