"""How `livelihood-ledger serve` runs the app: uvicorn, with deadlines for slow clients.

uvicorn times out idle keep-alive connections (`timeout_keep_alive`) and answers 503 beyond
`limit_concurrency`, but it has no deadline for reading a request: a client that sends its
headers (or its body) a byte at a time holds a connection open for as long as it likes, and
enough of them hold every connection. `GuardedHttpToolsProtocol` (what `serve` runs) and
`GuardedH11Protocol` are uvicorn's two HTTP/1.1 protocols with:

- a deadline for the request head: from the connection's start (or, on a kept-alive
  connection, from the first byte of the next request) to the end of the headers;
- a deadline for the body: from the end of the headers to the end of the body;
- a bound on open connections: one beyond it is closed as soon as it is accepted.

A connection past a deadline is closed (there is nobody reading a 408 at a byte a minute).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_log = logging.getLogger("api.serving")


@dataclass(frozen=True, slots=True)
class ServeSettings:
    header_read_seconds: float = 10.0
    body_read_seconds: float = 60.0
    connections_max: int = 500
    keep_alive_seconds: int = 5


SERVE_DEFAULTS = ServeSettings()
ReadPhase = Literal["head", "body"]
HttpParser = Literal["httptools", "h11"]


class _ReadDeadlines:
    """The deadlines and the bound, for either of uvicorn's HTTP/1.1 protocols."""

    settings: ServeSettings = SERVE_DEFAULTS
    connections: set[Any]
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _read_deadline: asyncio.TimerHandle | None = None
    _read_phase: ReadPhase | None = None

    def _admit(self) -> bool:
        """Close a connection beyond the bound; else start its head deadline."""
        if len(self.connections) > self.settings.connections_max:
            _log.warning("refused a connection: %d open", len(self.connections) - 1)
            self.transport.close()
            return False
        self._arm("head")
        return True

    def _arm(self, phase: ReadPhase) -> None:
        self._disarm()
        seconds = (
            self.settings.header_read_seconds
            if phase == "head"
            else self.settings.body_read_seconds
        )
        self._read_phase = phase
        self._read_deadline = self.loop.call_later(seconds, self._on_read_timeout)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
        self._read_deadline = None
        self._read_phase = None

    def _on_read_timeout(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            _log.info("closed a connection: its request %s was not read in time", self._read_phase)
            self.transport.close()


class GuardedH11Protocol(_ReadDeadlines, H11Protocol):
    """uvicorn's h11 protocol with read deadlines and a bound on open connections."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admit()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._read_phase is None and self.conn.their_state is h11.IDLE:
            self._arm("head")  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        self._follow_state()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow_state()

    def _follow_state(self) -> None:
        """Keep the deadline that fits what the client still has to send."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._read_phase != "body":
                self._arm("body")
        elif state is not h11.IDLE:
            self._disarm()  # the request is in; the response is ours to send


class GuardedHttpToolsProtocol(_ReadDeadlines, HttpToolsProtocol):
    """uvicorn's httptools protocol (the faster parser) with the same deadlines and bound.

    The parser's callbacks only note what the client still has to send (`_awaiting`); the
    deadline follows once the data received has been parsed. A request that arrives whole in
    one read (nearly all of them) then sets no timer at all, where arming at each callback
    set two and cancelled them.
    """

    _awaiting: ReadPhase | None = "head"

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._awaiting = "head"
        self._admit()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting is None:
            self._awaiting = "head"  # the first byte of the next request on a kept-alive one
        super().data_received(data)
        self._follow_parser()

    def _follow_parser(self) -> None:
        """The deadline for what the client still has to send, once its data is parsed."""
        if self._awaiting is None:
            self._disarm()
        elif self._awaiting != self._read_phase:
            self._arm(self._awaiting)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._awaiting = "body"

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting = None


def server_config(
    app: Any,
    host: str,
    port: int,
    settings: ServeSettings = SERVE_DEFAULTS,
    parser: HttpParser = "httptools",
    **extra: Any,
) -> uvicorn.Config:
    """The uvicorn configuration `serve` runs (and the tests start on loopback)."""
    base = GuardedHttpToolsProtocol if parser == "httptools" else GuardedH11Protocol
    # The classes themselves carry the defaults; a class made here could not be pickled into
    # the worker processes of `serve --workers N`.
    protocol = (
        base if settings == SERVE_DEFAULTS else type(base.__name__, (base,), {"settings": settings})
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=settings.keep_alive_seconds,
        # Requests beyond this (once their heads are in) get 503 instead of queueing.
        limit_concurrency=settings.connections_max,
        **extra,
    )
