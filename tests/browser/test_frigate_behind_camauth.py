"""Frigate behind CamAuth alone, in a real browser: the setup DOCS.md shows, as written.

The Frigate stand-in (``tests.gateway.frigate``) behaves like Frigate's frontend: it polls
its API, follows the ``Location`` of a 401, keeps a WebSocket open and signs out through
``proxy.logout_url``. CamAuth runs with the upstream option of DOCS.md (only its address
changed) and Frigate with the configuration DOCS.md gives it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from camauth.core.upstreams import split_url
from camauth.http.app_keys import SETTINGS
from camauth.options import parse_options
from tests.docs import yaml_snippets
from tests.gateway.conftest import (  # noqa: F401 - fixtures used by the tests here
    FrigateFactory,
    gateway_settings,
    served_at,
    start_frigate,
)
from tests.service.conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, ServiceFactory

from .conftest import PageFactory, sign_in

HEADING = "Frigate behind CamAuth (no other proxy)"
# The polls that find the session gone are refused, on purpose.
SIGNED_OUT = tuple((401, path) for path in ("/api/profile", "/api/stats", "/api/config"))


def _documented() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """CamAuth's ``upstreams`` option and Frigate's configuration, as DOCS.md shows them."""
    camauth, frigate = yaml_snippets(HEADING)[:2]
    return camauth["upstreams"], frigate


@pytest.fixture
async def frigate(start_frigate: FrigateFactory) -> TestServer:  # noqa: F811
    """Frigate, configured as DOCS.md says."""
    return await start_frigate(_documented()[1])


@pytest.fixture
async def gateway(start_service: ServiceFactory, frigate: TestServer) -> Service:
    """CamAuth with DOCS.md's upstream option, pointed at the Frigate stand-in."""
    upstreams, _ = _documented()
    return await start_service(gateway_settings(served_at(upstreams, frigate)))


def _login_url(gateway: Service, back_to: str) -> re.Pattern[str]:
    """CamAuth's login page (never Frigate's ``/login``), returning to ``back_to``."""
    query = "" if back_to == "/" else "?rd=" + quote(back_to, safe="")
    return re.compile(re.escape(gateway.url("/camauth/login") + query) + "$")  # yarl would decode


async def _signed_in(page: Page, gateway: Service, path: str, user: str, password: str) -> None:
    """Open ``path`` of Frigate, sign in on CamAuth's login page, wait for Frigate to show."""
    await page.goto(gateway.url(path))
    await page.wait_for_url(_login_url(gateway, path))
    await sign_in(page, user, password)
    await page.wait_for_url(gateway.url(path))
    await expect(page.locator("#user")).to_have_text(user)


async def _revoke(gateway: Service, user: str) -> None:
    """An admin ends every session of ``user`` through CamAuth's API."""
    admin = await gateway.fresh_client()
    login = await admin.post(
        gateway.url("/camauth/api/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert login.status == 200
    revoked = await admin.post(gateway.url(f"/camauth/api/users/{user}/revoke_sessions"))
    assert revoked.status == 200, await revoked.text()


async def _viewer_at(
    open_page: PageFactory, gateway: Service, path: str, *refused: tuple[int, str]
) -> Page:
    """A page on which the viewer signed in at ``path``; ``refused``: answers caused on purpose."""
    watched = await open_page()
    for status, where in refused:
        watched.expect(status, where)
    await _signed_in(watched.page, gateway, path, "viewer", VIEWER_PASSWORD)
    await expect(watched.page.locator("#role")).to_have_text("viewer")
    return watched.page


async def test_the_tested_upstream_is_the_documented_one(gateway: Service) -> None:
    upstreams, _ = _documented()
    documented = parse_options({"upstreams": upstreams}).upstreams
    running = gateway.server.app[SETTINGS].upstreams
    origin, _ = split_url(upstreams[0]["url"])
    assert [replace(up, origin=origin) for up in running] == list(documented)
    assert [up.origin for up in running] != [up.origin for up in documented]


async def test_sign_in_leads_to_frigate_showing_the_camauth_user(
    gateway: Service, open_page: PageFactory
) -> None:
    page = (await open_page()).page
    await _signed_in(page, gateway, "/", "admin", ADMIN_PASSWORD)
    await expect(page.locator("#role")).to_have_text("admin")
    await expect(page.locator("#ws")).to_have_text("open")
    await expect(page.locator("#uptime")).to_have_text(re.compile(r"^\d+$"))


async def test_revoked_session_returns_to_camauths_login_and_back(
    gateway: Service, open_page: PageFactory
) -> None:
    where = "/review?camera=front"
    page = await _viewer_at(open_page, gateway, where, *SIGNED_OUT)
    await _revoke(gateway, "viewer")
    await page.wait_for_url(_login_url(gateway, where))  # the next poll's 401 led here
    await expect(page.locator("#username")).to_be_visible()
    await sign_in(page, "viewer", VIEWER_PASSWORD)
    await page.wait_for_url(gateway.url(where))
    await expect(page.locator("#user")).to_have_text("viewer")


async def test_frigates_logout_ends_the_camauth_session(
    gateway: Service, open_page: PageFactory
) -> None:
    page = await _viewer_at(open_page, gateway, "/", *SIGNED_OUT)
    await expect(page.locator("#logout")).to_have_attribute("href", "/camauth/logout")
    await page.click("#logout")
    await page.wait_for_url(re.compile(re.escape(gateway.url("/camauth/login")) + r"(\?.*)?$"))
    await expect(page.locator("#username")).to_be_visible()
    poll = await page.context.request.get(gateway.url("/api/profile"))
    assert poll.status == 401


async def test_viewer_sees_frigate_but_cannot_change_its_config(
    gateway: Service, open_page: PageFactory
) -> None:
    page = await _viewer_at(open_page, gateway, "/", (403, "/api/config/set"))
    async with page.expect_response(gateway.url("/api/config/set")) as answer:
        await page.click("#save")
    assert (await (await answer.value).json())["code"] == "read_only"
    await expect(page.locator("#saved")).to_have_text("403")
    assert page.url == gateway.url("/")


async def test_frigates_websocket_closes_when_the_session_is_revoked(
    gateway: Service, open_page: PageFactory
) -> None:
    page = await _viewer_at(open_page, gateway, "/?poll=0")  # one poll only
    await expect(page.locator("#ws")).to_have_text("open")
    await _revoke(gateway, "viewer")
    await expect(page.locator("#ws")).to_have_text("closed 4001")
