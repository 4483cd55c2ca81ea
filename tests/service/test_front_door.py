"""Forward-auth has two ways in, the server's front door and the gateway middleware: one answer."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

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
