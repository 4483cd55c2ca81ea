"""Statistics for dashboards and the Home Assistant integration (cheap to poll)."""

from __future__ import annotations

from aiohttp import web

from ..app_keys import SERVICES


async def stats(request: web.Request) -> web.Response:
    """The current statistics."""
    return web.json_response(await request.app[SERVICES].stats.collect())
