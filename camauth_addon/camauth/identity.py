"""Who is making a request: the identity, and where its credentials come from."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .const import COOKIE_NAME, ROLE_ADMIN, SAFE_METHODS
from .errors import BadRequest

# Request keys set by the identity middleware.
KEY_IDENTITY = "camauth_identity"
KEY_CLAIMS = "camauth_claims"


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated caller, with the role they hold *now*."""

    username: str
    role: str
    method: str  # "session" for tokens; later "api_key", "proxy", "disabled"
    session_id: str = ""

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.role == ROLE_ADMIN

    def may_use(self, method: str) -> bool:
        """Viewers are read-only: safe methods only."""
        return self.is_admin or method in SAFE_METHODS


@dataclass(frozen=True, slots=True)
class Credential:
    """A token presented by a request, and how."""

    token: str
    source: str  # "bearer" or "cookie"


def _single(request: web.Request, name: str) -> str | None:
    """One header value; two of them are an attack on whoever reads the other one."""
    values = request.headers.getall(name, [])
    if len(values) > 1:
        raise BadRequest(f"Duplicate {name} header")
    return values[0] if values else None


def read_credential(request: web.Request) -> Credential | None:
    """The bearer token, else the session cookie; a bearer that is not a JWT is no credential."""
    authorization = _single(request, "Authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        # A proxy's own Basic credentials are not ours; a bearer is, and never falls back.
        if scheme.lower() == "bearer":
            return Credential(token.strip(), "bearer") if token.strip() else None
    header = _single(request, "Cookie")
    cookie = session_cookie(header) if header is not None else None
    return Credential(cookie, "cookie") if cookie else None


def session_cookie(header: str) -> str | None:
    """The ``camauth_token`` value of a Cookie header; two of them are refused.

    Only this one cookie is wanted on every proxied request, so it is picked out directly
    (about ten times cheaper than parsing every cookie), and a duplicate is seen for sure.
    """
    found = None
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip() == COOKIE_NAME:
            if found is not None:
                raise BadRequest("Duplicate session cookie")
            found = value.strip().strip('"')
    return found
