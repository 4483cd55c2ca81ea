"""CamAuth behind a real Caddy (``forward_auth``), which connects from 127.0.0.1 (trusted)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.service.conftest import VIEWER_PASSWORD, Service, ServiceFactory, with_auth

from .conftest import (
    client_from,
    fill,
    free_port,
    guess_passwords,
    require_binary,
    start_peer,
    wait_for_port,
)

TEMPLATE = Path(__file__).with_name("Caddyfile.template")
SETTINGS = with_auth(
    trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
    failed_login_rate_limit="5/minute;20/hour",
)


@pytest.fixture
async def stack(
    tmp_path: Path,
    start_service: ServiceFactory,
    camera: TestServer,
    run_process: list[subprocess.Popen[bytes]],
) -> tuple[Service, str]:
    """CamAuth, a camera, and Caddy in front of both."""
    caddy = require_binary("caddy")
    service = await start_service(SETTINGS)
    port = free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(
        fill(
            TEMPLATE.read_text(),
            PORT=port,
            CAMAUTH_PORT=service.server.port,
            CAMERA_PORT=camera.port,
        )
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    start_peer(run_process, [caddy, "run", "--config", str(config), "--adapter", "caddyfile"], env)
    await wait_for_port("127.0.0.2", port)
    return service, f"http://127.0.0.2:{port}"


async def test_browser_is_redirected_to_login(stack: tuple[Service, str]) -> None:
    """Caddy passes forward-auth answers through, so CamAuth answers it with a 302."""
    _, base = stack
    async with client_from("127.0.0.4") as client:
        response = await client.get(
            f"{base}/cams/front", headers={"Accept": "text/html"}, allow_redirects=False
        )
        assert response.status == 302
        assert response.headers["Location"] == "/camauth/login?rd=%2Fcams%2Ffront"


async def test_viewer_reaches_camera_read_only(stack: tuple[Service, str]) -> None:
    _, base = stack
    async with client_from("127.0.0.4") as client:
        login = await client.post(
            f"{base}/api/login", json={"username": "viewer", "password": VIEWER_PASSWORD}
        )
        assert login.status == 200
        response = await client.get(f"{base}/cams/live", headers={"Remote-User": "admin"})
        assert response.status == 200
        seen = await response.json()
        assert (seen["Remote-User"], seen["Remote-Role"]) == ("viewer", "viewer")
        assert (await client.delete(f"{base}/cams/recordings/1")).status == 403


async def test_client_behind_caddy_is_the_one_locked_out(stack: tuple[Service, str]) -> None:
    service, base = stack
    statuses = await guess_passwords(base, "127.0.0.3", 6, spoof="198.51.100.")
    assert statuses == [401] * 5 + [429]
    assert {lockout.key for lockout in service.services.lockouts.lockouts()} == {"127.0.0.3"}
