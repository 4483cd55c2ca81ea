"""API keys for admins: list, create (the key is shown once), revoke."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ...const import ROLE_VIEWER
from ...core.api_keys import validate_name, validate_paths
from ...core.roles import validate_role
from ...errors import NotFound
from ..app_keys import SERVICES
from ..request import actor_of, checked, is_small_id, read_json, text
from ..responses import success

CREATE_SCHEMA = vol.Schema(
    {
        vol.Required("name"): vol.All(text(64), checked(validate_name)),
        vol.Optional("role", default=ROLE_VIEWER): checked(validate_role),
        vol.Optional("paths", default=list): vol.All([text(256)], checked(validate_paths)),
    }
)


async def list_keys(request: web.Request) -> web.Response:
    """Every key: name, role, paths, created, last used; never the secret."""
    keys = await request.app[SERVICES].keys.list()
    return web.json_response([key.as_json() for key in keys])


async def create_key(request: web.Request) -> web.Response:
    """Create a key; the answer carries it, once."""
    body = await read_json(request, CREATE_SCHEMA)
    created = await request.app[SERVICES].keys.create(
        body["name"], body["role"], body["paths"], actor_of(request)
    )
    return web.json_response(created.as_json(), status=201)


async def revoke_key(request: web.Request) -> web.Response:
    """Revoke a key by id."""
    raw = request.match_info["key_id"]
    if not is_small_id(raw):
        raise NotFound("API key not found", key="api_key_not_found")
    await request.app[SERVICES].keys.revoke(int(raw), actor_of(request))
    return success()
