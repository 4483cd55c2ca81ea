"""The login page in a real browser: signing in, errors, the return address, signing out."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

from playwright.async_api import Browser, Page

from tests.data import DATA
from tests.service.conftest import ADMIN_PASSWORD, Service

PAYLOADS = DATA / "openredirects.txt"


async def _sign_in(page: Page, username: str, password: str) -> None:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login button[type=submit]")


async def test_sign_in_returns_to_the_page_asked_for(service: Service, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(service.url("/login?rd=" + quote("/api/profile?from=cams", safe="")))
    await _sign_in(page, "admin", ADMIN_PASSWORD)
    await page.wait_for_url(service.url("/api/profile?from=cams"))
    assert '"username": "admin"' in await page.content()
    # The session cookie is HttpOnly: scripts on the page cannot read it.
    assert "camauth_token" not in await page.evaluate("document.cookie")
    cookies = await page.context.cookies()
    assert [c["httpOnly"] for c in cookies if c["name"] == "camauth_token"] == [True]


async def test_wrong_password_is_reported(service: Service, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(service.url("/login"))
    await _sign_in(page, "admin", "not the password at all")
    # A locator wait, not a JavaScript predicate: the page's CSP forbids eval, rightly.
    message = page.locator("#message", has_text="Invalid")
    await message.wait_for(state="visible")
    assert await message.text_content() == "Invalid username or password"
    assert page.url == service.url("/login")


async def test_signed_in_view_and_sign_out(service: Service, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(service.url("/login"))
    await _sign_in(page, "admin", ADMIN_PASSWORD)
    # With no return address the browser goes to /, which leads back to the signed-in view.
    await page.locator("#signed-in").wait_for(state="visible")
    assert page.url == service.url("/login")
    assert await page.text_content("#who") == "admin"
    await page.click("#logout")
    await page.locator("#login").wait_for(state="visible")
    assert [c for c in await page.context.cookies() if c["name"] == "camauth_token"] == []


async def test_every_open_redirect_payload_stays_on_this_host(
    service: Service, browser: Browser
) -> None:
    payloads = PAYLOADS.read_text(encoding="utf-8").split("\n")
    page = await browser.new_page()
    await page.goto(service.url("/login"))
    results: list[str] = await page.evaluate(
        """(payloads) => payloads.map((rd) => {
            history.replaceState(null, "", "/login?rd=" + encodeURIComponent(rd));
            return returnPath();
        })""",
        payloads,
    )
    origin = urlsplit(service.url("/"))
    assert len(results) == len(payloads)
    for payload, result in zip(payloads, results, strict=True):
        target = urlsplit(urljoin(service.url("/login"), result))
        assert (target.scheme, target.netloc) == (origin.scheme, origin.netloc), payload
        assert result.startswith("/"), payload
        assert not result.startswith("//"), payload
