"""Public endpoints: liveness, version and whether auth is on."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from ...const import VERSION
from ..app_keys import SERVICES, SETTINGS
from ..navigation import login_page


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def version(request: web.Request) -> web.Response:
    """The service version."""
    return web.json_response({"version": VERSION})


async def auth_status(request: web.Request) -> web.Response:
    """Whether authentication is enabled, and where to log in and out."""
    settings = request.app[SETTINGS]
    return web.json_response(
        {
            "auth_enabled": settings.auth.enabled,
            "login_url": login_page(request),  # where forward-auth sends browsers
            "logout_url": settings.proxy.logout_url or None,
            "homeassistant_login": request.app[SERVICES].logins.home_assistant is not None,
            "version": VERSION,
        }
    )


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of this API.

    Generated from the route table by ``script/gen_openapi.py``, and shipped in the package.
    """
    body = resources.files("camauth").joinpath("openapi.json").read_bytes()
    return web.Response(body=body, content_type="application/json")
