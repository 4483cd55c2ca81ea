"""Events, statistics, the live stream, API keys and discovery, as a program would use them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientSession, WSMsgType, web
from aiohttp.test_utils import TestServer

from camauth.api.app_keys import WEBSOCKETS
from camauth.api.ws import QUEUE_SIZE
from camauth.discovery import announce_until_done, start_discovery
from tests.service.conftest import ADMIN_PASSWORD, Service, ServiceFactory, with_auth


async def admin_key(service: Service) -> str:
    """A fresh admin API key, created through the API."""
    token = await service.login("admin", ADMIN_PASSWORD)
    response = await service.request(
        "POST",
        "/api/keys",
        json={"name": "ha", "role": "admin"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 201
    return str((await response.json())["key"])


async def next_event(ws: Any) -> dict[str, Any]:
    while True:
        message = await ws.receive_json(timeout=5)
        if message["type"] == "event":
            return dict(message["event"])


async def test_storm_gives_failures_then_exactly_one_lockout(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    key = await admin_key(service)
    headers = {"X-API-Key": key}
    async with ClientSession() as watcher, ClientSession() as attacker:
        ws = await watcher.ws_connect(service.url("/api/ws"), headers=headers)
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello"
        statuses = []
        for _ in range(10):
            response = await attacker.post(
                service.url("/api/login"),
                json={"username": "admin", "password": "wrong guess here"},
            )
            statuses.append(response.status)
        assert statuses == [401] * 5 + [429] * 5
        seen = [(await next_event(ws))["type"] for _ in range(6)]
        assert seen == ["login_failed"] * 5 + ["lockout_started"]
        stats = await (await watcher.get(service.url("/api/stats"), headers=headers)).json()
        events = await (
            await watcher.get(service.url("/api/events?limit=500"), headers=headers)
        ).json()
        failed = [e for e in events if e["type"] == "login_failed"]
        assert stats["failed_logins_last_hour"] == len(failed) == 5
        assert stats["failed_logins_total"] == 5
        assert [lock["key"] for lock in stats["lockouts"]] == ["127.0.0.1"]
        assert [e["type"] for e in events].count("lockout_started") == 1
        latest_login = next(e for e in events if e["type"] == "login_succeeded")
        assert stats["last_login"]["timestamp"] == latest_login["timestamp"]
        requested = [e for e in events if e["type"] != "user_created"]  # seeded without a client
        assert all(e["client"] == "127.0.0.1" for e in requested)
        assert key not in json.dumps(events)
        assert "wrong guess here" not in json.dumps(events)
        await ws.close()


async def test_a_revoked_key_fails_on_its_next_request(service: Service) -> None:
    key = await admin_key(service)
    headers = {"X-API-Key": key}
    keys = await (await service.request("GET", "/api/keys", headers=headers)).json()
    assert "key" not in keys[0]
    assert key not in json.dumps(keys)
    response = await service.request("DELETE", f"/api/keys/{keys[0]['id']}", headers=headers)
    assert response.status == 200
    assert (await service.request("GET", "/api/profile", headers=headers)).status == 401
    assert (await service.request("GET", "/api/auth", headers=headers)).status == 401


async def test_bad_event_queries_are_400(service: Service) -> None:
    headers = {"X-API-Key": await admin_key(service)}
    for query in (
        "limit=0",
        "limit=501",
        "limit=abc",
        "type=nope",
        "since=abc",
        "since=-1",
        "before=x",
        "bogus=1",
        "type=logout&type=logout",
    ):
        response = await service.request("GET", f"/api/events?{query}", headers=headers)
        assert response.status == 400, query
        assert "error" in await response.json()


async def raw_websocket(service: Service, key: str) -> asyncio.StreamWriter:
    """A WebSocket handshake over a bare socket that will never read another byte."""
    reader, writer = await asyncio.open_connection("127.0.0.1", service.server.port)
    writer.write(
        (
            "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-API-Key: {key}\r\n\r\n"
        ).encode()
    )
    assert (await reader.readline()).startswith(b"HTTP/1.1 101")
    return writer


async def test_fifty_readers_get_everything_beside_a_client_that_never_reads(
    service: Service,
) -> None:
    key = await admin_key(service)
    headers = {"X-API-Key": key}
    async with ClientSession() as session:
        readers = [
            await session.ws_connect(service.url("/api/ws"), headers=headers) for _ in range(50)
        ]
        stuck = await raw_websocket(service, key)
        for ws in readers:
            assert (await ws.receive_json(timeout=5))["type"] == "hello"
        total = 200
        counts = [0] * len(readers)

        async def read_all(index: int) -> None:
            while counts[index] < total:
                message = await readers[index].receive(timeout=10)
                assert message.type == WSMsgType.TEXT
                counts[index] += 1

        reading = asyncio.gather(*(read_all(i) for i in range(len(readers))))
        for n in range(total):
            service.accounts.bus.emit("logout", username=f"user{n}", client="127.0.0.1")
            if n % 20 == 0:
                await asyncio.sleep(0)  # let the senders run, as a real event flow does
        await asyncio.wait_for(reading, 30)
        assert counts == [total] * len(readers)
        for ws in readers:
            await ws.close()
        stuck.close()


async def test_a_client_that_falls_a_queue_behind_is_dropped(service: Service) -> None:
    key = await admin_key(service)
    stuck = await raw_websocket(service, key)
    streams = service.server.app[WEBSOCKETS]
    for _ in range(100):
        if len(streams) == 1:
            break
        await asyncio.sleep(0.02)
    assert len(streams) == 1
    # Emitted without yielding, so no sender can drain: the queue overflows at QUEUE_SIZE.
    for n in range(QUEUE_SIZE + 1):
        service.accounts.bus.emit("logout", username=f"user{n}", client="127.0.0.1")
    for _ in range(100):
        if not streams:
            break
        await asyncio.sleep(0.02)
    assert len(streams) == 0
    stuck.close()


async def test_discovery_announces_a_working_key_and_retries(service: Service) -> None:
    received: list[tuple[str, dict[str, Any]]] = []

    async def discovery(request: web.Request) -> web.Response:
        received.append((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({}, status=500 if len(received) < 3 else 200)

    app = web.Application()
    app.router.add_post("/discovery", discovery)
    supervisor = TestServer(app, host="127.0.0.1")
    await supervisor.start_server()
    url = str(supervisor.make_url("")).rstrip("/")
    await announce_until_done(url, "tok", {"host": "h", "port": 1}, first_delay=0.01)
    assert len(received) == 3
    received.clear()
    environ = {"SUPERVISOR_TOKEN": "tok", "CAMAUTH_SUPERVISOR_URL": url}
    task = await start_discovery(service.accounts, 8971, environ=environ)
    assert task is not None
    await asyncio.wait_for(task, 30)
    authorization, body = received[-1]
    assert authorization == "Bearer tok"
    assert body["service"] == "camauth"
    assert body["config"]["port"] == 8971
    first_key = body["config"]["api_key"]
    assert (
        await service.request("GET", "/api/users", headers={"X-API-Key": first_key})
    ).status == 200
    task = await start_discovery(service.accounts, 8971, environ=environ)
    assert task is not None
    await asyncio.wait_for(task, 30)
    second_key = received[-1][1]["config"]["api_key"]
    assert second_key != first_key
    assert (
        await service.request("GET", "/api/users", headers={"X-API-Key": first_key})
    ).status == 401
    assert (
        await service.request("GET", "/api/users", headers={"X-API-Key": second_key})
    ).status == 200
    assert await start_discovery(service.accounts, 8971, environ={}) is None
    await supervisor.close()
