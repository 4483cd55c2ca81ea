"""Fixtures for the integration: Home Assistant (pytest-homeassistant-custom-component) and a
real CamAuth on 127.0.0.1.

``start_camauth`` is the one place that builds the service from its parts; keep it small, so
it follows the service's refactoring easily.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.update_coordinator import REQUEST_REFRESH_DEFAULT_COOLDOWN
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from camauth.core.passwords import PasswordHasher
from camauth.core.services import Services, open_services
from camauth.http.app import create_app
from camauth.options import AuthSettings, Settings
from custom_components.camauth.const import DOMAIN, EVENT_CAMAUTH
from custom_components.camauth.coordinator import CamAuthCoordinator

SECRET = "s" * 64
TEST_ROUNDS = 4  # real bcrypt at its lowest cost
ADMIN_PASSWORD = "copper meadow falcon 3"
VIEWER_PASSWORD = "quiet harbor lantern 7"
# Three failures a minute lock a client (or a username) out; no one-per-second throttle, so
# a test can fail three times in a row without waiting.
LOCKOUT_LIMITS = {
    "failed_login_rate_limit": "3/minute",
    "failed_login_user_rate_limit": "3/hour",
}


@pytest.fixture(autouse=True)
def _integration_tests(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Load custom_components/camauth; talk to CamAuth over real loopback sockets."""


@dataclass
class CamAuth:
    """A running CamAuth, an admin API key for Home Assistant, and a client to drive it."""

    server: TestServer
    services: Services
    api_key: str
    http: ClientSession
    extra: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The base URL Home Assistant is given."""
        return str(self.server.make_url("")).rstrip("/")

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """One request with the admin key: status and JSON body."""
        headers = {"X-API-Key": self.api_key, **kwargs.pop("headers", {})}
        async with self.http.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            return response.status, await response.json(content_type=None)

    async def login(self, username: str, password: str) -> int:
        """Try to log in like a browser would; the status."""
        async with self.http.post(
            self.url + "/api/login", json={"username": username, "password": password}
        ) as response:
            return response.status

    async def stats(self) -> dict[str, Any]:
        """The current ``/api/stats``."""
        status, body = await self.call("GET", "/api/stats")
        assert status == 200, body
        return dict(body)

    async def new_key(self, name: str, role: str = "admin") -> str:
        """Another API key."""
        status, body = await self.call("POST", "/api/keys", json={"name": name, "role": role})
        assert status == 201, body
        return str(body["key"])

    async def revoke_key(self, name: str) -> None:
        """Revoke an API key by name."""
        _, keys = await self.call("GET", "/api/keys")
        [key_id] = [key["id"] for key in keys if key["name"] == name]
        status, body = await self.call("DELETE", f"/api/keys/{key_id}")
        assert status == 200, body

    async def key_names(self) -> list[str]:
        """The names of every API key."""
        _, keys = await self.call("GET", "/api/keys")
        return [str(key["name"]) for key in keys]

    async def user(self, method: str, path: str = "", **body: Any) -> None:
        """Manage users through the API: ``user("POST", username=..., ...)``."""
        status, answer = await self.call(method, f"/api/users{path}", json=body or None)
        assert status in (200, 201), answer

    async def instance_id(self) -> str:
        """CamAuth's instance id (the config entry's unique id)."""
        return str((await self.stats())["instance_id"])


CamAuthFactory = Callable[..., Awaitable[CamAuth]]


@pytest.fixture
async def start_camauth(tmp_path: Path) -> AsyncIterator[CamAuthFactory]:
    """Start CamAuth on 127.0.0.1: users ``admin`` and ``viewer``, and an admin API key."""
    started: list[CamAuth] = []

    async def start(
        *, data_dir: Path | None = None, port: int | None = None, **auth: Any
    ) -> CamAuth:
        settings = replace(Settings(), auth=replace(AuthSettings(), **auth))
        data_dir = data_dir or tmp_path / f"camauth{len(started)}"
        data_dir.mkdir(exist_ok=True)
        hasher = PasswordHasher(rounds=TEST_ROUNDS, workers=2)
        services = await open_services(data_dir, settings.auth, SECRET, hasher=hasher)
        try:
            if await services.users.get("admin") is None:
                await services.users.create("admin", ADMIN_PASSWORD, "admin")
                await services.users.create("viewer", VIEWER_PASSWORD, "viewer")
            key = await services.keys.create(f"homeassistant{len(started)}", "admin", ())
            app = create_app(settings, services)
            server = TestServer(app, host="127.0.0.1", port=port)
            await server.start_server()
        except BaseException:
            await services.close()
            raise
        camauth = CamAuth(server, services, key.secret, ClientSession())
        started.append(camauth)
        return camauth

    yield start
    for camauth in started:
        await stop_camauth(camauth)


async def stop_camauth(camauth: CamAuth) -> None:
    """Stop a CamAuth from ``start_camauth`` (safe to call twice)."""
    if camauth.http.closed:
        return
    await camauth.http.close()
    await camauth.server.close()
    await camauth.services.close()


@pytest.fixture
async def camauth(start_camauth: CamAuthFactory) -> CamAuth:
    """CamAuth with a lockout after three failed logins."""
    return await start_camauth(**LOCKOUT_LIMITS)


def entry_for(camauth: CamAuth, instance_id: str, **data: Any) -> MockConfigEntry:
    """A config entry as the flows create it, for this CamAuth."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="CamAuth",
        unique_id=instance_id,
        data={CONF_URL: camauth.url, CONF_API_KEY: camauth.api_key, CONF_VERIFY_SSL: True} | data,
    )


async def until(
    hass: HomeAssistant, condition: Callable[[], bool], timeout: float = 20, *, block: bool = True
) -> None:
    """Let Home Assistant and CamAuth run until ``condition`` holds (events cross sockets).

    ``block=False`` while an automation waits for something: Home Assistant's "block till
    done" would wait for that automation too.
    """
    async with asyncio.timeout(timeout):
        while True:
            if block:
                await hass.async_block_till_done()
            if condition():
                return
            await asyncio.sleep(0.01)


def coordinator_of(entry: MockConfigEntry) -> CamAuthCoordinator:
    """The entry's coordinator."""
    coordinator: CamAuthCoordinator = entry.runtime_data.coordinator
    return coordinator


@pytest.fixture
async def setup_entry(hass: HomeAssistant) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """Set up entries and wait for their event streams; unload them all afterwards."""
    entries: list[MockConfigEntry] = []

    async def setup(entry: MockConfigEntry, *, stream: bool = True) -> None:
        if entry not in entries:
            entries.append(entry)
        if hass.config_entries.async_get_entry(entry.entry_id) is None:
            entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        if stream and entry.state is ConfigEntryState.LOADED:
            await until(hass, lambda: coordinator_of(entry).connected)

    yield setup
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, camauth: CamAuth, setup_entry: Callable[..., Awaitable[None]]
) -> MockConfigEntry:
    """CamAuth set up in Home Assistant, its event stream connected."""
    entry = entry_for(camauth, await camauth.instance_id())
    await setup_entry(entry)
    return entry


def free_port() -> int:
    """A port nothing listens on right now: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def start_web() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """Serve a small aiohttp application on 127.0.0.1 (something that is not a CamAuth)."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


async def settle(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    """Let the debounced refresh that follows a burst of events run, then wait for a state."""
    later = dt_util.utcnow() + timedelta(seconds=REQUEST_REFRESH_DEFAULT_COOLDOWN + 1)
    async_fire_time_changed(hass, later)
    await until(hass, condition)


@pytest.fixture
def bus_events(hass: HomeAssistant) -> list[Event]:
    """Every ``camauth_event`` fired during the test."""
    return async_capture_events(hass, EVENT_CAMAUTH)
