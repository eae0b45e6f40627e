"""How `livelihood-ledger serve` runs the app: uvicorn, with deadlines for slow clients.

uvicorn times out idle keep-alive connections (`timeout_keep_alive`) and answers 503 beyond
`limit_concurrency`, but it has no deadline for reading a request: a client that sends its
headers (or its body) a byte at a time holds a connection open for as long as it likes, and
enough of them hold every connection. `GuardedH11Protocol` is uvicorn's h11 protocol with:

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

_log = logging.getLogger("api.serving")


@dataclass(frozen=True, slots=True)
class ServeSettings:
    header_read_seconds: float = 10.0
    body_read_seconds: float = 60.0
    connections_max: int = 500
    keep_alive_seconds: int = 5


SERVE_DEFAULTS = ServeSettings()
ReadPhase = Literal["head", "body"]


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with read deadlines and a bound on open connections."""

    settings: ServeSettings = SERVE_DEFAULTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._read_phase: ReadPhase | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.settings.connections_max:
            _log.warning("refused a connection: %d open", len(self.connections) - 1)
            transport.close()
            return
        self._arm("head")

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


def server_config(
    app: Any, host: str, port: int, settings: ServeSettings = SERVE_DEFAULTS, **extra: Any
) -> uvicorn.Config:
    """The uvicorn configuration `serve` runs (and the tests start on loopback)."""
    protocol = type("GuardedH11Protocol", (GuardedH11Protocol,), {"settings": settings})
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
