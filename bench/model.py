"""What a load generator is asked to send, and what one run measured."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .processes import HOST, Headers

WRONG_PASSWORD = "wrong-password-for-bench"  # noqa: S105  # nosec B105
JSON_BODY: Headers = (("Content-Type", "application/json"),)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of request, sent over ``connections`` keep-alive connections."""

    key: str
    label: str
    port: int
    path: str
    connections: int
    method: str = "GET"
    headers: Headers = ()
    login_prefix: str = ""  # set: POST a wrong password for a fresh username each time
    expect: int = 200
    forwarded_net: int = 0  # set: each login from a fresh address 10.NET.x.y
    usernames: tuple[str, ...] = ()  # set: logins cycle through these names, not fresh ones
    addresses: int = 0  # set: logins cycle through this many addresses, not fresh ones
    count_busy: bool = False  # count the 429s that say the hashing queue is full
    delay_ms: float = 0.0  # set: each connection waits this long between its requests

    @property
    def url(self) -> str:
        """Where the requests go."""
        return f"http://{HOST}:{self.port}{self.path}"

    @property
    def is_login(self) -> bool:
        """Whether each request is a wrong-password login with its own body."""
        return bool(self.login_prefix or self.usernames)

    def username(self, number: int) -> str:
        """The username of the ``number``-th login."""
        if self.usernames:
            return self.usernames[number % len(self.usernames)]
        return f"{self.login_prefix}{number}"

    def address(self, number: int) -> str:
        """The client address (``X-Forwarded-For``) of the ``number``-th login."""
        return forwarded_for(
            self.forwarded_net, number % self.addresses if self.addresses else number
        )


def forwarded_for(net: int, number: int) -> str:
    """The client address of the ``number``-th login of a storm: 10.NET.x.y."""
    return f"10.{net}.{number // 256 % 256}.{number % 256}"


def login_body(username: str) -> str:
    """A wrong-password login for ``username``."""
    return json.dumps({"username": username, "password": WRONG_PASSWORD})


@dataclass(slots=True)
class Result:
    """What one load run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # connect/read/write errors and timeouts
    unexpected: int  # answers with another status than the expected one
    status_after: int = 0  # one request right after the run
    counts: dict[str, int] = field(default_factory=dict)  # answers by status, and "busy"
    cpu_us: float | None = None  # the server's CPU time (all threads) per answered request


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]
