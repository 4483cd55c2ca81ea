"""Signing in with a Home Assistant account, checked by a stand-in for the Supervisor.

The stand-in is a real HTTP server on 127.0.0.1 speaking the Supervisor's documented auth
contract: ``POST /auth`` with the add-on's bearer token and a JSON body of ``username`` and
``password``; 200 when right, 401 when wrong.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from camauth.core.audit import EventQuery
from camauth.supervisor.auth import HomeAssistantAuth

from .conftest import ADMIN_PASSWORD, Service, ServiceFactory, with_auth

TOKEN = "supervisor-token-of-the-add-on"
ACCOUNTS = {"paulus": "home assistant password 1", "kid": "home assistant password 2"}


class Supervisor:
    """The Supervisor's /auth, and what it was asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.broken = False

    async def auth(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"result": "error"}, status=401)
        body = await request.json()
        self.asked.append(body)
        if self.broken:
            return web.json_response({"result": "error"}, status=500)
        if ACCOUNTS.get(body.get("username")) == body.get("password"):
            return web.json_response({"result": "ok", "data": {}})
        return web.json_response({"result": "error", "message": "Invalid"}, status=401)


@pytest.fixture
async def supervisor() -> AsyncIterator[tuple[Supervisor, str]]:
    stand_in = Supervisor()
    app = web.Application()
    app.router.add_post("/auth", stand_in.auth)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield stand_in, str(server.make_url("/")).rstrip("/")
    await server.close()


async def start(start_service: ServiceFactory, url: str, **auth: Any) -> Service:
    checker = HomeAssistantAuth(url, TOKEN)
    settings = with_auth(
        homeassistant_admins=("paulus",), failed_login_rate_limit="100/minute", **auth
    )
    return await start_service(settings, home_assistant=checker.check)


async def login(service: Service, username: str, password: str, **extra: Any) -> tuple[int, Any]:
    client = await service.fresh_client()
    body = {"username": username, "password": password, "source": "homeassistant", **extra}
    async with client.post(service.url("/api/login"), json=body) as response:
        return response.status, await response.json()


async def test_a_home_assistant_account_signs_in_with_its_role(
    start_service: ServiceFactory, supervisor: tuple[Supervisor, str]
) -> None:
    stand_in, url = supervisor
    service = await start(start_service, url)
    status, body = await login(service, "paulus", ACCOUNTS["paulus"])
    assert (status, body["username"], body["role"]) == (200, "paulus", "admin")
    status, body = await login(service, "kid", ACCOUNTS["kid"])
    assert (status, body["role"]) == (200, "viewer")
    assert stand_in.asked == [
        {"username": "paulus", "password": ACCOUNTS["paulus"]},
        {"username": "kid", "password": ACCOUNTS["kid"]},
    ]
    users = {user.username: user for user in await service.services.users.list()}
    assert (users["paulus"].source, users["kid"].source) == ("homeassistant", "homeassistant")
    # The account's password is Home Assistant's: no local login with anything.
    client = await service.fresh_client()
    local = await client.post(
        service.url("/api/login"), json={"username": "kid", "password": ACCOUNTS["kid"]}
    )
    assert local.status == 401


async def test_wrong_passwords_are_limited_and_locked_out_like_local_ones(
    start_service: ServiceFactory, supervisor: tuple[Supervisor, str]
) -> None:
    stand_in, url = supervisor
    service = await start(start_service, url)
    statuses = [(await login(service, "paulus", "wrong"))[0] for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert len(stand_in.asked) == 10  # locked out: Home Assistant is no longer asked
    assert (await login(service, "paulus", ACCOUNTS["paulus"]))[0] == 429
    kinds = [event.type for event in await service.services.audit.query(_query())]
    assert kinds.count("login_failed") == 10
    assert "lockout_started" in kinds


async def test_a_local_users_name_cannot_be_taken_by_home_assistant(
    start_service: ServiceFactory, supervisor: tuple[Supervisor, str]
) -> None:
    _, url = supervisor
    service = await start(start_service, url)
    await service.services.users.create("kid", "tangerine comet bridge 9", "viewer")
    assert (await login(service, "kid", ACCOUNTS["kid"]))[0] == 401
    assert (await service.services.users.get("kid")).source == "local"  # type: ignore[union-attr]


async def test_an_unreachable_supervisor_is_a_503_and_no_failure(
    start_service: ServiceFactory, supervisor: tuple[Supervisor, str]
) -> None:
    stand_in, url = supervisor
    stand_in.broken = True
    service = await start(start_service, url)
    status, body = await login(service, "paulus", ACCOUNTS["paulus"])
    assert (status, body["code"]) == (503, "homeassistant_unavailable")
    kinds = [event.type for event in await service.services.audit.query(_query())]
    assert "login_failed" not in kinds


async def test_outside_the_add_on_or_switched_off_there_is_no_such_login(
    start_service: ServiceFactory, supervisor: tuple[Supervisor, str]
) -> None:
    _, url = supervisor
    plain = await start_service()
    status, body = await login(plain, "paulus", ACCOUNTS["paulus"])
    assert (status, body["code"]) == (400, "no_homeassistant")
    off = await start(start_service, url, homeassistant_login=False)
    status, body = await login(off, "paulus", ACCOUNTS["paulus"])
    assert (status, body["code"]) == (400, "no_homeassistant")
    client = await off.fresh_client()
    info = await (await client.get(off.url("/api/auth/status"))).json()
    assert info["homeassistant_login"] is False


async def test_the_login_page_learns_that_home_assistant_accounts_work(
    start_service: ServiceFactory, supervisor: tuple[Supervisor, str]
) -> None:
    _, url = supervisor
    service = await start(start_service, url)
    client = await service.fresh_client()
    info = await (await client.get(service.url("/api/auth/status"))).json()
    assert info["homeassistant_login"] is True
    assert (await login(service, "admin", ADMIN_PASSWORD, source="local"))[0] == 200


def _query() -> EventQuery:
    return EventQuery(limit=500)
