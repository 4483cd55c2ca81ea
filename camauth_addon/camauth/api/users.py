"""User management for admins (Frigate's shapes)."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ..const import ROLE_VIEWER, ROLES
from ..passwords import MAX_LENGTH
from .app_keys import ACCOUNTS
from .request import actor_of, read_json, text
from .responses import success

ROLE = vol.In(ROLES, msg=f"expected one of {', '.join(ROLES)}")
CREATE_SCHEMA = vol.Schema(
    {
        vol.Required("username"): text(64),
        vol.Required("password"): text(4 * MAX_LENGTH),
        vol.Optional("role", default=ROLE_VIEWER): ROLE,
    }
)
PASSWORD_SCHEMA = vol.Schema({vol.Required("password"): text(4 * MAX_LENGTH)})
RESET_SCHEMA = vol.Schema({vol.Optional("password"): text(4 * MAX_LENGTH)})
ROLE_SCHEMA = vol.Schema({vol.Required("role"): ROLE})


async def list_users(request: web.Request) -> web.Response:
    """All users with their roles."""
    users = await request.app[ACCOUNTS].list_users()
    return web.json_response([user.as_json() for user in users])


async def create_user(request: web.Request) -> web.Response:
    """Create a user."""
    body = await read_json(request, CREATE_SCHEMA)
    user = await request.app[ACCOUNTS].create_user(
        body["username"], body["password"], body["role"], actor=actor_of(request)
    )
    return web.json_response(user.as_json(), status=201)


async def delete_user(request: web.Request) -> web.Response:
    """Delete a user; the last admin cannot be deleted."""
    await request.app[ACCOUNTS].delete_user(request.match_info["name"], actor=actor_of(request))
    return success()


async def set_password(request: web.Request) -> web.Response:
    """Set a user's password; their sessions end."""
    body = await read_json(request, PASSWORD_SCHEMA)
    await request.app[ACCOUNTS].set_password(
        request.match_info["name"], body["password"], actor=actor_of(request)
    )
    return success()


async def set_role(request: web.Request) -> web.Response:
    """Change a user's role; the last admin cannot be demoted."""
    body = await read_json(request, ROLE_SCHEMA)
    await request.app[ACCOUNTS].set_role(
        request.match_info["name"], body["role"], actor=actor_of(request)
    )
    return success()


async def reset_password(request: web.Request) -> web.Response:
    """Reset a user's password: to the one given, or to a generated one returned once."""
    body = await read_json(request, RESET_SCHEMA)
    name = request.match_info["name"]
    password = await request.app[ACCOUNTS].reset_password(
        name, body.get("password"), actor=actor_of(request)
    )
    answer: dict[str, object] = {"success": True, "username": name}
    if password is not None:
        answer["password"] = password
    return web.json_response(answer)


async def revoke_sessions(request: web.Request) -> web.Response:
    """End every session of a user."""
    count = await request.app[ACCOUNTS].revoke_sessions(
        request.match_info["name"], actor=actor_of(request)
    )
    return web.json_response({"success": True, "revoked": count})
