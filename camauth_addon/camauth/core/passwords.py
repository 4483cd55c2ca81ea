"""Password hashing (bcrypt, off the event loop) and the password policy.

Passwords are NFKC-normalised, then pre-hashed with HMAC-SHA256 and base64-encoded before
bcrypt, so every password reaches bcrypt as 44 bytes: long passphrases are used in full
(bcrypt alone ignores or, in bcrypt 5, refuses everything after byte 72) and no NUL byte can
cut one short. The HMAC key only separates this use of SHA-256 from others.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from importlib import resources
from typing import TypeVar

import bcrypt

from ..errors import BadRequest, TooManyRequests
from .hashing import FairQueue, QueueFull
from .lockouts import client_key

T = TypeVar("T")

SCHEME = "bcrypt-sha256$"
DEFAULT_ROUNDS = 12
MIN_LENGTH = 12
MAX_LENGTH = 1024
_PREHASH_KEY = b"camauth-password-v1"
# A real cost-12 hash of a random secret: unknown users cost one verification too.
_DUMMY_HASH = SCHEME + "$2b$12$P930ifqbCJJ2m8bxsWg7i.Y1JjpVruVwtVfKXcxIA4986u3r7zS.C"


class WeakPassword(BadRequest):
    """A new password that the policy refuses."""

    default_key = "weak_password"


def normalize(password: str) -> str:
    """NFKC, so the same password typed on two keyboards is the same password."""
    return unicodedata.normalize("NFKC", password)


def _prehash(password: str) -> bytes:
    digest = hmac.new(_PREHASH_KEY, normalize(password).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    """Hash a password (blocking: about 0.25 s at cost 12)."""
    return SCHEME + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash (blocking); a malformed hash never matches."""
    if not stored.startswith(SCHEME):
        return False
    try:
        return bcrypt.checkpw(_prehash(password), stored[len(SCHEME) :].encode("ascii"))
    except ValueError:
        return False


def hash_rounds(stored: str) -> int | None:
    """The bcrypt cost of a stored hash, or None when it is not ours."""
    parts = stored[len(SCHEME) :].split("$") if stored.startswith(SCHEME) else []
    return int(parts[2]) if len(parts) >= 4 and parts[2].isdigit() else None


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("camauth").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line)


def check_policy(password: str, username: str = "") -> None:
    """Refuse a short, common or trivially derived new password (NIST SP 800-63B 3.1.1.2)."""
    text = normalize(password)
    if len(text) < MIN_LENGTH:
        raise WeakPassword(
            f"Password must be at least {MIN_LENGTH} characters long", key="password_too_short"
        )
    if len(text) > MAX_LENGTH:
        raise WeakPassword(
            f"Password must be at most {MAX_LENGTH} characters long", key="password_too_long"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise WeakPassword(
            "Password must not contain control characters", key="password_invalid_characters"
        )
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        raise WeakPassword(
            "Password must not contain lone surrogates", key="password_invalid_characters"
        )
    lowered = text.casefold()
    core = lowered.strip("0123456789!@#$%^&*()-_=+.,;:?/ ")
    common = _common_passwords()
    if lowered in common or core in common or len(set(lowered)) <= 2:
        raise WeakPassword(
            "Password is too common; choose a longer phrase of unrelated words",
            key="password_too_common",
        )
    if username and username.casefold() in lowered:
        raise WeakPassword(
            "Password must not contain the username", key="password_contains_username"
        )


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _lower_priority() -> None:
    """Run hashing at the lowest priority: a login storm must not slow forward-auth."""
    native_id = getattr(threading, "get_native_id", None)
    with contextlib.suppress(AttributeError, OSError, PermissionError):
        # On Linux a thread is a task with its own nice value.
        os.setpriority(os.PRIO_PROCESS, native_id() if native_id else 0, 19)


class PasswordHasher:
    """Runs bcrypt in a small thread pool, shared fairly (see core.hashing), off the loop."""

    def __init__(self, rounds: int = DEFAULT_ROUNDS, workers: int | None = None) -> None:
        """Leave one core to the event loop."""
        self.rounds = rounds
        self._workers = workers or max(1, usable_cpus() - 1)
        self._executor = ThreadPoolExecutor(
            self._workers, thread_name_prefix="camauth-bcrypt", initializer=_lower_priority
        )
        self._running = 0
        self._queue: FairQueue[asyncio.Future[None]] = FairQueue()

    async def _run(
        self, func: Callable[[], T], client: str, priority: bool, account: str = ""
    ) -> T:
        loop = asyncio.get_running_loop()
        if self._running < self._workers and not self._queue:
            self._running += 1
        else:
            await self._wait_for_turn(loop.create_future(), client, priority, account)
        try:
            return await loop.run_in_executor(self._executor, func)
        finally:
            self._release()

    async def _wait_for_turn(
        self, ticket: asyncio.Future[None], client: str, priority: bool, account: str
    ) -> None:
        try:
            evicted = self._queue.push(
                ticket, client_key(client), account=account, priority=priority
            )
        except QueueFull:
            raise _busy() from None
        if evicted is not None and not evicted.done():
            evicted.set_exception(_busy())
        try:
            await ticket
        except asyncio.CancelledError:
            if not self._queue.remove(ticket) and ticket.done() and not ticket.cancelled():
                self._release()  # the turn was handed over just now: pass it on
            raise

    def _release(self) -> None:
        """Hand the finished hash's turn to the next waiting one, if any."""
        while (ticket := self._queue.pop()) is not None:
            if not ticket.done():
                ticket.set_result(None)
                return
        self._running -= 1

    @property
    def waiting(self) -> int:
        """How many hashes wait for a turn."""
        return len(self._queue)

    async def hash(self, password: str, *, client: str = "", priority: bool = True) -> str:
        """Hash off the event loop (an admin's own action: first in line by default)."""
        return await self._run(partial(hash_password, password, self.rounds), client, priority)

    async def verify(
        self,
        password: str,
        stored: str | None,
        *,
        client: str = "",
        account: str = "",
        priority: bool = False,
    ) -> bool:
        """Verify off the event loop; ``None`` (unknown user) checks a dummy hash and fails.

        ``account``: the username's lookup key, which shares turns like the client's address
        (see core.hashing); known or not, it is queued alike.
        """
        check = partial(verify_password, password, stored or _DUMMY_HASH)
        ok = await self._run(check, client, priority, account)
        return ok and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Whether a hash was made at another cost than the current one."""
        return hash_rounds(stored) != self.rounds

    def close(self) -> None:
        """Stop the worker threads."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _busy() -> TooManyRequests:
    return TooManyRequests(
        "Too many logins in progress, try again shortly", retry_after=1, key="busy"
    )
