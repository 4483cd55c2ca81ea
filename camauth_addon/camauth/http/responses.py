"""Response helpers: the error shape and the session cookie."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping

from aiohttp import hdrs, web
from multidict import CIMultiDict  # aiohttp's own header type

from ..const import COOKIE_NAME, DEVICE_COOKIE, DEVICE_COOKIE_DAYS
from ..core.sessions import LoginResult
from ..options import AuthSettings

_JSON = "application/json; charset=utf-8"


def json_error(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    key: str | None = None,
) -> web.Response:
    """Every error CamAuth answers: ``{"error": "...", "code": "<translation key>"}``."""
    encode = _error_body if len(message) <= 200 else _error_body.__wrapped__
    all_headers = CIMultiDict(headers) if headers else CIMultiDict()
    all_headers[hdrs.CONTENT_TYPE] = _JSON  # as json_response sets it, without its setters
    return web.Response(body=encode(message, key), status=status, headers=all_headers)


# The same few errors again and again (a flood's 429s): short messages are encoded once.
@functools.lru_cache(maxsize=256)
def _error_body(message: str, key: str | None) -> bytes:
    body = {"error": message, "code": key} if key else {"error": message}
    return json.dumps(body).encode("utf-8")


def success() -> web.Response:
    """The body of an action that has nothing else to say."""
    return web.json_response({"success": True})


def set_session_cookie(
    response: web.StreamResponse, login: LoginResult, auth: AuthSettings
) -> None:
    """Set ``camauth_token``: HttpOnly, SameSite=Lax, Secure when configured."""
    response.set_cookie(
        COOKIE_NAME,
        login.token,
        max_age=max(0, int(login.expires_at - time.time())),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=auth.cookie_secure,
        domain=auth.cookie_domain or None,  # one login for the camera UIs on its subdomains
    )


def set_device_cookie(response: web.StreamResponse, value: str, auth: AuthSettings) -> None:
    """Set ``camauth_device``: this browser is known to the user it logged in as (a year)."""
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="Strict",  # only ever needed by this site's own login form
        secure=auth.cookie_secure,
    )


def clear_session_cookie(response: web.StreamResponse, auth: AuthSettings) -> None:
    """Remove the cookie from the browser."""
    response.del_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=auth.cookie_secure,
        domain=auth.cookie_domain or None,
    )
