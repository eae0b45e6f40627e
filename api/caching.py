"""Conditional reads and compression: ETag and 304 on every read, gzip above 1 KB.

The ETag is strong, the SHA-256 of the body as the handler produced it (before gzip): a body
already in hand costs a hash, not a second read, and it changes exactly when what a client
would see changes (a version the store knows would miss a change of access or of format).
A `GET` whose `If-None-Match` names it gets `304 Not Modified` with no body. Only complete,
200 answers to `GET` get one: a stream (a CSV export) is sent as it is read and is not
held back to hash it, and writes (their `Idempotent-Replayed` answers included) pass untouched.

Compression: gzip for a body of at least 1 KB when the client accepts it, except PDFs, whose
content WeasyPrint already deflates (gzip saves under 1% of a receipt or statement and costs
a pass over it). The ETag check runs inside the compression, on the identity body.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

COMPRESSION_BYTES_MIN = 1024
_CONDITIONAL_METHODS = frozenset({"GET"})
_NOT_COMPRESSED_TYPES = (b"application/pdf",)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: `*`, or any listed tag equal by the weak comparison."""
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in tags


def _conditional(app: ASGIApp) -> ASGIApp:
    """`app` with an ETag on each complete 200 read, and 304 when the client has it."""

    async def conditional_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in _CONDITIONAL_METHODS:
            await app(scope, receive, send)
            return
        if_none_match = Headers.from_scope(scope).get("if-none-match")
        start: dict[str, Any] = {}
        passing = False

        async def send_with_etag(message: Message) -> None:
            nonlocal passing, start
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                start = dict(message)
                passing = message["status"] != 200
                if passing:
                    await send(message)
            elif message["type"] == "http.response.body" and message.get("more_body", False):
                passing = True  # a stream: sent as it comes, without an ETag
                await send(start)  # type: ignore[arg-type]
                await send(message)
            else:
                await _send_complete(send, start, message, if_none_match)

        await app(scope, receive, send_with_etag)

    return conditional_app


async def _send_complete(
    send: Send, start: dict[str, Any], body_message: Message, if_none_match: str | None
) -> None:
    body: bytes = body_message.get("body", b"")  # type: ignore[assignment]
    etag = etag_of(body)
    headers = MutableScopeHeaders(cast(HTTPResponseStartEvent, start))
    headers["etag"] = etag
    if if_none_match is not None and matches(if_none_match, etag):
        start["status"] = 304
        for name in ("content-length", "content-type", "content-disposition"):
            del headers[name]
        await send(start)  # type: ignore[arg-type]
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send(start)  # type: ignore[arg-type]
    await send(body_message)


class ConditionalCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression around the ETag check (so the ETag hashes the identity body),
    leaving PDFs as they are."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        super().__init__(app=_conditional(app), config=config)

    def create_compression_send_wrapper(
        self, send: Send, compression_encoding: Any, scope: Scope
    ) -> Send:
        compressing = super().create_compression_send_wrapper(send, compression_encoding, scope)
        is_pdf = False

        async def send_wrapper(message: Message) -> None:
            nonlocal is_pdf
            if message["type"] == "http.response.start":
                content_type = Headers(message["headers"]).get("content-type", "")
                is_pdf = content_type.encode().startswith(_NOT_COMPRESSED_TYPES)
            await (send if is_pdf else compressing)(message)

        return send_wrapper


def compression_config() -> CompressionConfig:
    return CompressionConfig(
        backend="gzip",
        minimum_size=COMPRESSION_BYTES_MIN,
        gzip_compress_level=6,
        middleware_class=ConditionalCompressionMiddleware,
    )
