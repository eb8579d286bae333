"""The sign-in throttle: failed attempts per (client address, name) and per client address, in a sliding
window, counted atomically.

An attempt takes its slot *before* the password is checked (argon2 takes a while, and requests in flight
would otherwise all read the same count) and gives it back only when the password was right. Keying on
the client's address means a stranger cannot lock a rep out by failing on the rep's name: the rep's own
address has its own count. Memory is bounded: past ``max_keys`` expired keys are swept, then the keys with
the fewest recent failures (a name sprayed once) go first, down to nine tenths — never the whole table,
and never a count that is at its limit before one that is not.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_S = 600.0
FAILURES_PER_ADDRESS_AND_NAME = 10
FAILURES_PER_ADDRESS = 50  # across names: one client spraying names
MAX_KEYS = 100_000


@dataclass
class Attempt:
    """A slot taken for one sign-in attempt; ``succeeded`` gives it back."""

    keys: tuple[tuple[str, ...], ...]
    at: float
    _throttle: SigninThrottle = field(repr=False)

    def succeeded(self) -> None:
        self._throttle._forget(self)


class SigninThrottle:
    def __init__(self, per_address_and_name: int = FAILURES_PER_ADDRESS_AND_NAME, per_address: int = FAILURES_PER_ADDRESS,
                 window_s: float = WINDOW_S, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic):
        self.limits = {"address_name": per_address_and_name, "address": per_address}
        self.window_s, self.max_keys, self.clock = window_s, max_keys, clock
        self._times: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def try_attempt(self, address: str, name: str) -> Attempt | None:
        """A slot for this attempt, or None when either count is at its limit (the caller answers 429)."""
        keys = (("address_name", address, name), ("address", address))
        with self._lock:
            now = self.clock()
            for key in keys:
                if len(self._recent(key, now)) >= self.limits[key[0]]:
                    return None
            for key in keys:
                self._times.setdefault(key, deque()).append(now)
            self._bound(now)
            return Attempt(keys, now, self)

    def __len__(self) -> int:
        return len(self._times)

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._times.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _forget(self, attempt: Attempt) -> None:
        """A right password: its slot goes back, and that address's failures on that name are forgiven."""
        with self._lock:
            self._times.pop(attempt.keys[0], None)
            times = self._times.get(attempt.keys[1])
            if times is not None and attempt.at in times:
                times.remove(attempt.at)

    def _bound(self, now: float) -> None:
        if len(self._times) <= self.max_keys:
            return
        for key in [key for key, times in self._times.items() if not times or times[-1] <= now - self.window_s]:
            del self._times[key]
        if len(self._times) > self.max_keys:
            by_weight = sorted(self._times, key=lambda key: (len(self._recent(key, now)), self._times[key][-1]))
            for key in by_weight[: len(self._times) - self.max_keys * 9 // 10]:
                del self._times[key]
