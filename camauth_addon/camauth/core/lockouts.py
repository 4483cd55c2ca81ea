"""The login guard: rate limits per client and per username, and lockouts as state.

Every 429 is a throttle; a *lockout* is a key that has used up a window of at least
``LOCKOUT_MIN_WINDOW`` seconds (so ``1/second`` alone throttles without raising alarms).
A lockout emits ``lockout_started`` once and ``lockout_ended`` when it expires or is lifted.
Unknown usernames are counted exactly like real ones, so a lockout reveals nothing about
which names exist; they live in a capped table that can never push real users' counts out.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
from dataclasses import dataclass, replace
from typing import Any

from . import events
from .events import EventBus
from .rate_limit import Counter, Window

LOCKOUT_MIN_WINDOW = 10
# Limits count completed failures, so concurrent logins by real users never trip them; this
# caps how many guesses per key can be in flight at once, which bounds the overshoot.
MAX_IN_FLIGHT = 8
MAX_CLIENT_KEYS = 20_000
MAX_UNKNOWN_USER_KEYS = 5_000
MAX_DEVICE_KEYS = 20_000
KIND_CLIENT = "client"
KIND_USERNAME = "username"
KIND_DEVICE = "device"  # a known browser (core.devices): counted on its own, never announced


@functools.lru_cache(maxsize=4096)  # asked on every login; a pure function of the text
def client_key(address: str) -> str:
    """The counting key of an address: IPv6 counts per /64, the block one home gets."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(frozen=True, slots=True)
class Lockout:
    """A client address or username that may not try again until ``until``."""

    id: int
    kind: str
    key: str
    started_at: float
    until: float
    client: str  # the address whose failure started it

    def as_json(self, now: float) -> dict[str, Any]:
        """The lockout as the API lists it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "started_at": self.started_at,
            "until": self.until,
            "retry_after": max(0, round(self.until - now)),
            "client": self.client,
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt in progress."""

    client: str
    username: str
    known: bool
    stamp: float
    device: str | None = None  # a device known to this user: judged on its own failures only


class LoginGuard:
    """Decides whether a login may be tried, and tracks lockouts."""

    def __init__(
        self, client_windows: tuple[Window, ...], user_windows: tuple[Window, ...], bus: EventBus
    ) -> None:
        """Count failures per client and per username against the given windows."""
        self._bus = bus
        self._clients = Counter(client_windows, MAX_CLIENT_KEYS)
        self._users = Counter(user_windows)
        self._unknown = Counter(user_windows, MAX_UNKNOWN_USER_KEYS)
        self._devices = Counter(user_windows, MAX_DEVICE_KEYS)
        self._active: dict[tuple[str, str], Lockout] = {}
        self._in_flight: dict[tuple[str, str], int] = {}
        self._ids = itertools.count(1)

    def _counters(self, attempt: Attempt) -> list[tuple[str, str, Counter]]:
        if attempt.device is not None:  # not stopped by what others did, nor counted for them
            return [(KIND_DEVICE, attempt.device, self._devices)]
        users = self._users if attempt.known else self._unknown
        return [
            (KIND_CLIENT, client_key(attempt.client), self._clients),
            (KIND_USERNAME, attempt.username, users),
        ]

    def wait(self, attempt: Attempt) -> float:
        """Seconds before this attempt may go ahead (0: now)."""
        counters = self._counters(attempt)
        if any(self._in_flight.get((kind, key), 0) >= MAX_IN_FLIGHT for kind, key, _ in counters):
            return 1.0
        # An active lockout holds even if a capped table has since forgotten the key's
        # failures: otherwise a flood of random names would unlock unknown names only.
        locked = (self._active.get((kind, key)) for kind, key, _ in counters)
        until = max((lockout.until for lockout in locked if lockout), default=0.0)
        waits = (counter.wait(key, attempt.stamp) for _, key, counter in counters)
        return max(until - attempt.stamp, *waits)

    def client_wait(self, client: str, now: float) -> float:
        """Seconds a client must wait, judged before its request body is even read."""
        key = client_key(client)
        lockout = self._active.get((KIND_CLIENT, key))
        return max(lockout.until - now if lockout else 0.0, self._clients.wait(key, now))

    def device_blocked(self, device: str, now: float) -> bool:
        """Whether a known device has used up its own limits (then it counts as a stranger)."""
        return self._devices.wait(device, now) > 0

    def begin(self, attempt: Attempt) -> None:
        """Note an attempt in progress: parallel guesses per key are capped, not unlimited."""
        for kind, key, _ in self._counters(attempt):
            self._in_flight[(kind, key)] = self._in_flight.get((kind, key), 0) + 1

    def _done(self, attempt: Attempt) -> None:
        for kind, key, _ in self._counters(attempt):
            left = self._in_flight.pop((kind, key), 1) - 1
            if left > 0:
                self._in_flight[(kind, key)] = left

    def succeeded(self, attempt: Attempt) -> None:
        """A right password: the attempt does not count."""
        self._done(attempt)

    def failed(self, attempt: Attempt, now: float) -> None:
        """A wrong password: count it, and start a lockout for each key now over a window."""
        self._done(attempt)
        for kind, key, counter in self._counters(attempt):
            counter.add(key, now)
            wait = _locking_wait(counter, key, now)
            if wait <= 0 or kind == KIND_DEVICE:
                continue
            current = self._active.get((kind, key))
            if current is None:
                self._start(kind, key, now, now + wait, attempt)
            else:
                self._active[(kind, key)] = replace(current, until=now + wait)

    def _start(self, kind: str, key: str, now: float, until: float, attempt: Attempt) -> None:
        lockout = Lockout(next(self._ids), kind, key, now, until, attempt.client)
        self._active[(kind, key)] = lockout
        self._bus.emit(
            events.LOCKOUT_STARTED,
            username=attempt.username if kind == KIND_USERNAME else None,
            client=attempt.client,
            lockout_id=lockout.id,
            kind=kind,
            key=key,
            until=until,
        )

    def lockouts(self) -> list[Lockout]:
        """Active lockouts, oldest first."""
        return sorted(self._active.values(), key=lambda lockout: lockout.id)

    def lift(self, lockout_id: int, by: str) -> bool:
        """End one lockout now and forget its failures."""
        for lockout in list(self._active.values()):
            if lockout.id == lockout_id:
                self._end(lockout, "lifted", by)
                return True
        return False

    def lift_all(self, by: str) -> int:
        """End every lockout now."""
        current = self.lockouts()
        for lockout in current:
            self._end(lockout, "lifted", by)
        return len(current)

    def _end(self, lockout: Lockout, reason: str, by: str | None = None) -> None:
        del self._active[(lockout.kind, lockout.key)]
        if reason == "lifted":
            counters = (
                [self._clients] if lockout.kind == KIND_CLIENT else [self._users, self._unknown]
            )
            for counter in counters:
                counter.clear(lockout.key)
        self._bus.emit(
            events.LOCKOUT_ENDED,
            username=lockout.key if lockout.kind == KIND_USERNAME else None,
            client=lockout.client,
            lockout_id=lockout.id,
            kind=lockout.kind,
            key=lockout.key,
            reason=reason,
            **({"by": by} if by else {}),
        )

    def sweep(self, now: float) -> None:
        """End expired lockouts and forget old failures (run every second)."""
        for lockout in list(self._active.values()):
            counters = (
                [self._clients] if lockout.kind == KIND_CLIENT else [self._users, self._unknown]
            )
            if all(_locking_wait(c, lockout.key, now) <= 0 for c in counters):
                self._end(lockout, "expired")
        for counter in (self._clients, self._users, self._unknown, self._devices):
            counter.prune(now)

    def tracked_keys(self) -> int:
        """How many keys are being counted (for the memory-bound tests and stats)."""
        return len(self._clients) + len(self._users) + len(self._unknown)


def _locking_wait(counter: Counter, key: str, now: float) -> float:
    """The key's wait if a window long enough to be a lockout is used up, else 0."""
    long_windows = tuple(w for w in counter.windows if w.seconds >= LOCKOUT_MIN_WINDOW)
    if not long_windows or counter.wait(key, now, long_windows) <= 0:
        return 0.0
    return counter.wait(key, now)
