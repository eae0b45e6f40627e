"""The API's routes (`api.routes`) run every guard in order, each handed the route's handler
itself rather than Litestar's per-call copy, and a guard that refuses stops the request before
the handler runs."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.testing import TestClient

from api.routes import ApiRoute, creates, reads
from ledger.access.policy import Action


def test_every_guard_runs_in_order_and_sees_the_routes_own_handler() -> None:
    seen: list[tuple[str, BaseRouteHandler]] = []
    handled: list[str] = []

    async def first(connection: ASGIConnection[Any, Any, Any, Any], h: BaseRouteHandler) -> None:
        seen.append(("first", h))

    def second(connection: ASGIConnection[Any, Any, Any, Any], h: BaseRouteHandler) -> None:
        seen.append(("second", h))

    @creates("/things", "Create a thing", Action.JOURNAL_WRITE)
    async def create_thing() -> dict[str, str]:
        handled.append("create")
        return {"made": "yes"}

    app = Litestar(route_handlers=[create_thing], guards=[first, second])
    with TestClient(app) as client:
        response = client.post("/things")

    assert response.status_code == 201
    assert response.json() == {"made": "yes"}
    assert handled == ["create"]
    registered = app.route_handler_method_map["/things"]["POST"]
    assert isinstance(registered, ApiRoute)
    assert [name for name, _ in seen] == ["first", "second"]
    assert all(h is registered for _, h in seen)
    assert registered.opt["action"] is Action.JOURNAL_WRITE


def test_a_guard_that_refuses_stops_the_request_before_the_handler() -> None:
    handled: list[str] = []
    after: list[str] = []

    def refuse(connection: ASGIConnection[Any, Any, Any, Any], h: BaseRouteHandler) -> None:
        raise PermissionDeniedException(detail="no")

    def later(connection: ASGIConnection[Any, Any, Any, Any], h: BaseRouteHandler) -> None:
        after.append("later")

    @reads("/things", "List things", Action.JOURNAL_READ)
    def list_things() -> list[str]:
        handled.append("list")
        return []

    app = Litestar(route_handlers=[list_things], guards=[refuse, later])
    with TestClient(app) as client:
        response = client.get("/things")

    assert response.status_code == 403
    assert handled == []
    assert after == []
