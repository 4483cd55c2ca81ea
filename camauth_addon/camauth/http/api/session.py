"""Login, logout, profile and changing one's own password."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import hdrs, web

from ...const import DEVICE_COOKIE
from ...core.devices import Device
from ...core.logins import LoginService
from ...core.passwords import MAX_LENGTH
from ...errors import BadRequest
from ..access import require_identity
from ..app_keys import SERVICES, SETTINGS
from ..context import client_of, context
from ..credentials import session_cookie
from ..request import read_json, text
from ..responses import clear_session_cookie, set_device_cookie, set_session_cookie, success

LOGIN_SCHEMA = vol.Schema(
    # An empty name is a failed login like any other, not a different-looking 400.
    {
        vol.Required("username"): vol.All(str, vol.Length(max=1024)),
        vol.Required("password"): vol.All(str, vol.Length(max=4 * MAX_LENGTH)),
        vol.Optional(
            "source",
            default="local",
            description="`homeassistant`: Home Assistant checks the password (the add-on).",
        ): vol.In(["local", "homeassistant"]),
    },
    extra=vol.REMOVE_EXTRA,
)
PASSWORD_SCHEMA = vol.Schema(
    {
        vol.Required("old_password"): text(4 * MAX_LENGTH),
        vol.Required("password"): text(4 * MAX_LENGTH),
    }
)


def user_agent(request: web.Request) -> str:
    """The browser's description of itself, for the session list (never for decisions)."""
    return request.headers.get("User-Agent", "")[:256]


LOGIN_API_PATH = "/api/login"


def device_of(request: web.Request, logins: LoginService) -> Device | None:
    """The browser's device cookie, if it is one of ours (two of them count as none)."""
    header = request.headers.get(hdrs.COOKIE)
    try:
        value = session_cookie(header, DEVICE_COOKIE) if header else None
    except BadRequest:
        return None
    return logins.devices.check(value)


def check_login_client(request: web.Request, logins: LoginService, client: str) -> Device | None:
    """Refuse a client over its limit before anything is read (429); its device cookie.

    Also asked at the server's front door (``Gateway.refuse_login``), before routing.
    """
    device = device_of(request, logins)
    logins.check_client(client, device)
    return device


async def login(request: web.Request) -> web.Response:
    """Exchange a username and password for a session token and cookie."""
    logins, client = request.app[SERVICES].logins, client_of(request)
    device = check_login_client(request, logins, client)
    body = await read_json(request, LOGIN_SCHEMA)
    done = await logins.login(
        body["username"], body["password"], client, user_agent(request), device, body["source"]
    )
    response = web.json_response(done.result.as_json())
    auth = request.app[SETTINGS].auth
    set_session_cookie(response, done.result, auth)
    if done.device_cookie is not None:
        set_device_cookie(response, done.device_cookie, auth)
    return response


async def logout(request: web.Request) -> web.Response:
    """End the session server-side and clear the cookie."""
    ctx = context(request)
    if ctx.credential_error:  # two session cookies: which one to end is ambiguous
        raise BadRequest(ctx.credential_error, key="bad_credential")
    if ctx.identity is not None:
        await request.app[SERVICES].sessions.logout(ctx.identity, ctx.client)
    response = success()
    clear_session_cookie(response, request.app[SETTINGS].auth)
    return response


async def profile(request: web.Request) -> web.Response:
    """Who the caller is."""
    identity = require_identity(request)
    return web.json_response(
        {"username": identity.username, "role": identity.role, "auth_method": identity.method}
    )


async def change_password(request: web.Request) -> web.Response:
    """Change one's own password: every session ends, and this caller gets a fresh one."""
    identity = require_identity(request)
    body = await read_json(request, PASSWORD_SCHEMA)
    result = await request.app[SERVICES].logins.change_own_password(
        identity, body["old_password"], body["password"], client_of(request), user_agent(request)
    )
    response = web.json_response(result.as_json())
    set_session_cookie(response, result, request.app[SETTINGS].auth)
    return response
