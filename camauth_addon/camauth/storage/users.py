"""The SQL of users. Each change writes its audit event in its own transaction."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..const import ROLE_ADMIN
from ..core.events import Event
from ..core.names import lookup_key
from ..errors import Conflict, NotFound, Unauthorized
from .db import transaction
from .events import insert_event


@dataclass(frozen=True, slots=True)
class User:
    """A stored user."""

    id: int
    username: str
    role: str
    password_hash: str
    password_generated: bool
    created_at: float
    password_changed_at: float
    generation: int  # bumped when the password changes or every session is revoked
    source: str = "local"  # "homeassistant": Home Assistant checks the password

    def as_json(self) -> dict[str, Any]:
        """The public view of a user (never the hash)."""
        return {
            "username": self.username,
            "role": self.role,
            "created_at": self.created_at,
            "source": self.source,
        }


EventFor = Callable[[User], Event]


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        password_hash=row["password_hash"],
        password_generated=bool(row["password_generated"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        generation=row["generation"],
        source=row["source"],
    )


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    """Find a user by name, case-insensitively."""
    row = conn.execute("SELECT * FROM users WHERE username_key = ?", (lookup_key(name),)).fetchone()
    return _user(row) if row else None


def get_user_by_id(conn: sqlite3.Connection, user_id: int) -> User | None:
    """Find a user by id."""
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(row) if row else None


def require_user(conn: sqlite3.Connection, name: str) -> User:
    """A user that must exist (404 otherwise)."""
    user = get_user(conn, name)
    if user is None:
        raise NotFound("User not found", key="user_not_found")
    return user


def list_users(conn: sqlite3.Connection) -> list[User]:
    """All users, by name."""
    rows = conn.execute("SELECT * FROM users ORDER BY username_key").fetchall()
    return [_user(row) for row in rows]


def count_users(conn: sqlite3.Connection) -> int:
    """How many users exist."""
    return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def role_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many users hold each role."""
    rows = conn.execute("SELECT role, COUNT(*) FROM users GROUP BY role").fetchall()
    return {row[0]: int(row[1]) for row in rows}


def create_user(
    conn: sqlite3.Connection,
    username: str,
    role: str,
    password_hash: str,
    *,
    generated: bool,
    event_for: EventFor,
    origin: str,
) -> tuple[User, Event]:
    """Insert a user; a name that differs only in case is taken."""
    now = time.time()
    with transaction(conn):
        if get_user(conn, username) is not None:
            raise Conflict("User already exists", key="user_exists")
        conn.execute(
            "INSERT INTO users (username, username_key, role, password_hash, password_generated,"
            " created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username, lookup_key(username), role, password_hash, int(generated), now, now),
        )
        user = require_user(conn, username)
        event = insert_event(conn, event_for(user), origin)
    return user, event


def set_password(
    conn: sqlite3.Connection,
    name: str,
    password_hash: str,
    *,
    generated: bool,
    event_for: EventFor,
    origin: str,
    generation: int | None = None,
) -> tuple[User, Event]:
    """Store a new hash, end every session of the user, and move its generation on.

    With ``generation`` (a change authorised by the current password, checked at that
    generation), a password change or revocation that committed since wins: 401.
    """
    with transaction(conn):
        user = require_user(conn, name) if generation is None else get_user(conn, name)
        if user is None or (generation is not None and user.generation != generation):
            raise Unauthorized("Current password is incorrect", key="wrong_password")
        conn.execute(
            "UPDATE users SET password_hash = ?, password_generated = ?, password_changed_at = ?,"
            " generation = generation + 1 WHERE id = ?",
            (password_hash, int(generated), time.time(), user.id),
        )
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        user = require_user(conn, name)
        event = insert_event(conn, event_for(user), origin)
    return user, event


def rehash_password(conn: sqlite3.Connection, user_id: int, old_hash: str, new_hash: str) -> None:
    """Upgrade a hash to the current cost, unless the password changed meanwhile."""
    with transaction(conn):
        conn.execute(
            "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
            (new_hash, user_id, old_hash),
        )


def _check_not_last_admin(conn: sqlite3.Connection, user: User) -> None:
    if user.role != ROLE_ADMIN:
        return
    admins = conn.execute("SELECT COUNT(*) FROM users WHERE role = ?", (ROLE_ADMIN,)).fetchone()[0]
    if admins <= 1:
        raise Conflict("The last admin cannot be removed or demoted", key="last_admin")


def set_role(
    conn: sqlite3.Connection, name: str, role: str, *, event_for: EventFor, origin: str
) -> tuple[User, Event | None]:
    """Change a user's role (the last admin stays an admin); no event when nothing changed."""
    with transaction(conn):
        before = require_user(conn, name)
        if role == before.role:
            return before, None
        _check_not_last_admin(conn, before)
        conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, before.id))
        event = insert_event(conn, event_for(before), origin)
    return require_user(conn, name), event


def delete_user(
    conn: sqlite3.Connection, name: str, *, event_for: EventFor, origin: str
) -> tuple[User, Event]:
    """Delete a user and, by cascade, their sessions; the last admin stays."""
    with transaction(conn):
        user = require_user(conn, name)
        _check_not_last_admin(conn, user)
        conn.execute("DELETE FROM users WHERE id = ?", (user.id,))
        event = insert_event(conn, event_for(user), origin)
    return user, event


def home_assistant_user(
    conn: sqlite3.Connection,
    username: str,
    role: str,
    password_hash: str,
    *,
    event_for: Callable[[User, User | None], Event],
    origin: str,
) -> tuple[User | None, Event | None]:
    """The user a Home Assistant account logs in as, created or given its role now.

    ``event_for(user, before)``: the event of the change (``before`` is None for a new user).

    None when a local user has that name: Home Assistant cannot vouch for a CamAuth account.
    """
    with transaction(conn):
        user = get_user(conn, username)
        if user is not None and user.source != "homeassistant":
            return None, None
        if user is not None and user.role == role:
            return user, None
        now = time.time()
        if user is None:
            conn.execute(
                "INSERT INTO users (username, username_key, role, password_hash, created_at,"
                " password_changed_at, source) VALUES (?, ?, ?, ?, ?, ?, 'homeassistant')",
                (username, lookup_key(username), role, password_hash, now, now),
            )
        else:
            conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))
        current = require_user(conn, username)
        event = insert_event(conn, event_for(current, user), origin)
    return current, event
