"""The admin panel through Home Assistant's ingress, on its own port.

The Supervisor proxies the sidebar panel to this listener after Home Assistant has checked
the user, and adds who it is (``X-Remote-User-Name``) and under which path the browser sees it
(``X-Ingress-Path``). So this listener believes exactly one peer: the Supervisor's address,
judged by the TCP connection, never by a header; anyone else is refused whatever they send.
Through it, the Home Assistant user acts as a CamAuth admin (audited under their name, with
the source ``ingress``). It never consults login limits or lockouts: it is how the owner gets
back in when an attacker has locked ``admin`` out.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from aiohttp import web

from ..const import ROLE_ADMIN, SAFE_METHODS
from ..core.identity import SOURCE_INGRESS, Identity
from ..core.services import Services
from ..options import Settings
from . import ws
from .access import Handler, guarded
from .app_keys import SERVICES, SETTINGS, WEBSOCKETS
from .client_ip import parse_address
from .context import RequestContext, set_context
from .middlewares import _render_errors, add_security_headers
from .pages import ADMIN_PATH, Pages
from .responses import json_error
from .routes import route_table

# The Supervisor's address on the hassio network (the same in every installation).
SUPERVISOR_ADDRESS: Final = "172.30.32.2"
DEFAULT_USER: Final = "homeassistant"
REQUEST_HEADER: Final = "X-CamAuth-Request"  # the panel sends it with every change
_INGRESS_PATH = re.compile(r"/api/hassio_ingress/[A-Za-z0-9_-]{1,128}")
_USER_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,64}")
# What the panel needs; logins and one's own password belong to the gateway's users.
_GATEWAY_ONLY = {"/api/login", "/api/logout", "/api/auth/password", "/api/auth", "/login"}

PEER: web.AppKey[str] = web.AppKey("ingress_peer", str)


def ingress_user(request: web.Request) -> str:
    """The Home Assistant user's name, as the Supervisor tells it (a safe default otherwise)."""
    name = request.headers.get("X-Remote-User-Name", "").strip()
    return name if _USER_NAME.fullmatch(name) else DEFAULT_USER


def ingress_base(request: web.Request) -> str:
    """The prefix the browser sees the panel under (``/api/hassio_ingress/<token>``)."""
    path = request.headers.get("X-Ingress-Path", "")
    return path if _INGRESS_PATH.fullmatch(path) else ""


def _from_supervisor(request: web.Request) -> bool:
    peer = parse_address(request.remote or "")
    return peer is not None and peer == ipaddress.ip_address(request.app[PEER])


@web.middleware
async def ingress_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only the Supervisor; its user is an admin; changes must come from the panel itself."""
    if not _from_supervisor(request):
        return json_error(403, "Only Home Assistant's ingress may use this port", key="forbidden")
    identity = Identity(ingress_user(request), ROLE_ADMIN, SOURCE_INGRESS)
    context = RequestContext(request.remote or "", identity, source=SOURCE_INGRESS)
    context.base = ingress_base(request)
    set_context(request, context)
    # A page of another site cannot add a custom header without the browser asking first.
    if request.method not in SAFE_METHODS and REQUEST_HEADER not in request.headers:
        return json_error(403, "Changes must come from the CamAuth panel", key="cross_site")
    response = await _render_errors(request, handler)
    if not response.prepared:
        add_security_headers(request, response, framed=True)  # Home Assistant frames it
    return response


def create_ingress_app(
    settings: Settings, services: Services, *, peer: str = SUPERVISOR_ADDRESS
) -> web.Application:
    """The panel's listener; ``peer`` is the Supervisor's address (tests use a loopback one)."""
    app = web.Application(middlewares=[ingress_middleware])
    app[SETTINGS] = settings
    app[SERVICES] = services
    app[WEBSOCKETS] = set()
    app[PEER] = peer
    app.on_shutdown.append(ws.close_websockets)
    pages = Pages()
    app.router.add_get("/", pages.panel)
    for route in route_table(pages):
        if route.path not in _GATEWAY_ONLY and route.path != "/":
            app.router.add_route(route.method, route.path, guarded(route))
    return app


__all__ = ["ADMIN_PATH", "SUPERVISOR_ADDRESS", "create_ingress_app"]
