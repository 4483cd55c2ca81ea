"""The running stack the scenarios share: CamAuth and a camera UI behind one real proxy."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from camauth.options import Settings
from tests.service.conftest import Service, ServiceFactory, with_auth

from .harness import Processes, wait_until_routed
from .peers import PEERS, Ports
from .upstream import Camera

SETTINGS: Settings = with_auth(
    trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    failed_login_rate_limit="5/minute;20/hour",
)
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Mode": "navigate"}
SCRIPT = {"Accept": "application/json", "Sec-Fetch-Mode": "cors"}
FAMILY = "127.0.0.4"


@dataclass
class Stack:
    """CamAuth and a camera UI behind one real proxy."""

    service: Service
    camera: Camera
    base: str
    peer: str

    def url(self, path: str) -> str:
        """An address on the proxy (the camera's host)."""
        return self.base + path

    def same_origin(self) -> dict[str, str]:
        """What a browser adds to a script's POST from a page on the camera's host."""
        return {"Origin": self.base, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}


@pytest.fixture(params=sorted(PEERS))
async def stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_service: ServiceFactory,
    camera: Camera,
    run_process: Processes,
) -> Stack:
    """CamAuth, a camera, and one proxy in front of both, on the proxy's documented recipe."""
    service = await start_service(SETTINGS)
    assert service.server.port is not None
    ports = Ports(camauth=service.server.port, camera=camera.port)
    base = await PEERS[request.param](tmp_path, run_process, ports)
    await wait_until_routed(base + "/camauth/api/health")
    return Stack(service, camera, base, request.param)


async def sign_in(client: ClientSession, stack: Stack, username: str, password: str) -> str:
    """Log in through the proxy, on the camera's host; returns the session token."""
    response = await client.post(
        stack.url("/camauth/api/login"),
        json={"username": username, "password": password},
        headers=stack.same_origin(),
    )
    body: dict[str, Any] = await response.json()
    assert response.status == 200, body
    return str(body["token"])


async def status_of(client: ClientSession, method: str, url: str, **kwargs: Any) -> int:
    """The status of one request (the body read, so the connection is done with)."""
    async with client.request(method, url, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response.status
