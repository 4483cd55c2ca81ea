"""Lockouts for admins: list them, lift one, lift all."""

from __future__ import annotations

import time

from aiohttp import web

from ...errors import NotFound
from ..app_keys import SERVICES
from ..request import actor_of, is_small_id
from ..responses import success


async def list_lockouts(request: web.Request) -> web.Response:
    """Active lockouts of client addresses and usernames."""
    now = time.time()
    lockouts = request.app[SERVICES].lockouts.lockouts()
    return web.json_response([lockout.as_json(now) for lockout in lockouts])


async def lift_lockout(request: web.Request) -> web.Response:
    """Lift one lockout by id."""
    raw = request.match_info["lockout_id"]
    guard = request.app[SERVICES].lockouts
    if not is_small_id(raw) or not guard.lift(int(raw), by=actor_of(request).username or ""):
        raise NotFound("Lockout not found", key="lockout_not_found")
    return success()


async def lift_all(request: web.Request) -> web.Response:
    """Lift every lockout."""
    count = request.app[SERVICES].lockouts.lift_all(by=actor_of(request).username or "")
    return web.json_response({"success": True, "lifted": count})
