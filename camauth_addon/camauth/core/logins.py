"""Logging in: limits first, then the password, then a session; one answer for every failure."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from math import ceil

from ..const import ROLE_ADMIN, ROLE_VIEWER
from ..errors import BadRequest, TooManyRequests, Unauthorized
from ..storage import users as store
from ..storage.db import Database
from ..storage.users import User
from . import events
from .devices import Device, DeviceCookies
from .events import EventBus
from .identity import Identity
from .lockouts import Attempt, LoginGuard
from .names import lookup_key
from .passwords import PasswordHasher
from .sessions import Actor, LoginResult, SessionService
from .users import UserService

MAX_USERNAME_KEY = 256
MAX_LOGIN_FIELD = 1024
INVALID_CREDENTIALS = "Invalid username or password"
SOURCE_HOME_ASSISTANT = "homeassistant"
_HA_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")

HomeAssistantCheck = Callable[[str, str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Login:
    """A successful login: the session's token, and the browser's device cookie."""

    result: LoginResult
    device_cookie: str | None  # a new one to set, or None to keep the browser's own


def _rate_limited(wait: float) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed logins, try again later", retry_after=ceil(wait), key="rate_limited"
    )


class LoginService:
    """Checks passwords under the login guard and starts sessions; emits login events."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        guard: LoginGuard,
        users: UserService,
        sessions: SessionService,
        bus: EventBus,
        devices: DeviceCookies,
        home_assistant: HomeAssistantCheck | None = None,
        home_assistant_admins: tuple[str, ...] = (),
    ) -> None:
        """Wire the parts; ``home_assistant`` checks Home Assistant accounts (the add-on)."""
        self.devices = devices
        self.home_assistant = home_assistant
        self._home_assistant_admins = frozenset(home_assistant_admins)
        self._db = db
        self._hasher = hasher
        self._guard = guard
        self._users = users
        self._sessions = sessions
        self._bus = bus

    def check_client(self, client: str, device: Device | None = None) -> None:
        """Refuse a client over its limit at once: a flood costs no parsing and no hashing.

        A known device is judged once its username is read (see :meth:`check_password`).
        """
        wait = 0.0 if device is not None else self._guard.client_wait(client, time.time())
        if wait > 0:
            raise _rate_limited(wait)

    async def _authenticate(
        self, username: str, password: str, client: str, trusted: bool
    ) -> User | None:
        """The user if the password is right; always costs one bcrypt verification."""
        user = None
        if len(username) <= MAX_LOGIN_FIELD:
            user = await self._db.run(store.get_user, username)
        stored = user.password_hash if user else None
        account = lookup_key(username)[:MAX_USERNAME_KEY]
        ok = await self._hasher.verify(
            password, stored, client=client, account=account, priority=trusted
        )
        if not ok or user is None:
            return None
        if self._hasher.needs_rehash(user.password_hash):
            await self._users.rehash(user, password)
        return user

    def _attempt(self, username: str, client: str, device: Device | None) -> Attempt:
        key, now = lookup_key(username)[:MAX_USERNAME_KEY], time.time()
        trusted = (
            device is not None
            and device.username_key == key
            and not self._guard.device_blocked(device.device_id, now)
        )
        device_id = device.device_id if trusted and device is not None else None
        return Attempt(client, key, self._sessions.directory.has_username(key), now, device_id)

    async def _authenticate_home_assistant(
        self, username: str, password: str, client: str, trusted: bool
    ) -> User | None:
        """The user a Home Assistant account logs in as, if Home Assistant says yes."""
        if self.home_assistant is None or not _HA_NAME.fullmatch(username):
            return None
        if not await self.home_assistant(username, password):
            return None
        role = ROLE_ADMIN if username in self._home_assistant_admins else ROLE_VIEWER
        return await self._users.home_assistant_user(username, role)

    async def check_password(
        self,
        username: str,
        password: str,
        client: str,
        *,
        purpose: str = "login",
        device: Device | None = None,
        source: str = "local",
    ) -> User:
        """Check limits, then credentials; the user as read when the password was checked."""
        attempt = self._attempt(username, client, device)
        key = attempt.username
        wait = self._guard.wait(attempt)
        if wait > 0:  # refused before any hashing: a flood costs no bcrypt time
            raise _rate_limited(wait)
        self._guard.begin(attempt)
        try:
            trusted = attempt.device is not None
            check = (
                self._authenticate_home_assistant
                if source == SOURCE_HOME_ASSISTANT
                else self._authenticate
            )
            user = await check(username, password, client, trusted)
        except BaseException:
            self._guard.succeeded(attempt)  # not a verdict on the password: release the slot
            raise
        if user is None:
            detail = {} if purpose == "login" else {"purpose": purpose}
            self._bus.emit(events.LOGIN_FAILED, username=key[:64], client=client, **detail)
            self._guard.failed(attempt, time.time())  # after: the failure precedes its lockout
            raise Unauthorized(INVALID_CREDENTIALS, key="invalid_credentials")
        self._guard.succeeded(attempt)
        return user

    async def login(
        self,
        username: str,
        password: str,
        client: str,
        user_agent: str = "",
        device: Device | None = None,
        source: str = "local",
    ) -> Login:
        """Log in: a checked password starts a new session, and the browser becomes known.

        ``source`` ``homeassistant``: Home Assistant checks the password (the add-on only).
        """
        if source == SOURCE_HOME_ASSISTANT and self.home_assistant is None:
            raise BadRequest(
                "Signing in with Home Assistant works only in the add-on", key="no_homeassistant"
            )
        user = await self.check_password(username, password, client, device=device, source=source)
        result = await self._sessions.start(user, client, user_agent, events.LOGIN_SUCCEEDED)
        known = device is not None and device.username_key == lookup_key(user.username)
        return Login(result, None if known else self.devices.issue(user.username))

    async def change_own_password(
        self,
        identity: Identity,
        old_password: str,
        new_password: str,
        client: str,
        user_agent: str = "",
    ) -> LoginResult:
        """Change the caller's password (old one required); ends all sessions, starts a new one."""
        try:
            # The same limits as logins: a stolen cookie must not brute-force the password.
            user = await self.check_password(
                identity.username, old_password, client, purpose="password_change"
            )
        except Unauthorized as err:
            raise Unauthorized("Current password is incorrect", key="wrong_password") from err
        user = await self._users.set_password(
            user.username, new_password, Actor(user.username, client), checked=user
        )
        return await self._sessions.start(user, client, user_agent, None)
