"""Kanidm via oauth2-proxy, then CamAuth, behind real nginx and Traefik (seed 001, our way).

The proxies run ``nginx-kanidm-oauth2-proxy.conf`` and ``traefik-kanidm-oauth2-proxy.yml``,
and CamAuth the options of ``camauth-kanidm.yaml``, all as DOCS.md shows them; oauth2-proxy
is a stand-in that answers as oauth2-proxy does (``oauth2_proxy.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession

from camauth.options import Settings, parse_options
from tests.service.conftest import ServiceFactory

from .harness import RECIPES, TIMEOUT, Processes, client_from, wait_until_routed
from .oauth2_proxy import COOKIE, SIGN_IN
from .peers import Ports, serve_nginx, serve_traefik
from .upstream import Camera


def kanidm_options() -> Settings:
    """The documented CamAuth options, trusting the test's nginx (on 127.0.0.1)."""
    raw: dict[str, Any] = yaml.safe_load((RECIPES / "camauth-kanidm.yaml").read_text())
    raw["auth"]["trusted_proxies"] = ["127.0.0.1"]
    return parse_options(raw)


def nginx_site(tmp: Path, processes: Processes, replacements: dict[str, str]) -> Awaitable[str]:
    """nginx on the Kanidm recipe (its inner site on a socket in ``tmp``)."""
    socket = {"/run/nginx/cams.sock": str(tmp / "cams.sock")}
    recipe = "nginx-kanidm-oauth2-proxy.conf"
    return serve_nginx(tmp, processes, recipe, {**replacements, **socket})


def traefik_site(tmp: Path, processes: Processes, replacements: dict[str, str]) -> Awaitable[str]:
    """Traefik on the Kanidm recipe."""
    return serve_traefik(tmp, processes, "traefik-kanidm-oauth2-proxy.yml", replacements)


SITES = {"nginx": nginx_site, "traefik": traefik_site}


@pytest.fixture(params=sorted(SITES))
async def site(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_service: ServiceFactory,
    camera: Camera,
    oauth2_proxy: int,
    run_process: Processes,
) -> str:
    """A proxy with oauth2-proxy and CamAuth in front of the camera; returns its URL."""
    service = await start_service(kanidm_options())
    assert service.server.port is not None
    ports = Ports(camauth=service.server.port, camera=camera.port)
    replacements = {**ports.upstreams(), "oauth2-proxy:4180": f"127.0.0.1:{oauth2_proxy}"}
    base = await SITES[request.param](tmp_path, run_process, replacements)
    await wait_until_routed(base + "/camauth/api/health")
    return base


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
