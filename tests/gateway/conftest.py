"""CamAuth's built-in proxy in front of a real camera-like server, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from camauth.core.upstreams import split_url
from camauth.options import Settings, parse_options
from tests.service.conftest import (  # noqa: F401 - fixtures used by the tests here
    Service,
    ServiceFactory,
    free_port,
    start_service,
)

from .camera import camera_app
from .frigate import frigate_app

GatewayFactory = Callable[..., Awaitable[Service]]
FrigateFactory = Callable[[dict[str, Any]], Awaitable[TestServer]]


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Real servers on loopback."""


@pytest.fixture(autouse=True)
def _handlers_as_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handlers run as under ``camauth serve``: not cancelled when their client goes away.

    aiohttp's TestServer cancels them (``handler_cancellation=True``); ``camauth serve`` uses
    aiohttp's default (False), so a WebSocket bridge finishes relaying the browser's close.
    """
    make_runner = TestServer._make_runner

    async def as_served(self: TestServer, **kwargs: Any) -> web.BaseRunner:
        return await make_runner(self, **{**kwargs, "handler_cancellation": False})

    monkeypatch.setattr(TestServer, "_make_runner", as_served)


@pytest.fixture
async def camera(tmp_path: Path) -> AsyncIterator[TestServer]:
    """The camera UI CamAuth protects."""
    server = TestServer(camera_app(tmp_path), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def start_frigate() -> AsyncIterator[FrigateFactory]:
    """Start Frigate stand-ins (``tests.gateway.frigate``) with a given configuration."""
    started: list[TestServer] = []

    async def start(config: dict[str, Any]) -> TestServer:
        server = TestServer(frigate_app(config), host="127.0.0.1")
        await server.start_server()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()


def served_at(upstreams: list[dict[str, Any]], server: TestServer) -> list[dict[str, Any]]:
    """Upstream options as given, but each ``url`` at ``server`` (keeping its base path)."""
    moved = []
    for upstream in upstreams:
        _, base = split_url(upstream["url"])
        moved.append({**upstream, "url": camera_url(server) + base})
    return moved


def camera_url(camera: TestServer) -> str:
    """The camera UI's address, as an upstream option names it."""
    return f"http://127.0.0.1:{camera.port}"


def camera_options(camera: TestServer, **options: Any) -> dict[str, Any]:
    """Options with the camera UI as the one upstream, at ``/``."""
    return {"upstreams": [{"name": "camera", "url": camera_url(camera)}], **options}


def port_of(service: Service) -> int:
    """The port a started gateway listens on."""
    assert service.server.port is not None
    return service.server.port


def gateway_settings(upstreams: list[dict[str, Any]], **options: Any) -> Settings:
    """Settings parsed from options, as the add-on's options.json would give them."""
    return parse_options({"upstreams": upstreams, **options})


@pytest.fixture
async def start_gateway(
    start_service: ServiceFactory,  # noqa: F811 - the fixture imported above
    camera: TestServer,
) -> GatewayFactory:
    """CamAuth serving the camera UI: at ``/`` unless other upstream options are given."""

    async def start(*upstreams: dict[str, Any], **options: Any) -> Service:
        chosen = list(upstreams) or [{"name": "camera", "url": camera_url(camera)}]
        return await start_service(gateway_settings(chosen, **options))

    return start


@pytest.fixture
async def gateway(start_gateway: GatewayFactory) -> Service:
    """CamAuth serving the camera UI at ``/``."""
    return await start_gateway()


def settings_with(settings: Settings, **changes: Any) -> Settings:
    """Settings with some top-level fields changed."""
    return replace(settings, **changes)
