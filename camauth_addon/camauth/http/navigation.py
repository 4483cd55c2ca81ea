"""Browsers without a session: is this a page load, and where is the login page.

Shared by forward-auth and the built-in proxy, so that both send a browser to the same login
page with the same judged return address.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from ..const import LOGIN_PATH, RESERVED_PREFIX
from .app_keys import SETTINGS
from .forwarded import original


def is_navigation(request: web.Request) -> bool:
    """Whether a browser is loading a page (not a script's API call, which gets a plain 401).

    Frigate's frontend treats a redirect on an API call as a logout, so only navigations are
    sent to the login page.
    """
    headers = request.headers
    if "text/html" not in headers.get("Accept", "") or "X-Requested-With" in headers:
        return False
    return headers.get("Sec-Fetch-Mode", "navigate").lower() == "navigate"


def login_page(request: web.Request) -> str:
    """The login page: ``auth.login_url``, else ``/camauth/login`` on this host."""
    return request.app[SETTINGS].auth.login_url or RESERVED_PREFIX + LOGIN_PATH


def absolute(request: web.Request, path: str) -> str:
    """A same-host path as a whole URL, on the scheme and host the browser used."""
    told = original(request)
    return f"{told.scheme}://{told.host}{path}"


def with_return(login: str, target: str) -> str:
    """The login page with ``rd`` (a judged return address); none for ``/``."""
    if target == "/":
        return login
    separator = "&" if "?" in login else "?"
    return f"{login}{separator}rd={quote(target, safe='')}"
