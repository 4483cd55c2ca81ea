"""Supervisor discovery, against a real HTTP server standing in for the Supervisor."""

from __future__ import annotations

import asyncio
import socket
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from camauth.supervisor.discovery import announce_until_done, start_discovery
from tests.service.conftest import Service

from .helpers import WAIT, call


@dataclass
class Supervisor:
    """Records every discovery POST; answers 500 to the first ``failures``, then 200."""

    server: TestServer
    failures: int = 2
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


@pytest.fixture
async def supervisor() -> AsyncIterator[Supervisor]:
    state: list[Supervisor] = []

    async def discovery(request: web.Request) -> web.Response:
        fake = state[0]
        fake.received.append((request.headers.get("Authorization", ""), await request.json()))
        if len(fake.received) <= fake.failures:
            return web.json_response({"result": "error"}, status=500)
        return web.json_response({"result": "ok", "data": {"uuid": "abc"}})

    app = web.Application()
    app.router.add_post("/discovery", discovery)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.append(Supervisor(server))
    yield state[0]
    await server.close()


async def test_announcing_retries_until_the_supervisor_accepts(supervisor: Supervisor) -> None:
    config = {"host": "camauth-host", "port": 8971, "api_key": "camauth_x"}
    await asyncio.wait_for(
        announce_until_done(supervisor.url, "tok", config, first_delay=0.01), WAIT
    )
    assert len(supervisor.received) == 3  # 500, 500, then 200: no more after success
    for authorization, body in supervisor.received:
        assert authorization == "Bearer tok"
        assert body == {"service": "camauth", "config": config}


async def announced(supervisor: Supervisor, service: Service, environ: dict[str, str]) -> Any:
    """Start discovery, wait (bounded) until its announcement is done; return the body."""
    task = await start_discovery(
        service.services, service.data_dir, service.server.port, environ=environ
    )
    assert task is not None
    await asyncio.wait_for(task, WAIT)
    authorization, body = supervisor.received[-1]
    assert authorization == "Bearer tok"
    return body


async def test_discovery_announces_one_admin_key_and_keeps_it_until_revoked(
    supervisor: Supervisor, service: Service
) -> None:
    supervisor.failures = 0
    environ = {"SUPERVISOR_TOKEN": "tok", "CAMAUTH_SUPERVISOR_URL": supervisor.url + "/"}
    body = await announced(supervisor, service, environ)
    assert set(body) == {"service", "config"}
    assert body["service"] == "camauth"
    assert set(body["config"]) == {"host", "port", "api_key", "instance_id", "ssl"}
    assert body["config"]["ssl"] is False
    assert body["config"]["host"] == socket.gethostname()
    assert body["config"]["port"] == service.server.port
    first = body["config"]["api_key"]
    headers = {"X-API-Key": first}
    profile = await call(service, "GET", "/api/profile", 200, headers=headers)
    assert profile == {**profile, "username": "homeassistant", "role": "admin"}
    stats = await call(service, "GET", "/api/stats", 200, headers=headers)
    assert body["config"]["instance_id"] == stats["instance_id"]
    kept = service.data_dir / ".homeassistant_key"
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    # A restart announces the same key: it is not a credential change.
    again = await announced(supervisor, service, environ)
    assert again["config"] == body["config"]

    # Revoked (or lost), it is replaced by a new one, announced on the next start.
    keys = await call(service, "GET", "/api/keys", 200, headers=headers)
    assert [(k["name"], k["role"]) for k in keys] == [("homeassistant", "admin")]
    await call(service, "DELETE", f"/api/keys/{keys[0]['id']}", 200, headers=headers)
    second = (await announced(supervisor, service, environ))["config"]["api_key"]
    assert second != first
    await call(service, "GET", "/api/users", 401, headers={"X-API-Key": first})
    await call(service, "GET", "/api/users", 200, headers={"X-API-Key": second})
    assert kept.read_text().strip() == second
    kept.unlink()
    third = (await announced(supervisor, service, environ))["config"]["api_key"]
    await call(service, "GET", "/api/users", 401, headers={"X-API-Key": second})
    await call(service, "GET", "/api/users", 200, headers={"X-API-Key": third})
    assert len(supervisor.received) == 4

    events = await call(service, "GET", "/api/events", 200, headers={"X-API-Key": third})
    kinds = [e["type"] for e in reversed(events) if e["type"].startswith("api_key_")]
    assert kinds == [
        "api_key_created",
        "api_key_revoked",
        "api_key_created",
        "api_key_revoked",
        "api_key_created",
    ]


async def test_without_a_supervisor_token_nothing_happens(
    supervisor: Supervisor, service: Service
) -> None:
    for environ in (
        {},
        {"SUPERVISOR_TOKEN": ""},
        {"CAMAUTH_SUPERVISOR_URL": supervisor.url},
    ):
        assert (
            await start_discovery(service.services, service.data_dir, 8971, environ=environ) is None
        )
    assert await service.services.keys.list() == []
    assert supervisor.received == []
