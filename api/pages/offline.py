"""What makes the pages work offline: the service worker, served from the site's root so
its scope covers every page (the manifest, icon and outbox script are static files)."""

from __future__ import annotations

from litestar import Response, get

from api.auth import PUBLIC
from api.pages.render import STATIC_DIR

SERVICE_WORKER = (STATIC_DIR / "sw.js").read_bytes()


@get("/sw.js", opt=PUBLIC, include_in_schema=False, media_type="text/javascript")
async def service_worker() -> Response[bytes]:
    # no-cache: a phone checks for a new worker on each visit, and gets it when there is one.
    return Response(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
