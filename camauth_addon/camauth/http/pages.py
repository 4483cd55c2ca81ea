"""The login page and its static files, loaded once at start."""

from __future__ import annotations

import html
from importlib import resources

from aiohttp import web

from ..const import LOGIN_PATH
from ..core.redirects import safe_return_path

_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
STATIC_PREFIX = "/static/camauth/"


def _load(name: str) -> bytes:
    return resources.files("camauth").joinpath("static", name).read_bytes()


class Pages:
    """Serves the bundled files from memory."""

    def __init__(self) -> None:
        """Read the page and its assets."""
        self._files = {name: _load(name) for name in ("login.html", "login.js", "login.css")}

    async def login(self, request: web.Request) -> web.Response:
        """The login form, carrying the judged return address (``rd``)."""
        return_to = safe_return_path(request.query.get("rd"))
        return self._render("login.html", return_to=return_to)

    async def root(self, request: web.Request) -> web.Response:
        """Nothing lives at the root yet: go to the login page."""
        raise web.HTTPFound(LOGIN_PATH)

    async def asset(self, request: web.Request) -> web.Response:
        """A bundled script or stylesheet."""
        name = request.match_info["name"]
        if name not in self._files or name.endswith(".html"):
            raise web.HTTPNotFound()
        return self._serve(name)

    def _render(self, name: str, **values: str) -> web.Response:
        """A page with ``{{name}}`` placeholders filled in, every value HTML-escaped."""
        text = self._files[name].decode("utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
        return web.Response(
            text=text,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    def _serve(self, name: str) -> web.Response:
        suffix = name[name.rfind(".") :]
        return web.Response(
            body=self._files[name],
            content_type=_TYPES[suffix],
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )
