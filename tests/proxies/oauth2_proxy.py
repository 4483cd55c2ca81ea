"""A stand-in for oauth2-proxy in front of Kanidm: its ``/oauth2/auth`` and sign-in page.

``/oauth2/auth`` answers 202 with the ``X-Auth-Request-*`` headers of the session named by the
``_oauth2_proxy`` cookie (as oauth2-proxy does with ``set_xauthrequest``), else 401. Like
oauth2-proxy, it leaves out a header whose claim is empty (a user in no group).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

COOKIE = "_oauth2_proxy"
SIGN_IN = "https://idm.example.com/ui/oauth2"


@dataclass(frozen=True, slots=True)
class KanidmUser:
    """What Kanidm's token says about someone."""

    preferred_username: str
    email: str
    groups: tuple[str, ...]


# Session cookie value -> the user it belongs to.
SESSIONS: Mapping[str, KanidmUser] = {
    "session-zoe": KanidmUser("zoechi", "zoe@example.com", ("frigate_admins", "frigate_family")),
    "session-kim": KanidmUser("kim", "kim@example.com", ("frigate_family",)),
    "session-guest": KanidmUser("guest", "guest@example.com", ()),
}


async def _auth(request: web.Request) -> web.Response:
    user = SESSIONS.get(request.cookies.get(COOKIE, ""))
    if user is None:
        return web.Response(status=401)
    headers = {
        "X-Auth-Request-Preferred-Username": user.preferred_username,
        "X-Auth-Request-Email": user.email,
    }
    if user.groups:
        headers["X-Auth-Request-Groups"] = ",".join(user.groups)
    return web.Response(status=202, headers=headers)


async def _sign_in(request: web.Request) -> web.Response:
    raise web.HTTPFound(SIGN_IN)


@pytest.fixture
async def oauth2_proxy() -> AsyncIterator[int]:
    """The stand-in on 127.0.0.1; yields its port."""
    app = web.Application()
    app.router.add_get("/oauth2/auth", _auth)
    app.router.add_route("*", "/oauth2/sign_in", _sign_in)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    assert server.port is not None
    yield server.port
    await server.close()
