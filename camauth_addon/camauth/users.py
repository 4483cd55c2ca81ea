"""Users: names, roles, and their rows in the database."""

from __future__ import annotations

import re
import sqlite3
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from .const import ROLE_ADMIN, ROLES
from .errors import BadRequest, Conflict, NotFound
from .store import transaction

USERNAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


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

    def as_json(self) -> dict[str, Any]:
        """The public view of a user (never the hash)."""
        return {"username": self.username, "role": self.role, "created_at": self.created_at}


def lookup_key(name: str) -> str:
    """One key per person: ``Admin``, `` admin`` and full-width forms of it are the same."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def validate_username(name: object) -> str:
    """Return a valid new username or raise a 400 that says what is allowed."""
    if not isinstance(name, str) or not _USERNAME_RE.fullmatch(name):
        raise BadRequest("Username must be 1-64 characters: letters, digits, '.', '_' or '-'")
    return name


def validate_role(role: object) -> str:
    """Return a valid role or raise a 400."""
    if role not in ROLES:
        raise BadRequest(f"Role must be one of: {', '.join(ROLES)}")
    return str(role)


def _row_to_user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        password_hash=row["password_hash"],
        password_generated=bool(row["password_generated"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
    )


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    """Find a user by name, case-insensitively."""
    row = conn.execute("SELECT * FROM users WHERE username_key = ?", (lookup_key(name),)).fetchone()
    return _row_to_user(row) if row else None


def _require(conn: sqlite3.Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        raise NotFound("User not found")
    return user


def list_users(conn: sqlite3.Connection) -> list[User]:
    """All users, by name."""
    rows = conn.execute("SELECT * FROM users ORDER BY username_key").fetchall()
    return [_row_to_user(row) for row in rows]


def count_users(conn: sqlite3.Connection) -> int:
    """How many users exist."""
    return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def create_user(
    conn: sqlite3.Connection,
    username: str,
    role: str,
    password_hash: str,
    *,
    generated: bool = False,
) -> User:
    """Insert a user; a name that differs only in case is taken."""
    validate_username(username)
    validate_role(role)
    now = time.time()
    with transaction(conn):
        if get_user(conn, username) is not None:
            raise Conflict("User already exists")
        conn.execute(
            "INSERT INTO users (username, username_key, role, password_hash, password_generated,"
            " created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username, lookup_key(username), role, password_hash, int(generated), now, now),
        )
    return _require(conn, username)


def set_password(
    conn: sqlite3.Connection, name: str, password_hash: str, *, generated: bool = False
) -> User:
    """Store a new hash and end every session of the user in the same transaction."""
    with transaction(conn):
        user = _require(conn, name)
        conn.execute(
            "UPDATE users SET password_hash = ?, password_generated = ?, password_changed_at = ?"
            " WHERE id = ?",
            (password_hash, int(generated), time.time(), user.id),
        )
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
    return _require(conn, name)


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
        raise Conflict("The last admin cannot be removed or demoted")


def set_role(conn: sqlite3.Connection, name: str, role: str) -> User:
    """Change a user's role; the last admin stays an admin."""
    validate_role(role)
    with transaction(conn):
        user = _require(conn, name)
        if role != user.role:
            _check_not_last_admin(conn, user)
            conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))
    return _require(conn, name)


def delete_user(conn: sqlite3.Connection, name: str) -> User:
    """Delete a user and, by cascade, their sessions; the last admin stays."""
    with transaction(conn):
        user = _require(conn, name)
        _check_not_last_admin(conn, user)
        conn.execute("DELETE FROM users WHERE id = ?", (user.id,))
    return user
