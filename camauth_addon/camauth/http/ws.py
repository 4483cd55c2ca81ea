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
from ..core.events import Event
from ..core.identity import SOURCE_INGRESS
from ..core.live import CloseReason
from ..core.policy import Access, Target
from .access import check_same_origin
from .app_keys import SERVICES, WEBSOCKETS
from .context import context
from .live import watch_access

_LOGGER = logging.getLogger(__name__)

HEARTBEAT = 30.0
STATS_INTERVAL = 60.0
QUEUE_SIZE = 256
MAX_INCOMING = 4096
CLOSE_TIMEOUT = 2.0


class _Client:
    """One connected client: a queue the bus fills and a task that empties it."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.sender: asyncio.Task[None] | None = None
        self.reader: asyncio.Task[None] | None = None
        self.ended = False
        self.reason: CloseReason | None = None

    def on_event(self, event: Event) -> None:
        if self.ended:
            return
        try:
            self.queue.put_nowait({"type": "event", "event": event.as_json()})
        except asyncio.QueueFull:
            self.drop()

    def _stop_sending(self) -> None:
        self.ended = True
        if self.sender is not None:
            self.sender.cancel()
        while not self.queue.empty():
            self.queue.get_nowait()

    def drop(self) -> None:
        """Disconnect at once, whatever the client is (not) doing."""
        self._stop_sending()
        transport = self.request.transport
        if transport is not None:
            transport.abort()  # close() would wait for a buffer a dead client never reads

    def revoke(self, reason: CloseReason) -> None:
        """The credential no longer allows this stream: nothing more is sent, then close.

        The handler closes it once the reader is out of ``receive()``: closed from another
        task while a read waits, aiohttp drops the connection without waiting for the
        client's Close frame, and the client may then see 1006 instead of ``reason``.
        """
        self._stop_sending()
        self.reason = reason
        if self.reader is not None:
            self.reader.cancel()

    async def close(self, reason: CloseReason) -> None:
        """Send ``reason`` and wait (bounded) for the client's Close frame."""
        try:
            await asyncio.wait_for(
                self.ws.close(code=reason.code, message=reason.message.encode()), CLOSE_TIMEOUT
            )
        except (TimeoutError, ConnectionError):
            self.drop()

    async def stats(self) -> dict[str, Any]:
        return await self.request.app[SERVICES].stats.collect()

    async def send_loop(self) -> None:
        await self.ws.send_json({"type": "hello", "version": VERSION, "stats": await self.stats()})
        while True:
            try:
                message = await asyncio.wait_for(self.queue.get(), STATS_INTERVAL)
            except TimeoutError:
                message = {"type": "stats", "stats": await self.stats()}
            await self.ws.send_json(message)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Stream events to an admin session or API key, for as long as it stays one.

    A WebSocket of JSON text frames, server to client (``StreamMessage``): ``hello`` once,
    then each event as it happens, and the statistics after every minute without one.
    Messages the client sends are read and ignored. A client that falls behind is
    disconnected; the stream closes when the credential stops being an admin's. A browser's
    handshake must come from this site (its ``Origin`` is checked).
    """
    # A browser sends Origin on WebSocket handshakes: refuse other sites (CSWSH). Through
    # ingress, Home Assistant's SameSite=Strict ingress cookie already keeps them out.
    if context(request).source != SOURCE_INGRESS:
        check_same_origin(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_INCOMING)
    await ws.prepare(request)
    client = _Client(request, ws)
    services = request.app[SERVICES]
    client.reader = asyncio.create_task(_read(ws))
    unwatch = watch_access(request, Target("GET", request.path, access=Access.ADMIN), client.revoke)
    unsubscribe = services.bus.subscribe(client.on_event)
    request.app[WEBSOCKETS].add(ws)
    client.sender = asyncio.create_task(client.send_loop())
    try:
        await asyncio.wait([client.reader])  # until the client leaves or access is revoked
        if client.reason is not None:
            await client.close(client.reason)
    finally:
        unwatch()
        unsubscribe()
        request.app[WEBSOCKETS].discard(ws)
        client.sender.cancel()
        client.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await client.sender
        with contextlib.suppress(asyncio.CancelledError):
            await client.reader
    return ws


async def _read(ws: web.WebSocketResponse) -> None:
    """Read until the client closes: incoming messages are not used, but keep pings flowing."""
    async for _ in ws:
        pass


async def close_websockets(app: web.Application) -> None:
    """Close every stream on shutdown, so stopping never waits for clients."""
    streams: set[web.WebSocketResponse] = app[WEBSOCKETS]
    for ws in list(streams):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutting down"), CLOSE_TIMEOUT
            )
