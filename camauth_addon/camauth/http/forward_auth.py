"""Forward-auth for reverse proxies (nginx ``auth_request``, Traefik, Caddy).

The answer is 200 with the identity headers, 401, or 403, and nothing else, whatever goes
wrong: a proxy that sees any other status may let the request through or show an error page
(Authelia CVE-2021-32637). The body of the proxied request is never read. The proxied path is
judged in canonical form (``core.paths``), and a path that servers read in more than one way
is refused.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import quote

from aiohttp import web

from ..const import LOGIN_PATH
from ..core.identity import Identity
from ..core.paths import UnjudgeablePath, canonical_target, split_target
from ..core.policy import ALLOW, Decision, Target, decide
from ..core.redirects import safe_return_path
from .app_keys import SERVICES
from .context import context

_LOGGER = logging.getLogger(__name__)

# Where proxies put the original request: Traefik and Caddy, then nginx by convention.
_METHOD_HEADERS = ("X-Forwarded-Method", "X-Original-Method")
_URI_HEADERS = ("X-Forwarded-Uri", "X-Original-URI", "X-Original-URL")

FORWARD_AUTH_PATH = "/api/auth"


def original_methods(request: web.Request) -> set[str]:
    """Every method the proxied request may stand for; it passes only if each of them may.

    Each header naming the method counts (a client's own spoofed one included), and so does
    the method of this call, except a GET beside such a header: Traefik and Caddy always ask
    with GET, while nginx's auth_request asks with the original method.
    """
    headers = request.headers
    named = {
        value.strip().upper()
        for name in _METHOD_HEADERS
        if name in headers
        for value in headers.getall(name)
    }
    own = request.method.upper()
    return named if named and own == "GET" else {*named, own}


def original_targets(request: web.Request) -> set[tuple[str, str]] | None:
    """The canonical (path, query) of every header naming the proxied request.

    None when one of them cannot be judged. Without any such header the request is about
    ``/``. Several headers that disagree are each judged (CVE-2026-40575: nginx passes a
    client's own ``X-Forwarded-Uri`` next to the ``X-Original-URI`` it sets).
    """
    values = [v for name in _URI_HEADERS for v in request.headers.getall(name, [])]
    try:
        return {canonical_target(value) for value in values} or {("/", "")}
    except UnjudgeablePath:
        return None


def return_path(request: web.Request) -> str:
    """The address the user wanted, to come back to after logging in."""
    for name in _URI_HEADERS:
        value = request.headers.get(name)
        if value:
            if name == "X-Original-URL":  # a full URL by convention: keep its path and query
                try:
                    path, query = split_target(value)
                except UnjudgeablePath:
                    return "/"
                value = path + (f"?{query}" if query else "")
            return safe_return_path(value)
    return "/"


def login_location(request: web.Request) -> str:
    """The login page, carrying the return address."""
    target = return_path(request)
    return LOGIN_PATH if target == "/" else f"{LOGIN_PATH}?rd={quote(target, safe='')}"


_UNAUTHORIZED_JSON = b'{"error": "Authentication required", "code": "unauthorized"}'


def _unauthorized(request: web.Request) -> web.Response:
    if "text/html" not in request.headers.get("Accept", ""):
        return web.Response(status=401, body=_UNAUTHORIZED_JSON, content_type="application/json")
    location = login_location(request)
    # Browsers follow Location only on 3xx, so the 401 page also points there itself.
    escaped = html.escape(location, quote=True)
    page = (
        "<!doctype html><meta charset=utf-8><title>Login required</title>"
        f'<meta http-equiv="refresh" content="0;url={escaped}">'
        f'<p>Login required. <a href="{escaped}">Continue to the login page</a>.</p>'
    )
    return web.Response(
        status=401, text=page, content_type="text/html", headers={"Location": location}
    )


def _forbidden(reason: str, key: str) -> web.Response:
    return web.json_response({"error": reason, "code": key}, status=403)


def _verdict(identity: Identity, request: web.Request) -> Decision | None:
    """The policy's answer for every method and target the request stands for."""
    roles = request.app[SERVICES].roles.book
    targets = original_targets(request)
    if targets is None:
        return None
    decision = ALLOW
    for method in original_methods(request):
        for path, query in targets:
            decision = decide(identity, Target(method, path, query), roles)
            if not decision.allowed:
                return decision
    return decision


def _decide(request: web.Request) -> web.Response:
    ctx = context(request)
    identity = ctx.identity or ctx.webhook
    if identity is None:  # nobody to judge: log in first, whatever the path
        return _unauthorized(request)
    decision = _verdict(identity, request)
    if decision is None:
        return _forbidden("Path refused: it cannot be judged unambiguously", "path_refused")
    if decision.status == 401:
        return _unauthorized(request)
    if not decision.allowed:
        return _forbidden(decision.reason, decision.key)
    headers = {"Remote-User": identity.username, "Remote-Role": identity.role}
    return web.Response(status=200, headers=headers)


def decide_forward_auth(request: web.Request) -> web.Response:
    """Answer whether a proxied request may pass, and as whom; never raises."""
    try:
        return _decide(request)
    except Exception:  # fail closed on anything unexpected
        _LOGGER.exception("Forward-auth failed closed for %s", request.remote)
        return web.Response(status=401, body=_UNAUTHORIZED_JSON, content_type="application/json")


async def forward_auth(request: web.Request) -> web.Response:
    """Forward-auth: may the proxied request pass, and as whom.

    The authentication request of a reverse proxy (nginx ``auth_request``, Traefik
    ``forwardAuth``, Caddy ``forward_auth``), for every request to the camera UI. Any method
    is answered alike, and the body is never read. The caller is identified like everywhere
    else, and the answer is only ever 200 (with ``Remote-User`` and ``Remote-Role``), 401 or
    403: an internal error answers 401, and ambiguous credentials are no identity. A viewer
    passes only with safe methods; a webhook key only for its own path prefixes. When
    ``auth.enabled`` is off every request passes as ``anonymous`` with role ``admin``.
    """
    # The gateway middleware answers /api/auth itself; this route makes the path exist.
    return decide_forward_auth(request)
