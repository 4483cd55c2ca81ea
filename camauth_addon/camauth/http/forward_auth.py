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
from urllib.parse import quote

from aiohttp import web
from multidict import CIMultiDict, istr  # aiohttp's own header types

from ..const import LOGIN_PATH
from ..core.authn import Authenticated
from ..core.identity import Credential, Identity
from ..core.paths import TargetMemo, UnjudgeablePath, split_target
from ..core.policy import ALLOW, Decision, Target, decide
from ..core.redirects import safe_return_path
from .context import context
from .credentials import CREDENTIAL_HEADERS

_LOGGER = logging.getLogger(__name__)

# Where proxies put the original request: Traefik and Caddy, then nginx by convention.
# (Case-insensitive header names, folded once: cheaper look-ups on every request.)
_METHOD_HEADERS = (istr("X-Forwarded-Method"), istr("X-Original-Method"))
_URI_HEADERS = (istr("X-Forwarded-Uri"), istr("X-Original-URI"), istr("X-Original-URL"))
_ROOT = frozenset({("/", "")})

FORWARD_AUTH_PATH = "/api/auth"
# Proxies name the same few paths again and again: their canonical forms are remembered.
_TARGETS = TargetMemo()


def original_methods(request: web.Request) -> set[str] | tuple[str]:
    """Every method the request may stand for; it passes only if each of them may."""
    headers = request.headers
    named = [value for name in _METHOD_HEADERS for value in headers.getall(name, ())]
    if not named:
        return (request.method.upper(),)
    return {request.method.upper(), *(value.strip().upper() for value in named)}


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
        return frozenset([_TARGETS.canonical_target(value) for value in values])
    except UnjudgeablePath:
        return None


# Everything an answer of forward-auth depends on besides the time and CamAuth's state: the
# method, and every value of every header that names a credential or the proxied request.
VerdictKey = tuple[str, tuple[tuple[str, ...], ...]]
_VERDICT_HEADERS = (*CREDENTIAL_HEADERS, *_METHOD_HEADERS, *_URI_HEADERS)


@dataclass(frozen=True, slots=True)
class Allowed:
    """A remembered 200: the credential it was for, what that was found to be, the headers."""

    credential: Credential
    found: Authenticated
    headers: CIMultiDict[str]


class AllowedMemo:
    """Recent allowed answers, by everything they depend on (see ``Gateway.forward_auth``).

    The same request again gets the same answer as long as its credential is found to be the
    very same thing (the authenticator's memo answers that: it returns a new object after
    any change, expiry or revocation). Only 200s are remembered; bounded in entries and in
    the size of each key, and forgotten all at once when full.
    """

    def __init__(self, size: int = 1024, longest: int = 2048) -> None:
        """Remember up to ``size`` answers whose headers add up to ``longest`` characters."""
        self._size = size
        self._longest = longest
        self._memo: dict[VerdictKey, Allowed] = {}

    @staticmethod
    def key(request: web.Request) -> VerdictKey:
        """What the answer to this request depends on."""
        headers = request.headers
        return request.method, tuple([tuple(headers.getall(name, ())) for name in _VERDICT_HEADERS])

    def get(self, key: VerdictKey) -> Allowed | None:
        """A remembered answer, to be checked by the caller."""
        return self._memo.get(key)

    def remember(
        self, key: VerdictKey, credential: Credential, found: Authenticated, response: web.Response
    ) -> None:
        """Remember a 200 (its headers before anything is added to the response)."""
        if sum(len(value) for values in key[1] for value in values) > self._longest:
            return
        if len(self._memo) >= self._size:
            self._memo.clear()
        self._memo[key] = Allowed(credential, found, CIMultiDict(response.headers))


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


_REMOTE_USER, _REMOTE_ROLE = istr("Remote-User"), istr("Remote-Role")


def _forbidden(reason: str, key: str) -> web.Response:
    return web.json_response({"error": reason, "code": key}, status=403)


def _verdict(identity: Identity, request: web.Request) -> Decision | None:
    """The policy's answer for every method and target the request stands for."""
    targets = original_targets(request)
    if targets is None:
        return None
    decision = ALLOW
    for method in original_methods(request):
        for path, query in targets:
            decision = decide(identity, Target(method, path, query))
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
    headers = CIMultiDict(((_REMOTE_USER, identity.username), (_REMOTE_ROLE, identity.role)))
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
