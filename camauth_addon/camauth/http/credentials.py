"""Reading a request's credential: a bearer token, an API key, or the session cookie."""

from __future__ import annotations

from aiohttp import hdrs, web
from multidict import istr  # aiohttp's own header-name type

from ..const import API_KEY_HEADER, COOKIE_NAME
from ..core.identity import Credential
from ..core.memo import Remembered
from ..errors import BadRequest

# The headers a credential is read from: case-insensitive names, folded once (cheaper look-ups).
API_KEY = istr(API_KEY_HEADER)
CREDENTIAL_HEADERS = (hdrs.AUTHORIZATION, API_KEY, hdrs.COOKIE)


def _single(request: web.Request, name: str) -> str | None:
    """One header value; two of them are an attack on whoever reads the other one."""
    headers = request.headers
    if name not in headers:  # the common case, and the cheapest test on the hot path
        return None
    values = headers.getall(name)
    if len(values) > 1:
        raise BadRequest(f"Duplicate {name} header", key="duplicate_header")
    return values[0]


def read_credential(request: web.Request) -> Credential | None:
    """The bearer token, else the API key, else the session cookie; one never falls back."""
    authorization = _single(request, hdrs.AUTHORIZATION)
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        # A proxy's own Basic credentials are not ours; a bearer is, and never falls back.
        if scheme.lower() == "bearer":
            return Credential(token.strip(), "bearer") if token.strip() else None
    api_key = _single(request, API_KEY)
    if api_key is not None:
        return Credential(api_key, "api_key") if api_key.strip() else None
    header = _single(request, hdrs.COOKIE)
    return None if header is None else _COOKIES(header)


def session_cookie(header: str, name: str = COOKIE_NAME) -> str | None:
    """The value of one cookie in a Cookie header; two of them are refused.

    Only this one cookie is wanted on every proxied request, so it is picked out directly
    (about ten times cheaper than parsing every cookie), and a duplicate is seen for sure.
    """
    found = None
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            if found is not None:
                raise BadRequest("Duplicate session cookie", key="duplicate_cookie")
            found = value.strip().strip('"')
    return found


def _session_credential(header: str) -> Credential | None:
    cookie = session_cookie(header)
    return Credential(cookie, "cookie") if cookie else None


# A browser sends the same Cookie header with every request: its credential is remembered.
_COOKIES = Remembered(_session_credential, longest=2048)
