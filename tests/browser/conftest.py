"""Debian's Chromium, driven by Playwright, against a real CamAuth.

Every page a test opens through ``open_page`` is watched: a console error, an uncaught
exception, a failed request or an answer of 400 or more that the test did not announce with
``Watched.expect`` fails the test when it ends.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    async_playwright,
    expect,
)

from tests.service.conftest import (  # noqa: F401 - fixtures used by the tests here
    Service,
    ServiceFactory,
    service,
    start_service,
)

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Two shared cores run the browser, CamAuth and the test: give waits room (never sleeps).
expect.set_options(timeout=15_000)
# Where the screenshots go; CI keeps this folder (it is not in git).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Chromium's console line for a fetch answered with an error status.
_FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """The browser talks to the service over loopback."""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's package; never a downloaded build)."""
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; script/test installs it")
        pytest.skip("chromium is not installed (script/test installs it)")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        await instance.close()


@dataclass
class Watched:
    """A page and everything that went wrong on it."""

    page: Page
    expected: set[tuple[int, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)

    def expect(self, status: int, path: str = "*") -> None:
        """Announce an error answer the test causes on purpose.

        ``path`` is without the query; ``*`` is any path (a test that visits made-up pages).
        """
        self.expected.add((status, path))

    def _expected(self, status: int, path: str) -> bool:
        return (status, path) in self.expected or (status, "*") in self.expected

    def problems(self) -> list[str]:
        """What went wrong that was not announced."""
        found = [f"{code} {path}" for code, path in self.answers if not self._expected(code, path)]
        return found + self.errors

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "assert"):
            return
        failed = _FAILED_LOAD.match(message.text)
        url = message.location.get("url", "")
        if failed and self._expected(int(failed.group(1)), urlsplit(url).path):
            return
        self.errors.append(f"console {message.type}: {message.text} ({url})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.answers.append((response.status, urlsplit(response.url).path))

    def _on_failed(self, request: Request) -> None:
        # Whatever is still being read when the test navigates on is cut off: no fault. A
        # change cut off is one (the page left before it was done, as a sign-out once did).
        if request.failure == "net::ERR_ABORTED" and request.method in ("GET", "HEAD"):
            return
        self.errors.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")


PageFactory = Callable[..., Awaitable[Watched]]


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[PageFactory]:
    """Open watched pages (each in its own browser context: cookies, locale, viewport)."""
    opened: list[Watched] = []

    async def open_watched(**context_options: Any) -> Watched:
        context = await browser.new_context(**context_options)
        page = await context.new_page()
        watched = Watched(page)
        page.on("console", watched._on_console)
        page.on("response", watched._on_response)
        page.on("requestfailed", watched._on_failed)
        page.on("pageerror", watched._on_page_error)
        opened.append(watched)
        return watched

    yield open_watched
    # Judged before closing: closing aborts whatever is still loading, which is no fault.
    problems = [problem for watched in opened for problem in watched.problems()]
    for watched in opened:
        await watched.page.context.close()
    assert problems == [], "unexpected console errors or failed requests"


async def screenshot(page: Page, name: str, **options: Any) -> Path:
    """Save a PNG of the page under test-artifacts/screenshots/ (kept by CI)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), **options)
    return path


async def sign_in(page: Page, username: str, password: str) -> None:
    """Fill in and send the login form of the page shown."""
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login button[type=submit]")


async def open_panel(page: Page, camauth: Service, username: str, password: str) -> None:
    """Go to /admin, sign in on the login page it leads to, and wait for the live panel."""
    await page.goto(camauth.url("/admin"))
    await page.wait_for_url(camauth.url("/login?rd=%2Fadmin"))
    await sign_in(page, username, password)
    await page.wait_for_url(re.compile(re.escape(camauth.url("/admin")) + r"(#\w+)?$"))
    await page.locator("#live.on").wait_for()
    await page.locator("#user-list table").wait_for()


async def no_horizontal_scrolling(page: Page) -> bool:
    """Whether the page fits the viewport's width."""
    width: list[int] = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return width[0] <= width[1]
