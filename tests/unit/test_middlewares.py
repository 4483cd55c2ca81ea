"""The middlewares on their own, on mocked requests."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from camauth.http.middlewares import header_guard_middleware


async def reached(request: web.Request) -> web.Response:
    """The handler behind the middleware: says that the request got through."""
    return web.Response(text="reached")


@pytest.mark.parametrize("value", ["a\x01b", "a\x00b", "a\x1fb", "a\x7fb"])
async def test_header_guard_refuses_control_characters(value: str) -> None:
    refused = await header_guard_middleware(
        make_mocked_request("GET", "/", headers={"X-Test": value}), reached
    )
    assert refused.status == 400


@pytest.mark.parametrize("value", ["a\tb", "plain", "é"])
async def test_header_guard_lets_other_values_through(value: str) -> None:
    passed = await header_guard_middleware(
        make_mocked_request("GET", "/", headers={"X-Test": value}), reached
    )
    assert isinstance(passed, web.Response)
    assert passed.text == "reached"
