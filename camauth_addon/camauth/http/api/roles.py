"""Roles for admins: the built-in ones, custom ones with rules and cameras, and the presets."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from ...core.cameras import PRESETS
from ...core.roles import METHODS, parse_role, validate_role_name
from ...errors import NotFound
from ..app_keys import SERVICES
from ..request import actor_of, checked, read_json
from ..responses import success

RULE = vol.Schema(
    {
        vol.Required("paths", description="Path patterns: '*' one segment, '**' any."): [str],
        vol.Required("methods"): [vol.In(sorted(METHODS))],
    }
)
ROLE_BODY = vol.Schema(
    {
        vol.Optional("description"): vol.All(str, vol.Length(max=256)),
        vol.Optional("rules", description="What the role may do; nothing else is allowed."): [RULE],
        vol.Optional("presets", description="Read-only POSTs of camera systems, by name."): [
            vol.In(list(PRESETS))
        ],
        vol.Optional(
            "cameras", description="Only these cameras (null or absent: every camera)."
        ): vol.Any(None, [str]),
    }
)
CREATE_SCHEMA = ROLE_BODY.extend({vol.Required("name"): checked(validate_role_name)})


async def list_roles(request: web.Request) -> web.Response:
    """Every role: the built-in ``admin`` and ``viewer`` first, then custom ones."""
    book = request.app[SERVICES].roles.book
    return web.json_response([role.as_json() for role in map(book.get, book.names()) if role])


async def list_presets(request: web.Request) -> web.Response:
    """The read-only POSTs of camera systems that a role can allow by name."""
    return web.json_response(
        [
            {
                "name": preset.name,
                "description": preset.description,
                "methods": sorted(preset.methods),
            }
            for preset in PRESETS.values()
        ]
    )


def _role_body(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "name"}


async def create_role(request: web.Request) -> web.Response:
    """Create a custom role."""
    body = await read_json(request, CREATE_SCHEMA)
    role = parse_role(body["name"], _role_body(body))
    await request.app[SERVICES].roles.save(role, actor_of(request), create=True)
    return web.json_response(role.as_json(), status=201)


async def update_role(request: web.Request) -> web.Response:
    """Replace a custom role's description, rules, presets and cameras."""
    body = await read_json(request, ROLE_BODY)
    role = parse_role(validate_role_name(request.match_info["name"]), body)
    await request.app[SERVICES].roles.save(role, actor_of(request), create=False)
    return web.json_response(role.as_json())


async def delete_role(request: web.Request) -> web.Response:
    """Delete a custom role that no user or key holds."""
    name = request.match_info["name"]
    if request.app[SERVICES].roles.book.get(name) is None:
        raise NotFound("Role not found", key="role_not_found")
    await request.app[SERVICES].roles.delete(name, actor_of(request))
    return success()
