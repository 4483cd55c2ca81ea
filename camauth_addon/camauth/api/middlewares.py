"""The gateway middleware: identification, forward-auth, error rendering, security headers."""

from __future__ import annotations

import logging
import time

from aiohttp import http_parser, web

from ..const import ROLE_ADMIN
from ..errors import CamAuthError
from ..identity import KEY_CLAIMS, KEY_IDENTITY, KEY_WEBHOOK, Identity, read_credential
from ..tokens import Claims
from .access import KEY_CREDENTIAL_ERROR, KEY_CREDENTIAL_SOURCE, Handler
from .app_keys import ACCOUNTS, SETTINGS
from .forward_auth import FORWARD_AUTH_PATH, decide
from .responses import json_error, set_session_cookie

_LOGGER = logging.getLogger(__name__)

ANONYMOUS_ADMIN = Identity("anonymous", ROLE_ADMIN, "disabled")


async def _render_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into ``{"error": ...}``; never a traceback to the client."""
    try:
        return await handler(request)
    except CamAuthError as err:
        return json_error(err.status, err.message, err.headers)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        headers = {k: v for k, v in err.headers.items() if k.lower() in ("allow", "retry-after")}
        return json_error(err.status, err.reason, headers)
    except Exception:
        _LOGGER.exception("Unexpected error on %s %s", request.method, request.path)
        return json_error(500, "Internal server error")


def identify(request: web.Request) -> Claims | None:
    """Set the caller's identity on the request (never decide access).

    Returns the claims of a cookie session, whose cookie may need refreshing afterwards.
    """
    settings = request.app[SETTINGS]
    if not settings.auth.enabled:
        request[KEY_IDENTITY] = ANONYMOUS_ADMIN
        return None
    try:
        credential = read_credential(request)
    except CamAuthError as err:
        request[KEY_CREDENTIAL_ERROR] = err.message
        return None
    if credential is None:
        return None
    accounts, now = request.app[ACCOUNTS], time.time()
    if credential.source == "api_key":
        key_identity = accounts.identify_key(credential.token, now)
        if key_identity is not None:
            # Webhook keys are only ever looked at by forward-auth, for their own paths.
            request[KEY_WEBHOOK if key_identity.paths else KEY_IDENTITY] = key_identity
            request[KEY_CREDENTIAL_SOURCE] = credential.source
        return None
    found = accounts.identify(credential.token, now)
    if found is None:
        return None
    request[KEY_IDENTITY], request[KEY_CLAIMS] = found
    request[KEY_CREDENTIAL_SOURCE] = credential.source
    return found[1] if credential.source == "cookie" else None


async def _refresh_cookie(
    request: web.Request, claims: Claims, response: web.StreamResponse
) -> None:
    auth = request.app[SETTINGS].auth
    identity = request[KEY_IDENTITY]
    if claims.exp - time.time() >= auth.refresh_time or response.prepared:
        return
    refreshed = await request.app[ACCOUNTS].refresh(identity, claims)
    if refreshed is not None:
        set_session_cookie(response, refreshed, auth)


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one middleware: identify, answer forward-auth at once, else handle and render errors.

    One layer instead of several, because every camera request passes through here.
    """
    try:
        claims = identify(request)
    except Exception:
        _LOGGER.exception("Identification failed on %s %s", request.method, request.path)
        claims = None  # fail closed: no identity
    if request.path == FORWARD_AUTH_PATH:
        response: web.StreamResponse = decide(request)
        if response.status != 200:  # Traefik and Caddy show refusals to the browser
            add_security_headers(request, response)
    else:
        response = await _render_errors(request, handler)
        if not response.prepared:
            add_security_headers(request, response)
    if claims is not None:
        await _refresh_cookie(request, claims, response)
    return response


_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": _PAGE_POLICY,
    "X-Frame-Options": "DENY",
}


def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Headers every answer carries: no sniffing, no caching of API answers, no framing."""
    extra = _API_HEADERS if request.path.startswith("/api/") else _PAGE_HEADERS
    for name, value in extra.items():
        response.headers.setdefault(name, value)


def _has_control_character(value: str) -> bool:
    return any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in value)


@web.middleware
async def header_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse control characters in header values (the pure-Python HTTP parser lets them in)."""
    if any(_has_control_character(value) for value in request.headers.values()):
        return json_error(400, "Control character in a header value")
    return await handler(request)


def parser_rejects_control_characters() -> bool:
    """Whether aiohttp's C parser (llhttp), which refuses them itself, is in use."""
    c_parser = getattr(http_parser, "HttpRequestParserC", None)
    return c_parser is not None and http_parser.HttpRequestParser is c_parser
