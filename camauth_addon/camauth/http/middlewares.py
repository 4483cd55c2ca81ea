"""The gateway middleware: identification, forward-auth, error rendering, security headers."""

from __future__ import annotations

import functools
import logging
import time

from aiohttp import http_parser, web

from ..const import ROLE_ADMIN
from ..core.identity import SOURCE_DISABLED, SOURCE_PROXY, Identity
from ..errors import BadRequest, CamAuthError, Unauthorized
from .access import Handler
from .app_keys import SERVICES, SETTINGS
from .client_ip import client_address, peer_is_trusted
from .context import RequestContext, set_context
from .credentials import read_credential
from .forward_auth import FORWARD_AUTH_PATHS, decide_forward_auth
from .proxy import proxy, upstream_of
from .renewal import renew_session_cookie
from .responses import json_error
from .sso import proxy_identity

_LOGGER = logging.getLogger(__name__)

ANONYMOUS_ADMIN = Identity("anonymous", ROLE_ADMIN, SOURCE_DISABLED)
# Translation keys of the errors aiohttp itself raises (routing, body size, a WebSocket
# handshake that is not one); every error answer carries a code.
_HTTP_KEYS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}
# Python's names of statuses before 3.13 (http.HTTPStatus, which aiohttp's errors take their
# text from), and RFC 9110's, which 3.13 uses: an error's text must not depend on the Python.
_RFC9110_NAMES = {
    "Request Entity Too Large": "Content Too Large",
    "Request-URI Too Long": "URI Too Long",
    "Requested Range Not Satisfiable": "Range Not Satisfiable",
    "Unprocessable Entity": "Unprocessable Content",
}


async def _render_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into ``{"error": ...}``; never a traceback to the client."""
    try:
        return await handler(request)
    except CamAuthError as err:
        return json_error(err.status, err.message, err.headers, key=err.key)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        headers = {k: v for k, v in err.headers.items() if k.lower() in ("allow", "retry-after")}
        key = _HTTP_KEYS.get(err.status, "http_error")
        return json_error(err.status, _RFC9110_NAMES.get(err.reason, err.reason), headers, key=key)
    except Exception:
        _LOGGER.exception("Unexpected error on %s %s", request.method, request.path)
        return json_error(500, "Internal server error", key="internal_error")


def _vouched(request: web.Request, ctx: RequestContext) -> Identity | None:
    """The SSO proxy's user, if a trusted proxy vouches for one (see http/sso.py)."""
    try:
        return proxy_identity(request, request.app[SETTINGS])
    except BadRequest as err:
        ctx.credential_error = err.message
    except Unauthorized:  # a wrong proxy secret: nobody, and never the anonymous admin
        ctx.credential_error = ""
    return None


def identify(request: web.Request, ctx: RequestContext) -> None:
    """Fill in who is making the request (never decide access)."""
    vouched = _vouched(request, ctx)
    if vouched is not None:
        ctx.source = SOURCE_PROXY
    if ctx.credential_error is not None:
        return
    if not request.app[SETTINGS].auth.enabled:  # the proxy in front decides, as in Frigate
        ctx.identity = vouched or ANONYMOUS_ADMIN
        return
    try:
        credential = read_credential(request)
    except CamAuthError as err:
        ctx.credential_error = err.message
        return
    if credential is None:
        ctx.identity = vouched
        return
    found = request.app[SERVICES].authenticator.authenticate(credential, time.time())
    if found is None:
        ctx.identity = vouched
        return
    ctx.source, ctx.credential = credential.source, credential
    if found.identity.paths:  # webhook keys are only ever looked at by forward-auth
        ctx.webhook = found.identity
        return
    ctx.identity = found.identity
    ctx.claims = found.claims if credential.source == "cookie" else None


def _observe(request: web.Request) -> None:
    """Note configuration problems this request shows (see core.warnings)."""
    auth, warnings = request.app[SETTINGS].auth, request.app[SERVICES].warnings
    headers = request.headers
    if "X-Forwarded-For" in headers and not peer_is_trusted(request, auth.trusted_proxies):
        warnings.forwarded_for_from(request.remote or "unknown")
    if not auth.cookie_secure and (
        request.secure or headers.get("X-Forwarded-Proto", "").lower() == "https"
    ):
        warnings.https_without_secure_cookie()


def _context(request: web.Request) -> RequestContext:
    ctx = RequestContext(client_address(request, request.app[SETTINGS].auth.trusted_proxies))
    set_context(request, ctx)
    _observe(request)
    try:
        identify(request, ctx)
    except Exception:
        _LOGGER.exception("Identification failed on %s %s", request.method, request.path)
        ctx.identity = ctx.webhook = ctx.claims = None  # fail closed: no identity
    return ctx


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one middleware: identify, answer forward-auth at once, else handle and render errors.

    One layer instead of several, because every camera request passes through here.
    """
    ctx = _context(request)
    upstream = upstream_of(request)
    if upstream is not None:  # a camera UI's: the proxy judges it, and answers every refusal
        response: web.StreamResponse = await _render_errors(
            request, functools.partial(proxy, upstream=upstream)
        )
    elif request.path in FORWARD_AUTH_PATHS:
        response = decide_forward_auth(request)
        if response.status != 200:  # Traefik and Caddy show refusals to the browser
            add_security_headers(request, response)
    else:
        response = await _render_errors(request, handler)
        if not response.prepared:
            add_security_headers(request, response)
    await renew_session_cookie(request, ctx, response)
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
# Home Assistant shows an ingress panel in a frame of its own page, on its own origin: the
# panel's listener lets exactly that origin frame it, and no other.
_FRAMED_PAGE_HEADERS = {
    **_PAGE_HEADERS,
    "Content-Security-Policy": _PAGE_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


def add_security_headers(
    request: web.Request, response: web.StreamResponse, *, framed: bool = False
) -> None:
    """Headers every answer carries: no sniffing, no caching of API answers, no framing.

    ``framed``: pages may be framed by their own origin (Home Assistant's ingress).
    """
    if request.path.startswith("/api/"):
        extra = _API_HEADERS
    else:
        extra = _FRAMED_PAGE_HEADERS if framed else _PAGE_HEADERS
    for name, value in extra.items():
        response.headers.setdefault(name, value)


def _has_control_character(value: str) -> bool:
    return any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in value)


@web.middleware
async def header_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse control characters in header values (the pure-Python HTTP parser lets them in)."""
    if any(_has_control_character(value) for value in request.headers.values()):
        return json_error(400, "Control character in a header value", key="bad_header")
    return await handler(request)


def parser_rejects_control_characters() -> bool:
    """Whether aiohttp's C parser (llhttp), which refuses them itself, is in use."""
    c_parser = getattr(http_parser, "HttpRequestParserC", None)
    return c_parser is not None and http_parser.HttpRequestParser is c_parser
