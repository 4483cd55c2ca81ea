"""Middlewares: error rendering, identification, and security headers."""

from __future__ import annotations

import logging
import time

from aiohttp import http_parser, web

from ..const import ROLE_ADMIN
from ..errors import CamAuthError
from ..identity import KEY_CLAIMS, KEY_IDENTITY, KEY_WEBHOOK, Identity, read_credential
from .access import KEY_CREDENTIAL_ERROR, KEY_CREDENTIAL_SOURCE, Handler
from .app_keys import ACCOUNTS, SETTINGS
from .responses import json_error, set_session_cookie

_LOGGER = logging.getLogger(__name__)

ANONYMOUS_ADMIN = Identity("anonymous", ROLE_ADMIN, "disabled")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
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


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Identify the caller (never decide access), and refresh a session cookie near expiry."""
    settings = request.app[SETTINGS]
    if not settings.auth.enabled:
        request[KEY_IDENTITY] = ANONYMOUS_ADMIN
        return await handler(request)
    accounts = request.app[ACCOUNTS]
    try:
        credential = read_credential(request)
    except CamAuthError as err:
        request[KEY_CREDENTIAL_ERROR] = err.message
        credential = None
    now = time.time()
    if credential is not None and credential.source == "api_key":
        key_identity = accounts.identify_key(credential.token, now)
        if key_identity is not None:
            # Webhook keys are only ever looked at by forward-auth, for their own paths.
            request[KEY_WEBHOOK if key_identity.paths else KEY_IDENTITY] = key_identity
            request[KEY_CREDENTIAL_SOURCE] = credential.source
        return await handler(request)
    found = accounts.identify(credential.token, now) if credential else None
    if credential is None or found is None:
        return await handler(request)
    identity, claims = found
    request[KEY_IDENTITY], request[KEY_CLAIMS] = identity, claims
    request[KEY_CREDENTIAL_SOURCE] = credential.source
    response = await handler(request)
    if credential.source == "cookie" and claims.exp - now < settings.auth.refresh_time:
        refreshed = await accounts.refresh(identity, claims)
        if refreshed is not None and not response.prepared:
            set_session_cookie(response, refreshed, settings.auth)
    return response


_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Headers every answer carries: no sniffing, no caching of API answers, no framing."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    else:
        headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")


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
