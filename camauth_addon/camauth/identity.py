"""Who is making a request: the identity, and where its credentials come from."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .const import API_KEY_HEADER, COOKIE_NAME, ROLE_ADMIN, SAFE_METHODS
from .errors import BadRequest

# Request keys set by the identity middleware.
KEY_IDENTITY = "camauth_identity"
KEY_CLAIMS = "camauth_claims"
KEY_WEBHOOK = "camauth_webhook_key"


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated caller, with the role they hold *now*."""

    username: str
    role: str
    method: str  # "session", "api_key" or "disabled"
    session_id: str = ""
    paths: tuple[str, ...] = ()  # an API key limited to these forward-auth paths (webhooks)

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.role == ROLE_ADMIN

    def may_use(self, method: str) -> bool:
        """Viewers are read-only: safe methods only."""
        return self.is_admin or method in SAFE_METHODS


@dataclass(frozen=True, slots=True)
class Credential:
    """A token or key presented by a request, and how."""

    token: str
    source: str  # "bearer", "api_key" or "cookie"


def _single(request: web.Request, name: str) -> str | None:
    """One header value; two of them are an attack on whoever reads the other one."""
    headers = request.headers
    if name not in headers:  # the common case, and the cheapest test on the hot path
        return None
    values = headers.getall(name)
    if len(values) > 1:
        raise BadRequest(f"Duplicate {name} header")
    return values[0]


def read_credential(request: web.Request) -> Credential | None:
    """The bearer token, else the API key, else the session cookie; one never falls back."""
    authorization = _single(request, "Authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        # A proxy's own Basic credentials are not ours; a bearer is, and never falls back.
        if scheme.lower() == "bearer":
            return Credential(token.strip(), "bearer") if token.strip() else None
    api_key = _single(request, API_KEY_HEADER)
    if api_key is not None:
        return Credential(api_key, "api_key") if api_key.strip() else None
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
