"""Fixtures for the service: a real SQLite file, a real server on 127.0.0.1, real bcrypt."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from camauth.accounts import Accounts
from camauth.app import create_app
from camauth.options import AuthSettings, Settings
from camauth.passwords import PasswordHasher
from camauth.store import Database
from camauth.tokens import TokenCodec

SECRET = "s" * 64
# Real bcrypt at its lowest cost keeps the suite fast; test_passwords checks the default is 12.
TEST_ROUNDS = 4
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
    accounts: Accounts
    client: ClientSession
    data_dir: Path

    def url(self, path: str) -> str:
        """An absolute URL on the service."""
        return str(self.server.make_url(path))

    async def request(self, method: str, path: str, **kwargs: Any) -> ClientResponse:
        """Send a request with the shared cookie jar."""
        return await self.client.request(method, self.url(path), **kwargs)

    async def login(self, username: str, password: str) -> str:
        """Log in (the cookie lands in the jar) and return the token."""
        response = await self.request(
            "POST", "/api/login", json={"username": username, "password": password}
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


async def open_accounts(data_dir: Path, auth: AuthSettings, secret: str = SECRET) -> Accounts:
    """Accounts on a real database file in ``data_dir``."""
    db = Database(data_dir / "camauth.db")
    await db.open()
    accounts = Accounts(db, PasswordHasher(rounds=TEST_ROUNDS, workers=2), TokenCodec(secret), auth)
    await accounts.sync(force=True)
    return accounts


async def close_accounts(accounts: Accounts) -> None:
    """Release the database and hashing threads."""
    await accounts.db.close()
    accounts.hasher.close()


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
    ) -> Service:
        settings = settings or Settings()
        data_dir = data_dir or tmp_path
        accounts = await open_accounts(data_dir, settings.auth, secret)
        try:
            if seed and await accounts.get_user("admin") is None:
                await accounts.create_user("admin", ADMIN_PASSWORD, "admin")
                await accounts.create_user("viewer", VIEWER_PASSWORD, "viewer")
            server = TestServer(create_app(settings, accounts), host="127.0.0.1")
            await server.start_server()
        except BaseException:
            await close_accounts(accounts)
            raise
        client = ClientSession(cookie_jar=CookieJar(unsafe=True))
        service = Service(server, accounts, client, data_dir)
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
    await close_accounts(service.accounts)


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    """CamAuth with default options."""
    return await start_service()


def with_auth(**changes: Any) -> Settings:
    """Default settings with some ``auth`` options changed."""
    return replace(Settings(), auth=replace(AuthSettings(), **changes))
