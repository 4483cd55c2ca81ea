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
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict, istr  # aiohttp's own header types

from ..const import SAFE_METHODS
from ..core.authn import Authenticated
from ..core.identity import Credential, Identity
from ..core.memo import Remembered, remember
from ..core.paths import UnjudgeablePath, canonical_target, split_target
from ..core.policy import ALLOW, Decision, Target, decide
from ..core.redirects import safe_return_path
from ..errors import Forbidden
from .access import check_same_origin
from .app_keys import SERVICES, SETTINGS
from .client_ip import peer_is_trusted
from .context import context
from .navigation import absolute, is_navigation, login_page, with_return
from .proxy_headers import identity_headers

_LOGGER = logging.getLogger(__name__)

# Where proxies put the original request: Traefik and Caddy, then nginx by convention.
# (Case-insensitive header names, folded once: cheaper look-ups on every request.)
_METHOD_HEADERS = (istr("X-Forwarded-Method"), istr("X-Original-Method"))
_URI_HEADERS = (istr("X-Forwarded-Uri"), istr("X-Original-URI"), istr("X-Original-URL"))
_ROOT = frozenset({("/", "")})

FORWARD_AUTH_PATH = "/api/auth"
FORWARD_AUTH_PATHS = frozenset({FORWARD_AUTH_PATH, "/camauth" + FORWARD_AUTH_PATH})
# Headers that describe the proxied request: believed only from a trusted proxy.
_FORWARDING = (*_METHOD_HEADERS, *_URI_HEADERS)
# Proxies name the same few paths again and again: their canonical forms are remembered.
_TARGETS = Remembered(canonical_target)


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


def original_targets(request: web.Request) -> frozenset[tuple[str, str]] | None:
    """The canonical (path, query) of every header naming the proxied request.

    None when one of them cannot be judged. Without any such header the request is about
    ``/``. Several headers that disagree are each judged (CVE-2026-40575: nginx passes a
    client's own ``X-Forwarded-Uri`` next to the ``X-Original-URI`` it sets).
    """
    headers = request.headers
    values = [value for name in _URI_HEADERS for value in headers.getall(name, ())]
    if not values:
        return _ROOT
    try:
        return frozenset([_TARGETS(value) for value in values])
    except UnjudgeablePath:
        return None


# Everything a 200 of forward-auth depends on besides the time and CamAuth's state (checked
# on reuse): the peer (trusted or not), the method, and every value of every header that
# names a credential, an SSO identity or the proxied request.
VerdictKey = tuple[str | None, str, tuple[tuple[str, ...], ...]]


@dataclass(frozen=True, slots=True)
class Allowed:
    """A remembered 200: the credential, what it was found to be, the rules, the headers."""

    credential: Credential
    found: Authenticated
    rules: int  # the role book's generation it was decided by
    headers: CIMultiDict[str]


class AllowedMemo:
    """Recent allowed answers, by everything they depend on (see ``Gateway.forward_auth``).

    The same request again gets the same answer as long as its credential is found to be the
    very same thing (the authenticator's memo answers that: it returns a new object after
    any change, expiry or revocation) and the roles are unchanged. Only 200s are remembered;
    bounded in entries and in the size of each key, and forgotten all at once when full.
    """

    def __init__(self, headers: tuple[str, ...], size: int = 1024, longest: int = 2048) -> None:
        """Key on ``headers``; remember ``size`` answers of at most ``longest`` characters."""
        self._headers = (*headers, *_METHOD_HEADERS, *_URI_HEADERS)
        self._size = size
        self._longest = longest
        self._memo: dict[VerdictKey, Allowed] = {}

    def key(self, request: web.Request) -> VerdictKey:
        """What the answer to this request depends on."""
        headers = request.headers
        values = tuple([tuple(headers.getall(name, ())) for name in self._headers])
        return request.remote, request.method, values

    def get(self, key: VerdictKey) -> Allowed | None:
        """A remembered answer, to be checked by the caller."""
        return self._memo.get(key)

    def remember(self, key: VerdictKey, allowed: Allowed) -> None:
        """Remember a 200 (its headers before anything is added to the response)."""
        if sum(len(value) for values in key[2] for value in values) > self._longest:
            return
        remember(self._memo, key, allowed, self._size)


def _first_uri(request: web.Request) -> tuple[str, str] | None:
    """The name and value of the first header naming the proxied request, if any."""
    for name in _URI_HEADERS:
        value = request.headers.get(name)
        if value:
            return name, value
    return None


def return_address(request: web.Request, whole: bool) -> str:
    """The address the user wanted: a path on this host, or (``whole``) the whole URL."""
    found = _first_uri(request)
    if found is None:
        return "/"
    name, value = found
    try:
        path, query = split_target(value)
    except UnjudgeablePath:
        return "/"
    if name != "X-Original-URL" and not value.startswith("/"):
        return "/"  # only X-Original-URL may be a full URL
    target = safe_return_path(path + (f"?{query}" if query else ""))
    if not whole or target == "/":
        return target
    if name == "X-Original-URL" and "://" in value:
        return value if safe_return_path(target) == target else "/"
    return absolute(request, target)


def login_location(request: web.Request) -> str:
    """The login page (``auth.login_url``, else ``/camauth/login``), with the return address."""
    login = login_page(request)
    return with_return(login, return_address(request, whole="://" in login))


_UNAUTHORIZED_JSON = b'{"error": "Authentication required", "code": "unauthorized"}'


def redirects_browsers(request: web.Request) -> bool:
    """Traefik and Caddy show a 302 to the browser; nginx needs a 401 for ``error_page``.

    ``?proxy=nginx`` or ``?proxy=traefik`` (or ``caddy``) on the forward-auth URL says which;
    without it, a proxy that names the request in ``X-Forwarded-Uri`` is taken for Traefik or
    Caddy, and any other for nginx.
    """
    told = request.query.get("proxy", "").lower()
    if told in ("traefik", "caddy"):
        return True
    return told != "nginx" and "X-Forwarded-Uri" in request.headers


def _unauthorized(request: web.Request) -> web.Response:
    if not is_navigation(request):
        return web.Response(status=401, body=_UNAUTHORIZED_JSON, content_type="application/json")
    location = login_location(request)
    if redirects_browsers(request):
        return web.Response(status=302, headers={"Location": location})
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


def _untrusted(request: web.Request, identity: Identity) -> web.Response:
    """The proxy asking is not a trusted one: nothing it says about the request is believed."""
    request.app[SERVICES].warnings.forward_auth_from(request.remote or "unknown")
    if identity.is_admin and not identity.paths:  # may do anything: nothing to judge
        return _allowed(identity)
    return _forbidden(
        "The proxy asking is not in auth.trusted_proxies: its request cannot be judged",
        "untrusted_proxy",
    )


def _allowed(identity: Identity) -> web.Response:
    return web.Response(status=200, headers=identity_headers(identity))


def _cross_site(request: web.Request) -> web.Response | None:
    """403 for a cookie's unsafe request that another site's page made (CSRF), else None.

    The same rule as for CamAuth's own API (``access.check_same_origin``): the proxy passes
    the browser's ``Origin`` and ``Sec-Fetch-Site`` along with the request it asks about.
    """
    if context(request).source != "cookie" or original_methods(request) <= SAFE_METHODS:
        return None
    try:
        check_same_origin(request)
    except Forbidden as err:
        return _forbidden(err.message, err.key)
    return None


def _decide(request: web.Request) -> web.Response:
    ctx = context(request)
    identity = ctx.identity or ctx.webhook
    if identity is None:  # nobody to judge: log in first, whatever the path
        return _unauthorized(request)
    trusted = peer_is_trusted(request, request.app[SETTINGS].auth.trusted_proxies)
    if not trusted and any(name in request.headers for name in _FORWARDING):
        return _untrusted(request, identity)
    decision = _verdict(identity, request)
    if decision is None:
        return _forbidden("Path refused: it cannot be judged unambiguously", "path_refused")
    if decision.status == 401:
        return _unauthorized(request)
    if not decision.allowed:
        return _forbidden(decision.reason, decision.key)
    return _cross_site(request) or _allowed(identity)


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
