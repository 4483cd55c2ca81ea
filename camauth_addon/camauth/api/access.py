"""Access rules: every route declares who may call it, and nothing is open by default."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from ..client_ip import peer_is_trusted
from ..const import SAFE_METHODS
from ..errors import BadRequest, Forbidden, Unauthorized
from ..identity import KEY_IDENTITY, Identity
from .app_keys import SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

KEY_CREDENTIAL_ERROR = "camauth_credential_error"
KEY_CREDENTIAL_SOURCE = "camauth_credential_source"


class Access(enum.Enum):
    """Who may call a route."""

    PUBLIC = "public"  # anyone; unsafe methods still pass the CSRF check
    FORWARD_AUTH = "forward_auth"  # the handler decides, answering only 2xx/401/403
    IDENTITY = "identity"  # any authenticated caller
    SESSION = "session"  # a login session (cookie or bearer token)
    ADMIN = "admin"  # admins only


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the route table."""

    method: str
    path: str
    handler: Handler
    access: Access


def allowed_hosts(request: web.Request) -> set[str]:
    """The host the browser talked to: ``Host``, or ``X-Forwarded-Host`` from a trusted proxy."""
    hosts = {request.host.lower()}
    if peer_is_trusted(request, request.app[SETTINGS].auth.trusted_proxies):
        forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        if forwarded:
            hosts.add(forwarded.lower())
    return hosts


def check_same_origin(request: web.Request) -> None:
    """Refuse cross-site state changes made with the browser's cookie (CSRF)."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise Forbidden("Cross-site request refused")
    origin = request.headers.get("Origin")
    if origin is None:
        return
    host = urlsplit(origin).netloc.lower() if origin != "null" else ""
    if not host or host not in allowed_hosts(request):
        raise Forbidden("Cross-origin request refused")


def current_identity(request: web.Request) -> Identity | None:
    """The identity the middleware found, if any."""
    identity = request.get(KEY_IDENTITY)
    return identity if isinstance(identity, Identity) else None


def require_identity(request: web.Request) -> Identity:
    """The caller's identity, or 401."""
    identity = current_identity(request)
    if identity is None:
        error = request.get(KEY_CREDENTIAL_ERROR)
        if error:
            raise BadRequest(str(error))
        raise Unauthorized("Authentication required")
    return identity


def _authorize(request: web.Request, access: Access) -> None:
    unsafe = request.method not in SAFE_METHODS
    # Bearer tokens and API keys are never sent by a browser on its own: no CSRF to fear.
    if unsafe and request.get(KEY_CREDENTIAL_SOURCE) not in ("bearer", "api_key"):
        check_same_origin(request)
    if access is Access.PUBLIC:
        return
    identity = require_identity(request)
    if access is Access.SESSION and not identity.session_id:
        raise Forbidden("This needs a login session")
    if access is Access.ADMIN and not identity.is_admin:
        raise Forbidden("Admin role required")


def guarded(route: Route) -> Handler:
    """Wrap a handler with its route's access rule."""
    if route.access is Access.FORWARD_AUTH:
        return route.handler

    async def handler(request: web.Request) -> web.StreamResponse:
        _authorize(request, route.access)
        return await route.handler(request)

    handler.__name__ = route.handler.__name__
    handler.__doc__ = route.handler.__doc__
    return handler
