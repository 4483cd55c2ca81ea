"""The audit log: every event, kept in SQLite, read back page by page.

Events of stored changes (users, passwords, roles, sessions, keys) are written in the change's
own transaction, so a crash right after a 2xx answer cannot lose them. Events with nothing to
store (``login_failed``, ``lockout_started``, ``lockout_ended``) are queued and written in
batches by :meth:`AuditLog.run`, which drains the queue as fast as the database takes it: a
crash loses at most the events of the last moments (DOCS.md states the window).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from ..storage import events as store
from ..storage.db import Database
from ..storage.events import EventQuery
from .events import Event, EventBus

_LOGGER = logging.getLogger(__name__)

MAX_PAGE = 500
_QUEUE_SIZE = 10_000
_BATCH = 500


class AuditLog:
    """Writes the events that no transaction stored, and reads the log back."""

    def __init__(self, db: Database, bus: EventBus, origin: str) -> None:
        """Queue every unstored event the bus publishes from now on."""
        self._db = db
        self._bus = bus
        self._origin = origin
        self._queue: asyncio.Queue[Event] = asyncio.Queue(_QUEUE_SIZE)
        self._unsubscribe = bus.subscribe(self._enqueue)
        self._followed = 0
        self.dropped = 0

    def _enqueue(self, event: Event) -> None:
        if event.id is not None:
            return  # stored with its change
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1  # a flood must not grow memory; the count says what was lost

    async def run(self) -> None:
        """Write queued events until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < _BATCH:
                batch.append(self._queue.get_nowait())
            try:
                await self._db.run(store.insert_events, batch, self._origin)
            except Exception:
                _LOGGER.exception("Could not write %d audit events", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every event published so far is in the database."""
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
                await self._db.run(store.insert_events, batch, self._origin)

    async def query(self, query: EventQuery) -> list[Event]:
        """A page of the log, newest first, including everything published so far."""
        await self.flush()
        return await self._db.run(store.query_events, query)

    async def start_following(self) -> None:
        """Remember where the log ends: only later events of other processes are streamed."""
        self._followed = await self._db.run(store.last_event_id)

    async def follow(self) -> None:
        """Publish the events another process (the shell) stored since the last call."""
        found = await self._db.run(store.events_from_others, self._followed, self._origin)
        for event in found:
            self._followed = max(self._followed, event.id or 0)
            self._bus.publish(event)

    async def prune(self, retention_days: int, max_events: int) -> int:
        """Remove events past retention; returns how many."""
        oldest = time.time() - retention_days * 86400
        return await self._db.run(store.prune_events, oldest, max_events)
