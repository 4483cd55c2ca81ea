"""``/api/ws``: every event as it happens, plus periodic statistics, over a WebSocket.

Messages (JSON text frames), server to client only:
``{"type": "hello", "version": ..., "stats": {...}}`` once, then
``{"type": "event", "event": {"type", "timestamp", "username", "client", "detail"}}`` per
event and ``{"type": "stats", "stats": {...}}`` every ``STATS_INTERVAL`` seconds. Each client
has its own bounded queue and sender: a client that falls behind by ``QUEUE_SIZE`` messages
is disconnected, so a slow or dead client never delays anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSCloseCode, web

from ..const import VERSION
from ..events import Event
from .access import check_same_origin
from .app_keys import ACCOUNTS, SETTINGS, WEBSOCKETS
from .stats import collect_stats

_LOGGER = logging.getLogger(__name__)

HEARTBEAT = 30.0
STATS_INTERVAL = 60.0
QUEUE_SIZE = 256
MAX_INCOMING = 4096


class _Client:
    """One connected client: a queue the bus fills and a task that empties it."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.sender: asyncio.Task[None] | None = None

    def on_event(self, event: Event) -> None:
        try:
            self.queue.put_nowait({"type": "event", "event": event.as_json()})
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        """Disconnect at once, whatever the client is (not) doing."""
        if self.sender is not None:
            self.sender.cancel()
        transport = self.request.transport
        if transport is not None:
            transport.abort()  # close() would wait for a buffer a dead client never reads

    async def stats(self) -> dict[str, Any]:
        settings = self.request.app[SETTINGS]
        return await collect_stats(self.request.app[ACCOUNTS], settings.auth.enabled)

    async def send_loop(self) -> None:
        await self.ws.send_json({"type": "hello", "version": VERSION, "stats": await self.stats()})
        while True:
            try:
                message = await asyncio.wait_for(self.queue.get(), STATS_INTERVAL)
            except TimeoutError:
                message = {"type": "stats", "stats": await self.stats()}
            await self.ws.send_json(message)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Stream events to an admin session or API key."""
    # A browser sends Origin on WebSocket handshakes: refuse other sites (CSWSH).
    check_same_origin(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_INCOMING)
    await ws.prepare(request)
    client = _Client(request, ws)
    unsubscribe = request.app[ACCOUNTS].bus.subscribe(client.on_event)
    request.app[WEBSOCKETS].add(ws)
    client.sender = asyncio.create_task(client.send_loop())
    try:
        async for _ in ws:  # incoming messages are not used; reading keeps pings flowing
            pass
    finally:
        unsubscribe()
        request.app[WEBSOCKETS].discard(ws)
        client.sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await client.sender
    return ws


async def close_websockets(app: web.Application) -> None:
    """Close every stream on shutdown, so stopping never waits for clients."""
    streams: set[web.WebSocketResponse] = app[WEBSOCKETS]
    for ws in list(streams):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutting down"), 2
            )
