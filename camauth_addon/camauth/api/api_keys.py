"""API keys for admins: list, create (the key is shown once), revoke."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ..const import ROLE_VIEWER, ROLES
from ..errors import NotFound
from .app_keys import ACCOUNTS
from .request import actor_of, is_small_id, read_json, text
from .responses import success

CREATE_SCHEMA = vol.Schema(
    {
        vol.Required("name"): text(64),
        vol.Optional("role", default=ROLE_VIEWER): vol.In(ROLES, msg="expected admin or viewer"),
        vol.Optional("paths", default=list): [text(256)],
    }
)


async def list_keys(request: web.Request) -> web.Response:
    """Every key: name, role, paths, created, last used; never the secret."""
    keys = await request.app[ACCOUNTS].list_keys()
    return web.json_response([key.as_json() for key in keys])


async def create_key(request: web.Request) -> web.Response:
    """Create a key; the answer carries it, once."""
    body = await read_json(request, CREATE_SCHEMA)
    created = await request.app[ACCOUNTS].create_key(
        body["name"], body["role"], tuple(body["paths"]), actor=actor_of(request)
    )
    return web.json_response(created.as_json(), status=201)


async def revoke_key(request: web.Request) -> web.Response:
    """Revoke a key by id."""
    raw = request.match_info["key_id"]
    if not is_small_id(raw):
        raise NotFound("API key not found")
    await request.app[ACCOUNTS].revoke_key(int(raw), actor=actor_of(request))
    return success()
