"""Server-side sessions: their rows, and the in-memory mirror the hot path reads.

A token is valid only while its session row exists, so logout, a password change and a user
deletion end it on the very next request, and a restart does not bring it back. The mirror
keeps forward-auth off the database; it reloads when another process (``camauth users``)
changes the database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .store import data_version, transaction

MAX_SESSIONS_PER_USER = 50


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a session belongs to, as the user is now."""

    user_id: int
    username: str
    role: str


@dataclass(frozen=True, slots=True)
class Session:
    """A login that has not ended."""

    sid: str
    user_id: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the mirror holds, read in one go."""

    principals: dict[int, Principal]
    sessions: dict[str, Session]


def insert_session(
    conn: sqlite3.Connection, session: Session, created_at: float, client: str
) -> list[str]:
    """Store a new session; returns the sids dropped to keep each user's count bounded."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO sessions (sid, user_id, created_at, expires_at, client)"
            " VALUES (?, ?, ?, ?, ?)",
            (session.sid, session.user_id, created_at, session.expires_at, client),
        )
        rows = conn.execute(
            "SELECT sid FROM sessions WHERE user_id = ? ORDER BY created_at DESC LIMIT -1 OFFSET ?",
            (session.user_id, MAX_SESSIONS_PER_USER),
        ).fetchall()
        dropped = [row[0] for row in rows]
        conn.executemany("DELETE FROM sessions WHERE sid = ?", [(sid,) for sid in dropped])
    return dropped


def extend_session(conn: sqlite3.Connection, sid: str, expires_at: float) -> bool:
    """Move a session's expiry forward; False when it has ended meanwhile."""
    with transaction(conn):
        cur = conn.execute("UPDATE sessions SET expires_at = ? WHERE sid = ?", (expires_at, sid))
    return cur.rowcount == 1


def delete_session(conn: sqlite3.Connection, sid: str) -> None:
    """End one session."""
    with transaction(conn):
        conn.execute("DELETE FROM sessions WHERE sid = ?", (sid,))


def delete_user_sessions(conn: sqlite3.Connection, user_id: int) -> int:
    """End every session of one user."""
    with transaction(conn):
        return int(conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount)


def delete_expired(conn: sqlite3.Connection, now: float) -> int:
    """Forget sessions past their expiry."""
    with transaction(conn):
        return conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount


def load_snapshot(conn: sqlite3.Connection) -> Snapshot:
    """Read users and live sessions for the mirror."""
    principals = {
        row["id"]: Principal(row["id"], row["username"], row["role"])
        for row in conn.execute("SELECT id, username, role FROM users")
    }
    sessions = {
        row["sid"]: Session(row["sid"], row["user_id"], row["expires_at"])
        for row in conn.execute("SELECT sid, user_id, expires_at FROM sessions")
    }
    return Snapshot(principals, sessions)


class SessionDirectory:
    """The in-memory mirror of users and sessions: plain dict look-ups per request."""

    def __init__(self) -> None:
        """Start empty; :meth:`sync` fills it."""
        self._principals: dict[int, Principal] = {}
        self._sessions: dict[str, Session] = {}
        self._seen_version = -1

    def lookup(self, sid: str, now: float) -> Principal | None:
        """The principal of a live session, or None."""
        session = self._sessions.get(sid)
        if session is None or session.expires_at <= now:
            return None
        return self._principals.get(session.user_id)

    def has_username(self, key: str) -> bool:
        """Whether a user with this lookup key exists (few users: a scan is fine)."""
        return any(p.username.lower() == key for p in self._principals.values())

    def sync(self, conn: sqlite3.Connection, *, force: bool = False) -> bool:
        """Reload when another connection committed (run on the database thread)."""
        version = data_version(conn)
        if not force and version == self._seen_version:
            return False
        snapshot = load_snapshot(conn)
        # Rebinding both dicts is atomic for readers on the event loop.
        self._principals, self._sessions = snapshot.principals, snapshot.sessions
        self._seen_version = version
        return True

    def add_session(self, session: Session) -> None:
        """Mirror a new session."""
        self._sessions[session.sid] = session

    def extend_session(self, sid: str, expires_at: float) -> None:
        """Mirror a refreshed session's new expiry."""
        session = self._sessions.get(sid)
        if session is not None:
            self._sessions[sid] = Session(sid, session.user_id, expires_at)

    def remove_sessions(self, sids: list[str]) -> None:
        """Mirror ended sessions."""
        for sid in sids:
            self._sessions.pop(sid, None)

    def remove_user_sessions(self, user_id: int) -> None:
        """Mirror the end of every session of a user."""
        self.remove_sessions([s.sid for s in list(self._sessions.values()) if s.user_id == user_id])

    def set_principal(self, principal: Principal) -> None:
        """Mirror a new or changed user."""
        self._principals[principal.user_id] = principal

    def remove_principal(self, user_id: int) -> None:
        """Mirror a deleted user and their sessions."""
        self._principals.pop(user_id, None)
        self.remove_user_sessions(user_id)

    def active_sessions(self, now: float) -> int:
        """How many sessions are live."""
        return sum(1 for s in self._sessions.values() if s.expires_at > now)
