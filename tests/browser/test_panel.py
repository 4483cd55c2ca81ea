"""The admin panel at /admin in a real browser: every admin task, with feedback in words."""

from __future__ import annotations

import re
from ipaddress import ip_network
from urllib.parse import urlsplit

from playwright.async_api import Page, expect

from camauth.cli.onboarding import ensure_admin
from camauth.core.audit import EventQuery
from tests.service.conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    checked_user,
    with_auth,
)

from .conftest import PageFactory, open_panel

NEW_PASSWORD = "tangerine comet bridge 9"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CLIPBOARD = ["clipboard-read", "clipboard-write"]
# Behind a trusted proxy, failed logins can come from addresses other than the browser's.
PROXIED = {"trusted_proxies": (ip_network("127.0.0.1/32"),)}


def toast(page: Page, text: str) -> object:
    """The feedback line, with this text."""
    return expect(page.locator("#toast")).to_have_text(text)


async def confirm(page: Page, action: str) -> None:
    """Confirm in the dialog that asks first, whose button says ``action``."""
    dialog = page.locator("#confirm")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name=action).click()
    await expect(dialog).to_be_hidden()


async def test_sign_in_to_the_panel_and_out_through_logout(
    service: Service, open_page: PageFactory
) -> None:
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    await expect(page).to_have_title("Admin panel \N{EN DASH} CamAuth")
    await expect(page.locator("#who")).to_have_text("admin")
    await expect(page.locator("#live")).to_have_text("Live")
    await expect(page.locator("#stat-users")).to_have_text("2")
    await page.get_by_role("link", name="Sign out").click()
    await page.wait_for_url(service.url("/login"))
    assert [c for c in await page.context.cookies() if c["name"] == "camauth_token"] == []
    await page.goto(service.url("/admin"))  # the panel needs a login again
    await page.wait_for_url(service.url("/login?rd=%2Fadmin"))


async def test_add_a_user_change_the_role_reset_the_password_and_delete(
    service: Service, open_page: PageFactory
) -> None:
    watched = await open_page(permissions=CLIPBOARD)
    watched.expect(400, "/api/users")  # the refused password, on purpose
    page = watched.page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)

    users = page.get_by_role("tabpanel", name="Users")
    await users.get_by_text("Add a user").click()
    await users.get_by_label("Username").fill("alice")
    await users.get_by_label("Password", exact=True).fill("short")
    await users.get_by_role("button", name="Add user").click()
    message = page.locator("#add-user-message")
    await expect(message).to_have_text("The password must be at least 12 characters long.")
    await users.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await users.get_by_role("button", name="Add user").click()
    await toast(page, "alice was added as Viewer.")
    await expect(message).to_be_empty()
    await expect(users.get_by_label("Username")).to_have_value("")  # ready for the next one
    await expect(users.get_by_label("Role", exact=True)).to_have_value("viewer")
    row = page.locator("#user-list tr", has_text="alice")
    await expect(row).to_be_visible()
    assert await checked_user(service, "alice", NEW_PASSWORD) is not None

    await row.get_by_label("Role of alice").select_option("admin")
    await toast(page, "alice is now Admin.")
    user = await service.services.users.get("alice")
    assert user is not None
    assert user.role == "admin"

    await row.get_by_role("button", name="Reset the password of alice").click()
    await confirm(page, "Reset password")
    secret = page.locator("#secret-value")
    await expect(secret).to_have_value(re.compile(r"^\S{12,}$"))
    generated = await secret.input_value()
    await expect(page.locator("#secret-text")).to_have_text(
        "This password is shown only now. Copy it and give it to alice."
    )
    await page.get_by_role("button", name="Copy").click()
    await toast(page, "Copied to the clipboard.")
    assert await page.evaluate("navigator.clipboard.readText()") == generated
    await page.get_by_role("button", name="Done").click()
    await expect(page.locator("#secret")).to_be_hidden()
    await expect(secret).to_have_value("")  # shown once: not left in the page
    await toast(page, "The password of alice was reset.")
    assert await checked_user(service, "alice", generated) is not None

    await row.get_by_role("button", name="Delete alice").click()
    await confirm(page, "Delete")
    await toast(page, "alice was deleted.")
    await expect(row).to_have_count(0)
    assert await service.services.users.get("alice") is None


async def test_an_admin_sets_a_password_and_changes_their_own(
    start_service: ServiceFactory, open_page: PageFactory
) -> None:
    # A wrong current password counts as a failed login: allow the second try at once.
    service = await start_service(with_auth(failed_login_rate_limit="100/minute"))
    watched = await open_page()
    watched.expect(401, "/api/auth/password")  # a wrong current password, on purpose
    page = watched.page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    viewer = page.locator("#user-list tr", has_text="viewer")
    await viewer.get_by_role("button", name="Set a password for viewer").click()
    dialog = page.locator("#password")
    await expect(dialog.get_by_label("Your current password")).to_be_hidden()
    await dialog.get_by_label("New password").fill(NEW_PASSWORD)
    await dialog.get_by_role("button", name="Save").click()
    await toast(page, "The password of viewer was changed; their sessions have ended.")
    assert await checked_user(service, "viewer", NEW_PASSWORD) is not None

    # One's own: with the current password, and this browser stays signed in.
    me = page.locator("#user-list tr", has_text="admin")
    await expect(me.get_by_label("Role of admin")).to_be_disabled()
    await expect(me.get_by_role("button", name="Delete admin")).to_have_count(0)
    await me.get_by_role("button", name="Set a password for admin").click()
    await dialog.get_by_label("Your current password").fill("not my password")
    await dialog.get_by_label("New password").fill("copper meadow falcon 4")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.locator("#password-message")).to_have_text(
        "The current password is not right."
    )
    await dialog.get_by_label("Your current password").fill(ADMIN_PASSWORD)
    await dialog.get_by_role("button", name="Save").click()
    await toast(page, "Your password was changed. Your other sessions have ended.")
    assert await checked_user(service, "admin", "copper meadow falcon 4") is not None
    # The stream of the ended session closes; the panel finds its new session and goes on.
    await expect(page.locator("#live")).to_have_text("Live")
    await page.reload()
    await page.locator("#user-list table").wait_for()
    assert page.url.endswith("/admin#users")


async def test_create_and_revoke_an_api_key(service: Service, open_page: PageFactory) -> None:
    page = (await open_page(permissions=CLIPBOARD)).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    await page.get_by_role("tab", name="API keys").click()
    keys = page.get_by_role("tabpanel", name="API keys")
    await expect(page.locator("#key-list")).to_have_text("No API keys yet.")
    await keys.get_by_label("Name").fill("door")
    await keys.get_by_label("Webhook paths (optional)").fill("/triggers")
    await keys.get_by_role("button", name="Create key").click()
    await expect(page.locator("#secret-title")).to_have_text("API key door")
    await page.get_by_role("button", name="Done").click()
    await expect(page.locator("#key-list tr", has_text="door")).to_contain_text("/triggers")

    await keys.get_by_label("Name").fill("scripts")
    await keys.get_by_label("Role").select_option("admin")
    await keys.get_by_role("button", name="Create key").click()
    secret = page.locator("#secret-value")
    await expect(secret).to_have_value(re.compile(r"^camauth_[0-9a-f]{8}_"))
    key = await secret.input_value()
    await page.get_by_role("button", name="Copy").click()
    assert await page.evaluate("navigator.clipboard.readText()") == key
    await page.get_by_role("button", name="Done").click()
    await toast(page, "The API key scripts was created.")
    row = page.locator("#key-list tr", has_text="scripts")
    await expect(row).to_contain_text("Admin")
    await expect(row).to_contain_text(f"camauth_{key[8:16]}_…")
    answer = await service.request("GET", "/api/profile", headers={"X-API-Key": key})
    assert (await answer.json())["username"] == "scripts"

    await row.get_by_role("button", name="Revoke the API key scripts").click()
    await confirm(page, "Revoke")
    await toast(page, "The API key scripts was revoked.")
    await expect(row).to_have_count(0)
    answer = await service.request("GET", "/api/profile", headers={"X-API-Key": key})
    assert answer.status == 401


async def test_lockouts_appear_live_count_down_and_are_lifted(
    start_service: ServiceFactory, open_page: PageFactory
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="1/minute", **PROXIED))
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    await page.get_by_role("tab", name="Lockouts").click()
    await expect(page.locator("#lockout-list")).to_have_text("Nobody is locked out.")
    for address in ("203.0.113.7", "198.51.100.4"):
        await service.request(
            "POST",
            "/api/login",
            json={"username": "viewer", "password": "guess"},
            headers={"X-Forwarded-For": address},
        )
    # Live, from the event stream: no reload.
    first = page.locator("#lockout-list tr", has_text="203.0.113.7")
    await expect(first).to_contain_text("Address")
    await expect(page.locator("#lockout-list tbody tr")).to_have_count(2)
    await expect(page.locator("#lockout-count")).to_have_text("2")
    clock = first.locator(".countdown")
    await expect(clock).to_have_text(re.compile(r"^[01]:\d\d$"))
    shown = await clock.text_content()
    await expect(clock).not_to_have_text(shown or "")  # it counts down

    await first.get_by_role("button", name="Lift the lockout of 203.0.113.7").click()
    await toast(page, "The lockout of 203.0.113.7 was lifted.")
    await expect(first).to_have_count(0)
    assert [lock.key for lock in service.services.lockouts.lockouts()] == ["198.51.100.4"]

    await page.get_by_role("button", name="Lift all lockouts").click()
    await confirm(page, "Lift all lockouts")
    await toast(page, "Lockouts lifted: 1.")
    await expect(page.locator("#lockout-list")).to_have_text("Nobody is locked out.")
    await expect(page.locator("#lockout-count")).to_be_hidden()
    assert service.services.lockouts.lockouts() == []


async def test_sessions_per_user_and_ending_them(service: Service, open_page: PageFactory) -> None:
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    await page.get_by_role("tab", name="Sessions").click()
    tokens = {}
    for agent in (ANDROID, WINDOWS):  # two devices of viewer's, arriving while we look
        client = await service.fresh_client()
        answer = await client.post(
            service.url("/api/login"),
            json={"username": "viewer", "password": VIEWER_PASSWORD},
            headers={"User-Agent": agent},
        )
        tokens[agent] = (await answer.json())["token"]
    await expect(page.locator("#session-list tbody tr")).to_have_count(3)

    await page.get_by_role("tab", name="Users").click()
    await page.get_by_role("button", name="Show the sessions of viewer").click()
    await expect(page.get_by_role("tab", name="Sessions")).to_have_attribute(
        "aria-selected", "true"
    )
    rows = page.locator("#session-list tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="Chrome · Android")).to_contain_text("127.0.0.1")
    firefox = rows.filter(has_text="Firefox · Windows")
    await firefox.get_by_role("button", name="End the session of viewer from 127.0.0.1").click()
    await confirm(page, "End session")
    await toast(page, "The session of viewer has ended.")
    await expect(rows).to_have_count(1)

    def profile(agent: str) -> object:
        headers = {"Authorization": f"Bearer {tokens[agent]}"}
        return service.request("GET", "/api/profile", headers=headers)

    assert (await profile(WINDOWS)).status == 401
    assert (await profile(ANDROID)).status == 200

    await page.get_by_role("button", name="End all sessions of viewer").click()
    await confirm(page, "End all")
    await toast(page, "Sessions of viewer ended: 1.")
    await expect(page.locator("#session-list")).to_have_text("No active sessions.")
    assert (await profile(ANDROID)).status == 401


async def test_the_audit_log_filters_and_pages(
    start_service: ServiceFactory, open_page: PageFactory
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="100/minute", **PROXIED))
    for number in range(55):
        await service.services.users.create(f"user{number:02}", NEW_PASSWORD, "viewer")
    for _ in range(3):
        await service.request(
            "POST",
            "/api/login",
            json={"username": "mallory", "password": "guess"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    await page.get_by_role("tab", name="Audit log").click()
    log = page.get_by_role("tabpanel", name="Audit log")
    rows = page.locator("#log-list tbody tr")
    await expect(rows).to_have_count(50)
    await expect(rows.first).to_contain_text("Login succeeded")
    await page.get_by_role("button", name="Older events").click()
    total = len(await service.services.audit.query(EventQuery(limit=500)))
    await expect(rows).to_have_count(total)
    await expect(page.get_by_role("button", name="Older events")).to_be_hidden()

    await log.get_by_label("Event").select_option(label="Login failed")
    await log.get_by_label("Address").fill("203.0.113.9")
    await log.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(3)
    for index in range(3):
        await expect(rows.nth(index)).to_contain_text("mallory")
    # A new matching event arrives live, at the top; others do not.
    await service.services.users.create("bob", NEW_PASSWORD, "viewer")
    await service.request(
        "POST",
        "/api/login",
        json={"username": "trudy", "password": "guess"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    await expect(rows).to_have_count(4)
    await expect(rows.first).to_contain_text("trudy")

    await log.get_by_label("Username").fill("mallory")
    await log.get_by_label("Until").fill("2020-01-01T00:00")
    await log.get_by_role("button", name="Filter").click()
    await expect(page.locator("#log-list")).to_have_text("No events match.")
    await log.get_by_label("Until").fill("")
    await log.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(3)
    await log.get_by_role("button", name="Clear").click()
    await expect(rows).to_have_count(50)


async def test_first_start_on_the_gateway_asks_for_a_password_of_ones_own(
    start_service: ServiceFactory, open_page: PageFactory
) -> None:
    service = await start_service(seed=False)
    generated = await ensure_admin(service.services, reset=False)
    assert generated is not None
    # A proxy CamAuth does not trust: the panel warns about it.
    await service.request("GET", "/api/health", headers={"X-Forwarded-For": "192.168.1.9"})
    watched = await open_page()
    page = watched.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlsplit(request.url).path))
    await open_panel(page, service, "admin", generated)
    warnings = page.get_by_role("region", name="Configuration warnings")
    await expect(warnings).to_contain_text(
        "Requests from 127.0.0.1 carry X-Forwarded-For, but 127.0.0.1 is not in "
        "auth.trusted_proxies"
    )
    card = page.get_by_role("region", name="Welcome to CamAuth")
    await expect(card).to_have_text(re.compile("still has the password CamAuth generated"))
    await expect(card.get_by_label("Password")).to_be_hidden()  # never shown on the gateway
    assert "/api/onboarding" not in asked
    await card.get_by_role("button", name="Set a new password").click()
    dialog = page.locator("#password")
    await dialog.get_by_label("Your current password").fill(generated)
    await dialog.get_by_label("New password").fill(NEW_PASSWORD)
    await dialog.get_by_role("button", name="Save").click()
    await toast(page, "Your password was changed. Your other sessions have ended.")
    await expect(card).to_be_hidden()
    await expect(page.locator("#live")).to_have_text("Live")
    assert await checked_user(service, "admin", NEW_PASSWORD) is not None


async def test_custom_roles_are_offered_as_they_come(
    service: Service, open_page: PageFactory
) -> None:
    page = (await open_page()).page
    await open_panel(page, service, "admin", ADMIN_PASSWORD)
    token = await service.login("admin", ADMIN_PASSWORD)
    created = await service.request(
        "POST",
        "/api/roles",
        json={"name": "front", "description": "The front door, live", "cameras": ["front_door"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status == 201
    # Live: the new role is a choice for every user, for new users and for new keys.
    viewer_role = page.locator("#user-list tr", has_text="viewer").get_by_label("Role of viewer")
    await expect(viewer_role.locator("option")).to_have_text(["Admin", "Viewer", "front"])
    await expect(page.locator("#new-role option")).to_have_text(["Admin", "Viewer", "front"])
    await expect(page.locator("#new-role")).to_have_value("viewer")  # still the default
    await expect(page.locator("#key-role option")).to_have_count(3)
    await viewer_role.select_option("front")
    await toast(page, "viewer is now front.")
    user = await service.services.users.get("viewer")
    assert user is not None
    assert user.role == "front"
    await page.get_by_role("tab", name="Audit log").click()
    rows = page.locator("#log-list tbody tr")
    await expect(rows.first).to_contain_text("Role changed")
    await expect(rows.first).to_contain_text("from Viewer to front")
    await expect(rows.nth(1)).to_contain_text("Role created")
