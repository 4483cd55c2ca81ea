"""The audit log: every event, appended to SQLite off the request path, pruned by age and size."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from .events import LOGIN_FAILED, LOGIN_SUCCEEDED, Event, EventBus
from .store import Database, transaction

_LOGGER = logging.getLogger(__name__)

MAX_PAGE = 500
_QUEUE_SIZE = 10_000
FAILED_TOTAL = "login_failed_total"


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A page of the audit log, newest first."""

    type: str | None = None
    username: str | None = None
    since: float | None = None
    before: int | None = None  # an event id: page below it
    limit: int = 100


def insert_events(conn: sqlite3.Connection, batch: list[Event]) -> None:
    """Append a batch of events, and count failed logins, in one transaction."""
    failures = sum(1 for event in batch if event.type == LOGIN_FAILED)
    with transaction(conn):
        if failures:
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (FAILED_TOTAL, failures),
            )
        conn.executemany(
            "INSERT INTO events (timestamp, type, username, client, detail) VALUES (?, ?, ?, ?, ?)",
            [
                (e.timestamp, e.type, e.username, e.client, json.dumps(e.detail, default=str))
                for e in batch
            ],
        )


_QUERY = """
    SELECT * FROM events
    WHERE (:type IS NULL OR type = :type)
      AND (:username IS NULL OR username = :username)
      AND (:since IS NULL OR timestamp >= :since)
      AND (:before IS NULL OR id < :before)
    ORDER BY id DESC LIMIT :limit
"""


def query_events(conn: sqlite3.Connection, query: EventQuery) -> list[dict[str, Any]]:
    """Events matching the query, newest first (one fixed statement, values bound)."""
    params = {
        "type": query.type,
        "username": query.username,
        "since": query.since,
        "before": query.before,
        "limit": query.limit,
    }
    return [_row(row) for row in conn.execute(_QUERY, params).fetchall()]


def _row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "timestamp": row["timestamp"],
        "username": row["username"],
        "client": row["client"],
        "detail": json.loads(row["detail"]),
    }


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


class AuditLog:
    """Listens to the event bus and writes events in batches on the database thread."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        """Queue every event the bus emits from now on."""
        self._db = db
        self._queue: asyncio.Queue[Event] = asyncio.Queue(_QUEUE_SIZE)
        self._unsubscribe = bus.subscribe(self._enqueue)
        self.dropped = 0

    def _enqueue(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1  # a flood must not grow memory; the count says what was lost

    async def run(self) -> None:
        """Write queued events until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            try:
                await self._db.run(insert_events, batch)
            except Exception:
                _LOGGER.exception("Could not write %d audit events", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every event emitted so far is in the database."""
        await self._queue.join()

    async def close(self) -> None:
        """Stop listening and write what is left (after :meth:`run` was cancelled)."""
        self._unsubscribe()
        batch = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
            self._queue.task_done()
        if batch:
            with contextlib.suppress(Exception):
                await self._db.run(insert_events, batch)
