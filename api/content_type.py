"""A JSON route reads JSON only: any other Content-Type is 415 before the body is read.

Litestar parses a JSON route's body as JSON whatever the request says it is, so a
`text/plain`, a form-encoded or a header-less body was posted (201). A browser sends those
three kinds cross-site without asking first (they are CORS "simple" requests); JSON is not.
A route whose body is declared another way (`Body(media_type=RequestEncodingType.MULTI_PART)`,
a file upload) keeps its own types.
"""

from __future__ import annotations

from typing import Any

from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import BodyKwarg
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import HTTPScope

JSON_MEDIA_TYPE = "application/json"


def is_json_media_type(content_type: str) -> bool:
    """`application/json` or `application/<something>+json`, parameters (charset) aside."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def reads_json(handler: Any) -> bool:
    """Whether the route handler takes a JSON body (`data`, not declared otherwise)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    declared = data.kwarg_definition
    return not isinstance(declared, BodyKwarg) or declared.media_type == RequestEncodingType.JSON


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"").strip()
    return b"transfer-encoding" in headers or (length not in (b"", b"0"))


def check_json_content_type(scope: HTTPScope) -> None:
    """415 `unsupported_media_type` for a body that is not JSON on a route that reads JSON.

    Called by the request middleware (`api.requests`) before the body is read: one layer for
    both, since each layer costs every request.
    """
    if scope["method"] not in ("POST", "PUT", "PATCH"):
        return
    headers = dict(scope["headers"])
    if (
        _has_body(headers)
        and not is_json_media_type(headers.get(b"content-type", b"").decode("latin-1"))
        and reads_json(scope.get("route_handler"))
    ):
        raise HTTPException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="Send the body as JSON, with Content-Type: application/json.",
        )
