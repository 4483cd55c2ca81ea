"""Every event type, caused through the API, appears once in the log and once on the stream."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import ClientSession

from tests.service.conftest import VIEWER_PASSWORD, ServiceFactory, with_auth

from .test_machine import admin_key, next_event

EXPECTED = [
    "login_succeeded",
    "login_failed",
    "user_created",
    "role_changed",
    "password_reset",
    "password_changed",
    "logout",
    "api_key_created",
    "api_key_revoked",
    "user_deleted",
    *["login_failed"] * 10,
    "lockout_started",
    "lockout_ended",
]


async def test_each_event_once_in_the_log_and_once_on_the_stream(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="100/minute"))
    key = await admin_key(service)
    admin = {"X-API-Key": key}
    async with ClientSession() as session:
        ws = await session.ws_connect(service.url("/api/ws"), headers=admin)
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        since = time.time()

        async def call(method: str, path: str, status: int, **kwargs: Any) -> Any:
            response = await session.request(method, service.url(path), **kwargs)
            assert response.status == status, (method, path, await response.text())
            return await response.json()

        viewer = {"username": "viewer", "password": VIEWER_PASSWORD}
        token = (await call("POST", "/api/login", 200, json=viewer))["token"]
        await call("POST", "/api/login", 401, json={**viewer, "password": "not it at all"})
        bob = {"username": "bob", "password": "walnut harbor signal 8"}
        await call("POST", "/api/users", 201, json=bob, headers=admin)
        await call("PUT", "/api/users/bob/role", 200, json={"role": "admin"}, headers=admin)
        new_bob = {"password": "cedar lantern voyage 6"}
        await call("PUT", "/api/users/bob/password", 200, json=new_bob, headers=admin)
        change = {"old_password": VIEWER_PASSWORD, "password": "violet canyon ember 2"}
        bearer = {"Authorization": f"Bearer {token}"}
        fresh = (await call("PUT", "/api/auth/password", 200, json=change, headers=bearer))["token"]
        await call("POST", "/api/logout", 200, headers={"Authorization": f"Bearer {fresh}"})
        temp = await call("POST", "/api/keys", 201, json={"name": "temp"}, headers=admin)
        await call("DELETE", f"/api/keys/{temp['id']}", 200, headers=admin)
        await call("DELETE", "/api/users/bob", 200, headers=admin)
        for _ in range(10):
            await call("POST", "/api/login", 401, json={"username": "ghost", "password": "nope"})
        await call("POST", "/api/login", 429, json={"username": "ghost", "password": "nope"})
        await call("DELETE", "/api/lockouts", 200, headers=admin)

        streamed = [await next_event(ws) for _ in EXPECTED]
        assert [event["type"] for event in streamed] == EXPECTED
        logged = await call("GET", f"/api/events?since={since}&limit=500", 200, headers=admin)
        assert [event["type"] for event in reversed(logged)] == EXPECTED
        for event in logged:
            assert event["client"] == "127.0.0.1" or event["type"] == "lockout_ended"
            assert isinstance(event["timestamp"], float)
        assert logged[-1]["username"] == "viewer"
        text = json.dumps(logged) + json.dumps(streamed)
        for secret in (
            key,
            token,
            fresh,
            temp["key"],
            VIEWER_PASSWORD,
            bob["password"],
            new_bob["password"],
            change["password"],
        ):
            assert secret not in text
        await ws.close()
