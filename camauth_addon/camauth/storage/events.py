"""The SQL of the audit log: append, query, prune, count."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..core.events import LOGIN_FAILED, LOGIN_SUCCEEDED, Event
from .db import transaction

FAILED_TOTAL = "login_failed_total"


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A page of the audit log, newest first."""

    type: str | None = None
    username: str | None = None
    client: str | None = None
    since: float | None = None
    until: float | None = None
    before: int | None = None  # an event id: page below it
    limit: int = 100


def _values(event: Event, origin: str) -> tuple[Any, ...]:
    detail = json.dumps(event.detail, default=str)
    return (event.timestamp, event.type, event.username, event.client, detail, origin)


_INSERT = (
    "INSERT INTO events (timestamp, type, username, client, detail, origin)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_COUNT_FAILURES = (
    "INSERT INTO counters (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
)


def insert_event(conn: sqlite3.Connection, event: Event, origin: str) -> Event:
    """Append one event inside the caller's transaction; returns it with its row id."""
    cursor = conn.execute(_INSERT, _values(event, origin))
    return event.stored(int(cursor.lastrowid or 0))


def insert_events(conn: sqlite3.Connection, batch: list[Event], origin: str) -> None:
    """Append a batch of events, and count failed logins, in one transaction."""
    failures = sum(1 for event in batch if event.type == LOGIN_FAILED)
    with transaction(conn):
        if failures:
            conn.execute(_COUNT_FAILURES, (FAILED_TOTAL, failures))
        conn.executemany(_INSERT, [_values(event, origin) for event in batch])


_QUERY = """
    SELECT * FROM events
    WHERE (:type IS NULL OR type = :type)
      AND (:username IS NULL OR username = :username)
      AND (:client IS NULL OR client = :client)
      AND (:since IS NULL OR timestamp >= :since)
      AND (:until IS NULL OR timestamp < :until)
      AND (:before IS NULL OR id < :before)
    ORDER BY id DESC LIMIT :limit
"""


def query_events(conn: sqlite3.Connection, query: EventQuery) -> list[Event]:
    """Events matching the query, newest first (one fixed statement, values bound)."""
    params = {
        "type": query.type,
        "username": query.username,
        "client": query.client,
        "since": query.since,
        "until": query.until,
        "before": query.before,
        "limit": query.limit,
    }
    return [_event(row) for row in conn.execute(_QUERY, params).fetchall()]


def _event(row: sqlite3.Row) -> Event:
    detail = json.loads(row["detail"])
    return Event(row["type"], row["timestamp"], row["username"], row["client"], detail, row["id"])


def last_event_id(conn: sqlite3.Connection) -> int:
    """The newest event's id (0 when there is none)."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0])


def events_from_others(
    conn: sqlite3.Connection, after: int, origin: str, limit: int = 1000
) -> list[Event]:
    """Events after row ``after`` that another process (the shell) wrote, oldest first."""
    rows = conn.execute(
        "SELECT * FROM events WHERE id > ? AND origin != ? ORDER BY id LIMIT ?",
        (after, origin, limit),
    ).fetchall()
    return [_event(row) for row in rows]


def prune_events(conn: sqlite3.Connection, older_than: float, keep: int) -> int:
    """Delete events older than a time, and all but the newest ``keep``."""
    with transaction(conn):
        removed = conn.execute("DELETE FROM events WHERE timestamp < ?", (older_than,)).rowcount
        removed += conn.execute(
            "DELETE FROM events"
            " WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (keep,),
        ).rowcount
    return int(removed)


def audit_stats(conn: sqlite3.Connection, now: float) -> dict[str, Any]:
    """The audit-derived figures of ``/api/stats`` (indexed look-ups only)."""

    def failed_since(seconds: int) -> int:
        row = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = ? AND timestamp >= ?",
            (LOGIN_FAILED, now - seconds),
        ).fetchone()
        return int(row[0])

    total = conn.execute("SELECT value FROM counters WHERE name = ?", (FAILED_TOTAL,)).fetchone()
    last = conn.execute(
        "SELECT * FROM events WHERE type = ? ORDER BY timestamp DESC LIMIT 1", (LOGIN_SUCCEEDED,)
    ).fetchone()
    return {
        "failed_logins_last_hour": failed_since(3600),
        "failed_logins_last_day": failed_since(86400),
        "failed_logins_total": int(total[0]) if total else 0,
        "last_login": (
            {"username": last["username"], "timestamp": last["timestamp"], "client": last["client"]}
            if last
            else None
        ),
    }


def last_logins(conn: sqlite3.Connection) -> dict[str, tuple[float, str | None]]:
    """Each username's latest successful login: (time, client address)."""
    rows = conn.execute(
        "SELECT username, MAX(timestamp) AS at, client FROM events"
        " WHERE type = ? AND username IS NOT NULL GROUP BY username",
        (LOGIN_SUCCEEDED,),
    ).fetchall()
    return {row["username"]: (row["at"], row["client"]) for row in rows}
