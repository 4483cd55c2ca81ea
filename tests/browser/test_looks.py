"""How the pages look and behave: languages, phones, keyboards, light and dark, a lost stream.

These tests also write the screenshots CI keeps (test-artifacts/screenshots/); the README
shows copies of some of them (docs/screenshots/).
"""

from __future__ import annotations

import re
from ipaddress import ip_network

import pytest
from playwright.async_api import Page, expect

from camauth.http import ws
from tests.service.conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    with_auth,
)

from .conftest import PageFactory, no_horizontal_scrolling, open_panel, screenshot, sign_in

PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TABS = ["Users", "Sessions", "API keys", "Lockouts", "Audit log"]
ANDROID = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)


async def test_german_from_accept_language(
    start_service: ServiceFactory, open_page: PageFactory
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="100/minute"))
    watched = await open_page(locale="de-DE")  # Accept-Language: de-DE
    watched.expect(401, "/api/login")
    page = watched.page
    await page.goto(service.url("/admin"))
    await expect(page).to_have_title("Anmelden \N{EN DASH} CamAuth")
    assert await page.get_attribute("html", "lang") == "de"
    await expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
    await sign_in(page, "admin", "falsch")
    await expect(page.locator("#message")).to_have_text("Benutzername oder Passwort ist falsch.")
    await page.get_by_label("Passwort").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await page.locator("#live.on").wait_for()
    await expect(page).to_have_title("Verwaltung \N{EN DASH} CamAuth")
    tabs = page.get_by_role("tab")
    await expect(tabs).to_have_text(
        ["Benutzer", "Sitzungen", "API-Schlüssel", "Sperren", "Protokoll"]
    )
    await expect(page.locator("#stats")).to_contain_text("Aktive Sitzungen")
    await expect(page.locator("#user-list tr", has_text="viewer")).to_contain_text("Betrachter")
    await page.get_by_role("tab", name="Protokoll").click()
    await expect(page.locator("#log-list tbody tr").first).to_contain_text("Anmeldung erfolgreich")
    await expect(page.get_by_role("link", name="Abmelden")).to_be_visible()


@pytest.mark.parametrize("width", [360, 390])
async def test_a_phone_needs_no_sideways_scrolling(
    start_service: ServiceFactory, open_page: PageFactory, width: int
) -> None:
    service = await _busy_service(start_service)
    page = (await open_page(viewport={"width": width, "height": 844}, **PHONE)).page
    await page.goto(service.url("/login"))
    assert await no_horizontal_scrolling(page)
    if width == 390:
        await screenshot(page, "login-phone")
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    for name in TABS:
        await page.get_by_role("tab", name=name).click()
        await expect(page.get_by_role("tabpanel", name=name)).to_be_visible()
        assert await no_horizontal_scrolling(page), name
        if width == 390:
            await screenshot(page, f"panel-phone-{name.lower().replace(' ', '-')}", full_page=True)
    await page.get_by_role("tab", name="Users").click()
    await page.get_by_text("Add a user").click()
    assert await no_horizontal_scrolling(page)
    row = page.locator("#user-list tr", has_text="viewer")
    await row.get_by_role("button", name="Reset the password of viewer").click()
    await expect(page.locator("#confirm")).to_be_visible()
    assert await no_horizontal_scrolling(page)
    await page.keyboard.press("Escape")  # cancels, changes nothing
    await expect(page.locator("#confirm")).to_be_hidden()


async def test_the_panel_works_with_the_keyboard(service: Service, open_page: PageFactory) -> None:
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    users_tab = page.get_by_role("tab", name="Users")
    await users_tab.focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("tab", name="Sessions")).to_be_focused()
    await expect(page.get_by_role("tabpanel", name="Sessions")).to_be_visible()
    await page.keyboard.press("End")
    await expect(page.get_by_role("tab", name="Audit log")).to_have_attribute(
        "aria-selected", "true"
    )
    await page.keyboard.press("ArrowRight")  # wraps around
    await expect(users_tab).to_be_focused()
    await expect(page).to_have_url(re.compile(r"/admin#users$"))
    # Into the panel, then a dialog: it takes the focus, Escape closes it, nothing changes.
    await page.keyboard.press("Tab")
    row = page.locator("#user-list tr", has_text="viewer")
    await row.get_by_role("button", name="Delete viewer").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#confirm-ok")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.locator("#confirm")).to_be_hidden()
    assert await service.services.users.get("viewer") is not None
    # The skip link leads past the header and tabs.
    await page.reload()
    await page.locator("#live.on").wait_for()
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()


async def test_the_panel_follows_the_stream_back_after_losing_it(
    service: Service, open_page: PageFactory
) -> None:
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    live = page.locator("#live")
    app = service.server.app
    assert app is not None
    await ws.close_websockets(app)  # as when CamAuth restarts
    await expect(live).to_have_text(re.compile(r"^Offline, trying again in 1 s$"))
    await service.services.users.create("carol", "tangerine comet bridge 9", "viewer")
    await expect(live).to_have_text("Live")
    # What happened while the stream was away is there after all.
    await expect(page.locator("#user-list tr", has_text="carol")).to_be_visible()


async def _busy_service(start_service: ServiceFactory) -> Service:
    """CamAuth with a household's worth of users, sessions, keys, a lockout and some history."""
    service = await start_service(
        with_auth(failed_login_rate_limit="3/minute", trusted_proxies=(ip_network("127.0.0.1/32"),))
    )
    services = service.services
    await services.users.create("alice", "tangerine comet bridge 9", "admin")
    await services.users.create("bob", "marble otter lantern 4", "viewer")
    await services.keys.create("home assistant", "admin", ())
    await services.keys.create("front door", "viewer", ("/triggers",))
    phone = await service.fresh_client()
    await phone.post(
        service.url("/api/login"),
        json={"username": "viewer", "password": VIEWER_PASSWORD},
        headers={"User-Agent": ANDROID, "X-Forwarded-For": "192.168.1.41"},
    )
    for attempt in range(4):
        await service.request(
            "POST",
            "/api/login",
            json={"username": "admin", "password": f"guess {attempt}"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    return service


async def _shoot_panel(page: Page, service: Service, name: str) -> None:
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    await expect(page.locator("#lockout-count")).to_have_text("1")
    await page.mouse.move(1, 700)
    await screenshot(page, f"{name}-users")
    for tab in ("Sessions", "API keys", "Lockouts", "Audit log"):
        await page.get_by_role("tab", name=tab).click()
        await expect(page.get_by_role("tabpanel", name=tab)).to_be_visible()
        await page.locator(f"#{await _list_of(page, tab)} table").wait_for()
        await page.mouse.move(1, 700)  # no hover effect in the picture
        await screenshot(page, f"{name}-{tab.lower().replace(' ', '-')}")


async def _list_of(page: Page, tab: str) -> str:
    panel = await page.get_by_role("tabpanel", name=tab).get_attribute("id")
    return {"sessions": "session-list", "keys": "key-list", "lockouts": "lockout-list"}.get(
        panel or "", "log-list"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_screenshots_of_the_panel_and_the_login_page(
    start_service: ServiceFactory, open_page: PageFactory, scheme: str
) -> None:
    service = await _busy_service(start_service)
    viewport = {"width": 1280, "height": 800}
    login = (await open_page(viewport={"width": 800, "height": 600}, color_scheme=scheme)).page
    await login.goto(service.url("/login"))
    await expect(login.get_by_role("button", name="Sign in")).to_be_visible()
    await screenshot(login, f"login-{scheme}")
    page = (await open_page(viewport=viewport, color_scheme=scheme)).page
    await _shoot_panel(page, service, f"panel-{scheme}")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(17, 17, 17)" if scheme == "dark" else "rgb(250, 250, 250)")
