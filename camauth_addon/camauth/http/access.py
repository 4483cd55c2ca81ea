"""Route access: every route declares its level, and the policy decides each request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol
from aiohttp import web

from ..const import SAFE_METHODS
from ..core.identity import SOURCE_INGRESS, Identity
from ..core.policy import Access, Decision, Target, decide
from ..errors import BadRequest, CamAuthError, Forbidden, Unauthorized
from .app_keys import SETTINGS
from .client_ip import ClientResolver, peer_is_trusted
from .context import context
from .schemas import Failure, Reply

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_NO_CSRF = frozenset({"bearer", "api_key", SOURCE_INGRESS})


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the route table: method, path, handler, access level, and its document.

    ``body`` is the voluptuous schema the handler reads its JSON body with (``read_json``),
    ``example`` an example of that body, ``query`` the schema of the query parameters it
    accepts, and ``responses`` its success :class:`Reply` and the :class:`Failure` answers
    specific to it. The answers every route of its access level gives (401, 403, the body's
    400, 413 and 415) are not listed: ``camauth.http.openapi`` derives them.
    """

    method: str
    path: str
    handler: Handler
    access: Access
    body: vol.Schema | None = None
    example: Any = None
    query: vol.Schema | None = None
    responses: tuple[Reply | Failure, ...] = ()


def allowed_hosts(request: web.Request, clients: ClientResolver | None = None) -> set[str]:
    """The host the browser talked to: ``Host``, or ``X-Forwarded-Host`` from a trusted proxy."""
    hosts = {request.host.lower()}
    if clients is not None:
        trusted = clients.peer_is_trusted(request)
    else:
        trusted = peer_is_trusted(request, request.app[SETTINGS].auth.trusted_proxies)
    if trusted:
        forwarded = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        if forwarded:
            hosts.add(forwarded.lower())
    return hosts


def check_same_origin(request: web.Request, clients: ClientResolver | None = None) -> None:
    """Refuse cross-site state changes made with the browser's cookie (CSRF).

    ``clients`` resolves whether the peer is a trusted proxy (default: the application's).
    """
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise Forbidden("Cross-site request refused", key="cross_site")
    origin = request.headers.get("Origin")
    if origin is None:
        return
    try:
        host = urlsplit(origin).netloc.lower() if origin != "null" else ""
    except ValueError:  # not even a URL ("http://[::1"): no origin of ours
        host = ""
    if not host or host not in allowed_hosts(request, clients):
        raise Forbidden("Cross-origin request refused", key="cross_site")


def needs_same_origin(request: web.Request, source: str | None) -> bool:
    """Whether the CSRF rule applies: an unsafe method, with no bearer token or API key.

    Bearer tokens and API keys are never sent by a browser on its own: no CSRF to fear; nor
    are requests through ingress (the ingress listener checks them itself).
    """
    return request.method not in SAFE_METHODS and source not in _NO_CSRF


def require_identity(request: web.Request) -> Identity:
    """The caller's identity, or 401 (400 when the credential itself was malformed)."""
    ctx = context(request)
    if ctx.identity is None:
        if ctx.credential_error:  # "" (a wrong proxy secret) is a plain 401
            raise BadRequest(ctx.credential_error, key="bad_credential")
        raise Unauthorized("Authentication required")
    return ctx.identity


def refusal(decision: Decision) -> CamAuthError:
    """The error that carries a refusing decision."""
    if decision.status == 401:
        return Unauthorized(decision.reason, key=decision.key)
    return Forbidden(decision.reason, key=decision.key)


def authorize(request: web.Request, access: Access) -> None:
    """Apply CSRF rules, then ask the policy about this route; raises when refused."""
    ctx = context(request)
    # The ingress listener has checked its requests itself (see http/ingress.py).
    if needs_same_origin(request, ctx.source):
        check_same_origin(request)
    decision = decide(ctx.identity, Target(request.method, request.path, access=access))
    if not decision.allowed:
        if decision.status == 401:
            require_identity(request)  # a malformed credential says so (400)
        raise refusal(decision)


def guarded(route: Route) -> Handler:
    """Wrap a handler with its route's access rule."""
    if route.access is Access.FORWARD_AUTH:
        return route.handler

    async def handler(request: web.Request) -> web.StreamResponse:
        authorize(request, route.access)
        return await route.handler(request)

    handler.__name__ = route.handler.__name__
    handler.__doc__ = route.handler.__doc__
    return handler
