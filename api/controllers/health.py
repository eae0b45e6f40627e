"""The liveness check: the server answers and reaches its database."""

from __future__ import annotations

import msgspec
from litestar import get

from api.auth import PUBLIC
from api.injected import Db


class Health(msgspec.Struct):
    status: str
    database: str


@get(
    "/health",
    sync_to_thread=True,
    tags=["health"],
    summary="Liveness and database check",
    opt=PUBLIC,
)
def health(db: Db) -> Health:
    """For a load balancer or a monitor, without signing in: `ok` with the database engine
    (`sqlite` or `postgresql`) once a query has reached the database; when it cannot, the
    request fails with a 5xx instead."""
    db.ping()
    return Health(status="ok", database=db.engine.dialect.name)
