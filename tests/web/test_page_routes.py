"""Deny by default: every page route names an access policy (or is public on purpose), and
a route without one is refused; the offline assets are served by us."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from api.app import create_app
from ledger.access.policy import Action
from ledger.store.database import Database
from tests.api.conftest import make_client

# Public on purpose: the landing page, signing in, the language, the service worker and our
# static files.
PUBLIC_PAGES = {"/", "/sign-in", "/language", "/sw.js", "/static/{file_path:path}"}


def page_routes(app: Litestar) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (route.path, method, handler.opt)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and not route.path.startswith(("/api", "/schema", "/health"))
        for handler in route.route_handlers
        for method in handler.http_methods
        if method != "OPTIONS"
    ]


def test_every_page_route_has_a_policy(database_url: str) -> None:
    routes = page_routes(create_app(database_url, migrate=False))
    assert len(routes) >= 12
    for path, method, opt in routes:
        if path in PUBLIC_PAGES:
            assert opt.get("public") is True, (method, path)
        else:
            assert isinstance(opt.get("action"), Action), (method, path)
            assert opt.get("page") is True or path.startswith("/static"), (method, path)


def test_a_page_route_without_a_policy_is_refused(db: Database) -> None:
    @get("/unguarded", opt={"page": True})
    async def unguarded() -> str:
        return "should never be served"

    with make_client(db) as client:
        client.app.register(unguarded)
        response = client.get("/unguarded")
        assert response.status_code == 403
        assert "should never" not in response.text


def test_the_schema_and_scripts_are_served_locally(db: Database) -> None:
    with make_client(db) as client:
        schema = client.get("/schema/swagger")
        assert schema.status_code == 200
        assert "https://" not in schema.text.split("<body", 1)[0].replace("https://github", "")
        for asset in ("/static/htmx.min.js", "/static/app.css"):
            assert client.get(asset).status_code == 200, asset
        swagger_js = [p for p in schema.text.split('"') if p.endswith("swagger-ui-bundle.js")]
        assert swagger_js
        assert client.get(swagger_js[0]).status_code == 200


def test_the_first_load_of_the_meeting_page_is_small(browser: TestClient[Any]) -> None:
    page = browser.get("/groups/sg-kt-001/meetings/new", headers={"Accept-Encoding": "gzip"})
    sizes = [int(page.headers.get("content-length", len(page.content)))]
    for asset in ("/static/htmx.min.js", "/static/app.css", "/static/outbox.js", "/sw.js"):
        response = browser.get(asset, headers={"Accept-Encoding": "gzip"})
        assert response.headers.get("content-encoding") == "gzip", asset
        sizes.append(int(response.headers["content-length"]))
    assert sum(sizes) < 60_000, sizes
