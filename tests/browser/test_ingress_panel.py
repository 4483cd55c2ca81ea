"""The panel in Home Assistant's sidebar: framed by Home Assistant, proxied by the Supervisor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import WebSocket, expect

from camauth.cli.onboarding import ensure_admin
from camauth.core.audit import EventQuery
from camauth.http.ingress import create_ingress_app
from camauth.options import Settings
from tests.service.conftest import Service, ServiceFactory, checked_user

from .conftest import PageFactory
from .supervisor import INGRESS_PATH, PANEL_PAGE, SUPERVISOR, home_assistant

NEW_PASSWORD = "tangerine comet bridge 9"


@pytest.fixture
async def first_start(start_service: ServiceFactory) -> Service:
    """CamAuth as on its first start: ``admin`` with a generated password, kept for the panel."""
    return await start_service(seed=False)


@pytest.fixture
async def listeners(first_start: Service) -> AsyncIterator[tuple[TestServer, TestServer]]:
    """The ingress listener (believing only the stand-in Supervisor) and Home Assistant."""
    ingress = TestServer(
        create_ingress_app(Settings(), first_start.services, peer=SUPERVISOR), host="127.0.0.1"
    )
    await ingress.start_server()
    frontend = TestServer(home_assistant(str(ingress.make_url("/"))), host="127.0.0.1")
    await frontend.start_server()
    yield ingress, frontend
    await frontend.close()
    await ingress.close()


async def test_the_whole_panel_under_the_ingress_prefix(
    first_start: Service, listeners: tuple[TestServer, TestServer], open_page: PageFactory
) -> None:
    service = first_start
    password = await ensure_admin(service.services, reset=False)
    assert password is not None
    _, frontend = listeners
    watched = await open_page()
    page = watched.page
    asked: list[str] = []
    sockets: list[WebSocket] = []
    page.on("request", lambda request: asked.append(urlsplit(request.url).path))
    page.on("websocket", lambda socket: sockets.append(socket))

    await page.goto(str(frontend.make_url(PANEL_PAGE)))
    panel = page.frame_locator("#panel")  # Home Assistant frames it: the panel allows that
    await expect(panel.locator("#live")).to_have_text("Live")
    await expect(panel.locator("#who")).to_have_text("Paulus via Home Assistant")
    await expect(panel.get_by_role("link", name="Sign out")).to_be_hidden()

    # The first-run card shows the generated password until it has been changed.
    card = panel.locator("#first-run")
    await expect(card).to_contain_text("CamAuth created the user admin with the password below.")
    await expect(card.get_by_label("Password")).to_have_value(password)
    await card.get_by_role("button", name="Set a new password").click()
    dialog = panel.locator("#password")
    await dialog.get_by_label("New password").fill(NEW_PASSWORD)
    await dialog.get_by_role("button", name="Save").click()
    await expect(panel.locator("#toast")).to_have_text(
        "The password of admin was changed; their sessions have ended."
    )
    await expect(card).to_be_hidden()
    assert await checked_user(service, "admin", NEW_PASSWORD) is not None

    # Changes work through the prefix, as the Home Assistant user.
    users = panel.get_by_role("tabpanel", name="Users")
    await users.get_by_text("Add a user").click()
    await users.get_by_label("Username").fill("alice")
    await users.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await users.get_by_role("button", name="Add user").click()
    await expect(panel.locator("#toast")).to_have_text("alice was added as Viewer.")
    [created] = await service.services.audit.query(
        EventQuery(type="user_created", username="alice")
    )
    assert (created.detail["by"], created.detail["source"]) == ("Paulus", "ingress")
    # A refusal in words: admin is the last admin, and stays one.
    watched.expect(409, f"{INGRESS_PATH}/api/users/admin/role")
    admin_role = users.get_by_label("Role of admin")
    await admin_role.select_option("viewer")
    await expect(panel.locator("#toast")).to_have_text(
        "The last admin cannot be deleted or demoted."
    )
    await expect(admin_role).to_have_value("admin")
    # The audit log shows it, live, and says it came through Home Assistant.
    await panel.get_by_role("tab", name="Audit log").click()
    first = panel.locator("#log-list tbody tr").first
    await expect(first).to_contain_text("User created")
    await expect(first).to_contain_text("by Paulus · through Home Assistant")

    # Every address the panel used was under the prefix; so was its event stream.
    assert asked[0] == PANEL_PAGE
    outside = [path for path in asked[1:] if not path.startswith(INGRESS_PATH + "/")]
    assert outside == []
    assert {f"{INGRESS_PATH}/static/camauth/panel.js", f"{INGRESS_PATH}/api/users"} <= set(asked)
    assert [urlsplit(socket.url).path for socket in sockets] == [f"{INGRESS_PATH}/api/ws"]


async def test_a_browser_going_to_the_ingress_port_itself_is_refused(
    first_start: Service, listeners: tuple[TestServer, TestServer], open_page: PageFactory
) -> None:
    ingress, _ = listeners
    watched = await open_page(
        extra_http_headers={"X-Ingress-Path": INGRESS_PATH, "X-Remote-User-Name": "mallory"}
    )
    watched.expect(403)
    page = watched.page
    answer = await page.goto(str(ingress.make_url("/")))
    assert answer is not None
    assert answer.status == 403
    assert json.loads(await answer.text())["code"] == "forbidden"
    answer = await page.goto(str(ingress.make_url("/api/users")))
    assert answer is not None
    assert answer.status == 403
