"""The SQL of sessions.

A token is valid only while its session row exists, so logout, a password change and a user
deletion end it on the very next request, and a restart does not bring it back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ..core.events import Event
from ..errors import Unauthorized
from .db import transaction
from .events import insert_event
from .users import User, get_user_by_id, require_user

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
    """Everything the in-memory mirror holds, read in one go."""

    principals: dict[int, Principal]
    sessions: dict[str, Session]


@dataclass(frozen=True, slots=True)
class NewSession:
    """A stored session, the user as they are now, and what else changed with it."""

    principal: Principal
    dropped: list[str]  # older sessions ended to keep the user's count bounded
    event: Event | None  # the login event, stored with the session


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live session as the admin panel lists it."""

    sid: str
    username: str
    created_at: float
    expires_at: float
    client: str
    user_agent: str
    last_seen: float | None


def principal(user: User) -> Principal:
    """Who a session of this user belongs to."""
    return Principal(user.id, user.username, user.role)


def insert_session(
    conn: sqlite3.Connection,
    session: Session,
    *,
    checked: User,
    created_at: float,
    client: str,
    user_agent: str,
    event_for: Callable[[Principal], Event] | None,
    origin: str,
) -> NewSession:
    """Store a session for a user whose password was checked as ``checked``.

    The invariant: a session never outlives a change that committed before it. So, in the
    same transaction as the insert, the user must still exist with the generation that was
    checked (no password change or revocation since), and the session takes the role the
    user holds now, not the one read before hashing.
    """
    with transaction(conn):
        current = get_user_by_id(conn, checked.id)
        if current is None or current.generation != checked.generation:
            raise Unauthorized("Invalid username or password", key="invalid_credentials")
        conn.execute(
            "INSERT INTO sessions (sid, user_id, created_at, expires_at, client, user_agent,"
            " last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                session.sid,
                current.id,
                created_at,
                session.expires_at,
                client,
                user_agent,
                created_at,
            ),
        )
        rows = conn.execute(
            "SELECT sid FROM sessions WHERE user_id = ? ORDER BY created_at DESC LIMIT -1 OFFSET ?",
            (current.id, MAX_SESSIONS_PER_USER),
        ).fetchall()
        dropped = [row[0] for row in rows]
        conn.executemany("DELETE FROM sessions WHERE sid = ?", [(sid,) for sid in dropped])
        owner = principal(current)
        event = insert_event(conn, event_for(owner), origin) if event_for else None
    return NewSession(owner, dropped, event)


def extend_session(conn: sqlite3.Connection, sid: str, expires_at: float) -> bool:
    """Move a session's expiry forward; False when it has ended meanwhile."""
    with transaction(conn):
        cur = conn.execute("UPDATE sessions SET expires_at = ? WHERE sid = ?", (expires_at, sid))
    return cur.rowcount == 1


def delete_session(
    conn: sqlite3.Connection, sid: str, event: Event | None, origin: str
) -> Event | None:
    """End one session; its event is stored only if there was a session to end."""
    with transaction(conn):
        gone = conn.execute("DELETE FROM sessions WHERE sid = ?", (sid,)).rowcount
        if not gone or event is None:
            return None
        return insert_event(conn, event, origin)


def session_owner(conn: sqlite3.Connection, sid: str) -> str | None:
    """The username of a live session."""
    row = conn.execute(
        "SELECT users.username FROM sessions JOIN users ON users.id = sessions.user_id"
        " WHERE sid = ?",
        (sid,),
    ).fetchone()
    return str(row[0]) if row else None


def revoke_user_sessions(
    conn: sqlite3.Connection, name: str, *, event_for: Callable[[User, int], Event], origin: str
) -> tuple[User, int, Event]:
    """End every session of a user, and any login of theirs still being checked."""
    with transaction(conn):
        user = require_user(conn, name)
        count = conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,)).rowcount
        conn.execute("UPDATE users SET generation = generation + 1 WHERE id = ?", (user.id,))
        event = insert_event(conn, event_for(user, count), origin)
    return user, count, event


def delete_expired(conn: sqlite3.Connection, now: float) -> int:
    """Forget sessions past their expiry."""
    with transaction(conn):
        return conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount


def record_seen(conn: sqlite3.Connection, seen: dict[str, float]) -> None:
    """Store when sessions were last used (batched: never on the request path)."""
    with transaction(conn):
        conn.executemany(
            "UPDATE sessions SET last_seen = ? WHERE sid = ?",
            [(stamp, sid) for sid, stamp in seen.items()],
        )


def list_sessions(conn: sqlite3.Connection, now: float, username: str | None) -> list[SessionRow]:
    """Live sessions, newest first, of one user or of everyone."""
    rows = conn.execute(
        "SELECT sid, username, sessions.created_at, expires_at, client, user_agent, last_seen"
        " FROM sessions JOIN users ON users.id = sessions.user_id"
        " WHERE expires_at > ? AND (? IS NULL OR username_key = ?)"
        " ORDER BY sessions.created_at DESC",
        (now, username, username),
    ).fetchall()
    return [SessionRow(*row) for row in rows]


def active_by_user(conn: sqlite3.Connection, now: float) -> dict[str, int]:
    """How many live sessions each user has."""
    rows = conn.execute(
        "SELECT username, COUNT(*) FROM sessions JOIN users ON users.id = sessions.user_id"
        " WHERE expires_at > ? GROUP BY username",
        (now,),
    ).fetchall()
    return {row[0]: int(row[1]) for row in rows}


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
