"""Logging in: limits first, then the password, then a session; one answer for every failure."""

from __future__ import annotations

import time
from math import ceil

from ..errors import TooManyRequests, Unauthorized
from ..storage import users as store
from ..storage.db import Database
from ..storage.users import User
from . import events
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
    ) -> None:
        """Wire the parts."""
        self._db = db
        self._hasher = hasher
        self._guard = guard
        self._users = users
        self._sessions = sessions
        self._bus = bus

    def check_client(self, client: str) -> None:
        """Refuse a client over its limit at once: a flood costs no parsing and no hashing."""
        wait = self._guard.client_wait(client, time.time())
        if wait > 0:
            raise TooManyRequests(
                "Too many failed logins, try again later",
                retry_after=ceil(wait),
                key="rate_limited",
            )

    async def _authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is right; always costs one bcrypt verification."""
        user = None
        if len(username) <= MAX_LOGIN_FIELD:
            user = await self._db.run(store.get_user, username)
        ok = await self._hasher.verify(password, user.password_hash if user else None)
        if not ok or user is None:
            return None
        if self._hasher.needs_rehash(user.password_hash):
            await self._users.rehash(user, password)
        return user

    async def check_password(
        self, username: str, password: str, client: str, *, purpose: str = "login"
    ) -> User:
        """Check limits, then credentials; the user as read when the password was checked."""
        key = lookup_key(username)[:MAX_USERNAME_KEY]
        attempt = Attempt(client, key, self._sessions.directory.has_username(key), time.time())
        wait = self._guard.wait(attempt)
        if wait > 0:  # refused before any hashing: a flood costs no bcrypt time
            raise TooManyRequests(
                "Too many failed logins, try again later",
                retry_after=ceil(wait),
                key="rate_limited",
            )
        self._guard.begin(attempt)
        try:
            user = await self._authenticate(username, password)
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
        self, username: str, password: str, client: str, user_agent: str = ""
    ) -> LoginResult:
        """Log in: a checked password starts a new session."""
        user = await self.check_password(username, password, client)
        return await self._sessions.start(user, client, user_agent, events.LOGIN_SUCCEEDED)

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
