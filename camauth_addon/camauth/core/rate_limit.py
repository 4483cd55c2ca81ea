"""Failed-login limits per client address and per username, with bounded memory.

The ``limits`` library parses the notation (``"1/second;5/minute;20/hour"``) and defines each
window; the counting is a moving window kept here, because every key must have a hard memory
bound: at most ``max(amount)`` timestamps per key, and a capped number of keys for names that
are not users, so a flood of random usernames cannot grow memory or push real users out.
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict, deque
from dataclasses import dataclass

import limits


@dataclass(frozen=True, slots=True)
class Window:
    """``amount`` failures per ``seconds``."""

    amount: int
    seconds: int


def parse_windows(notation: str) -> tuple[Window, ...]:
    """Windows from the ``limits`` notation; empty text means no limit."""
    if not notation.strip():
        return ()
    return tuple(Window(item.amount, item.get_expiry()) for item in limits.parse_many(notation))


def failures_per_hour(windows: tuple[Window, ...]) -> float:
    """The most failures the windows allow within any hour (inf without windows)."""
    best = math.inf
    for window in windows:
        periods = math.ceil(3600 / window.seconds) if window.seconds < 3600 else 1
        best = min(best, window.amount * periods)
    return best


def wait_time(stamps: deque[float], windows: tuple[Window, ...], now: float) -> float:
    """Seconds until one more failure would be allowed (0 when it is allowed now)."""
    wait = 0.0
    size = len(stamps)  # oldest first, at most max(amount) of them
    for window in windows:
        recent = size - bisect.bisect_right(stamps, now - window.seconds)
        if recent >= window.amount:
            wait = max(wait, stamps[size - window.amount] + window.seconds - now)
    return wait


class Counter:
    """Moving-window failure counts for one kind of key."""

    def __init__(self, windows: tuple[Window, ...], max_keys: int | None = None) -> None:
        """Count against ``windows``; past ``max_keys`` keys, the least recent is forgotten."""
        self.windows = windows
        self._depth = max((w.amount for w in windows), default=0)
        self._longest = max((w.seconds for w in windows), default=0)
        self._keys: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys

    def wait(self, key: str, now: float, windows: tuple[Window, ...] | None = None) -> float:
        """Seconds this key must wait before its next attempt (against some windows only)."""
        stamps = self._keys.get(key)
        if not stamps:
            return 0.0
        return wait_time(stamps, self.windows if windows is None else windows, now)

    def add(self, key: str, now: float) -> None:
        """Count one attempt for ``key``."""
        if not self.windows:
            return
        stamps = self._keys.get(key)
        if stamps is None:
            stamps = self._keys[key] = deque(maxlen=self._depth)
            if self._max_keys is not None and len(self._keys) > self._max_keys:
                self._keys.popitem(last=False)
        self._keys.move_to_end(key)
        stamps.append(now)

    def clear(self, key: str) -> None:
        """Forget a key's failures (a lifted lockout)."""
        self._keys.pop(key, None)

    def prune(self, now: float) -> None:
        """Drop keys whose failures have all left every window."""
        horizon = now - self._longest
        stale = [key for key, stamps in self._keys.items() if stamps[-1] <= horizon]
        for key in stale:
            del self._keys[key]

    def __len__(self) -> int:
        return len(self._keys)
