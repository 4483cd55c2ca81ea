"""The sessions table (camauth.storage.sessions): expiry and a bounded number per user."""

from __future__ import annotations

import sqlite3
import time

from camauth.storage import sessions as sessions_db
from tests import helpers


def test_expired_sessions_are_deleted_and_each_user_keeps_a_bounded_number(
    conn: sqlite3.Connection,
) -> None:
    alice = helpers.add_user(conn, "alice", "admin", "h")
    helpers.add_session(conn, "old", alice, 100.0)
    helpers.add_session(conn, "new", alice, 300.0)
    assert sessions_db.delete_expired(conn, 200.0) == 1
    assert [row[0] for row in conn.execute("SELECT sid FROM sessions")] == ["new"]
    dropped: list[str] = []
    for n in range(sessions_db.MAX_SESSIONS_PER_USER + 5):
        created = time.time() + 1 + n
        dropped += helpers.add_session(conn, f"s{n}", alice, 1e10, created_at=created)
    count = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    assert count == sessions_db.MAX_SESSIONS_PER_USER
    assert "new" in dropped  # the oldest go first
    assert f"s{sessions_db.MAX_SESSIONS_PER_USER + 4}" not in dropped
    assert sessions_db.extend_session(conn, "new", 5.0) is False
    assert sessions_db.extend_session(conn, "s54", 5.0) is True
