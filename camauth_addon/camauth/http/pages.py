"""The login page and its static files, loaded once at start."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from ..const import LOGIN_PATH

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
        """The login form."""
        return self._serve("login.html")

    async def root(self, request: web.Request) -> web.Response:
        """Nothing lives at the root yet: go to the login page."""
        raise web.HTTPFound(LOGIN_PATH)

    async def asset(self, request: web.Request) -> web.Response:
        """A bundled script or stylesheet."""
        name = request.match_info["name"]
        if name not in self._files or name.endswith(".html"):
            raise web.HTTPNotFound()
        return self._serve(name)

    def _serve(self, name: str) -> web.Response:
        suffix = name[name.rfind(".") :]
        return web.Response(
            body=self._files[name],
            content_type=_TYPES[suffix],
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )
