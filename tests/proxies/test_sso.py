"""Kanidm through oauth2-proxy, then CamAuth, behind a real nginx: seed 001 the CamAuth way.

nginx runs ``nginx-kanidm-oauth2-proxy.conf`` and CamAuth the options of
``camauth-kanidm.yaml``, both as DOCS.md shows them; oauth2-proxy is a stand-in that answers
as oauth2-proxy does (``oauth2_proxy.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession

from camauth.options import Settings, parse_options
from tests.service.conftest import ServiceFactory, free_port

from .harness import RECIPES, TIMEOUT, Processes, client_from, recipe, wait_for_port
from .oauth2_proxy import COOKIE, SIGN_IN
from .peers import PROXY, Ports, run_nginx
from .upstream import Camera


def kanidm_options() -> Settings:
    """The documented CamAuth options, trusting the test's nginx (on 127.0.0.1)."""
    raw: dict[str, Any] = yaml.safe_load((RECIPES / "camauth-kanidm.yaml").read_text())
    raw["auth"]["trusted_proxies"] = ["127.0.0.1"]
    return parse_options(raw)


@pytest.fixture
async def site(
    tmp_path: Path,
    start_service: ServiceFactory,
    camera: Camera,
    oauth2_proxy: int,
    run_process: Processes,
) -> str:
    """nginx with oauth2-proxy and CamAuth in front of the camera; returns its URL."""
    service = await start_service(kanidm_options())
    assert service.server.port is not None
    port = free_port()
    ports = Ports(camauth=service.server.port, camera=camera.port)
    site = recipe(
        "nginx-kanidm-oauth2-proxy.conf",
        {
            **ports.upstreams(),
            "oauth2-proxy:4180": f"127.0.0.1:{oauth2_proxy}",
            "listen 80;": f"listen {PROXY}:{port};",
            "/run/nginx/cams.sock": str(tmp_path / "cams.sock"),
        },
    )
    await run_nginx(tmp_path, run_process, site)
    await wait_for_port(PROXY, port)
    return f"http://{PROXY}:{port}"


async def seen_by_camera(site: str, session: str | None, **headers: str) -> tuple[int, Any]:
    """GET a camera page with a Kanidm session cookie; the status and what the camera saw."""
    cookie = {"Cookie": f"{COOKIE}={session}"} if session else {}
    async with (
        client_from("127.0.0.4") as client,
        client.get(
            f"{site}/api/profile", headers={**cookie, **headers}, allow_redirects=False
        ) as response,
    ):
        body = await response.json() if response.status == 200 else None
        return response.status, (body, response.headers.get("Location"))


async def test_a_kanidm_admin_reaches_the_camera_as_admin(site: str) -> None:
    status, (seen, _) = await seen_by_camera(site, "session-zoe")
    assert status == 200
    assert (seen["Remote-User"], seen["Remote-Role"]) == ("zoechi", "admin")
    assert seen["Remote-Groups"] == "frigate_admins,frigate_family"
    assert seen["Remote-Email"] == "zoe@example.com"


async def test_a_family_member_is_a_viewer(site: str) -> None:
    status, (seen, _) = await seen_by_camera(site, "session-kim")
    assert (status, seen["Remote-User"], seen["Remote-Role"]) == (200, "kim", "viewer")
    async with client_from("127.0.0.4") as client:
        cookie = {"Cookie": f"{COOKIE}=session-kim"}
        async with client.post(f"{site}/api/config", json={}, headers=cookie) as response:
            assert response.status == 403


async def test_without_a_kanidm_session_nobody_passes(site: str) -> None:
    spoofed = {"X-Auth-Request-Preferred-Username": "zoechi", "Remote-User": "zoechi"}
    status, (_, location) = await seen_by_camera(site, None, **spoofed)
    assert (status, location) == (302, SIGN_IN)


async def test_a_client_cannot_add_itself_to_a_group(site: str) -> None:
    groups = {"X-Auth-Request-Groups": "frigate_admins"}
    status, (seen, _) = await seen_by_camera(site, "session-guest", **groups)
    assert (status, seen["Remote-User"], seen["Remote-Role"]) == (200, "guest", "viewer")
    assert seen["Remote-Groups"] is None
    name = {"X-Auth-Request-Preferred-Username": "zoechi"}
    status, (seen, _) = await seen_by_camera(site, "session-kim", **name)
    assert (status, seen["Remote-User"], seen["Remote-Role"]) == (200, "kim", "viewer")


async def test_the_admin_panel_knows_the_kanidm_admin(site: str) -> None:
    async with (
        ClientSession(timeout=TIMEOUT) as client,
        client.get(
            f"{site}/camauth/api/profile", headers={"Cookie": f"{COOKIE}=session-zoe"}
        ) as response,
    ):
        assert response.status == 200
        profile = await response.json()
    assert (profile["username"], profile["role"], profile["auth_method"]) == (
        "zoechi",
        "admin",
        "proxy",
    )
