"""The login page in a real browser: signing in, errors, the return address, signing out."""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

from playwright.async_api import Page, expect

from camauth.core.redirects import safe_return_path
from tests.data import DATA
from tests.service.conftest import ADMIN_PASSWORD, Service, ServiceFactory, with_auth

from .conftest import PageFactory

PAYLOADS = DATA / "openredirects.txt"


async def _sign_in(page: Page, username: str, password: str) -> None:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login button[type=submit]")


async def test_sign_in_returns_to_the_page_asked_for(
    service: Service, open_page: PageFactory
) -> None:
    watched = await open_page()
    watched.expect(404, "/favicon.ico")  # the browser asks for one for the JSON it shows
    page = watched.page
    await page.goto(service.url("/login?rd=" + quote("/api/profile?from=cams", safe="")))
    await _sign_in(page, "admin", ADMIN_PASSWORD)
    await page.wait_for_url(service.url("/api/profile?from=cams"))
    assert '"username": "admin"' in await page.content()
    # The session cookie is HttpOnly: scripts on the page cannot read it.
    assert "camauth_token" not in await page.evaluate("document.cookie")
    cookies = await page.context.cookies()
    assert [c["httpOnly"] for c in cookies if c["name"] == "camauth_token"] == [True]


async def test_wrong_password_is_reported(service: Service, open_page: PageFactory) -> None:
    watched = await open_page()
    watched.expect(401, "/api/login")
    page = watched.page
    await page.goto(service.url("/login"))
    await _sign_in(page, "admin", "not the password at all")
    # A locator wait, not a JavaScript predicate: the page's CSP forbids eval, rightly.
    message = page.locator("#message", has_text="Wrong")
    await message.wait_for(state="visible")
    assert await message.text_content() == "Wrong username or password."
    assert page.url == service.url("/login")


async def test_a_lockout_says_how_long_to_wait(
    start_service: ServiceFactory, open_page: PageFactory
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="1/minute"))
    watched = await open_page()
    watched.expect(401, "/api/login")
    watched.expect(429, "/api/login")
    page = watched.page
    await page.goto(service.url("/login"))
    await _sign_in(page, "admin", "not the password at all")
    await expect(page.locator("#message")).to_have_text("Wrong username or password.")
    async with page.expect_response(lambda answer: answer.status == 429) as refused:
        await page.click("#login button[type=submit]")
    wait = int((await refused.value).headers["retry-after"])
    assert 0 < wait <= 60
    await expect(page.locator("#message")).to_have_text(
        f"Too many failed logins. Try again in {wait} s."
    )
    # The form stays usable, and the message is announced (role=alert).
    assert await page.get_by_role("alert").text_content() == await page.text_content("#message")
    await expect(page.locator("#login button[type=submit]")).to_be_enabled()


async def test_signed_in_view_and_sign_out(service: Service, open_page: PageFactory) -> None:
    page = (await open_page()).page
    await page.goto(service.url("/login"))
    await _sign_in(page, "admin", ADMIN_PASSWORD)
    # With no return address the browser goes to /, which leads back to the signed-in view.
    await page.locator("#signed-in").wait_for(state="visible")
    assert page.url == service.url("/login")
    assert await page.text_content("#who") == "Signed in as admin (admin)."
    await page.click("#logout")
    await page.locator("#login").wait_for(state="visible")
    assert [c for c in await page.context.cookies() if c["name"] == "camauth_token"] == []


RETURN_ADDRESSES = json.loads((DATA / "return_addresses.json").read_text(encoding="utf-8"))


async def test_the_page_goes_where_the_server_judged_for_every_case(
    service: Service, open_page: PageFactory
) -> None:
    """One table for both sides: the page asks for exactly what safe_return_path says."""
    watched = await open_page()
    watched.expect(404)  # the addresses lead to pages this service does not have
    page = watched.page
    await page.goto(service.url("/login"))
    await _sign_in(page, "admin", ADMIN_PASSWORD)
    await page.locator("#signed-in").wait_for(state="visible")
    host = urlsplit(service.url("/")).netloc
    for value, expected in RETURN_ADDRESSES["cases"]:
        if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
            continue  # a lone surrogate cannot travel in a URL; the server test covers it
        await page.goto(service.url("/login?rd=" + quote(value, safe="")))
        await page.locator("#signed-in").wait_for(state="visible")
        assert safe_return_path(value) == expected
        async with page.expect_request(lambda request: request.is_navigation_request()) as sent:
            await page.click("#continue")
        target = urlsplit((await sent.value).url)
        assert target.netloc == host, value
        # A request carries no fragment: compare the path and query the browser asked for.
        asked = target.path + (f"?{target.query}" if target.query else "")
        assert asked == expected.split("#", 1)[0], value


async def test_every_open_redirect_payload_stays_on_this_host(
    service: Service, open_page: PageFactory
) -> None:
    """The browser's own URL parser has the last word on every verdict the page may follow."""
    payloads = PAYLOADS.read_text(encoding="utf-8").split("\n")
    verdicts = [safe_return_path(payload) for payload in payloads]
    page = (await open_page()).page
    await page.goto(service.url("/login"))
    origins: list[str] = await page.evaluate(
        "(targets) => targets.map((t) => new URL(t, location.href).origin)", verdicts
    )
    origin = service.url("/").rstrip("/")
    for payload, verdict, found in zip(payloads, verdicts, origins, strict=True):
        assert found == origin, (payload, verdict)
    # And the page renders each verdict as it is: a sample through real page loads.
    for payload in payloads[::37]:
        await page.goto(service.url("/login?rd=" + quote(payload, safe="")))
        meta = page.locator('meta[name="camauth-return-to"]')
        assert await meta.get_attribute("content") == safe_return_path(payload), payload
