"""The middlewares on their own, on mocked requests."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from camauth.http.middlewares import _render_errors, header_guard_middleware


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


def too_large(reason: str) -> web.HTTPException:
    """aiohttp's 413 past client_max_size, with the reason a Python version gives it."""
    return web.HTTPRequestEntityTooLarge(max_size=16384, actual_size=20000, reason=reason)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (too_large("Request Entity Too Large"), "Content Too Large"),  # Python 3.11's name
        (too_large("Content Too Large"), "Content Too Large"),  # Python 3.13's
        (web.HTTPRequestURITooLong(reason="Request-URI Too Long"), "URI Too Long"),
        (
            web.HTTPRequestRangeNotSatisfiable(reason="Requested Range Not Satisfiable"),
            "Range Not Satisfiable",
        ),
        (web.HTTPUnprocessableEntity(reason="Unprocessable Entity"), "Unprocessable Content"),
        (web.HTTPBadRequest(reason="Request Entity Too Large?"), "Request Entity Too Large?"),
    ],
    ids=["413-3.11", "413-3.13", "414", "416", "422", "own-text"],
)
async def test_aiohttps_errors_use_rfc_9110_names(error: web.HTTPException, text: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        raise error

    response = await _render_errors(make_mocked_request("POST", "/"), handler)
    assert isinstance(response, web.Response)
    assert response.status == error.status
    assert json.loads(response.text or "")["error"] == text
