"""The control for the slow-client test: a proxy that reads each answer whole, then sends it.

This is what unbounded buffering looks like: every slow client costs its whole stream in
memory. Run as ``python buffering_proxy.py <port> <upstream origin>``.
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web


def buffering_app(upstream: str) -> web.Application:
    """Forward GETs to ``upstream``, holding each answer in memory until it is sent."""

    async def forward(request: web.Request) -> web.Response:
        async with (
            aiohttp.ClientSession() as client,
            client.get(upstream + request.path_qs) as answer,
        ):
            body = await answer.read()  # the whole stream, however slow the reader
        return web.Response(body=body, status=answer.status)

    app = web.Application()
    app.router.add_get("/{tail:.*}", forward)
    return app


if __name__ == "__main__":
    web.run_app(buffering_app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]))
