"""The headers the built-in proxy passes on, in each direction.

Towards the camera UI: nothing that only concerns one connection (hop-by-hop headers), none of
CamAuth's credentials (its cookies, a bearer token, an API key), and no identity or forwarding
header from the client: CamAuth sets those itself, from what it decided. Back to the browser:
the camera UI's headers, minus hop-by-hop ones and any cookie named like CamAuth's own, with
redirects and cookie paths moved under the prefix the upstream is served at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiohttp import web
from multidict import CIMultiDict, MultiMapping

from ..const import COOKIE_NAME, DEVICE_COOKIE
from ..core.identity import Identity
from ..core.upstreams import Upstream
from .app_keys import SETTINGS
from .client_ip import peer_is_trusted
from .context import context
from .forwarded import original

# RFC 9110 7.6.1, plus the ones proxies have always treated so; ``Expect`` is answered here.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "expect",
    }
)
# The client's say about who it is or where it came from: CamAuth's to set, never to relay.
_CLIENT_CLAIMS = ("remote-", "x-forwarded-", "x-auth-request-", "x-authentik-", "x-remote-")
_CAMAUTH_ONLY = frozenset(
    {"host", "x-api-key", "x-proxy-secret", "forwarded", "x-real-ip", "x-original-uri"}
)
_WEBSOCKET_HANDSHAKE = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}
)
_OWN_COOKIES = frozenset({COOKIE_NAME, DEVICE_COOKIE})


def _connection_listed(headers: MultiMapping[str]) -> set[str]:
    """The headers a ``Connection`` header names: hop-by-hop for this connection only."""
    values = headers.getall("Connection", [])
    return {name.strip().lower() for value in values for name in value.split(",")}


def _dropped(name: str, listed: set[str]) -> bool:
    lowered = name.lower()
    return lowered in HOP_BY_HOP or lowered in listed


def identity_headers(identity: Identity) -> dict[str, str]:
    """``Remote-User`` and ``Remote-Role``, and the groups, email and name when known."""
    headers = {"Remote-User": identity.username, "Remote-Role": identity.role}
    if identity.groups:
        headers["Remote-Groups"] = ",".join(identity.groups)
    if identity.email:
        headers["Remote-Email"] = identity.email
    if identity.name:
        headers["Remote-Name"] = identity.name
    return headers


def without_own_cookies(header: str) -> str:
    """A ``Cookie`` header without CamAuth's cookies (the camera UI has no use for them)."""
    kept = [
        part.strip()
        for part in header.split(";")
        if part.strip() and part.partition("=")[0].strip() not in _OWN_COOKIES
    ]
    return "; ".join(kept)


def _relayed(name: str, value: str) -> str | None:
    """A client header as the camera UI gets it, or None when it stays with CamAuth."""
    lowered = name.lower()
    if lowered in _CAMAUTH_ONLY or lowered in _WEBSOCKET_HANDSHAKE:
        return None
    if lowered.startswith(_CLIENT_CLAIMS):
        return None
    if lowered == "authorization" and value.partition(" ")[0].lower() == "bearer":
        return None  # CamAuth's token; the camera UI's own Basic credentials pass
    if lowered == "cookie":
        return without_own_cookies(value) or None
    return value


def upstream_request_headers(
    incoming: MultiMapping[str], identity: Identity, forwarded: Mapping[str, str]
) -> CIMultiDict[str]:
    """The headers the camera UI receives: the client's relayed, then CamAuth's own."""
    listed = _connection_listed(incoming)
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        if _dropped(name, listed):
            continue
        relayed = _relayed(name, value)
        if relayed is not None:
            out.add(name, relayed)
    out.update(forwarded)
    out.update(identity_headers(identity))
    return out


def _own_cookie(set_cookie: str) -> bool:
    return set_cookie.partition("=")[0].strip() in _OWN_COOKIES


def _cookie_with_path(set_cookie: str, upstream: Upstream) -> str:
    """A ``Set-Cookie`` value whose ``Path`` is where the gateway serves the upstream."""
    parts = [part.strip() for part in set_cookie.split(";")]
    path = "/"
    kept = [parts[0]]
    for part in parts[1:]:
        if part.partition("=")[0].strip().lower() == "path":
            path = part.partition("=")[2].strip() or "/"
        elif part:
            kept.append(part)
    kept.append(f"Path={upstream.rewrite_cookie_path(path)}")
    return "; ".join(kept)


def browser_response_headers(
    incoming: MultiMapping[str], upstream: Upstream
) -> Iterable[tuple[str, str]]:
    """The camera UI's response headers as the browser gets them."""
    listed = _connection_listed(incoming)
    moved = bool(upstream.prefix or upstream.base)
    for name, value in incoming.items():
        lowered = name.lower()
        if _dropped(name, listed):
            continue
        if lowered == "set-cookie":
            if _own_cookie(value):
                continue  # a camera UI cannot set or clear CamAuth's session
            yield name, _cookie_with_path(value, upstream) if moved else value
        elif lowered in ("location", "content-location") and moved:
            yield name, upstream.rewrite_location(value)
        else:
            yield name, value


def host_name(host: str) -> str:
    """A ``Host`` value without its port, lower-cased (``[::1]:8971`` is ``[::1]``)."""
    name = host.lower()
    if name.endswith("]") or ":" not in name:
        return name
    return name.rsplit(":", 1)[0]


def _client_chain(request: web.Request) -> str:
    """``X-Forwarded-For`` for the camera UI: a trusted proxy's chain, then the peer."""
    peer = request.remote or "unknown"
    if peer_is_trusted(request, request.app[SETTINGS].auth.trusted_proxies):
        told = [
            hop.strip()
            for value in request.headers.getall("X-Forwarded-For", [])
            for hop in value.split(",")
        ]
        return ", ".join([*[hop for hop in told if hop], peer])
    return peer


def _forwarded(request: web.Request, upstream: Upstream) -> dict[str, str]:
    """What the camera UI is told about the browser's request (``X-Forwarded-*``)."""
    told = original(request)
    headers = {
        "X-Forwarded-For": _client_chain(request),
        "X-Forwarded-Proto": told.scheme,
        "X-Forwarded-Host": told.host,
        "X-Real-IP": context(request).client,
    }
    if told.prefix or upstream.prefix:
        headers["X-Forwarded-Prefix"] = told.prefix + upstream.prefix
    if upstream.secret:
        headers["X-Proxy-Secret"] = upstream.secret
    return headers


def upstream_headers(
    request: web.Request, identity: Identity, upstream: Upstream
) -> CIMultiDict[str]:
    """Every header the camera UI receives with a request CamAuth allowed."""
    return upstream_request_headers(request.headers, identity, _forwarded(request, upstream))
