"""Every POST accepts an `Idempotency-Key`: the same key and request get the first response.

The response is encoded once, stored with the key in the same database transaction as the
write (see ledger.store.idempotency) and replayed byte for byte, with `Idempotent-Replayed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from sqlalchemy import Connection

from ledger.store.database import Database
from ledger.store.idempotency import fingerprint, run_idempotent

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

ResultT = TypeVar("ResultT", bound=msgspec.Struct)


def idempotent_write(
    db: Database,
    request: Request[Any, Any, Any],
    data: msgspec.Struct | None,
    status_code: int,
    unit: Callable[[Connection], ResultT],
) -> Response[ResultT]:
    """Run `unit` in one write transaction, once per Idempotency-Key; respond with its result."""
    scope = f"{request.method} {request.url.path}"
    body = msgspec.json.encode(data) if data is not None else b""

    def write(conn: Connection) -> tuple[int, bytes]:
        return status_code, msgspec.json.encode(unit(conn))

    stored = run_idempotent(
        db,
        scope=scope,
        key=request.headers.get(IDEMPOTENCY_HEADER),
        request_fingerprint=fingerprint(scope.encode(), body),
        unit=write,
    )
    headers = {REPLAYED_HEADER: "true"} if stored.replayed else {}
    response: Response[Any] = Response(
        content=stored.body,
        status_code=stored.status_code,
        media_type="application/json",
        headers=headers,
    )
    return response
