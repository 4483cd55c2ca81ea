"""The SQL behind ``/api/stats``: one read of everything it reports from the database."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..const import ADMIN_USERNAME
from .events import audit_stats, last_logins
from .sessions import active_by_user
from .users import get_user, list_users, role_counts


def stored_stats(conn: sqlite3.Connection, now: float) -> dict[str, Any]:
    """Users, their activity, and the audit figures, read on the database thread."""
    admin = get_user(conn, ADMIN_USERNAME)
    logins = last_logins(conn)
    sessions = active_by_user(conn, now)
    activity = [
        {
            "username": user.username,
            "role": user.role,
            "last_login": logins.get(user.username, (None, None))[0],
            "last_login_client": logins.get(user.username, (None, None))[1],
            "active_sessions": sessions.get(user.username, 0),
        }
        for user in list_users(conn)
    ]
    return {
        "roles": role_counts(conn),
        "admin_password_generated": bool(admin and admin.password_generated),
        "user_activity": activity,
        **audit_stats(conn, now),
    }
