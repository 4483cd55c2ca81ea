"""The gateway middleware: identification, forward-auth, error rendering, security headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import hdrs, http_parser, web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

from ..const import ROLE_ADMIN
from ..core.identity import SOURCE_DISABLED, Identity
from ..core.services import Services
from ..errors import CamAuthError, TooManyRequests
from ..options import Settings
from .access import Handler, check_same_origin, needs_same_origin
from .api.session import LOGIN_API_PATH, check_login_client
from .client_ip import ClientResolver
from .context import RequestContext, set_context
from .credentials import read_credential
from .forward_auth import FORWARD_AUTH_PATH, AllowedMemo, VerdictKey, decide_forward_auth
from .responses import json_error, set_session_cookie

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
        return json_error(err.status, err.reason, headers, key=key)
    except Exception:
        _LOGGER.exception("Unexpected error on %s %s", request.method, request.path)
        return json_error(500, "Internal server error", key="internal_error")


class Gateway:
    """What the gateway middleware needs on every request, looked up once, at start-up."""

    def __init__(self, settings: Settings, services: Services) -> None:
        """Take the settings and services of one application."""
        self.auth = settings.auth
        self.services = services
        self.authenticator = services.authenticator
        self.warnings = services.warnings
        self.clients = ClientResolver(settings.auth.trusted_proxies)
        self.allowed = AllowedMemo()

    def identify(self, request: web.Request, ctx: RequestContext) -> None:
        """Fill in who is making the request (never decide access)."""
        if not self.auth.enabled:
            ctx.identity = ANONYMOUS_ADMIN
            return
        try:
            credential = read_credential(request)
        except CamAuthError as err:
            ctx.credential_error = err.message
            return
        if credential is None:
            return
        found = self.authenticator.authenticate(credential, time.time())
        if found is None:
            return
        ctx.source, ctx.credential, ctx.authenticated = credential.source, credential, found
        if found.identity.paths:  # webhook keys are only ever looked at by forward-auth
            ctx.webhook = found.identity
            return
        ctx.identity = found.identity
        ctx.claims = found.claims if credential.source == "cookie" else None

    def observe(self, request: web.Request) -> None:
        """Note configuration problems this request shows (see core.warnings)."""
        headers = request.headers
        if hdrs.X_FORWARDED_FOR in headers and not self.clients.peer_is_trusted(request):
            self.warnings.forwarded_for_from(request.remote or "unknown")
        if not self.auth.cookie_secure and (
            headers.get(hdrs.X_FORWARDED_PROTO, "").lower() == "https" or request.secure
        ):
            self.warnings.https_without_secure_cookie()

    def context(self, request: web.Request) -> RequestContext:
        """Resolve the client, note warnings, identify; the context is attached to the request."""
        ctx = RequestContext(self.clients.client(request))
        set_context(request, ctx)
        self.observe(request)
        try:
            self.identify(request, ctx)
        except Exception:
            _LOGGER.exception("Identification failed on %s %s", request.method, request.path)
            ctx.identity = ctx.webhook = ctx.claims = None  # fail closed: no identity
        return ctx

    async def refresh_cookie(self, ctx: RequestContext, response: web.StreamResponse) -> None:
        """Renew a session cookie that is close to expiring; a failure only skips the renewal."""
        claims, identity = ctx.claims, ctx.identity
        if claims is None or identity is None or response.prepared:
            return
        if claims.exp - time.time() >= self.auth.refresh_time:
            return
        try:
            refreshed = await self.services.sessions.refresh(identity, claims)
        except Exception:  # a locked database must not turn the answer into an error
            _LOGGER.exception("Could not renew the session cookie for %s", identity.username)
            return
        if refreshed is not None:
            set_session_cookie(response, refreshed, self.auth)

    async def forward_auth(self, request: web.Request) -> web.StreamResponse:
        """Answer forward-auth: identify, decide, add headers to refusals, renew the cookie.

        Only ever 200, 401 or 403 (see ``forward_auth``). The same for every way in: the
        front door (:func:`front_door`) and, without it, the gateway middleware. A request
        that repeats one allowed a moment ago gets its answer from :class:`AllowedMemo`.
        """
        now = time.time()
        key = self.allowed.key(request) if self.auth.enabled else None
        if key is not None and (headers := self._still_allowed(key, now)) is not None:
            self.observe(request)
            return web.Response(status=200, headers=headers)
        ctx = self.context(request)
        response = decide_forward_auth(request)
        if response.status != 200:  # Traefik and Caddy show refusals to the browser
            add_security_headers(request, response)
        elif key is not None and ctx.credential is not None and ctx.authenticated is not None:
            self.allowed.remember(key, ctx.credential, ctx.authenticated, response)
        if ctx.claims is not None:  # only a session cookie is ever renewed
            await self.refresh_cookie(ctx, response)
        return response

    def _still_allowed(self, key: VerdictKey, now: float) -> CIMultiDict[str] | None:
        """The headers of a remembered 200, if its credential still stands for the same answer.

        The credential is authenticated again (the authenticator's memo says whether its
        answer still holds: not expired, nothing changed); a different answer, or a session
        cookie due for renewal, takes the full way.
        """
        entry = self.allowed.get(key)
        if entry is None:
            return None
        try:
            found = self.authenticator.authenticate(entry.credential, now)
        except Exception:  # the full way fails closed and says why
            return None
        if found is not entry.found:
            return None
        claims = found.claims if entry.credential.source == "cookie" else None
        if claims is not None and claims.exp - now < self.auth.refresh_time:
            return None
        return entry.headers.copy()

    async def refuse_login(self, request: web.Request) -> web.StreamResponse | None:
        """``POST /api/login`` from a client over its limit: 429 before routing, else None.

        A flood of logins from one client ends here (PRODUCT.md: answered 429 without
        hashing). The same checks in the same order as the way through the application:
        the CSRF rule of every unsafe route (a refusal by it goes the whole way, which says
        so), then the login route's own first step, ``api.session.check_login_client``; the
        refusal is rendered as the gateway middleware renders it.
        """
        ctx = self.context(request)
        try:
            if needs_same_origin(request, ctx.source):
                check_same_origin(request, self.clients)
            check_login_client(request, self.services.logins, ctx.client)
        except TooManyRequests as err:
            response = json_error(err.status, err.message, err.headers, key=err.key)
            add_security_headers(request, response)
            if ctx.claims is not None:  # only a session cookie is ever renewed
                await self.refresh_cookie(ctx, response)
            return response
        except Exception:  # anything else: the whole way, which answers it as it should
            return None
        return None


def gateway_middleware(gateway: Gateway) -> Middleware:
    """The one middleware: identify, answer forward-auth at once, else handle and render errors.

    One layer instead of several, because every camera request passes through here.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == FORWARD_AUTH_PATH:
            return await gateway.forward_auth(request)
        ctx = gateway.context(request)
        response = await _render_errors(request, handler)
        if not response.prepared:
            add_security_headers(request, response)
        if ctx.claims is not None:  # only a session cookie is ever renewed
            await gateway.refresh_cookie(ctx, response)
        return response

    return middleware


ServerHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def front_door(gateway: Gateway, app_handler: ServerHandler) -> ServerHandler:
    """The server's request handler: forward-auth first, everything else to the application.

    Forward-auth is answered exactly as the gateway middleware answers it, only without
    aiohttp's routing and middleware chain in between (about a fifth of its cost): its
    route takes any method, and the middleware answers it whatever the route. A login
    from a client over its limit is refused here too (see ``Gateway.refuse_login``). Used
    only where the HTTP parser refuses control characters itself (otherwise the header
    guard middleware must see every request first).
    """

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        path = request.path  # the application's factory made a web.Request
        if path == FORWARD_AUTH_PATH:
            return await gateway.forward_auth(cast(web.Request, request))
        if path == LOGIN_API_PATH and request.method == "POST":
            refused = await gateway.refuse_login(cast(web.Request, request))
            if refused is not None:
                return refused
        return await app_handler(request)

    return handle


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
        return json_error(400, "Control character in a header value", key="bad_header")
    return await handler(request)


def parser_rejects_control_characters() -> bool:
    """Whether aiohttp's C parser (llhttp), which refuses them itself, is in use."""
    c_parser = getattr(http_parser, "HttpRequestParserC", None)
    return c_parser is not None and http_parser.HttpRequestParser is c_parser
