"""Fixtures for the service: a real SQLite file, a real server on 127.0.0.1, real bcrypt."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from camauth.core.logins import HomeAssistantCheck
from camauth.core.passwords import PasswordHasher, verify_password
from camauth.core.services import Services
from camauth.http.app import GatewayRunner, create_app
from camauth.options import AuthSettings, Settings
from camauth.storage.users import User
from tests.helpers import open_test_services

SECRET = "s" * 64
ADMIN_PASSWORD = "copper meadow falcon 3"
VIEWER_PASSWORD = "quiet harbor lantern 7"


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """The service is tested over real loopback sockets."""


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A running CamAuth and a browser-like client for it."""

    server: TestServer
    services: Services
    client: ClientSession
    data_dir: Path

    def url(self, path: str) -> str:
        """An absolute URL on the service."""
        return str(self.server.make_url(path))

    async def request(self, method: str, path: str, **kwargs: Any) -> ClientResponse:
        """Send a request with the shared cookie jar."""
        return await self.client.request(method, self.url(path), **kwargs)

    async def login(self, username: str, password: str, path: str = "/api/login") -> str:
        """Log in (the cookie lands in the jar) and return the token."""
        response = await self.request(
            "POST", path, json={"username": username, "password": password}
        )
        body = await response.json()
        assert response.status == 200, body
        return str(body["token"])

    async def fresh_client(self) -> ClientSession:
        """Another client with its own cookie jar (closed with the service)."""
        client = ClientSession(cookie_jar=CookieJar(unsafe=True))
        self._extra.append(client)
        return client

    def __post_init__(self) -> None:
        self._extra: list[ClientSession] = []


ServiceFactory = Callable[..., Awaitable[Service]]


class GatewayTestServer(TestServer):
    """A test server run as ``camauth serve`` runs the app: with its front door, and without
    aiohttp's test-only cancellation of handlers whose client went away (a WebSocket bridge
    must finish sending its close)."""

    async def _make_runner(self, **kwargs: Any) -> GatewayRunner:
        kwargs.pop("handler_cancellation", None)
        return GatewayRunner(self.app, **kwargs)


async def checked_user(service: Service, username: str, password: str) -> User | None:
    """The stored user if ``password`` is theirs (read from the database), else None."""
    user = await service.services.users.get(username)
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user


@pytest.fixture
async def start_service(tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    """Start CamAuth with given settings; users ``admin`` and ``viewer`` exist."""
    started: list[Service] = []

    async def start(
        settings: Settings | None = None,
        *,
        data_dir: Path | None = None,
        seed: bool = True,
        secret: str = SECRET,
        hasher: PasswordHasher | None = None,
        home_assistant: HomeAssistantCheck | None = None,
    ) -> Service:
        settings = settings or Settings()
        data_dir = data_dir or tmp_path
        services = await open_test_services(
            data_dir, settings.auth, secret, hasher=hasher, home_assistant=home_assistant
        )
        try:
            if seed and await services.users.get("admin") is None:
                await services.users.create("admin", ADMIN_PASSWORD, "admin")
                await services.users.create("viewer", VIEWER_PASSWORD, "viewer")
            server = GatewayTestServer(create_app(settings, services), host="127.0.0.1")
            await server.start_server()
        except BaseException:
            await services.close()
            raise
        client = ClientSession(cookie_jar=CookieJar(unsafe=True))
        service = Service(server, services, client, data_dir)
        started.append(service)
        return service

    yield start
    for service in started:
        await stop_service(service)


async def stop_service(service: Service) -> None:
    """Stop a service started by ``start_service`` (safe to call twice)."""
    if service.client.closed:
        return
    await service.client.close()
    for client in service._extra:
        await client.close()
    await service.server.close()
    await service.services.close()


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    """CamAuth with default options."""
    return await start_service()


def with_auth(**changes: Any) -> Settings:
    """Default settings with some ``auth`` options changed."""
    return replace(Settings(), auth=replace(AuthSettings(), **changes))


def trusting_loopback(**changes: Any) -> Settings:
    """Default settings, with this test (on 127.0.0.1) trusted as the reverse proxy."""
    return with_auth(trusted_proxies=(ip_network("127.0.0.1/32"),), **changes)


@pytest.fixture
async def proxied(start_service: ServiceFactory) -> Service:
    """CamAuth behind a trusted reverse proxy (the test itself, on 127.0.0.1)."""
    return await start_service(trusting_loopback())
