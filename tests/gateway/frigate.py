"""A Frigate stand-in: a page whose script behaves like Frigate's frontend, and its API.

Frigate's frontend is a single-page app: every page path serves the same HTML. Its script
asks ``/api/config`` for the proxy settings, then polls ``/api/profile`` and ``/api/stats``
(JSON, ``Accept: application/json``), shows who is signed in, and keeps a WebSocket open at
``/ws``. An answer of 401, 302 or 307 sends the browser to that answer's ``Location``, or to
``login`` (relative) when there is none; its Logout link goes to ``proxy.logout_url``.

The API answers as Frigate's proxy mode does (``auth.enabled: false``): the user and role are
read from the headers ``proxy.header_map`` names, and with ``proxy.auth_secret`` set a request
without that ``X-Proxy-Secret`` is refused; with ``auth.enabled`` left on (Frigate's default)
every call is refused, as Frigate's login would want its own cookie. The configuration has
the shape DOCS.md shows (see ``tests.docs``). Frigate's own login page is there too: a
correct setup never shows it.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import WSMsgType, web

SCRIPT = """"use strict";
// Behaves like Frigate's frontend: axios-style API calls, redirects on 401/302/307, a /ws.
const state = (id, text) => { document.getElementById(id).textContent = text; };
const every = Number(new URLSearchParams(location.search).get("poll") ?? "300");

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/api/" + path, options);
  if ([401, 302, 307].includes(response.status)) {
    window.location.href = response.headers.get("Location") || "login";
    throw new Error("signed out");
  }
  return response;
}

async function poll() {
  const profile = await (await api("GET", "profile")).json();
  state("user", profile.username);
  state("role", profile.role);
  const stats = await (await api("GET", "stats")).json();
  state("uptime", String(stats.service.uptime));
}

function loop() {
  poll().then(() => { if (every > 0) setTimeout(loop, every); }, () => {});
}

function socket() {
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
  ws.onopen = () => state("ws", "open");
  ws.onclose = (event) => state("ws", "closed " + event.code);
}

async function save() {
  const response = await api("POST", "config/set", { requires_restart: 0 });
  state("saved", String(response.status));
}

document.addEventListener("DOMContentLoaded", async () => {
  const config = await (await api("GET", "config")).json();
  document.getElementById("logout").href = config.proxy.logout_url || "/api/logout";
  document.getElementById("save").addEventListener("click", () => save().catch(() => {}));
  socket();
  loop();
});
"""

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Frigate</title>
<script src="/assets/frigate.js" defer></script></head><body>
<h1>Frigate</h1>
<p>Signed in as <b id="user"></b> (<span id="role"></span>), up <span id="uptime"></span> s</p>
<p>Live: <span id="ws">connecting</span></p>
<button id="save" type="button">Save config</button> <span id="saved"></span>
<a id="logout" href="#">Logout</a>
</body></html>"""

LOGIN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Frigate login</title></head><body><h1>Frigate's own login</h1></body></html>"""

CONFIG = web.AppKey("frigate_config", dict[str, Any])
STARTED = web.AppKey("started", float)


def _proxy(request: web.Request) -> dict[str, Any]:
    proxy: dict[str, Any] = request.app[CONFIG].get("proxy", {})
    return proxy


def _identity(request: web.Request) -> tuple[str, str] | None:
    """The user and role as Frigate's proxy mode reads them, or None when it refuses."""
    if request.app[CONFIG].get("auth", {}).get("enabled", True):
        return None  # Frigate's own login is on (its default): no cookie of its own, no entry
    proxy = _proxy(request)
    secret = proxy.get("auth_secret")
    if secret is not None and request.headers.get("X-Proxy-Secret") != secret:
        return None
    names = proxy.get("header_map", {})
    user = request.headers.get(names["user"]) if "user" in names else None
    role = request.headers.get(names["role"]) if "role" in names else None
    return (user or "viewer", role or proxy.get("default_role", "viewer"))


@web.middleware
async def _proxy_mode(request: web.Request, handler: Any) -> web.StreamResponse:
    """Frigate's check of every API call and WebSocket: the proxy's word, or 401."""
    guarded = request.path.startswith("/api/") or request.path == "/ws"
    if guarded and _identity(request) is None:
        return web.json_response({"message": "Unauthorized"}, status=401)
    response: web.StreamResponse = await handler(request)
    return response


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def script(request: web.Request) -> web.Response:
    return web.Response(text=SCRIPT, content_type="text/javascript")


async def login(request: web.Request) -> web.Response:
    return web.Response(text=LOGIN, content_type="text/html")


async def logout(request: web.Request) -> web.Response:
    """Frigate's own sign-out: clears its cookie and goes to its login page."""
    response = web.HTTPSeeOther("/login")
    response.del_cookie("frigate_token")
    raise response


async def profile(request: web.Request) -> web.Response:
    found = _identity(request)
    assert found is not None  # the middleware refused it otherwise
    return web.json_response({"username": found[0], "role": found[1]})


async def stats(request: web.Request) -> web.Response:
    uptime = int(time.monotonic() - request.app[STARTED])
    return web.json_response({"service": {"uptime": uptime, "version": "0.16.0"}})


async def frontend_config(request: web.Request) -> web.Response:
    """What the frontend needs of Frigate's configuration: the proxy settings."""
    return web.json_response({"proxy": {"logout_url": _proxy(request).get("logout_url")}})


async def config_set(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"success": True, "message": "Config applied"})


async def version(request: web.Request) -> web.Response:
    return web.Response(text="0.16.0")


async def events(request: web.Request) -> web.Response:
    return web.json_response([])


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Frigate's ``/ws``: says hello, then echoes until either side closes."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"topic": "onConnect", "payload": "hello"})
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str(message.data)
    return ws


def frigate_app(config: dict[str, Any]) -> web.Application:
    """Frigate with the given configuration (its ``auth`` and ``proxy`` sections)."""
    app = web.Application(middlewares=[_proxy_mode])
    app[CONFIG] = config
    app[STARTED] = time.monotonic()
    for method, route, handler in (
        ("GET", "/assets/frigate.js", script),
        ("GET", "/login", login),
        ("GET", "/api/logout", logout),
        ("POST", "/api/logout", logout),
        ("GET", "/api/profile", profile),
        ("GET", "/api/stats", stats),
        ("GET", "/api/config", frontend_config),
        ("PUT", "/api/config/set", config_set),
        ("POST", "/api/config/set", config_set),
        ("GET", "/api/version", version),
        ("GET", "/api/events", events),
        ("GET", "/ws", websocket),
        ("GET", "/{page:(?!api/).*}", page),  # a single-page app: every page is the one
    ):
        app.router.add_route(method, route, handler)
    return app
