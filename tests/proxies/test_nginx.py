"""CamAuth behind a real nginx (``auth_request``) at 127.0.0.2, listed in trusted_proxies.

Clients come from other loopback addresses: 127.0.0.3 is an attacker behind the proxy,
127.0.0.4 a family member behind it, 127.0.0.5 an attacker talking to CamAuth directly.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from camauth.options import Settings
from tests.service.conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    with_auth,
)

from .conftest import (
    client_from,
    fill,
    free_port,
    guess_passwords,
    require_binary,
    start_peer,
    wait_for_port,
)

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
PROXY = "127.0.0.2"
SETTINGS: Settings = with_auth(
    trusted_proxies=(ipaddress.ip_network(f"{PROXY}/32"),),
    failed_login_rate_limit="5/minute;20/hour",
)


@pytest.fixture
async def stack(
    tmp_path: Path,
    start_service: ServiceFactory,
    camera: TestServer,
    run_process: list[subprocess.Popen[bytes]],
) -> tuple[Service, str]:
    """CamAuth, a camera, and nginx in front of both; returns the service and nginx's URL."""
    nginx = require_binary("nginx")
    service = await start_service(SETTINGS)
    port = free_port()
    conf = fill(
        TEMPLATE.read_text(),
        TMP=tmp_path,
        PORT=port,
        CAMAUTH_PORT=service.server.port,
        CAMERA_PORT=camera.port,
    )
    (tmp_path / "nginx.conf").write_text(conf)
    start_peer(
        run_process, [nginx, "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf")]
    )
    await wait_for_port(PROXY, port)
    return service, f"http://{PROXY}:{port}"


async def _login(base: str, client_address: str, username: str, password: str) -> int:
    async with client_from(client_address) as client:
        response = await client.post(
            f"{base}/api/login", json={"username": username, "password": password}
        )
        return response.status


async def test_browser_is_sent_to_login_with_its_return_address(stack: tuple[Service, str]) -> None:
    _, base = stack
    async with client_from("127.0.0.4") as client:
        response = await client.get(
            f"{base}/cams/front?zoom=2", headers={"Accept": "text/html"}, allow_redirects=False
        )
        assert response.status == 302
        assert response.headers["Location"] == "/camauth/login?rd=%2Fcams%2Ffront%3Fzoom%3D2"
        api = await client.get(f"{base}/cams/api/events", headers={"Accept": "application/json"})
        assert api.status == 401


async def test_login_through_nginx_reaches_the_camera_as_that_user(
    stack: tuple[Service, str],
) -> None:
    _, base = stack
    async with client_from("127.0.0.4") as client:
        login = await client.post(
            f"{base}/api/login", json={"username": "viewer", "password": VIEWER_PASSWORD}
        )
        assert login.status == 200
        # A spoofed identity header is overwritten by nginx; the underscore spelling is dropped.
        spoofed = {"Remote-User": "admin", "Remote-Role": "admin", "Remote_User": "admin"}
        response = await client.get(f"{base}/cams/live", headers=spoofed)
        assert response.status == 200
        seen = await response.json()
        assert seen["Remote-User"] == "viewer"
        assert seen["Remote-Role"] == "viewer"
        assert seen["Remote_User"] is None
        # Viewers are read-only: nginx passes the method on, CamAuth answers 403.
        assert (await client.post(f"{base}/cams/config", data=b"{}")).status == 403


async def test_real_client_behind_trusted_proxy_is_the_one_locked_out(
    stack: tuple[Service, str],
) -> None:
    service, base = stack
    assert await guess_passwords(base, "127.0.0.3", 6) == [401] * 5 + [429]
    keys = {(lockout.kind, lockout.key) for lockout in service.services.lockouts.lockouts()}
    assert ("client", "127.0.0.3") in keys
    assert ("client", PROXY) not in keys
    # The family member behind the same proxy is not affected.
    assert await _login(base, "127.0.0.4", "admin", ADMIN_PASSWORD) == 200


async def test_spoofed_forwarded_for_does_not_escape_the_limit(stack: tuple[Service, str]) -> None:
    service, base = stack
    statuses = await guess_passwords(base, "127.0.0.3", 6, spoof="198.51.100.")
    assert statuses == [401] * 5 + [429]
    keys = {lockout.key for lockout in service.services.lockouts.lockouts()}
    assert "127.0.0.3" in keys
    assert not any(key.startswith("198.51.100.") for key in keys)


async def test_untrusted_peer_cannot_choose_its_address(stack: tuple[Service, str]) -> None:
    service, _ = stack
    direct = f"http://127.0.0.1:{service.server.port}"
    statuses = await guess_passwords(direct, "127.0.0.5", 6, spoof=f"{PROXY}, 198.51.100.")
    assert statuses == [401] * 5 + [429]
    keys = {lockout.key for lockout in service.services.lockouts.lockouts()}
    assert keys == {"127.0.0.5"}
