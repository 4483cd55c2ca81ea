"""Helpers for the machine-interface tests: keys, JSON calls, the event stream, bounded waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import ClientSession, ClientWebSocketResponse

from tests.service.conftest import ADMIN_PASSWORD, Service

T = TypeVar("T")

KEY_RE = r"camauth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}"
WAIT = 10.0  # seconds: the bound of every wait; a healthy run needs a fraction of it


async def call(
    service: Service,
    method: str,
    path: str,
    status: int,
    *,
    session: ClientSession | None = None,
    **kwargs: Any,
) -> Any:
    """One request that must answer ``status``; returns the decoded JSON body (or None)."""
    client = session or service.client
    async with client.request(method, service.url(path), **kwargs) as response:
        text = await response.text()
        assert response.status == status, (method, path, response.status, text)
        return json.loads(text) if text else None


async def admin_token(service: Service) -> str:
    """A bearer token of the seeded admin, from a real login (without touching the cookie jar)."""
    async with ClientSession() as session:
        body = await call(
            service,
            "POST",
            "/api/login",
            200,
            session=session,
            json={"username": "admin", "password": ADMIN_PASSWORD},
        )
    return str(body["token"])


async def create_key(
    service: Service,
    name: str,
    role: str = "admin",
    paths: list[str] | None = None,
    *,
    auth: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Create an API key through ``POST /api/keys``; the answer carries the key once."""
    headers = auth or {"Authorization": f"Bearer {await admin_token(service)}"}
    body: dict[str, Any] = {"name": name, "role": role}
    if paths is not None:
        body["paths"] = paths
    created = await call(service, "POST", "/api/keys", 201, json=body, headers=headers)
    assert isinstance(created, dict)
    return created


async def admin_key(service: Service, name: str = "ha") -> str:
    """A fresh admin API key, created through the API."""
    return str((await create_key(service, name))["key"])


async def open_stream(
    session: ClientSession, service: Service, key: str
) -> ClientWebSocketResponse:
    """A connected ``/api/ws`` client past its hello message."""
    ws = await session.ws_connect(service.url("/api/ws"), headers={"X-API-Key": key})
    hello = await ws.receive_json(timeout=WAIT)
    assert hello["type"] == "hello", hello
    return ws


async def next_event(ws: ClientWebSocketResponse) -> dict[str, Any]:
    """The next event message of a stream (periodic stats messages are skipped)."""
    while True:
        message = await ws.receive_json(timeout=WAIT)
        if message["type"] == "event":
            return dict(message["event"])


async def events_until(ws: ClientWebSocketResponse, marker: str) -> list[dict[str, Any]]:
    """Every event of a stream up to (not including) the first of type ``marker``."""
    seen = []
    while (event := await next_event(ws))["type"] != marker:
        seen.append(event)
    return seen


async def last_event_id(service: Service, headers: dict[str, str]) -> int:
    """The id of the newest logged event (0 when the log is empty)."""
    newest = await call(service, "GET", "/api/events?limit=1", 200, headers=headers)
    return int(newest[0]["id"]) if newest else 0


async def logged_after(
    service: Service, headers: dict[str, str], after: int
) -> list[dict[str, Any]]:
    """Logged events with an id above ``after``, oldest first."""
    events = await call(service, "GET", "/api/events?limit=500", 200, headers=headers)
    return [event for event in reversed(events) if event["id"] > after]


async def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds pass; returns its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def poll_until(probe: Callable[[], Awaitable[T]], expected: T, timeout: float = WAIT) -> T:
    """Call ``probe`` until it returns ``expected`` or ``timeout`` seconds pass; its last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (value := await probe()) != expected and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return value


def assert_no_secret(text: str, secrets: list[str]) -> None:
    """No secret (nor the secret half of an API key) appears in ``text``."""
    for secret in secrets:
        assert secret not in text, f"secret leaked: {secret[:12]}..."
        if secret.startswith("camauth_"):
            assert secret.split("_", 2)[2] not in text, "API key secret leaked"
