"""The pages (login, logout, the admin panel) and their static files, loaded once at start.

Pages are small templates: ``{{name}}`` is a value, ``{{t:login.title}}`` a string in the
visitor's language (from ``Accept-Language``), ``{{json:strings}}`` that language's strings for
the page's script, in a JSON data block. Every value is escaped for where it goes.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from aiohttp import web

from ..const import LOGIN_PATH, RESERVED_PREFIX
from ..core.redirects import safe_return_address, safe_return_path
from ..errors import Forbidden
from .app_keys import SETTINGS
from .context import context
from .forwarded import base_of, original
from .i18n import pick_language, strings, text

_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
STATIC_PREFIX = "/static/camauth/"
ADMIN_PATH = "/admin"
LOGOUT_PATH = "/logout"
_PAGE_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept-Language"}
_PLACEHOLDER = re.compile(r"\{\{(t:|json:)?([a-z_.]+)\}\}")
# In a <script> data block nothing may close the element or start a comment.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}


def _load_all() -> dict[str, bytes]:
    folder = resources.files("camauth").joinpath("static")
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.is_file()}


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "".join(_JSON_ESCAPES.get(char, char) for char in encoded)


class Pages:
    """Serves the bundled pages and files from memory."""

    def __init__(self) -> None:
        """Read every page and asset."""
        self._files = _load_all()

    def render(self, request: web.Request, name: str, **values: str) -> web.Response:
        """A page in the visitor's language, its placeholders filled in and escaped."""
        lang = pick_language(request.headers.get("Accept-Language"))
        values = {"lang": lang, "base": base_of(request), **values}

        def fill(match: re.Match[str]) -> str:
            kind, key = match.group(1), match.group(2)
            if kind == "t:":
                return html.escape(text(lang, key), quote=True)
            if kind == "json:":
                return script_json(strings(lang))
            return html.escape(values.get(key, ""), quote=True)

        page = _PLACEHOLDER.sub(fill, self._files[name].decode("utf-8"))
        return web.Response(
            text=page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-store",
                "Content-Language": lang,
                "Vary": "Accept-Language",
            },
        )

    async def login(self, request: web.Request) -> web.Response:
        """The login form, carrying the judged return address (``rd``).

        A visitor who is signed in already is named in the page, so that its script need not
        ask (and fail with a 401 in the browser's console for everyone else).
        """
        auth = request.app[SETTINGS].auth
        host = original(request).host
        return_to = safe_return_address(request.query.get("rd"), host, auth.return_domains)
        identity = context(request).identity
        user = {"username": identity.username, "role": identity.role} if identity else {}
        return self.render(request, "login.html", return_to=return_to, **user)

    def error(self, request: web.Request, status: int, key: str) -> web.Response:
        """A refusal or a camera UI's failure, as a page for a browser on the camera UI.

        Its assets come from ``/camauth/``: every other path may be the camera UI's own.
        """
        lang = pick_language(request.headers.get("Accept-Language"))
        page = self.render(
            request,
            "error.html",
            base=original(request).prefix + RESERVED_PREFIX,
            message=text(lang, f"errors.{key}"),
            again=safe_return_path(request.path_qs),
        )
        page.set_status(status)
        return page

    async def logout(self, request: web.Request) -> web.Response:
        """The sign-out page: its script ends the session, then goes on."""
        return self.render(request, "logout.html")

    async def panel(self, request: web.Request) -> web.StreamResponse:
        """The admin panel, for admins; a browser without a session signs in first."""
        identity = context(request).identity
        if identity is None:
            raise web.HTTPFound(f"{base_of(request)}{LOGIN_PATH}?rd=%2Fadmin")
        if not identity.is_admin:
            raise Forbidden("Admin role required", key="admin_required")
        return self.render(request, "panel.html")

    async def root(self, request: web.Request) -> web.Response:
        """Nothing lives at the root: go to the login page."""
        raise web.HTTPFound(f"{base_of(request)}{LOGIN_PATH}")

    async def asset(self, request: web.Request) -> web.Response:
        """A bundled script, stylesheet or image."""
        name = request.match_info["name"]
        if name not in self._files or name.endswith(".html"):
            raise web.HTTPNotFound()
        suffix = name[name.rfind(".") :]
        return web.Response(
            body=self._files[name],
            content_type=_TYPES.get(suffix, "application/octet-stream"),
            charset="utf-8" if suffix not in (".png",) else None,
            headers={"Cache-Control": "no-cache"},
        )
