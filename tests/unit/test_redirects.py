"""Return addresses: one table, for the server here and the login page in Chromium."""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

import pytest

from camauth.core.redirects import safe_return_path
from tests.data import DATA

OPEN_REDIRECTS = DATA / "openredirects.txt"

RETURN_ADDRESSES = json.loads((DATA / "return_addresses.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("value", "expected"), RETURN_ADDRESSES["cases"])
def test_safe_return_path(value: str, expected: str) -> None:
    assert safe_return_path(value) == expected


def test_no_return_address_is_home() -> None:
    assert safe_return_path(None) == "/"


def _stays_on_host(result: str) -> bool:
    if result == "/":
        return True
    # Also the way a browser reads it: tabs and newlines dropped, backslashes as slashes.
    browser = result.replace("\\", "/").translate({9: None, 10: None, 13: None})
    for candidate in (result, browser):
        parts = urlsplit(urljoin("http://cam.local/", candidate))
        if parts.scheme != "http" or parts.netloc != "cam.local" or parts.hostname != "cam.local":
            return False
    return result.startswith("/") and not result.startswith("//")


OPEN_REDIRECT_PAYLOADS = [
    line for line in OPEN_REDIRECTS.read_text(encoding="utf-8").splitlines() if line
]


def test_open_redirect_payloads_are_loaded() -> None:
    assert len(OPEN_REDIRECT_PAYLOADS) > 500


@pytest.mark.parametrize(
    "payload", OPEN_REDIRECT_PAYLOADS, ids=[f"line{n}" for n in range(len(OPEN_REDIRECT_PAYLOADS))]
)
def test_open_redirect_payloads_stay_on_the_host(payload: str) -> None:
    result = safe_return_path(payload)
    assert result in ("/", payload) or payload.count(".") >= 1  # kept, refused, or resolved
    assert _stays_on_host(result), (payload, result)
