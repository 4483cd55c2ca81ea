"""A stand-in for Home Assistant and its Supervisor, as far as the ingress panel sees them.

Home Assistant's frontend shows an add-on's panel in a frame of its own page; the frame's
address is ``/api/hassio_ingress/<token>/``, on Home Assistant's own origin. The Supervisor
proxies everything under that prefix (WebSockets too) to the add-on's ingress port, without
the prefix, adding ``X-Ingress-Path`` and the Home Assistant user's ``X-Remote-User-*``.
It connects from its own address, which is the only one CamAuth's ingress listener believes:
here 127.0.0.2, standing in for 172.30.32.2.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

from aiohttp import ClientSession, TCPConnector, WSMsgType, web
from aiohttp.client_exceptions import WSServerHandshakeError
from multidict import CIMultiDict

SUPERVISOR: Final = "127.0.0.2"
TOKEN: Final = "Xq3r9-token_1"
INGRESS_PATH: Final = f"/api/hassio_ingress/{TOKEN}"
PANEL_PAGE: Final = "/hassio/ingress/camauth"
USER = {
    "X-Remote-User-Id": "8a2b6c",
    "X-Remote-User-Name": "Paulus",
    "X-Remote-User-Display-Name": "Paulus Schoutsen",
}
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}
_HANDSHAKE = {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
}
CLIENT: web.AppKey[ClientSession] = web.AppKey("client", ClientSession)
UPSTREAM: web.AppKey[str] = web.AppKey("upstream", str)

_FRAME = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CamAuth - Home Assistant</title>
<link rel="icon" href="data:,">
<style>
body {{ margin: 0 }}
iframe {{ border: 0; width: 100vw; height: 100vh; display: block }}
</style>
</head><body><iframe id="panel" title="CamAuth" src="{INGRESS_PATH}/"></iframe></body></html>
"""


def _forwarded(request: web.Request, drop: set[str]) -> CIMultiDict[str]:
    headers = CIMultiDict(
        (name, value) for name, value in request.headers.items() if name.lower() not in drop
    )
    headers["X-Ingress-Path"] = INGRESS_PATH
    headers.update(USER)
    return headers


async def _frame(request: web.Request) -> web.Response:
    return web.Response(text=_FRAME, content_type="text/html")


async def _proxy(request: web.Request) -> web.StreamResponse:
    url = f"{request.app[UPSTREAM]}/{request.match_info['tail']}"
    if request.query_string:
        url += f"?{request.query_string}"
    client = request.app[CLIENT]
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await _proxy_websocket(request, client, url)
    async with client.request(
        request.method,
        url,
        headers=_forwarded(request, _HOP),
        data=await request.read(),
        allow_redirects=False,
    ) as answer:
        body = await answer.read()
        headers = CIMultiDict(
            (name, value) for name, value in answer.headers.items() if name.lower() not in _HOP
        )
        return web.Response(status=answer.status, headers=headers, body=body)


async def _proxy_websocket(
    request: web.Request, client: ClientSession, url: str
) -> web.StreamResponse:
    try:
        upstream = await client.ws_connect(url, headers=_forwarded(request, _HOP | _HANDSHAKE))
    except WSServerHandshakeError as err:
        return web.Response(status=err.status)
    downstream = web.WebSocketResponse()
    await downstream.prepare(request)

    async def pump(source: Any, sink: Any) -> None:
        async for message in source:
            if message.type == WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await sink.send_bytes(message.data)

    tasks = [
        asyncio.create_task(pump(upstream, downstream)),
        asyncio.create_task(pump(downstream, upstream)),
    ]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await task
    code = upstream.close_code or 1000
    await upstream.close()
    await downstream.close(code=code)
    return downstream


async def _start_client(app: web.Application) -> None:
    app[CLIENT] = ClientSession(connector=TCPConnector(local_addr=(SUPERVISOR, 0)))


async def _stop_client(app: web.Application) -> None:
    await app[CLIENT].close()


def home_assistant(upstream: str) -> web.Application:
    """Home Assistant's page with the panel's frame, and the Supervisor's proxy to ``upstream``."""
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app.on_startup.append(_start_client)
    app.on_cleanup.append(_stop_client)
    app.router.add_get(PANEL_PAGE, _frame)
    app.router.add_route("*", INGRESS_PATH + "/{tail:.*}", _proxy)
    return app
