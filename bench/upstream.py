"""The camera UI of the proxy benchmark: a bare aiohttp app with a small and a large answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from .processes import HOST

MIB = 1024 * 1024
CHUNK = 64 * 1024  # the large answer is written in pieces of this size
SMALL_BODY = json.dumps(
    {
        "camera": "front_door",
        "state": "recording",
        "detect": {"enabled": True, "fps": 5, "width": 1280, "height": 720},
        "objects": ["person", "car", "dog", "cat"],
        "zones": {"driveway": [0.1, 0.2, 0.5, 0.6], "porch": [0.6, 0.1, 0.9, 0.4]},
        "snapshots": {"enabled": True, "retain_days": 10, "bounding_box": True},
        "motion": {"threshold": 30, "contour_area": 10, "improve_contrast": True},
    }
).encode()


async def _small(request: web.Request) -> web.Response:
    return web.Response(body=SMALL_BODY, content_type="application/json")


def _large_handler(size: int) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    piece = b"\x5a" * CHUNK

    async def large(request: web.Request) -> web.StreamResponse:
        """``size`` bytes, streamed: never more than one chunk in memory."""
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        left = size
        while left > 0:
            await response.write(piece[: min(left, CHUNK)])
            left -= CHUNK
        await response.write_eof()
        return response

    return large


def upstream_app(large_bytes: int) -> web.Application:
    """``GET /small``: a few hundred bytes of JSON; ``GET /large``: ``large_bytes``, streamed."""
    app = web.Application()
    app.router.add_get("/small", _small)
    app.router.add_get("/large", _large_handler(large_bytes))
    return app


def run_upstream_server(port: int, large_mib: float) -> None:
    """The upstream, in this process, until it is stopped."""
    app = upstream_app(round(large_mib * MIB))
    web.run_app(app, host=HOST, port=port, print=None, access_log=None)
