"""Accounts: the policy of logging in, sessions and user management, free of HTTP."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import time
from dataclasses import dataclass
from math import ceil

from . import api_keys as keys_db
from . import events
from . import sessions as sessions_db
from . import users as users_db
from .audit import AuditLog
from .errors import NotFound, TooManyRequests, Unauthorized
from .events import EventBus
from .identity import Identity
from .lockouts import Attempt, LoginGuard
from .options import AuthSettings
from .passwords import PasswordHasher, check_policy
from .rate_limit import parse_windows
from .sessions import Principal, Session, SessionDirectory
from .store import Database
from .tokens import Claims, TokenCodec
from .users import User, lookup_key

MAX_USERNAME_KEY = 256
INVALID_CREDENTIALS = "Invalid username or password"
MAX_LOGIN_FIELD = 1024


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A new token for a session."""

    token: str
    expires_at: float
    username: str
    role: str

    def as_json(self) -> dict[str, str]:
        """The body of a successful login."""
        return {
            "token": self.token,
            "expires_at": iso_time(self.expires_at),
            "username": self.username,
            "role": self.role,
        }


def iso_time(timestamp: float) -> str:
    """UTC ISO 8601 with a Z, as clients expect."""
    moment = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def generate_password() -> str:
    """A strong password for onboarding and resets (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change, and from where (for events); empty for the service itself."""

    username: str | None = None
    client: str | None = None


NOBODY = Actor()


class Accounts:
    """Logs users in and out, checks tokens, and manages users."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        codec: TokenCodec,
        settings: AuthSettings,
        bus: EventBus | None = None,
    ) -> None:
        """Wire the parts; :meth:`sync` must run before the first request."""
        self.db = db
        self.hasher = hasher
        self.codec = codec
        self.settings = settings
        self.bus = bus or EventBus()
        self.directory = SessionDirectory()
        self.keys = keys_db.KeyDirectory()
        self.audit = AuditLog(db, self.bus)
        self.guard = LoginGuard(
            parse_windows(settings.failed_login_rate_limit),
            parse_windows(settings.failed_login_user_rate_limit),
            self.bus,
        )

    async def sync(self, *, force: bool = False) -> None:
        """Reload the in-memory mirrors if another process changed the database."""
        await self.db.run(self._sync, force)

    def _sync(self, conn: sqlite3.Connection, force: bool) -> None:
        if self.directory.sync(conn, force=force):
            self.keys.reload(conn)

    def identify_key(self, presented: str, now: float) -> Identity | None:
        """The identity behind an API key, or None."""
        key = self.keys.authenticate(presented, now)
        if key is None:
            return None
        return Identity(key.name, key.role, "api_key", paths=key.paths)

    async def create_key(
        self, name: str, role: str, paths: tuple[str, ...], *, actor: Actor = NOBODY
    ) -> keys_db.NewKey:
        """Create an API key; its secret is returned once and never stored."""
        name = keys_db.validate_name(name)
        users_db.validate_role(role)
        paths = keys_db.validate_paths(list(paths))
        secret, prefix, digest = keys_db.new_key()
        key = await self.db.run(keys_db.create_key, name, role, paths, prefix, digest)
        self.keys.add(key)
        self.bus.emit(
            events.API_KEY_CREATED,
            username=actor.username,
            client=actor.client,
            key_id=key.id,
            name=key.name,
            role=key.role,
            paths=list(key.paths),
        )
        return keys_db.NewKey(key, secret)

    async def revoke_key(self, key_id: int, *, actor: Actor = NOBODY) -> keys_db.ApiKey:
        """Revoke an API key; it fails on its very next use."""
        key = await self.db.run(keys_db.delete_key, key_id)
        self.keys.remove(key)
        self.bus.emit(
            events.API_KEY_REVOKED,
            username=actor.username,
            client=actor.client,
            key_id=key.id,
            name=key.name,
        )
        return key

    async def list_keys(self) -> list[keys_db.ApiKey]:
        """All API keys (without secrets)."""
        return await self.db.run(keys_db.list_keys)

    async def record_key_use(self) -> None:
        """Store when keys were last used."""
        used = self.keys.take_usage()
        if used:
            await self.db.run(keys_db.record_use, used)

    def identify(self, token: str, now: float) -> tuple[Identity, Claims] | None:
        """The identity behind a token, as the user is now, or None."""
        claims = self.codec.decode(token, now)
        if claims is None:
            return None
        principal = self.directory.lookup(claims.sid, now)
        if principal is None or principal.username != claims.sub:
            return None
        return Identity(principal.username, principal.role, "session", claims.sid), claims

    async def _start_session(self, user: User, client: str) -> LoginResult:
        now = time.time()
        session = Session(secrets.token_urlsafe(24), user.id, now + self.settings.session_length)
        dropped = await self.db.run(sessions_db.insert_session, session, now, client)
        self.directory.set_principal(_principal(user))
        self.directory.add_session(session)
        self.directory.remove_sessions(dropped)
        return self._token(user.username, user.role, session.sid, now, session.expires_at)

    def _token(self, username: str, role: str, sid: str, now: float, expires: float) -> LoginResult:
        token = self.codec.issue(username=username, role=role, sid=sid, now=now, expires_at=expires)
        return LoginResult(token, float(int(expires)), username, role)

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password is right; always costs one bcrypt verification."""
        user = None
        if len(username) <= MAX_LOGIN_FIELD:
            user = await self.db.run(users_db.get_user, username)
        ok = await self.hasher.verify(password, user.password_hash if user else None)
        if not ok or user is None:
            return None
        if self.hasher.needs_rehash(user.password_hash):
            new_hash = await self.hasher.hash(password)
            await self.db.run(users_db.rehash_password, user.id, user.password_hash, new_hash)
        return user

    async def check_password(
        self, username: str, password: str, client: str, *, purpose: str = "login"
    ) -> User:
        """Check limits, then credentials; one answer for every kind of failure."""
        key = lookup_key(username)[:MAX_USERNAME_KEY]
        attempt = Attempt(client, key, self.directory.has_username(key), time.time())
        wait = self.guard.wait(attempt)
        if wait > 0:  # refused before any hashing: a flood costs no bcrypt time
            raise TooManyRequests("Too many failed logins, try again later", retry_after=ceil(wait))
        self.guard.begin(attempt)
        try:
            user = await self.authenticate(username, password)
        except BaseException:
            self.guard.succeeded(attempt)  # not a verdict on the password: release the slot
            raise
        if user is None:
            detail = {} if purpose == "login" else {"purpose": purpose}
            self.bus.emit(events.LOGIN_FAILED, username=key[:64], client=client, **detail)
            self.guard.failed(attempt, time.time())  # after: the failure precedes its lockout
            raise Unauthorized(INVALID_CREDENTIALS)
        self.guard.succeeded(attempt)
        return user

    def check_client(self, client: str) -> None:
        """Refuse a client over its limit at once: a flood costs no parsing and no hashing."""
        wait = self.guard.client_wait(client, time.time())
        if wait > 0:
            raise TooManyRequests("Too many failed logins, try again later", retry_after=ceil(wait))

    async def login(self, username: str, password: str, client: str) -> LoginResult:
        """Log in: a checked password starts a new session."""
        user = await self.check_password(username, password, client)
        self.bus.emit(events.LOGIN_SUCCEEDED, username=user.username, client=client)
        return await self._start_session(user, client)

    async def refresh(self, identity: Identity, claims: Claims) -> LoginResult | None:
        """A later-expiring token for the same session, or None if it has ended."""
        now = time.time()
        expires = now + self.settings.session_length
        if not await self.db.run(sessions_db.extend_session, claims.sid, expires):
            return None
        self.directory.extend_session(claims.sid, expires)
        return self._token(identity.username, identity.role, claims.sid, now, expires)

    async def logout(self, identity: Identity, client: str | None = None) -> None:
        """End the session behind this identity."""
        if identity.session_id:
            await self.db.run(sessions_db.delete_session, identity.session_id)
            self.directory.remove_sessions([identity.session_id])
            self.bus.emit(events.LOGOUT, username=identity.username, client=client)

    async def change_own_password(
        self, identity: Identity, old_password: str, new_password: str, client: str
    ) -> LoginResult:
        """Change the caller's password (old one required); ends all sessions, starts a new one."""
        try:
            # The same limits as logins: a stolen cookie must not brute-force the password.
            user = await self.check_password(
                identity.username, old_password, client, purpose="password_change"
            )
        except Unauthorized as err:
            raise Unauthorized("Current password is incorrect") from err
        actor = Actor(user.username, client)
        user = await self.set_password(user.username, new_password, actor=actor)
        return await self._start_session(user, client)

    async def set_password(
        self, username: str, password: str, *, actor: Actor = NOBODY, generated: bool = False
    ) -> User:
        """Set a password (policy checked unless generated) and end the user's sessions."""
        if not generated:
            check_policy(password, username)
        new_hash = await self.hasher.hash(password)
        user = await self.db.run(users_db.set_password, username, new_hash, generated=generated)
        self.directory.remove_user_sessions(user.id)
        own = actor.username == user.username
        kind = events.PASSWORD_CHANGED if own else events.PASSWORD_RESET
        self.bus.emit(kind, username=user.username, client=actor.client, by=actor.username)
        return user

    async def reset_password(
        self, username: str, password: str | None, *, actor: Actor = NOBODY
    ) -> str | None:
        """An admin sets a password, or has a strong one generated (returned once)."""
        generated = password is None
        new_password = password if password is not None else generate_password()
        await self.set_password(username, new_password, actor=actor, generated=generated)
        return new_password if generated else None

    async def revoke_sessions(self, username: str, *, actor: Actor = NOBODY) -> int:
        """End every session of a user; returns how many there were."""
        user = await self.db.run(users_db.get_user, username)
        if user is None:
            raise NotFound("User not found")
        count = await self.db.run(sessions_db.delete_user_sessions, user.id)
        self.directory.remove_user_sessions(user.id)
        self.bus.emit(
            events.LOGOUT,
            username=user.username,
            client=actor.client,
            all_sessions=True,
            revoked=count,
            by=actor.username,
        )
        return count

    async def create_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        actor: Actor = NOBODY,
        generated: bool = False,
    ) -> User:
        """Create a user after checking name, role and password policy."""
        users_db.validate_username(username)
        users_db.validate_role(role)
        if not generated:
            check_policy(password, username)
        new_hash = await self.hasher.hash(password)
        user = await self.db.run(
            users_db.create_user, username, role, new_hash, generated=generated
        )
        self.directory.set_principal(_principal(user))
        self.bus.emit(
            events.USER_CREATED,
            username=user.username,
            client=actor.client,
            role=user.role,
            by=actor.username,
        )
        return user

    async def set_role(self, username: str, role: str, *, actor: Actor = NOBODY) -> User:
        """Change a role; it applies to the user's next request."""
        before = await self.db.run(users_db.get_user, username)
        user = await self.db.run(users_db.set_role, username, role)
        self.directory.set_principal(_principal(user))
        if before is not None and before.role != user.role:
            self.bus.emit(
                events.ROLE_CHANGED,
                username=user.username,
                client=actor.client,
                old_role=before.role,
                role=user.role,
                by=actor.username,
            )
        return user

    async def delete_user(self, username: str, *, actor: Actor = NOBODY) -> User:
        """Delete a user; their tokens stop working at once."""
        user = await self.db.run(users_db.delete_user, username)
        self.directory.remove_principal(user.id)
        self.bus.emit(
            events.USER_DELETED, username=user.username, client=actor.client, by=actor.username
        )
        return user

    async def list_users(self) -> list[User]:
        """All users."""
        return await self.db.run(users_db.list_users)

    async def get_user(self, username: str) -> User | None:
        """One user, or None."""
        return await self.db.run(users_db.get_user, username)

    async def sweep_lockouts(self) -> None:
        """End expired lockouts and forget old failures."""
        self.guard.sweep(time.time())

    async def prune(self) -> None:
        """Forget expired sessions."""
        if await self.db.run(sessions_db.delete_expired, time.time()):
            await self.sync(force=True)
