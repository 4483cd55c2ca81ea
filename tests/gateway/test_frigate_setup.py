"""The Frigate setup DOCS.md describes, run as written against the Frigate stand-in."""

from __future__ import annotations

from typing import Any

from tests.docs import yaml_snippets
from tests.service.conftest import VIEWER_PASSWORD

from .conftest import FrigateFactory, GatewayFactory, served_at

HEADING = "Frigate behind CamAuth (no other proxy)"
JSON = {"Accept": "application/json"}


def documented() -> list[dict[str, Any]]:
    """CamAuth's options, Frigate's config, then both again with the shared secret."""
    snippets = yaml_snippets(HEADING)
    assert len(snippets) == 4, "DOCS.md's Frigate section changed its snippets"
    return snippets


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, nested sections merged rather than replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


async def _profile(
    start_gateway: GatewayFactory, upstreams: list[dict[str, Any]]
) -> tuple[int, Any]:
    """What Frigate answers a signed-in viewer's ``/api/profile`` through CamAuth."""
    gateway = await start_gateway(*upstreams)
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    response = await gateway.request("GET", "/api/profile", headers=JSON)
    return response.status, await response.json()


async def test_documented_setup_shows_frigate_the_camauth_user(
    start_gateway: GatewayFactory, start_frigate: FrigateFactory
) -> None:
    camauth, frigate_config, _, _ = documented()
    frigate = await start_frigate(frigate_config)
    status, body = await _profile(start_gateway, served_at(camauth["upstreams"], frigate))
    assert (status, body) == (200, {"username": "viewer", "role": "viewer"})


async def test_frigate_with_its_own_login_on_lets_nobody_in(
    start_gateway: GatewayFactory, start_frigate: FrigateFactory
) -> None:
    camauth, frigate_config, _, _ = documented()
    frigate = await start_frigate({**frigate_config, "auth": {}})  # Frigate's default
    status, _ = await _profile(start_gateway, served_at(camauth["upstreams"], frigate))
    assert status == 401


async def test_shared_secret_is_needed_once_frigate_asks_for_it(
    start_gateway: GatewayFactory, start_frigate: FrigateFactory
) -> None:
    camauth, frigate_config, camauth_secret, frigate_secret = documented()
    frigate = await start_frigate(merged(frigate_config, frigate_secret))
    without, _ = await _profile(start_gateway, served_at(camauth["upstreams"], frigate))
    assert without == 401  # Frigate refuses whoever does not know the secret
    status, body = await _profile(start_gateway, served_at(camauth_secret["upstreams"], frigate))
    assert (status, body["username"]) == (200, "viewer")


async def test_frigates_logout_url_is_camauths_sign_out_page(
    start_gateway: GatewayFactory, start_frigate: FrigateFactory
) -> None:
    camauth, frigate_config, _, _ = documented()
    frigate = await start_frigate(frigate_config)
    gateway = await start_gateway(*served_at(camauth["upstreams"], frigate))
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    config = await (await gateway.request("GET", "/api/config", headers=JSON)).json()
    logout_url = config["proxy"]["logout_url"]
    page = await gateway.request("GET", logout_url, headers={"Accept": "text/html"})
    assert page.status == 200
    assert 'src="/camauth/static/camauth/logout.js"' in await page.text()
