"""Debian's Chromium, driven by Playwright, against a real CamAuth."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

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
