"""The API client on its own: CamAuth's answers, and what it makes of servers that are not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, WSCloseCode, web

from custom_components.camauth.api import (
    CamAuthAuthenticationError,
    CamAuthClient,
    CamAuthConnectionError,
    CamAuthEvent,
    CamAuthNotAdminError,
    CamAuthResponseError,
    Hello,
    StatsUpdate,
    address_key,
    username_key,
)

from .conftest import VIEWER_PASSWORD, CamAuth, free_port


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        (" 192.0.2.7 ", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::/64", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::/96", "2001:db8:1:2::/64"),
        ("2001:db8::/48", "2001:db8::/48"),
        ("192.0.2.0/24", "192.0.2.0/24"),
        ("::ffff:192.0.2.7", "::/64"),  # as CamAuth counts it: a v6 address
    ],
)
def test_address_key_counts_ipv6_per_64(address: str, key: str) -> None:
    assert address_key(address) == key


@pytest.mark.parametrize("address", ["", "viewer", "192.0.2.300", "2001:db8::/129"])
def test_address_key_refuses_what_is_not_an_address(address: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - ipaddress's own message
        address_key(address)


FULLWIDTH_ADMIN = " \uff21\uff24\uff2d\uff29\uff2e "  # NFKC makes it "ADMIN"


@pytest.mark.parametrize(("name", "key"), [("Viewer", "viewer"), (FULLWIDTH_ADMIN, "admin")])
def test_username_key_is_camauths(name: str, key: str) -> None:
    assert username_key(name) == key


async def test_client_against_camauth(camauth: CamAuth, session: ClientSession) -> None:
    client = CamAuthClient(session, camauth.url + "/", camauth.api_key)
    stats = await client.validate()
    assert stats.instance_id == await camauth.instance_id()
    assert stats.users == {"admin": 1, "viewer": 1, "total": 2}
    assert stats.users_total == 2
    assert [user.username for user in stats.user_activity] == ["admin", "viewer"]
    assert await client.lift_lockout(4242) is False
    assert await client.lockouts() == []
    assert await client.revoke_sessions("admin") == 0

    viewer = CamAuthClient(session, camauth.url, await camauth.new_key("v", "viewer"))
    with pytest.raises(CamAuthNotAdminError):
        await viewer.stats()
    with pytest.raises(CamAuthNotAdminError):
        await viewer.validate()
    wrong = CamAuthClient(session, camauth.url, "wrong")
    with pytest.raises(CamAuthAuthenticationError):
        await wrong.validate()


async def test_stream_messages(camauth: CamAuth, session: ClientSession) -> None:
    client = CamAuthClient(session, camauth.url, camauth.api_key)
    stream = client.listen()
    hello = await anext(stream)
    assert isinstance(hello, Hello)
    assert hello.stats.instance_id == await camauth.instance_id()
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    event = await anext(stream)
    assert isinstance(event, CamAuthEvent)
    assert (event.type, event.username, event.client) == ("login_succeeded", "viewer", "127.0.0.1")
    await stream.aclose()


@pytest.mark.parametrize(
    ("key", "error"),
    [("wrong", CamAuthAuthenticationError), ("viewer", CamAuthNotAdminError)],
)
async def test_stream_refused(
    camauth: CamAuth, session: ClientSession, key: str, error: type[Exception]
) -> None:
    if key == "viewer":
        key = await camauth.new_key("v", "viewer")
    with pytest.raises(error):
        await anext(CamAuthClient(session, camauth.url, key).listen())


async def test_stream_unreachable(session: ClientSession) -> None:
    client = CamAuthClient(session, f"http://127.0.0.1:{free_port()}", "key")
    with pytest.raises(CamAuthConnectionError):
        await anext(client.listen())


def _stream_server(*frames: Any, close_code: int = WSCloseCode.OK) -> web.Application:
    """A WebSocket server that sends these frames, then closes with this code."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in frames:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            elif isinstance(frame, str):
                await ws.send_str(frame)
            else:
                await ws.send_json(frame)
        await ws.close(code=close_code)
        return ws

    app = web.Application()
    app.router.add_get("/camauth/api/ws", handler)
    return app


async def test_stream_close_codes_and_newer_messages(
    camauth: CamAuth, session: ClientSession, start_web: Any
) -> None:
    stats = await camauth.stats()
    newer = [{"type": "from-the-future"}, b"binary", {"type": "stats", "stats": stats}]
    url = await start_web(_stream_server(*newer, close_code=4001))
    stream = CamAuthClient(session, url, "k").listen()
    assert isinstance(await anext(stream), StatsUpdate)  # unknown types and binary skipped
    with pytest.raises(CamAuthAuthenticationError, match="revoked"):
        await anext(stream)
    url = await start_web(_stream_server(close_code=4003))
    with pytest.raises(CamAuthNotAdminError):
        await anext(CamAuthClient(session, url, "k").listen())
    url = await start_web(_stream_server(close_code=WSCloseCode.GOING_AWAY))
    with pytest.raises(CamAuthConnectionError, match="1001"):
        await anext(CamAuthClient(session, url, "k").listen())


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        {"type": "event", "event": {"type": "login_failed"}},
        {"type": "event", "event": {"type": "x", "timestamp": True}},
        {"type": "event", "event": {"type": "x", "timestamp": 1.5, "username": 7}},
        {"type": "hello", "version": "1", "stats": {}},
        {"type": "stats", "stats": None},
        {"no": "type"},
        [],
    ],
)
async def test_stream_malformed_message(session: ClientSession, start_web: Any, frame: Any) -> None:
    url = await start_web(_stream_server(frame))
    with pytest.raises(CamAuthResponseError):
        await anext(CamAuthClient(session, url, "k").listen())


async def test_old_camauth_without_warnings(session: ClientSession, start_web: Any) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"error": "Not found"}, status=404)

    app = web.Application()
    app.router.add_get("/camauth/api/warnings", missing)
    assert await CamAuthClient(session, await start_web(app), "k").warnings() == []


async def test_refusals_carry_camauths_message_and_code(
    session: ClientSession, start_web: Any
) -> None:
    async def conflict(request: web.Request) -> web.Response:
        return web.json_response({"error": "Nope", "code": "last_admin"}, status=409)

    async def teapot(request: web.Request) -> web.Response:
        return web.Response(status=418, text="short and stout")

    app = web.Application()
    app.router.add_post("/camauth/api/users/{name}/revoke_sessions", conflict)
    app.router.add_post("/camauth/api/users/{name}/reset_password", teapot)
    client = CamAuthClient(session, await start_web(app), "k")
    with pytest.raises(Exception, match="Nope") as err:
        await client.revoke_sessions("a/b")
    assert (err.value.status, err.value.code) == (409, "last_admin")  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="HTTP 418") as err:
        await client.reset_password("x")
    assert err.value.code is None  # type: ignore[attr-defined]
