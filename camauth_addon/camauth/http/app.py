"""The one place the gateway application is assembled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.web_server import Server

from ..core.policy import Access
from ..core.services import Services
from ..options import Settings
from . import forward_auth, ws
from .access import Route, guarded
from .api import api_keys, events, lockouts, public, session, stats, users
from .app_keys import GATEWAY, SERVICES, SETTINGS, WEBSOCKETS
from .middlewares import (
    Gateway,
    front_door,
    gateway_middleware,
    header_guard_middleware,
    parser_rejects_control_characters,
)
from .pages import STATIC_PREFIX, Pages
from .schemas import (
    API_KEY,
    API_KEY_EXISTS,
    API_KEY_NOT_FOUND,
    AUDIT_EVENT,
    AUTH_STATUS,
    BAD_CREDENTIAL,
    BAD_HANDSHAKE,
    BUSY,
    CROSS_SITE,
    DOCUMENT,
    EXAMPLE_NEW_PASSWORD,
    EXAMPLE_PASSWORD,
    HEALTH,
    INVALID_LOGIN,
    INVALID_QUERY,
    LAST_ADMIN,
    LIFT_ALL_RESULT,
    LOCKOUT,
    LOCKOUT_NOT_FOUND,
    LOGIN_RESULT,
    NEW_API_KEY,
    OUTSIDE_KEY_PATHS,
    PASSWORD_RESET_RESULT,
    PATH_REFUSED,
    PROFILE,
    RATE_LIMITED,
    REVOKE_SESSIONS_RESULT,
    STATS,
    STREAM_MESSAGE,
    SUCCESS,
    USER,
    USER_EXISTS,
    USER_NOT_FOUND,
    VERSION_INFO,
    VIEWER_READ_ONLY,
    WARNINGS,
    WEAK_PASSWORD,
    WRONG_PASSWORD,
    Reply,
    ok,
)

_LOGGER = logging.getLogger(__name__)

# Small bodies only: logins and user edits. Larger ones get 413 before they are read.
MAX_BODY_BYTES = 16 * 1024
MAX_HEADER_BYTES = 32 * 1024
SYNC_INTERVAL = 1.0  # how soon `camauth users` changes reach a running service
SWEEP_INTERVAL = 1.0  # how late a lockout_ended event may be
PRUNE_INTERVAL = 600.0
KEY_USE_INTERVAL = 60.0  # last-used times of API keys reach the database this often


def route_table(pages: Pages) -> list[Route]:
    """Every route, who may call it, what it reads and what it answers: the API at a glance.

    The OpenAPI document is generated from this table (``script/gen_openapi.py``).
    """
    done = Reply(200, "Done.", SUCCESS)
    return [
        Route("GET", "/api/health", public.health, Access.PUBLIC, responses=(ok(HEALTH),)),
        Route("GET", "/api/healthz", public.health, Access.PUBLIC, responses=(ok(HEALTH),)),
        Route("GET", "/api/version", public.version, Access.PUBLIC, responses=(ok(VERSION_INFO),)),
        Route(
            "GET",
            "/api/auth/status",
            public.auth_status,
            Access.PUBLIC,
            responses=(ok(AUTH_STATUS),),
        ),
        Route("GET", "/api/openapi.json", public.openapi, Access.PUBLIC, responses=(ok(DOCUMENT),)),
        Route(
            "*",
            forward_auth.FORWARD_AUTH_PATH,
            forward_auth.forward_auth,
            Access.FORWARD_AUTH,
            responses=(
                Reply(200, "Allowed; no body.", headers=("RemoteUser", "RemoteRole")),
                VIEWER_READ_ONLY,
                OUTSIDE_KEY_PATHS,
                PATH_REFUSED,
            ),
        ),
        Route(
            "POST",
            session.LOGIN_API_PATH,
            session.login,
            Access.PUBLIC,
            body=session.LOGIN_SCHEMA,
            example={"username": "alice", "password": EXAMPLE_PASSWORD},
            responses=(
                Reply(200, "Logged in.", LOGIN_RESULT, headers=("SetSessionCookie",)),
                INVALID_LOGIN,
                RATE_LIMITED,
                BUSY,
            ),
        ),
        Route(
            "POST",
            "/api/logout",
            session.logout,
            Access.PUBLIC,
            responses=(
                Reply(
                    200, "Logged out (also without a session).", SUCCESS, ("ClearSessionCookie",)
                ),
                BAD_CREDENTIAL,
            ),
        ),
        Route("GET", "/api/profile", session.profile, Access.IDENTITY, responses=(ok(PROFILE),)),
        Route(
            "PUT",
            "/api/auth/password",
            session.change_password,
            Access.SESSION,
            body=session.PASSWORD_SCHEMA,
            example={"old_password": EXAMPLE_PASSWORD, "password": EXAMPLE_NEW_PASSWORD},
            responses=(
                Reply(200, "Changed; a new session.", LOGIN_RESULT, ("SetSessionCookie",)),
                *WEAK_PASSWORD,
                WRONG_PASSWORD,
                RATE_LIMITED,
                BUSY,
            ),
        ),
        Route("GET", "/api/users", users.list_users, Access.ADMIN, responses=(ok([USER]),)),
        Route(
            "POST",
            "/api/users",
            users.create_user,
            Access.ADMIN,
            body=users.CREATE_SCHEMA,
            example={"username": "alice", "password": EXAMPLE_PASSWORD, "role": "viewer"},
            responses=(Reply(201, "Created.", USER), *WEAK_PASSWORD, USER_EXISTS, BUSY),
        ),
        Route(
            "DELETE",
            "/api/users/{name}",
            users.delete_user,
            Access.ADMIN,
            responses=(done, USER_NOT_FOUND, LAST_ADMIN),
        ),
        Route(
            "PUT",
            "/api/users/{name}/password",
            users.set_password,
            Access.ADMIN,
            body=users.PASSWORD_SCHEMA,
            example={"password": EXAMPLE_PASSWORD},
            responses=(done, *WEAK_PASSWORD, USER_NOT_FOUND, BUSY),
        ),
        Route(
            "PUT",
            "/api/users/{name}/role",
            users.set_role,
            Access.ADMIN,
            body=users.ROLE_SCHEMA,
            example={"role": "admin"},
            responses=(done, USER_NOT_FOUND, LAST_ADMIN),
        ),
        Route(
            "POST",
            "/api/users/{name}/reset_password",
            users.reset_password,
            Access.ADMIN,
            body=users.RESET_SCHEMA,
            example={},
            responses=(ok(PASSWORD_RESET_RESULT), *WEAK_PASSWORD, USER_NOT_FOUND, BUSY),
        ),
        Route(
            "POST",
            "/api/users/{name}/revoke_sessions",
            users.revoke_sessions,
            Access.ADMIN,
            responses=(ok(REVOKE_SESSIONS_RESULT), USER_NOT_FOUND),
        ),
        Route("GET", "/api/keys", api_keys.list_keys, Access.ADMIN, responses=(ok([API_KEY]),)),
        Route(
            "POST",
            "/api/keys",
            api_keys.create_key,
            Access.ADMIN,
            body=api_keys.CREATE_SCHEMA,
            example={"name": "nvr", "role": "viewer", "paths": ["/triggers"]},
            responses=(Reply(201, "Created; the key is shown once.", NEW_API_KEY), API_KEY_EXISTS),
        ),
        Route(
            "DELETE",
            "/api/keys/{key_id}",
            api_keys.revoke_key,
            Access.ADMIN,
            responses=(done, API_KEY_NOT_FOUND),
        ),
        Route(
            "GET",
            "/api/events",
            events.list_events,
            Access.ADMIN,
            query=events.QUERY_SCHEMA,
            responses=(ok([AUDIT_EVENT]), INVALID_QUERY),
        ),
        Route("GET", "/api/stats", stats.stats, Access.ADMIN, responses=(ok(STATS),)),
        Route("GET", "/api/warnings", stats.warnings, Access.ADMIN, responses=(ok(WARNINGS),)),
        Route(
            "GET",
            "/api/ws",
            ws.websocket,
            Access.ADMIN,
            responses=(
                Reply(101, "Switching protocols: the stream starts.", STREAM_MESSAGE),
                BAD_HANDSHAKE,
                CROSS_SITE,
            ),
        ),
        Route(
            "GET", "/api/lockouts", lockouts.list_lockouts, Access.ADMIN, responses=(ok([LOCKOUT]),)
        ),
        Route(
            "DELETE",
            "/api/lockouts",
            lockouts.lift_all,
            Access.ADMIN,
            responses=(ok(LIFT_ALL_RESULT),),
        ),
        Route(
            "DELETE",
            "/api/lockouts/{lockout_id}",
            lockouts.lift_lockout,
            Access.ADMIN,
            responses=(done, LOCKOUT_NOT_FOUND),
        ),
        Route("GET", "/", pages.root, Access.PUBLIC),
        Route("GET", "/login", pages.login, Access.PUBLIC),
        Route("GET", STATIC_PREFIX + "{name}", pages.asset, Access.PUBLIC),
    ]


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


class GatewayRunner(web.AppRunner):
    """Runs the gateway application with its front door (``middlewares.front_door``).

    Every camera request comes through forward-auth, so the server hands it to the gateway
    before aiohttp's routing and middleware machinery. Without this runner (a plain
    ``AppRunner``) the gateway middleware answers forward-auth the same way, only slower.
    """

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        gateway = self.app.get(GATEWAY)
        if gateway is not None and parser_rejects_control_characters():
            server.request_handler = front_door(gateway, server.request_handler)
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
    for route in route_table(Pages()):
        app.router.add_route(route.method, route.path, guarded(route))
    app.cleanup_ctx.append(_background)
    return app
