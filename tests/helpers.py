"""Helpers shared by the whole suite: storage calls with the audit event they require."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from camauth.core.events import Event, make_event
from camauth.core.logins import HomeAssistantCheck
from camauth.core.passwords import PasswordHasher
from camauth.core.services import Services, open_services
from camauth.options import AuthSettings
from camauth.storage import sessions as sessions_db
from camauth.storage import users as users_db
from camauth.storage.sessions import Principal, Session
from camauth.storage.users import User

ORIGIN = "tests"
# Real bcrypt at its lowest cost keeps the suite fast; test_passwords checks the default is 12.
TEST_ROUNDS = 4


def wide(text: str) -> str:
    """The full-width form of ASCII text, as an East Asian keyboard types it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


async def open_test_services(
    data_dir: Path,
    auth: AuthSettings,
    secret: str,
    *,
    hasher: PasswordHasher | None = None,
    home_assistant: HomeAssistantCheck | None = None,
) -> Services:
    """The services on a real database file in ``data_dir``, with fast real bcrypt.

    ``hasher`` replaces the default one (for tests that hold a login at a chosen point);
    ``home_assistant`` checks Home Assistant accounts, as the add-on's Supervisor does.
    """
    hasher = hasher or PasswordHasher(rounds=TEST_ROUNDS, workers=2)
    return await open_services(data_dir, auth, secret, hasher=hasher, home_assistant=home_assistant)


def _event(kind: str) -> users_db.EventFor:
    return lambda user: make_event(kind, username=user.username)


def add_user(
    conn: sqlite3.Connection, name: str, role: str, password_hash: str, *, generated: bool = False
) -> User:
    """Store a user directly (with its ``user_created`` event)."""
    user, _ = users_db.create_user(
        conn,
        name,
        role,
        password_hash,
        generated=generated,
        event_for=_event("user_created"),
        origin=ORIGIN,
    )
    return user


def set_password(
    conn: sqlite3.Connection, name: str, password_hash: str, *, generated: bool = False
) -> User:
    """Store a new password hash directly."""
    user, _ = users_db.set_password(
        conn,
        name,
        password_hash,
        generated=generated,
        event_for=_event("password_reset"),
        origin=ORIGIN,
    )
    return user


def set_role(conn: sqlite3.Connection, name: str, role: str) -> User:
    """Change a role directly."""
    user, _ = users_db.set_role(conn, name, role, event_for=_event("role_changed"), origin=ORIGIN)
    return user


def delete_user(conn: sqlite3.Connection, name: str) -> User:
    """Delete a user directly."""
    user, _ = users_db.delete_user(conn, name, event_for=_event("user_deleted"), origin=ORIGIN)
    return user


def add_session(
    conn: sqlite3.Connection, sid: str, user: User, expires_at: float, created_at: float = 0.0
) -> list[str]:
    """Store a session for ``user`` directly; returns the sids it pushed out."""

    def event_for(owner: Principal) -> Event:
        return make_event("login_succeeded", username=owner.username)

    new = sessions_db.insert_session(
        conn,
        Session(sid, user.id, expires_at),
        checked=user,
        created_at=created_at or time.time(),
        client="",
        user_agent="",
        event_for=event_for,
        origin=ORIGIN,
    )
    return new.dropped


RESERVED_PREFIX = "/camauth"


def unprefixed(path: str) -> str:
    """A route template without CamAuth's reserved prefix (every route is served under both)."""
    if path == RESERVED_PREFIX + "/" or path.startswith(RESERVED_PREFIX + "/"):
        return path[len(RESERVED_PREFIX) :] or "/"
    return path
