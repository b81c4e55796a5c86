"""Throttle failed logins per account and per client address (HTTP 429 with ``Retry-After``).

A sliding window: once an account has had ``account_failures`` failed logins within ``window`` (from
any address), or an address ``address_failures`` (on any account), further attempts are refused
until the oldest of those failures leaves the window; a successful login clears the account's count
(not the address's, so an attacker cannot reset it with a login of their own). A refused attempt is
not checked at all (no password hashing), so a guesser gets ``account_failures`` guesses per window.

The counts live in this process's memory (bounded: the least recently failed keys are dropped past
``max_keys``): they are lost on restart and not shared between uvicorn worker processes, each of which
throttles on its own (docs/api.md says so). An attacker who knows a login name can keep that account
throttled, its owner included, for as long as they keep failing: the price of stopping online guessing
(the window is short, and the password policy makes the few guesses allowed worthless).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from saylau.errors import AccessDenied

__all__ = ["LoginLimiter", "TooManyLogins"]


class TooManyLogins(AccessDenied):
    """Too many failed logins for this account or address; ``retry_after`` seconds to wait (HTTP 429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Window:
    """Failure times per key, at most ``limit`` each, for at most ``max_keys`` keys."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds ``key`` must still wait (0: may try)."""
        times = self.failures.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.failures[key]
            return 0.0
        return times[0] + self.window - now if len(times) >= self.limit else 0.0

    def fail(self, key: str, now: float) -> None:
        times = self.failures.pop(key, None) or deque(maxlen=self.limit)
        times.append(now)
        self.failures[key] = times  # most recent last
        while len(self.failures) > self.max_keys:
            self.failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self.failures.pop(key, None)


class LoginLimiter:
    """Failed-login throttle; ``clock`` (seconds, monotonic) is injectable for tests."""

    def __init__(
        self,
        account_failures: int = 10,
        address_failures: int = 50,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        """``account_failures`` per account and ``address_failures`` per address within the window."""
        self.clock = clock
        self._accounts = _Window(account_failures, window_seconds, max_keys)
        self._addresses = _Window(address_failures, window_seconds, max_keys)
        self._lock = threading.Lock()

    def check(self, username: str, address: str) -> None:
        """Raise ``TooManyLogins`` (naming what is throttled, never the password) if must wait."""
        with self._lock:
            now = self.clock()
            account = self._accounts.wait(username, now)
            addr = self._addresses.wait(address, now)
        wait = max(account, addr)
        if wait > 0:
            what = "this account" if account >= addr else "this client address"
            raise TooManyLogins(
                f"login: too many failed logins for {what}; try again in {math.ceil(wait)} s",
                math.ceil(wait),
            )

    def failed(self, username: str, address: str) -> None:
        """Count a failed login."""
        with self._lock:
            now = self.clock()
            self._accounts.fail(username, now)
            self._addresses.fail(address, now)

    def succeeded(self, username: str) -> None:
        """A successful login clears the account's failures."""
        with self._lock:
            self._accounts.clear(username)
