"""The one place the gateway application is assembled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from aiohttp.web_server import Server

from ..const import RESERVED_PREFIX
from ..core.services import Services
from ..options import Settings
from . import ws
from .access import guarded
from .app_keys import GATEWAY, PAGES, SERVICES, SETTINGS, UPSTREAM_CLIENT, WEBSOCKETS
from .middlewares import (
    Gateway,
    front_door,
    gateway_middleware,
    header_guard_middleware,
    parser_rejects_control_characters,
)
from .pages import Pages
from .routes import route_table

_LOGGER = logging.getLogger(__name__)

# Small bodies only: logins and user edits. Larger ones get 413 before they are read.
MAX_BODY_BYTES = 16 * 1024
MAX_HEADER_BYTES = 32 * 1024
SYNC_INTERVAL = 1.0  # how soon `camauth users` changes reach a running service
SWEEP_INTERVAL = 1.0  # how late a lockout_ended event may be
PRUNE_INTERVAL = 600.0
KEY_USE_INTERVAL = 60.0  # last-used times of API keys reach the database this often


async def _every(seconds: float, job: str, func: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await func()
        except Exception:
            _LOGGER.exception("Background job %s failed", job)


async def _background(app: web.Application) -> AsyncIterator[None]:
    services, audit = app[SERVICES], app[SETTINGS].audit

    async def each_second() -> None:
        services.lockouts.sweep(time.time())
        services.live.recheck()  # sessions and tokens also end by expiring

    async def prune_audit() -> None:
        removed = await services.audit.prune(audit.retention_days, audit.max_events)
        if removed:
            _LOGGER.info("Audit log: removed %d events past retention", removed)

    async def record_use() -> None:
        await services.keys.record_use()
        await services.sessions.record_seen()

    tasks = [
        asyncio.create_task(_every(SYNC_INTERVAL, "sync", services.sync)),
        asyncio.create_task(_every(PRUNE_INTERVAL, "prune", services.sessions.prune)),
        asyncio.create_task(_every(SWEEP_INTERVAL, "lockouts", each_second)),
        asyncio.create_task(_every(KEY_USE_INTERVAL, "key use", record_use)),
        asyncio.create_task(services.audit.run()),
        asyncio.create_task(_every(PRUNE_INTERVAL, "audit retention", prune_audit)),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _upstream_client(app: web.Application) -> AsyncIterator[None]:
    """One pool of connections to the camera UIs, for the life of the application."""
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=10)  # a stream holds one each
    async with aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),  # the browser keeps the camera UI's cookies
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
    ) as client:
        app[UPSTREAM_CLIENT] = client
        yield


class GatewayRunner(web.AppRunner):
    """Runs the gateway application with its front door (``middlewares.front_door``).

    Every camera request comes through forward-auth, so the server hands it to the gateway
    before aiohttp's routing and middleware machinery. Without this runner (a plain
    ``AppRunner``) the gateway middleware answers the same way, only slower.
    """

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        gateway = self.app.get(GATEWAY)
        if gateway is not None and parser_rejects_control_characters():
            server.request_handler = front_door(gateway, self.app, server.request_handler)
        return server


def create_app(settings: Settings, services: Services) -> web.Application:
    """Build the gateway: middlewares in order, then the route table."""
    # One middleware identifies every request, answers forward-auth itself, and renders
    # errors; a second one is added only where the HTTP parser lets control characters in.
    gateway = Gateway(settings, services)
    middlewares = [gateway_middleware(gateway)]
    if not parser_rejects_control_characters():
        middlewares.insert(0, header_guard_middleware)
    app = web.Application(
        middlewares=middlewares,
        client_max_size=MAX_BODY_BYTES,
        # Room for long cookies, so an oversized token gets CamAuth's 401, not a parser 400.
        handler_args={"max_field_size": MAX_HEADER_BYTES},
    )
    app[SETTINGS] = settings
    app[SERVICES] = services
    app[GATEWAY] = gateway
    app[WEBSOCKETS] = set()
    app.on_shutdown.append(ws.close_websockets)
    pages = app[PAGES] = Pages()
    if settings.upstreams:
        app.cleanup_ctx.append(_upstream_client)
    for route in route_table(pages):
        handler = guarded(route)
        app.router.add_route(route.method, route.path, handler)
        # Also under /camauth/, so a camera UI served at / leaves CamAuth one prefix of its own.
        app.router.add_route(route.method, RESERVED_PREFIX + route.path, handler)
    app.cleanup_ctx.append(_background)
    return app
