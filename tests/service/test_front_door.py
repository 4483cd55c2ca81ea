"""Forward-auth has two ways in, the server's front door and the gateway middleware: one answer."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from camauth.core.lockouts import Attempt
from camauth.http.app import create_app
from camauth.options import Settings

from .conftest import VIEWER_PASSWORD, Service, ServiceFactory

BROWSER = {"Accept": "text/html"}
COMPARED = (
    "Remote-User",
    "Remote-Role",
    "Location",
    "Content-Type",
    "X-Content-Type-Options",
    "Cache-Control",
    "Set-Cookie",
)


def requests(token: str) -> list[tuple[str, dict[str, Any]]]:
    cookie = {"Cookie": f"camauth_token={token}"}
    return [
        ("GET", {}),
        ("GET", BROWSER | {"X-Forwarded-Uri": "/cameras?x=1"}),
        ("GET", cookie),
        ("POST", cookie),
        ("GET", cookie | {"X-Forwarded-Method": "DELETE"}),
        ("GET", cookie | {"X-Forwarded-Uri": "/a/%2e%2e/api/users"}),
        ("GET", cookie | {"X-Forwarded-Uri": "/a%2fb"}),
        ("GET", cookie | {"X-Forwarded-Uri": ""}),
        ("GET", {"Authorization": f"Bearer {token}"}),
        ("GET", {"Authorization": "Bearer forged"}),
        ("GET", {"X-API-Key": "camauth_00000000_" + "x" * 43}),
        ("GET", {"Cookie": f"camauth_token={token}; camauth_token={token}"}),
    ]


async def answers(client: ClientSession, base: str, token: str) -> list[tuple[Any, ...]]:
    found = []
    for method, headers in requests(token):
        async with client.request(method, base + "/api/auth", headers=headers) as response:
            body = await response.read()
            shown = tuple(response.headers.get(name) for name in COMPARED)
            found.append((method, tuple(headers), response.status, shown, body))
    return found


async def test_the_served_app_answers_forward_auth_at_its_front_door(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    server = service.server.runner.server if service.server.runner else None
    assert server is not None
    assert server.request_handler.__qualname__ == "front_door.<locals>.handle"


async def test_the_front_door_and_the_middleware_answer_alike(
    start_service: ServiceFactory,
) -> None:
    service: Service = await start_service()
    token = await service.login("viewer", VIEWER_PASSWORD)
    plain = TestServer(create_app(Settings(), service.services), host="127.0.0.1")
    await plain.start_server()  # a plain AppRunner: forward-auth through the middleware
    try:
        async with ClientSession() as client:
            front = await answers(client, str(service.server.make_url("")), token)
            middleware = await answers(client, str(plain.make_url("")), token)
    finally:
        await plain.close()
    assert front == middleware
    assert {status for _, _, status, _, _ in front} == {200, 401, 403}


LOGIN_COMPARED = ("Content-Type", "X-Content-Type-Options", "Cache-Control", "Referrer-Policy")


def login_requests(base: str, token: str) -> list[dict[str, str]]:
    return [
        {},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example"},
        {"Origin": base},
        {"Origin": "null"},
        {"Origin": "http://[::1"},  # not even a URL
        {"Authorization": f"Bearer {token}", "Sec-Fetch-Site": "cross-site"},
        {"Cookie": f"camauth_token={token}"},
        {"Cookie": "camauth_device=v1.forged.forged.forged"},
    ]


async def login_answers(client: ClientSession, base: str, token: str) -> list[tuple[Any, ...]]:
    found = []
    body = {"username": "viewer", "password": "not the password"}
    for headers in login_requests(base, token):
        async with client.post(base + "/api/login", json=body, headers=headers) as response:
            shown = tuple(response.headers.get(name) for name in LOGIN_COMPARED)
            retry = response.headers.get("Retry-After")
            found.append((tuple(headers), response.status, shown, await response.read(), retry))
    async with client.get(base + "/api/login") as response:
        found.append(((), response.status, (), await response.read(), None))
    return found


async def test_a_login_over_the_limit_is_refused_alike_both_ways(
    start_service: ServiceFactory,
) -> None:
    service: Service = await start_service()
    token = await service.login("viewer", VIEWER_PASSWORD)
    now = time.time()
    for number in range(20):  # this client (127.0.0.1) is over its limit for a while
        attempt = Attempt("127.0.0.1", f"nobody-{number}", False, now)
        service.services.lockouts.failed(attempt, now)
    plain = TestServer(create_app(Settings(), service.services), host="127.0.0.1")
    await plain.start_server()
    try:
        async with ClientSession() as client:
            front_base = str(service.server.make_url("")).rstrip("/")
            plain_base = str(plain.make_url("")).rstrip("/")
            front = await login_answers(client, front_base, token)
            middleware = await login_answers(client, plain_base, token)
    finally:
        await plain.close()
    assert [answer[:4] for answer in front] == [answer[:4] for answer in middleware]
    for one, other in zip(front, middleware, strict=True):  # seconds pass between the two
        assert (one[4] is None) == (other[4] is None)
        if one[4] is not None and other[4] is not None:
            assert abs(int(one[4]) - int(other[4])) <= 1
    assert [answer[1] for answer in front] == [429, 403, 403, 429, 403, 403, 429, 429, 429, 405]
