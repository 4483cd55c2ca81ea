"""The owner still gets in during a flood (issue 7, item 9; PRODUCT.md, the CVE list).

A CamAuth of its own, trusting 127.0.0.1 as its proxy, so ``X-Forwarded-For`` names the
client. Before the flood, the owner's browser logs in as ``admin`` and keeps the
``camauth_device`` cookie it gets, and a second user is created. Then a botnet floods wrong
passwords from 1,000 addresses, half of them for ``admin`` (whose name strangers soon lock)
and half for other names, over more connections than the hashing queue holds, so the queue
stays full and the overflow is told "busy". During the flood:

- the owner's browser logs in as ``admin`` again, sending its device cookie: it must succeed
  at its first try (it skips the strangers' queue and their lockout of the name);
- a new browser, from a new address and without a device cookie, logs in as the other user,
  retrying on 429 after ``Retry-After`` as a person would: it must succeed within 30 s (a
  never-served address goes first among strangers);
- a stranger with admin's right password, for comparison: no target (the name is locked).

The flood is paced (``--flood-rate``, 1,000 logins a second by default): plenty to keep the
hashing queue full, without taking the whole of the one core the server is pinned to. An
unpaced flood (``--flood-rate 0``) also measures what happens when it does: the event loop
answering tens of thousands of 429s leaves the hashing thread (lowest priority, same core)
almost no time.
"""

from __future__ import annotations

import contextlib
import http.client
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .loadgen import LoadGenerator
from .model import JSON_BODY, Result, Scenario
from .processes import Headers, Pinning, stop_process
from .servers import (
    BEHIND_PROXY,
    DEVICE_COOKIE,
    admin_call,
    banner_password,
    cookies_of,
    log_in,
    spawn_camauth,
    token_of,
)

FLOOD_NET = 20  # the botnet's addresses: 10.20.x.y
FLOOD_ADDRESSES = 1000
FLOOD_CONNECTIONS = 320  # more than the hashing queue holds (core.hashing.MAX_WAITING, 256)
OTHER_NAMES = 31  # besides admin, who gets half of the flood
FLOOD_RATE = 1000.0  # logins/s: the queue stays full, the server's one core does not
FLOOD_LEAD = 5.0  # seconds the flood runs before the owner tries: the queue fills, admin locks
NEW_DEVICE_TARGET = 30.0
NEW_DEVICE_GIVE_UP = 45.0  # keep trying a while past the target, to say how long it took
OWNER = (("X-Forwarded-For", "10.99.0.1"),)  # the owner's browser, before and during
NEWCOMER = (("X-Forwarded-For", "10.98.0.1"),)  # a browser never seen before
STRANGER = (("X-Forwarded-For", "10.97.0.1"),)
USER = "bench-viewer"


@dataclass(frozen=True, slots=True)
class Attempt:
    """How a login during the flood went: its status, tries, and seconds to the last answer."""

    status: int
    tries: int
    seconds: float


@dataclass(frozen=True, slots=True)
class FloodResult:
    """The owner's, the newcomer's and a stranger's logins, and the flood's own figures."""

    known_device: Attempt  # one try only
    new_device: Attempt  # retried on 429 until 200 or NEW_DEVICE_GIVE_UP
    stranger_admin: Attempt  # admin's right password from an unknown browser: one try
    flood: Result
    seconds: float  # how long the flood ran
    rate: float  # logins a second it was paced at (0: unpaced)

    @property
    def known_first_try(self) -> bool:
        """Whether the owner's known browser got in at its first try."""
        return self.known_device.status == 200

    @property
    def new_within_target(self) -> bool:
        """Whether the new browser got in within 30 s."""
        return self.new_device.status == 200 and self.new_device.seconds <= NEW_DEVICE_TARGET


def flood_scenario(port: int, rate: float = FLOOD_RATE) -> Scenario:
    """Wrong passwords from 1,000 addresses, for admin (every other one) and other names.

    At about ``rate`` logins a second (0: as fast as the server answers).
    """
    names: list[str] = []
    for number in range(OTHER_NAMES):
        names += ["admin", f"flood-user-{number}"]
    return Scenario(
        "flood",
        "the flood: wrong pw, 1,000 addresses",
        port,
        "/api/login",
        FLOOD_CONNECTIONS,
        "POST",
        JSON_BODY,
        expect=401,
        forwarded_net=FLOOD_NET,
        usernames=tuple(names),
        addresses=FLOOD_ADDRESSES,
        count_busy=True,
        delay_ms=FLOOD_CONNECTIONS / rate * 1000 if rate > 0 else 0.0,
    )


def _login(
    port: int, username: str, password: str, headers: Headers, timeout: float
) -> tuple[int, float]:
    """A login's status (0: no answer in ``timeout``) and the seconds it was told to wait."""
    try:
        status, answer, _ = log_in(port, username, password, headers, timeout)
    except (OSError, http.client.HTTPException):  # a timeout is an OSError
        return 0, 0.0
    return status, min(5.0, max(1.0, float(answer.get("Retry-After") or 1)))


def _once(port: int, username: str, password: str, headers: Headers, give_up: float) -> Attempt:
    started = time.perf_counter()
    status, _ = _login(port, username, password, headers, give_up)
    return Attempt(status, 1, time.perf_counter() - started)


def _retrying(port: int, username: str, password: str, headers: Headers, give_up: float) -> Attempt:
    """Log in as a person would: on 429, wait as told (1 to 5 s) and try again."""
    started, tries = time.perf_counter(), 0
    while True:
        tries += 1
        left = give_up - (time.perf_counter() - started)
        status, wait = _login(port, username, password, headers, max(1.0, left))
        elapsed = time.perf_counter() - started
        if status != 429 or elapsed >= give_up:
            return Attempt(status, tries, elapsed)
        time.sleep(min(wait, max(0.0, give_up - elapsed)))


def run_flood(
    work: Path,
    pin: Pinning,
    gen: LoadGenerator,
    give_up: float = NEW_DEVICE_GIVE_UP,
    rate: float = FLOOD_RATE,
) -> FloodResult:
    """Start a CamAuth for the flood, prepare the owner's browser, flood, try, stop.

    Each login during the flood gets an answer within ``give_up`` seconds, or counts as
    none; the new device keeps trying until then.
    """
    print("  the owner's logins during a flood from 1,000 addresses ...", file=sys.stderr)
    with contextlib.ExitStack() as own:
        server = spawn_camauth(own, "flood", work / "flood", BEHIND_PROXY, pin)
        password = banner_password(server.log)
        status, answer, raw = log_in(server.port, "admin", password, OWNER)
        if status != 200:
            raise RuntimeError(f"the owner's first login answered {status}: {raw[:200]!r}")
        jar = cookies_of(answer)
        device = jar[DEVICE_COOKIE].value if DEVICE_COOKIE in jar else ""
        user_password = f"bench {secrets.token_urlsafe(12)}"
        body = {"username": USER, "password": user_password, "role": "viewer"}
        admin_call(server.port, token_of(raw), "POST", "/api/users", body)
        owner = (*OWNER, ("Cookie", f"{DEVICE_COOKIE}={device}"))

        started = time.perf_counter()
        flood = flood_scenario(server.port, rate)
        background = gen.start(flood, FLOOD_LEAD + 3 * give_up + 10)
        try:
            time.sleep(FLOOD_LEAD)
            known = _once(server.port, "admin", password, owner, give_up)
            new = _retrying(server.port, USER, user_password, NEWCOMER, give_up)
            stranger = _once(server.port, "admin", password, STRANGER, give_up)
        finally:
            flooded = background.stop()
        seconds = time.perf_counter() - started
        stop_process(server.proc)
    return FloodResult(known, new, stranger, flooded, seconds, rate)
