"""The first-run card of the Home Assistant panel: the generated admin password, until changed."""

from __future__ import annotations

from aiohttp import web

from ...const import ADMIN_USERNAME
from ...errors import NotFound
from ..app_keys import SERVICES


async def first_password(request: web.Request) -> web.Response:
    """The password CamAuth generated for ``admin``, while ``admin`` still has it."""
    users = request.app[SERVICES].users
    admin = await users.get(ADMIN_USERNAME)
    kept = users.first_password.read() if users.first_password is not None else None
    if admin is None or not admin.password_generated or kept is None:
        raise NotFound("No generated password to show", key="no_first_password")
    return web.json_response({"username": admin.username, "password": kept})
