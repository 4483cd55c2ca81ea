"""Forward-auth for reverse proxies (nginx ``auth_request``, Traefik, Caddy).

The answer is 200 with the identity headers, 401, or 403, and nothing else, whatever goes
wrong: a proxy that sees any other status may let the request through or show an error page
(Authelia CVE-2021-32637). The body of the proxied request is never read.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import quote, urlsplit

from aiohttp import web

from ..const import LOGIN_PATH
from ..identity import KEY_WEBHOOK, Identity
from ..redirects import safe_return_path
from .access import current_identity

_LOGGER = logging.getLogger(__name__)

# Where proxies put the original request: Traefik and Caddy, then nginx by convention.
_METHOD_HEADERS = ("X-Forwarded-Method", "X-Original-Method")
_URI_HEADERS = ("X-Forwarded-Uri", "X-Original-URI", "X-Original-URL")


FORWARD_AUTH_PATH = "/api/auth"


def original_methods(request: web.Request) -> set[str]:
    """Every method the request may stand for; a viewer passes only if all of them are safe."""
    methods = {request.method.upper()}
    headers = request.headers
    for name in _METHOD_HEADERS:
        if name in headers:
            methods.update(value.strip().upper() for value in headers.getall(name))
    return methods


def return_path(request: web.Request) -> str:
    """The path the user wanted, to come back to after logging in."""
    for name in _URI_HEADERS:
        value = request.headers.get(name)
        if value:
            if name == "X-Original-URL":  # a full URL by convention: keep its path and query
                parts = urlsplit(value)
                value = parts.path + (f"?{parts.query}" if parts.query else "")
            return safe_return_path(value)
    return "/"


def login_location(request: web.Request) -> str:
    """The login page, carrying the return address."""
    target = return_path(request)
    return LOGIN_PATH if target == "/" else f"{LOGIN_PATH}?rd={quote(target, safe='')}"


_UNAUTHORIZED_JSON = b'{"error": "Authentication required"}'


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


_CANONICAL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/-]*")


def _canonical(value: str) -> str | None:
    path = urlsplit(value).path if "://" in value else value.split("?", 1)[0]
    if not _CANONICAL_PATH.fullmatch(path) or "//" in path:
        return None
    return None if any(s in (".", "..") for s in path.split("/")[1:]) else path


def original_path(request: web.Request) -> str | None:
    """The proxied request's path if every header naming it agrees and it is canonical.

    A webhook key is judged on this path, so anything a server could read two ways
    (``%2F``, ``..``, ``//``, backslashes) is refused rather than normalised (CVE-2025-66490),
    and so is a request whose headers disagree: nginx passes a client's own
    ``X-Forwarded-Uri`` next to the ``X-Original-URI`` it sets (CVE-2026-40575).
    """
    values = [v for name in _URI_HEADERS for v in request.headers.getall(name, [])]
    paths = {_canonical(value) for value in values}
    if len(paths) != 1:
        return None
    return paths.pop()


def webhook_allowed(identity: Identity, path: str | None) -> bool:
    """Whether a webhook key may reach this path: one of its prefixes, on a segment boundary."""
    if path is None:
        return False
    for prefix in identity.paths:
        base = prefix.rstrip("/")
        if path == base or path.startswith(base + "/") or (base == "" and path.startswith("/")):
            return True
    return False


def _identity_for(request: web.Request) -> Identity | None:
    identity = current_identity(request)
    if identity is not None:
        return identity
    webhook = request.get(KEY_WEBHOOK)
    if isinstance(webhook, Identity) and webhook_allowed(webhook, original_path(request)):
        return webhook
    return None


def _decide(request: web.Request, identity: Identity | None) -> web.Response:
    if identity is None:
        return _unauthorized(request)
    if not all(identity.may_use(method) for method in original_methods(request)):
        return web.json_response({"error": "Viewers have read-only access"}, status=403)
    headers = {"Remote-User": identity.username, "Remote-Role": identity.role}
    return web.Response(status=200, headers=headers)


def decide(request: web.Request) -> web.Response:
    """Answer whether a proxied request may pass, and as whom; never raises."""
    try:
        return _decide(request, _identity_for(request))
    except Exception:  # fail closed on anything unexpected
        _LOGGER.exception("Forward-auth failed closed for %s", request.remote)
        return web.Response(status=401, body=_UNAUTHORIZED_JSON, content_type="application/json")


async def forward_auth(request: web.Request) -> web.Response:
    """The route behind ``/api/auth`` (the gateway middleware answers it first, directly)."""
    return decide(request)
