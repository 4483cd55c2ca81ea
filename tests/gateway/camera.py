"""A camera-like upstream: the kinds of answers camera UIs give, on a real server.

An HTML page with absolute and relative links, a JSON API that echoes what reached it, an
upload that is counted as it streams, an MJPEG stream, HLS, server-sent events, a download
with ``Range``, a WebSocket echo, redirects and cookies, and an answer that never comes.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from aiohttp import WSMsgType, web

PAGE = """<!doctype html><title>Camera</title>
<a href="/api/stats">absolute</a> <a href="live/front">relative</a>"""
FRAME = b"\xff\xd8" + b"frame" * 200 + b"\xff\xd9"
BOUNDARY = "frame"
DOWNLOAD = bytes(range(256)) * 4096  # 1 MiB with a pattern, so a range is checkable


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def echo(request: web.Request) -> web.Response:
    """What reached the camera UI: method, path, query and headers."""
    return web.json_response(
        {
            "method": request.method,
            "path": request.raw_path.split("?", 1)[0],
            "query": request.query_string,
            "headers": {name: ", ".join(request.headers.getall(name)) for name in request.headers},
        }
    )


async def upload(request: web.Request) -> web.Response:
    """Counts and hashes an upload as it streams (never holds it)."""
    digest, size = hashlib.sha256(), 0
    async for chunk in request.content.iter_any():
        digest.update(chunk)
        size += len(chunk)
    return web.json_response({"size": size, "sha256": digest.hexdigest()})


async def mjpeg(request: web.Request) -> web.StreamResponse:
    """Frames until the client goes away."""
    response = web.StreamResponse(
        headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
    )
    await response.prepare(request)
    while True:
        part = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(FRAME)}\r\n\r\n"
        await response.write(part.encode() + FRAME + b"\r\n")
        await asyncio.sleep(0.05)


async def playlist(request: web.Request) -> web.Response:
    text = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nsegment0.ts\n#EXTINF:2.0,\nsegment1.ts\n"
    )
    return web.Response(text=text, content_type="application/vnd.apple.mpegurl")


async def segment(request: web.Request) -> web.Response:
    number = int(request.match_info["number"])
    return web.Response(body=bytes([number]) * 188 * 100, content_type="video/mp2t")


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: a few, one at a time, then the end."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for number in range(3):
        await response.write(f"id: {number}\ndata: event {number}\n\n".encode())
        await asyncio.sleep(0.02)
    return response


async def download(request: web.Request) -> web.StreamResponse:
    """A file with ``Range`` support (aiohttp's own file sender)."""
    return web.FileResponse(request.app[DOWNLOAD_PATH])


async def redirect(request: web.Request) -> web.Response:
    where = request.query.get("to", "/")
    raise web.HTTPFound(where)


async def cookie(request: web.Request) -> web.Response:
    response = web.Response(text="set")
    response.headers.add("Set-Cookie", "camera_session=abc; Path=/; HttpOnly")
    response.headers.add("Set-Cookie", "camauth_token=forged; Path=/")
    return response


async def never(request: web.Request) -> web.Response:
    await asyncio.sleep(3600)
    return web.Response(text="too late")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Echoes text and binary; ``close:<code>`` closes with that code; pings are answered."""
    ws = web.WebSocketResponse(protocols=("camera.v1",))
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT and message.data.startswith("close:"):
            await ws.close(code=int(message.data[6:]), message=b"asked to")
        elif message.type is WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


DOWNLOAD_PATH = web.AppKey("download_path", Path)


def camera_app(folder: Path) -> web.Application:
    """The camera UI, with its download file written into ``folder``."""
    app = web.Application()
    path = folder / "download.bin"
    path.write_bytes(DOWNLOAD)
    app[DOWNLOAD_PATH] = path
    for method, route, handler in (
        ("GET", "/", page),
        ("*", "/api/{tail:.*}", echo),
        ("POST", "/{stream}/whep", echo),  # MediaMTX's WebRTC offer
        ("POST", "/upload", upload),
        ("GET", "/mjpeg", mjpeg),
        ("GET", "/hls/index.m3u8", playlist),
        ("GET", "/hls/segment{number:\\d+}.ts", segment),
        ("GET", "/events", events),
        ("GET", "/download", download),
        ("GET", "/redirect", redirect),
        ("GET", "/cookie", cookie),
        ("GET", "/never", never),
        ("GET", "/ws", websocket),
    ):
        app.router.add_route(method, route, handler)
    return app
