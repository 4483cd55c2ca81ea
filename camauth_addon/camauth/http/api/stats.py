"""Statistics and observed configuration problems, for dashboards and Home Assistant."""

from __future__ import annotations

from aiohttp import web

from ..app_keys import SERVICES


async def stats(request: web.Request) -> web.Response:
    """The current statistics."""
    return web.json_response(await request.app[SERVICES].stats.collect())


async def warnings(request: web.Request) -> web.Response:
    """Configuration problems CamAuth has observed.

    Problems the requests it serves show, such as ``X-Forwarded-For`` from a peer that is not
    a trusted proxy, or HTTPS while ``auth.cookie_secure`` is off (see core.warnings).
    """
    found = request.app[SERVICES].warnings.current()
    return web.json_response({"warnings": [warning.as_json() for warning in found]})
