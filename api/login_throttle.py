"""Growing delays for wrong passwords: per address, per username, and per pair of both.

A lock-out that anyone can trigger is a way to keep the real user out (ten wrong passwords for
`admin` from anywhere used to lock `admin` for everyone). Here nothing locks an account:

- an address that keeps failing waits longer and longer before it may try again, whichever
  usernames it tries (this is what limits one guesser);
- a username that keeps failing waits longer and longer too, but only for the addresses that
  have failed for it more than `pair_failures_unthrottled` times: a guesser slows down
  itself, while the user at another address (with no failure, or a typo or two, for that
  username) is let through at once and signs in with the right password. A guesser with many
  addresses gets a few tries per address, no more.

The delay doubles after `free_failures` from `delay_seconds_first` up to `delay_seconds_max`;
a success clears only its pair: neither the address (signing in to one's own account must
not buy more guesses at another's) nor the username (the real user signing in must not wipe a
guesser's record). Failures are forgotten after `forget_seconds` without one. In memory,
per process, bounded; the clock is injectable.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

THROTTLE_KEYS_TRACKED_MAX = 30_000


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    free_failures: int = 5
    # Failures of one (username, address) pair before the username's delay applies to it.
    pair_failures_unthrottled: int = 2
    delay_seconds_first: float = 1.0
    delay_seconds_max: float = 15 * 60
    forget_seconds: float = 60 * 60
    keys_tracked_max: int = THROTTLE_KEYS_TRACKED_MAX


THROTTLE_DEFAULTS = ThrottleSettings()


@dataclass(frozen=True, slots=True)
class _Failures:
    count: int
    last_at: float


def delay_seconds(failures: int, settings: ThrottleSettings) -> float:
    """How long after the last of `failures` failures the next try must wait."""
    beyond = failures - settings.free_failures
    if beyond <= 0:
        return 0.0
    # The exponent is capped so that a huge count never builds a huge float.
    return min(
        settings.delay_seconds_first * 2.0 ** min(beyond - 1, 64), settings.delay_seconds_max
    )


class GrowingDelay:
    """Failures per key, each key's next try delayed by `delay_seconds` of its count."""

    def __init__(self, settings: ThrottleSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self._clock = clock
        self._failures: OrderedDict[Hashable, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def _current(self, key: Hashable, now: float) -> _Failures | None:
        found = self._failures.get(key)
        if found is not None and now - found.last_at > self.settings.forget_seconds:
            del self._failures[key]
            return None
        return found

    def count(self, key: Hashable) -> int:
        """The failures of `key` not yet forgotten."""
        with self._lock:
            found = self._current(key, self._clock())
            return 0 if found is None else found.count

    def wait_seconds(self, key: Hashable) -> float:
        """0 when `key` may try now, else how many seconds it must still wait."""
        with self._lock:
            now = self._clock()
            found = self._current(key, now)
            if found is None:
                return 0.0
            return max(0.0, found.last_at + delay_seconds(found.count, self.settings) - now)

    def record_failure(self, key: Hashable) -> None:
        with self._lock:
            now = self._clock()
            found = self._current(key, now)
            count = 1 if found is None else found.count + 1
            self._failures.pop(key, None)
            self._failures[key] = _Failures(count, now)
            while len(self._failures) > self.settings.keys_tracked_max:
                self._failures.popitem(last=False)  # the longest quiet key

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginThrottle:
    """Whether a sign-in for (username, address) may be checked now; what a result teaches."""

    def __init__(
        self, settings: ThrottleSettings | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings or ThrottleSettings()
        self.by_address = GrowingDelay(self.settings, clock)
        self.by_username = GrowingDelay(self.settings, clock)
        self.by_pair = GrowingDelay(self.settings, clock)

    def wait_seconds(self, username: str, address: str) -> float:
        """0 when the password may be checked now, else the seconds to wait."""
        waits = [
            self.by_address.wait_seconds(address),
            self.by_pair.wait_seconds((username, address)),
        ]
        if self.by_pair.count((username, address)) > self.settings.pair_failures_unthrottled:
            waits.append(self.by_username.wait_seconds(username))
        return max(waits)

    def record_failure(self, username: str, address: str) -> None:
        self.by_address.record_failure(address)
        self.by_username.record_failure(username)
        self.by_pair.record_failure((username, address))

    def record_success(self, username: str, address: str) -> None:
        self.by_pair.forget((username, address))
