"""A stand-in camera UI (Frigate- and go2rtc-like) for the proxies to protect.

It records every request that reaches it, so a test can tell a refusal by the proxy from a
request that got through, and answers the shapes of traffic a camera UI really has: a page,
JSON, a large upload, a WebSocket, a multipart MJPEG stream and a WebRTC offer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
IDENTITY = ("Remote-User", "Remote-Role", "Remote-Groups", "Remote-Email", "Remote_User")
FRAMES = 4
BOUNDARY = "camframe"
SDP_ANSWER = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=camauth-test\r\nt=0 0\r\n"


@dataclass
class Camera:
    """The running stand-in's port and what reached it: (method, raw path with query)."""

    port: int = 0
    seen: list[tuple[str, str]] = field(default_factory=list)
    watched: asyncio.Event = field(default_factory=asyncio.Event)  # the first frame arrived

    def reached(self, raw_path: str) -> bool:
        """Whether a request for exactly this raw path arrived (any method)."""
        return any(path == raw_path for _, path in self.seen)


def _identity(request: web.Request) -> dict[str, str | None]:
    return {name: request.headers.get(name) for name in IDENTITY}


async def _echo(request: web.Request) -> web.Response:
    """Any other path: who asked, for what (JSON), or a page for a browser."""
    if "text/html" in request.headers.get("Accept", ""):
        user = request.headers.get("Remote-User", "")
        page = f"<!doctype html><title>Camera</title><p>{user}"
        return web.Response(text=page, content_type="text/html")
    return web.json_response({**_identity(request), "path": request.raw_path})


async def _upload(request: web.Request) -> web.Response:
    """Frigate-like export upload: answers how many bytes arrived."""
    body = await request.read()
    return web.json_response({"size": len(body)})


async def _websocket(request: web.Request) -> web.WebSocketResponse:
    """Echo text frames back, as a live view's control channel would answer."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_str(f"echo:{message.data}")
    return ws


def _part(n: int) -> bytes:
    frame = b"\xff\xd8fake-jpeg-%d\xff\xd9" % n
    return f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode() + frame + b"\r\n"


def mjpeg_handler(camera: Camera) -> Handler:
    """A short multipart/x-mixed-replace stream, sent frame by frame (chunked).

    After the first frame it waits until the viewer says it has seen it (``camera.watched``):
    a proxy that holds the stream back until it ends never delivers that frame, and the
    viewer's bounded wait fails instead of passing on a buffered whole.
    """

    async def mjpeg(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(_part(0))
        await asyncio.wait_for(camera.watched.wait(), 60)
        for n in range(1, FRAMES):
            await response.write(_part(n))
        await response.write_eof()
        return response

    return mjpeg


async def _webrtc(request: web.Request) -> web.Response:
    """go2rtc's WebRTC offer: an SDP offer in, an SDP answer out."""
    offer = await request.text()
    if not offer.startswith("v=0"):
        raise web.HTTPBadRequest(text="not an SDP offer")
    return web.Response(text=SDP_ANSWER, content_type="application/sdp")


async def _snapshot(request: web.Request) -> web.Response:
    """Frigate's /api/<camera>/latest.jpg."""
    camera = request.match_info["camera"]
    body = b"\xff\xd8" + camera.encode() + b"\xff\xd9"
    return web.Response(body=body, content_type="image/jpeg")


def camera_app(camera: Camera) -> web.Application:
    """The stand-in's routes; every request is recorded first."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        camera.seen.append((request.method, request.raw_path))
        return await handler(request)

    app = web.Application(middlewares=[record], client_max_size=4 * 1024 * 1024)
    app.router.add_post("/api/upload", _upload)
    app.router.add_get("/ws", _websocket)
    app.router.add_get("/api/{camera}/stream.mjpeg", mjpeg_handler(camera))
    app.router.add_post("/api/webrtc", _webrtc)
    app.router.add_get("/api/{camera}/latest.jpg", _snapshot)
    app.router.add_route("*", "/{tail:.*}", _echo)
    return app


@pytest.fixture
async def camera() -> AsyncIterator[Camera]:
    """The camera UI the proxies protect, on 127.0.0.1."""
    camera = Camera()
    server = TestServer(camera_app(camera), host="127.0.0.1")
    await server.start_server()
    assert server.port is not None
    camera.port = server.port
    yield camera
    await server.close()
