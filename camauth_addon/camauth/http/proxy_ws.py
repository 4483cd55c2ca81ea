"""WebSockets through the built-in proxy: Frigate's ``/ws``, go2rtc's ``/api/ws``, and others.

The upstream's socket is opened first, so the browser is only answered once the camera UI
has accepted (and with the subprotocol it chose). Then every frame is relayed as it is, in
both directions: text, binary, ping and pong (each side answers its own peer's pings, so a
ping is relayed rather than answered here) and the close code. The bridge ends when either
side closes, or when the credential that opened it stops allowing it (close code 4001/4003).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import aiohttp
from aiohttp import WSMsgType, web

from ..core.identity import Identity
from ..core.live import CloseReason
from ..core.policy import Target
from ..core.upstreams import CONNECT_TIMEOUT, Upstream
from ..errors import BadGateway
from .app_keys import UPSTREAM_CLIENT, WEBSOCKETS
from .live import watch_access
from .proxy_headers import upstream_headers

_LOGGER = logging.getLogger(__name__)

MAX_MESSAGE: Final = 32 * 1024 * 1024  # one video segment fits; a flood does not
_RESERVED_CLOSE_CODES = frozenset({1005, 1006, 1015})  # never sent in a close frame
AnySocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


def is_websocket_upgrade(request: web.Request) -> bool:
    """Whether the browser asks to open a WebSocket."""
    return request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket"


def _protocols(request: web.Request) -> tuple[str, ...]:
    offered = ",".join(request.headers.getall("Sec-WebSocket-Protocol", []))
    return tuple(name.strip() for name in offered.split(",") if name.strip())


async def _relay(source: AnySocket, sink: AnySocket) -> None:
    """Pass every frame from one side to the other until ``source`` closes."""
    while True:
        message = await source.receive()
        if message.type is WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type is WSMsgType.PING:
            await sink.ping(message.data)
        elif message.type is WSMsgType.PONG:
            await sink.pong(message.data)
        else:  # CLOSE, CLOSING, CLOSED or ERROR: the other side closes alike
            code = source.close_code or 1000
            reason = message.extra if isinstance(message.extra, str) else ""
            await sink.close(
                code=1000 if code in _RESERVED_CLOSE_CODES else code,
                message=reason.encode("utf-8")[:123],
            )
            return


async def _run(browser: web.WebSocketResponse, camera: aiohttp.ClientWebSocketResponse) -> None:
    """Relay both ways; the first side to end ends the other.

    The other relay is not cancelled but left to see its source close: cancelling it could
    cut short a close it is sending (aiohttp wakes a pending read before the close frame
    goes out), and the close code would be lost. Only one still running after the close
    timeout is cancelled.
    """
    tasks = [
        asyncio.create_task(_relay(browser, camera)),
        asyncio.create_task(_relay(camera, browser)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.wait(tasks, timeout=CONNECT_TIMEOUT)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, aiohttp.ClientError):
                await task


async def bridge(
    request: web.Request, upstream: Upstream, identity: Identity, target: Target
) -> web.StreamResponse:
    """Open the camera UI's WebSocket, then the browser's, and relay until either ends."""
    headers = upstream_headers(request, identity, upstream)
    try:
        camera = await request.app[UPSTREAM_CLIENT].ws_connect(
            upstream.url(target.path, target.query),
            headers=headers,
            protocols=_protocols(request),
            autoping=False,
            compress=0,
            max_msg_size=MAX_MESSAGE,
            timeout=aiohttp.ClientWSTimeout(ws_close=CONNECT_TIMEOUT),
        )
    except (TimeoutError, aiohttp.ClientError) as err:
        _LOGGER.warning("Upstream %s refused a WebSocket: %s", upstream.name, err)
        raise BadGateway(f"{upstream.name} did not open the WebSocket") from err
    async with camera:
        browser = web.WebSocketResponse(
            protocols=(camera.protocol,) if camera.protocol else (),
            autoping=False,
            compress=False,
            max_msg_size=MAX_MESSAGE,
        )
        await browser.prepare(request)
        request.app[WEBSOCKETS].add(browser)  # closed on shutdown, like CamAuth's own
        closing: list[asyncio.Task[None]] = []

        def close(reason: CloseReason) -> None:  # access ended: close both ends, say why
            message = reason.message.encode("utf-8")
            closing.append(asyncio.create_task(_close_both(browser, camera, reason.code, message)))

        unwatch = watch_access(request, target, close)
        try:
            await _run(browser, camera)
        finally:
            unwatch()
            request.app[WEBSOCKETS].discard(browser)
            for task in closing:
                await task
    return browser


async def _close_both(
    browser: web.WebSocketResponse,
    camera: aiohttp.ClientWebSocketResponse,
    code: int,
    message: bytes,
) -> None:
    await browser.close(code=code, message=message)
    await camera.close(code=1001, message=b"client access ended")
