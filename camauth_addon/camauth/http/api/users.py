"""User management for admins (Frigate's shapes)."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ...const import ROLE_VIEWER
from ...core.names import validate_username
from ...core.passwords import MAX_LENGTH
from ...core.roles import validate_role
from ..app_keys import SERVICES
from ..request import actor_of, checked, read_json, text
from ..responses import success

ROLE = checked(validate_role)
CREATE_SCHEMA = vol.Schema(
    {
        vol.Required("username"): vol.All(text(64), checked(validate_username)),
        vol.Required("password"): text(4 * MAX_LENGTH),
        vol.Optional("role", default=ROLE_VIEWER): ROLE,
    }
)
PASSWORD_SCHEMA = vol.Schema({vol.Required("password"): text(4 * MAX_LENGTH)})
RESET_SCHEMA = vol.Schema({vol.Optional("password"): text(4 * MAX_LENGTH)})
ROLE_SCHEMA = vol.Schema({vol.Required("role"): ROLE})


async def list_users(request: web.Request) -> web.Response:
    """All users with their roles."""
    users = await request.app[SERVICES].users.list()
    return web.json_response([user.as_json() for user in users])


async def create_user(request: web.Request) -> web.Response:
    """Create a user."""
    body = await read_json(request, CREATE_SCHEMA)
    user = await request.app[SERVICES].users.create(
        body["username"], body["password"], body["role"], actor_of(request)
    )
    return web.json_response(user.as_json(), status=201)


async def delete_user(request: web.Request) -> web.Response:
    """Delete a user; the last admin cannot be deleted."""
    await request.app[SERVICES].users.delete(request.match_info["name"], actor_of(request))
    return success()


async def set_password(request: web.Request) -> web.Response:
    """Set a user's password; their sessions end."""
    body = await read_json(request, PASSWORD_SCHEMA)
    await request.app[SERVICES].users.set_password(
        request.match_info["name"], body["password"], actor_of(request)
    )
    return success()


async def set_role(request: web.Request) -> web.Response:
    """Change a user's role; the last admin cannot be demoted."""
    body = await read_json(request, ROLE_SCHEMA)
    await request.app[SERVICES].users.set_role(
        request.match_info["name"], body["role"], actor_of(request)
    )
    return success()


async def reset_password(request: web.Request) -> web.Response:
    """Reset a user's password: to the one given, or to a generated one returned once."""
    body = await read_json(request, RESET_SCHEMA)
    name = request.match_info["name"]
    password = await request.app[SERVICES].users.reset_password(
        name, body.get("password"), actor_of(request)
    )
    answer: dict[str, object] = {"success": True, "username": name}
    if password is not None:
        answer["password"] = password
    return web.json_response(answer)


async def revoke_sessions(request: web.Request) -> web.Response:
    """End every session of a user."""
    count = await request.app[SERVICES].sessions.revoke_user(
        request.match_info["name"], actor_of(request)
    )
    return web.json_response({"success": True, "revoked": count})
