"""Sessions: starting, checking, refreshing and ending them, and the mirror the hot path reads.

Forward-auth never touches the database: it reads an in-memory mirror of users and live
sessions. The mirror is changed only on the event loop, in the statement right after the
database call that committed the change, so changes reach it in commit order; when another
process (the ``camauth`` shell) commits, the whole mirror is reloaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import NotFound
from ..options import AuthSettings
from ..storage.db import Database
from ..storage.sessions import (
    Principal,
    Session,
    SessionRow,
    Snapshot,
    delete_expired,
    delete_session,
    extend_session,
    insert_session,
    list_sessions,
    load_snapshot,
    record_seen,
    revoke_user_sessions,
    session_owner,
)
from ..storage.users import User
from . import events
from .events import Event, EventBus, make_event
from .identity import SOURCE_SESSION, Identity
from .live import LiveConnections
from .names import lookup_key
from .tokens import Claims, TokenCodec

__all__ = [
    "NOBODY",
    "Actor",
    "LoginResult",
    "SessionDirectory",
    "SessionRow",
    "SessionService",
    "iso_time",
    "public_id",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change, and from where (for events); empty for the service itself."""

    username: str | None = None
    client: str | None = None
    source: str | None = None  # how they came: "ingress", "shell", … (None: the API)

    def detail(self) -> dict[str, Any]:
        """What events say about the actor."""
        detail: dict[str, Any] = {"by": self.username}
        if self.source:
            detail["source"] = self.source
        return detail


NOBODY = Actor()


def iso_time(timestamp: float) -> str:
    """UTC ISO 8601 with a Z, as clients expect."""
    moment = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


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


def public_id(sid: str) -> str:
    """The name of a session in lists: it identifies the session but cannot be used as one."""
    return hashlib.sha256(sid.encode("ascii")).hexdigest()[:16]


class SessionDirectory:
    """The in-memory mirror of users and sessions: plain dict look-ups per request."""

    def __init__(self, on_revoke: Callable[[], None]) -> None:
        """Start empty; ``on_revoke`` runs after every change that can take access away."""
        self._principals: dict[int, Principal] = {}
        self._sessions: dict[str, Session] = {}
        self._on_revoke = on_revoke
        # Counts changes: an answer computed from the mirror holds while this is unchanged.
        self.generation = 0

    def lookup(self, sid: str, now: float) -> Principal | None:
        """The principal of a live session, or None."""
        found = self.live(sid, now)
        return found[0] if found is not None else None

    def live(self, sid: str, now: float) -> tuple[Principal, float] | None:
        """The principal of a live session and when the session expires, or None."""
        session = self._sessions.get(sid)
        if session is None or session.expires_at <= now:
            return None
        principal = self._principals.get(session.user_id)
        return (principal, session.expires_at) if principal is not None else None

    def has_username(self, key: str) -> bool:
        """Whether a user with this lookup key exists (few users: a scan is fine)."""
        return any(p.username.lower() == key for p in self._principals.values())

    def load(self, snapshot: Snapshot) -> None:
        """Replace everything with a fresh read of the database."""
        self.generation += 1
        self._principals, self._sessions = snapshot.principals, snapshot.sessions
        self._on_revoke()

    def add_session(self, session: Session, owner: Principal, dropped: list[str]) -> None:
        """Mirror a new session, its owner as they are now, and sessions it pushed out."""
        self.generation += 1
        self._principals[owner.user_id] = owner
        self._sessions[session.sid] = session
        if dropped:
            self.remove_sessions(dropped)

    def extend_session(self, sid: str, expires_at: float) -> None:
        """Mirror a refreshed session's new expiry."""
        self.generation += 1
        session = self._sessions.get(sid)
        if session is not None:
            self._sessions[sid] = Session(sid, session.user_id, expires_at)

    def remove_sessions(self, sids: list[str]) -> None:
        """Mirror ended sessions."""
        self.generation += 1
        for sid in sids:
            self._sessions.pop(sid, None)
        self._on_revoke()

    def remove_user_sessions(self, user_id: int) -> None:
        """Mirror the end of every session of a user."""
        self.remove_sessions([s.sid for s in list(self._sessions.values()) if s.user_id == user_id])

    def set_principal(self, principal: Principal) -> None:
        """Mirror a new or changed user."""
        self.generation += 1
        self._principals[principal.user_id] = principal
        self._on_revoke()

    def remove_principal(self, user_id: int) -> None:
        """Mirror a deleted user and their sessions."""
        self.generation += 1
        self._principals.pop(user_id, None)
        self.remove_user_sessions(user_id)

    def live_sids(self, now: float) -> list[str]:
        """The sids of every live session."""
        return [s.sid for s in self._sessions.values() if s.expires_at > now]

    def active_sessions(self, now: float) -> int:
        """How many sessions are live."""
        return sum(1 for s in self._sessions.values() if s.expires_at > now)


class SessionService:
    """Starts, checks, refreshes and ends sessions; emits ``logout``."""

    def __init__(
        self,
        db: Database,
        codec: TokenCodec,
        settings: AuthSettings,
        bus: EventBus,
        live: LiveConnections,
        origin: str,
    ) -> None:
        """Wire the parts; :meth:`load` must run before the first request."""
        self._db = db
        self._codec = codec
        self._settings = settings
        self._bus = bus
        self._origin = origin
        self.directory = SessionDirectory(live.recheck)
        self._seen: dict[str, float] = {}

    async def load(self) -> None:
        """Read every user and session into the mirror."""
        self.directory.load(await self._db.run(load_snapshot))

    def identify(self, token: str, now: float) -> tuple[Identity, Claims] | None:
        """The identity behind a token, as the user is now, or None."""
        found = self.identify_until(token, now)
        return None if found is None else (found[0], found[1])

    def identify_until(self, token: str, now: float) -> tuple[Identity, Claims, float] | None:
        """The identity behind a token, its claims, and until when both hold if nothing changes.

        That is when the token or the session expires, whichever comes first; any change to
        the mirror (``directory.generation``) may end it sooner.
        """
        claims = self._codec.decode(token, now)
        if claims is None:
            return None
        found = self.directory.live(claims.sid, now)
        if found is None or found[0].username != claims.sub:
            return None
        principal, expires_at = found
        self._seen[claims.sid] = now
        identity = Identity(principal.username, principal.role, SOURCE_SESSION, claims.sid)
        return identity, claims, min(float(claims.exp), expires_at)

    def seen(self, sid: str, now: float) -> None:
        """Note that a session was used (stored later by :meth:`record_seen`)."""
        self._seen[sid] = now

    async def start(
        self, checked: User, client: str, user_agent: str, event_type: str | None
    ) -> LoginResult:
        """A new session for a user whose password was just checked (as ``checked``).

        ``event_type`` (``login_succeeded``) is stored with the session; a change to the user
        that committed since the check wins: the login fails (see ``insert_session``).
        """
        now = time.time()
        session = Session(
            secrets.token_urlsafe(24), checked.id, now + self._settings.session_length
        )

        def event_for(owner: Principal) -> Event:
            return make_event(kind, username=owner.username, client=client)

        kind = event_type or ""

        new = await self._db.run(
            insert_session,
            session,
            checked=checked,
            created_at=now,
            client=client,
            user_agent=user_agent[:256],
            event_for=event_for if event_type else None,
            origin=self._origin,
        )
        self.directory.add_session(session, new.principal, new.dropped)
        if new.event is not None:
            self._bus.publish(new.event)
        owner = new.principal
        return self._token(owner.username, owner.role, session.sid, now, session.expires_at)

    def _token(self, username: str, role: str, sid: str, now: float, expires: float) -> LoginResult:
        token = self._codec.issue(
            username=username, role=role, sid=sid, now=now, expires_at=expires
        )
        return LoginResult(token, float(int(expires)), username, role)

    async def refresh(self, identity: Identity, claims: Claims) -> LoginResult | None:
        """A later-expiring token for the same session, or None if it has ended."""
        now = time.time()
        expires = now + self._settings.session_length
        if not await self._db.run(extend_session, claims.sid, expires):
            return None
        self.directory.extend_session(claims.sid, expires)
        return self._token(identity.username, identity.role, claims.sid, now, expires)

    async def logout(self, identity: Identity, client: str | None = None) -> None:
        """End the session behind this identity."""
        if not identity.session_id:
            return
        event = make_event(events.LOGOUT, username=identity.username, client=client)
        stored = await self._db.run(delete_session, identity.session_id, event, self._origin)
        self.directory.remove_sessions([identity.session_id])
        if stored is not None:
            self._bus.publish(stored)

    async def revoke_user(self, username: str, actor: Actor = NOBODY) -> int:
        """End every session of a user (and any login of theirs in progress)."""

        def event_for(user: User, count: int) -> Event:
            return make_event(
                events.LOGOUT,
                username=user.username,
                client=actor.client,
                all_sessions=True,
                revoked=count,
                **actor.detail(),
            )

        user, count, event = await self._db.run(
            revoke_user_sessions, username, event_for=event_for, origin=self._origin
        )
        self.directory.remove_user_sessions(user.id)
        self._bus.publish(event)
        return count

    async def revoke_one(self, session_id: str, actor: Actor = NOBODY) -> None:
        """End one session, named by its public id (an admin's action)."""
        sid = next(
            (sid for sid in self.directory.live_sids(time.time()) if public_id(sid) == session_id),
            None,
        )
        owner = await self._db.run(session_owner, sid) if sid else None
        if sid is None or owner is None:
            raise NotFound("Session not found", key="session_not_found")
        event = make_event(events.LOGOUT, username=owner, client=actor.client, **actor.detail())
        stored = await self._db.run(delete_session, sid, event, self._origin)
        self.directory.remove_sessions([sid])
        if stored is not None:
            self._bus.publish(stored)

    async def list(self, username: str | None = None) -> list[SessionRow]:
        """Live sessions, newest first, of one user or of everyone."""
        key = lookup_key(username) if username is not None else None
        return await self._db.run(list_sessions, time.time(), key)

    async def record_seen(self) -> None:
        """Store when sessions were last used."""
        seen, self._seen = self._seen, {}
        if seen:
            await self._db.run(record_seen, seen)

    async def prune(self) -> None:
        """Forget expired sessions."""
        if await self._db.run(delete_expired, time.time()):
            await self.load()
