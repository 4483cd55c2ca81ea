"""The gateway middleware: identification, forward-auth, error rendering, security headers."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import hdrs, http_parser, web
from aiohttp.typedefs import Middleware
from aiohttp.web_urldispatcher import UrlMappingMatchInfo
from multidict import CIMultiDict, istr

from ..const import RESERVED_PREFIX, ROLE_ADMIN
from ..core.identity import SOURCE_DISABLED, SOURCE_PROXY, Identity
from ..core.services import Services
from ..core.upstreams import Upstream
from ..errors import BadRequest, CamAuthError, TooManyRequests, Unauthorized
from ..options import Settings
from .access import Handler, check_same_origin, needs_same_origin
from .api.session import LOGIN_API_PATH, check_login_client
from .client_ip import ClientResolver
from .context import RequestContext, set_context
from .credentials import CREDENTIAL_HEADERS, read_credential
from .forward_auth import FORWARD_AUTH_PATHS, Allowed, AllowedMemo, VerdictKey, decide_forward_auth
from .proxy import proxy, upstream_of
from .renewal import renew_session_cookie
from .responses import json_error
from .sso import SECRET_HEADER, proxy_identity

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


class Gateway:
    """What the gateway middleware needs on every request, looked up once, at start-up."""

    def __init__(self, settings: Settings, services: Services) -> None:
        """Take the settings and services of one application."""
        self.settings = settings
        self.auth = settings.auth
        self.services = services
        self.authenticator = services.authenticator
        self.warnings = services.warnings
        self.clients = ClientResolver(settings.auth.trusted_proxies)
        sso = tuple(name for name in settings.proxy.header_map.values() if name)
        # The cross-site check of a cookie's unsafe request reads where the request came from.
        origin = (hdrs.ORIGIN, istr("Sec-Fetch-Site"), hdrs.HOST, hdrs.X_FORWARDED_HOST)
        self.allowed = AllowedMemo((*CREDENTIAL_HEADERS, *sso, SECRET_HEADER, *origin))

    def _vouched(self, request: web.Request, ctx: RequestContext) -> Identity | None:
        """The SSO proxy's user, if a trusted proxy vouches for one (see http/sso.py)."""
        try:
            return proxy_identity(request, self.settings)
        except BadRequest as err:
            ctx.credential_error = err.message
        except Unauthorized:  # a wrong proxy secret: nobody, and never the anonymous admin
            ctx.credential_error = ""
        return None

    def identify(self, request: web.Request, ctx: RequestContext) -> None:
        """Fill in who is making the request (never decide access)."""
        vouched = self._vouched(request, ctx)
        if vouched is not None:
            ctx.source = SOURCE_PROXY
        if ctx.credential_error is not None:
            return
        if not self.auth.enabled:  # the proxy in front decides, as in Frigate
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
        found = self.authenticator.authenticate(credential, time.time())
        if found is None:
            ctx.identity = vouched
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
        rules = self.services.roles.book.generation  # read before deciding: a change wins
        ctx = self.context(request)
        response = decide_forward_auth(request)
        if response.status != 200:  # Traefik and Caddy show refusals to the browser
            add_security_headers(request, response)
        elif key is not None and ctx.credential is not None and ctx.authenticated is not None:
            headers = CIMultiDict(response.headers)
            self.allowed.remember(key, Allowed(ctx.credential, ctx.authenticated, rules, headers))
        await renew_session_cookie(request, ctx, response)
        return response

    def _still_allowed(self, key: VerdictKey, now: float) -> CIMultiDict[str] | None:
        """The headers of a remembered 200, if nothing it was decided on has changed.

        The credential is authenticated again (the authenticator's memo says whether its
        answer still holds: not expired, nothing changed) and the roles are the same; a
        different answer, or a session cookie due for renewal, takes the full way.
        """
        entry = self.allowed.get(key)
        if entry is None or entry.rules != self.services.roles.book.generation:
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

    async def proxied(self, request: web.Request, upstream: Upstream) -> web.StreamResponse:
        """A request for a camera UI: identify, then the proxy judges it and passes it on."""
        ctx = self.context(request)
        response = await _render_errors(request, functools.partial(proxy, upstream=upstream))
        await renew_session_cookie(request, ctx, response)
        return response

    async def refuse_login(self, request: web.Request) -> web.StreamResponse | None:
        """A login from a client over its limit: 429 before routing, else None.

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
            await renew_session_cookie(request, ctx, response)
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
        upstream = upstream_of(request)
        if upstream is not None:  # a camera UI's: the proxy judges it, and answers every refusal
            return await gateway.proxied(request, upstream)
        if request.path in FORWARD_AUTH_PATHS:
            return await gateway.forward_auth(request)
        ctx = gateway.context(request)
        response = await _render_errors(request, handler)
        if not response.prepared:
            add_security_headers(request, response)
        await renew_session_cookie(request, ctx, response)
        return response

    return middleware


ServerHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
_LOGIN_PATHS = frozenset({LOGIN_API_PATH, RESERVED_PREFIX + LOGIN_API_PATH})
_FRONT_PATHS = FORWARD_AUTH_PATHS | _LOGIN_PATHS


def _front_routes(app: web.Application) -> dict[str, UrlMappingMatchInfo]:
    """What routing would find for the front door's paths (handlers read ``request.app``)."""
    found = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path in _FRONT_PATHS and route.method in ("*", "POST"):
            match_info = UrlMappingMatchInfo({}, route)
            match_info.add_app(app)
            match_info.freeze()
            found[path] = match_info
    return found


def front_door(gateway: Gateway, app: web.Application, app_handler: ServerHandler) -> ServerHandler:
    """The server's request handler: camera UIs and forward-auth first, the rest to routing.

    A request for an upstream, and forward-auth, are answered exactly as the gateway
    middleware answers them, only without aiohttp's routing and middleware chain in between
    (routing alone walks every route before it finds none for a camera UI's path). A login
    from a client over its limit is refused here too (see ``Gateway.refuse_login``). Used
    only where the HTTP parser refuses control characters itself (otherwise the header
    guard middleware must see every request first). A request with ``Expect`` goes the
    whole way (routing answers ``100-continue``).
    """
    routes = _front_routes(app)
    any_route = next(iter(routes.values()))
    upstreams = bool(gateway.settings.upstreams)

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        routed = cast(web.Request, request)  # the application's factory made a web.Request
        if upstreams and hdrs.EXPECT not in request.headers:
            routed._match_info = any_route  # as routing would set it: request.app works
            upstream = upstream_of(routed)
            if upstream is not None:
                return await gateway.proxied(routed, upstream)
        path = request.path
        match_info = routes.get(path)
        if match_info is None:
            return await app_handler(request)
        if path in FORWARD_AUTH_PATHS:
            routed._match_info = match_info  # what routing would find
            return await gateway.forward_auth(routed)
        if request.method == "POST":
            routed._match_info = match_info  # routing sets it again if the login goes on
            refused = await gateway.refuse_login(routed)
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
_API_PREFIXES = ("/api/", RESERVED_PREFIX + "/api/")
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
    if request.path.startswith(_API_PREFIXES):
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
