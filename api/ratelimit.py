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


class UsernameLockout:
    """Failed sign-ins per attempted username, in memory, known user or not.

    The database locks a real account after repeated failures; this answers an unknown
    username the same way at the same moment, so the 429 tells nobody which usernames exist.
    """

    def __init__(self, failures_max: int, lockout_seconds: float) -> None:
        if failures_max < 1 or lockout_seconds <= 0:
            raise ValueError("a lock-out needs at least one failure and a positive window")
        self.failures_max = failures_max
        self.lockout_seconds = lockout_seconds
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def is_locked(self, username: str, now: float | None = None) -> bool:
        moment = time.monotonic() if now is None else now
        with self._lock:
            failures, locked_until = self._failures.get(username, (0, 0.0))
            return failures >= self.failures_max and moment < locked_until

    def record_failure(self, username: str, now: float | None = None) -> bool:
        """Count a failure; True when this username is now locked."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            failures, locked_until = self._failures.pop(username, (0, 0.0))
            if failures >= self.failures_max and moment >= locked_until:
                failures = 0  # the previous lock-out is over: start counting again
            failures += 1
            self._failures[username] = (failures, moment + self.lockout_seconds)
            while len(self._failures) > CLIENTS_TRACKED_MAX:
                self._failures.popitem(last=False)
            return failures >= self.failures_max

    def reset(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)
