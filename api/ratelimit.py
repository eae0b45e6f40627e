"""A bounded sliding-window counter of sign-in attempts per client address."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

CLIENTS_TRACKED_MAX = 10_000


class SlidingWindowLimiter:
    def __init__(self, attempts_max: int, window_seconds: float = 60.0) -> None:
        if attempts_max < 1 or window_seconds <= 0:
            raise ValueError("a limiter allows at least one attempt in a positive window")
        self.attempts_max = attempts_max
        self.window_seconds = window_seconds
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one attempt by `client`; False when it is over the limit for the window."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            attempts = self._attempts.pop(client, deque())
            while attempts and attempts[0] <= moment - self.window_seconds:
                attempts.popleft()
            allowed = len(attempts) < self.attempts_max
            if allowed:
                attempts.append(moment)
            self._attempts[client] = attempts
            while len(self._attempts) > CLIENTS_TRACKED_MAX:
                self._attempts.popitem(last=False)
            return allowed
