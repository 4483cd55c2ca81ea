"""What the gateway middleware learns about a request, under one typed request key."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..core.authn import Authenticated
from ..core.identity import Credential, Identity
from ..core.tokens import Claims

_KEY = "camauth_context"


@dataclass(slots=True)
class RequestContext:
    """The client address (resolved once), and the identity behind the request, if any."""

    client: str
    identity: Identity | None = None
    claims: Claims | None = None  # a session token's claims (for refreshing its cookie)
    source: str | None = None  # "cookie", "bearer" or "api_key"
    credential: Credential | None = None  # what was presented, to re-check it later
    authenticated: Authenticated | None = None  # what the credential was found to be
    webhook: Identity | None = None  # a webhook key: only forward-auth looks at it
    credential_error: str | None = None  # why the credential could not be read
    base: str = ""  # the path prefix the browser sees CamAuth under (ingress, a proxy's prefix)


def set_context(request: web.Request, context: RequestContext) -> None:
    """Attach the context (the middleware does this first)."""
    request[_KEY] = context


def context(request: web.Request) -> RequestContext:
    """The request's context; a request the middleware has not seen has none (500)."""
    found = request.get(_KEY)
    if not isinstance(found, RequestContext):
        raise RuntimeError("request has not passed the gateway middleware")
    return found


def identity_of(request: web.Request) -> Identity | None:
    """The identity the middleware found, if any."""
    return context(request).identity


def client_of(request: web.Request) -> str:
    """The client address (trusted proxies applied)."""
    return context(request).client
