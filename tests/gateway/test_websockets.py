"""WebSockets through the gateway: every frame both ways, close codes, and the end of access."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestServer

from tests.service.conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service

from .camera import WS_SEEN
from .conftest import GatewayFactory, camera_url
from .raw import WAIT

NEW_PASSWORD = "violet canyon ember 42"


async def seen(camera: TestServer) -> tuple[str, object]:
    """The next thing the camera's observing WebSocket reports (bounded wait)."""
    return await asyncio.wait_for(camera.app[WS_SEEN].get(), WAIT)


async def opened(
    gateway: Service, camera: TestServer, path: str = "/observed", **kwargs: Any
) -> ClientWebSocketResponse:
    """The viewer's browser with a WebSocket open through the gateway to the camera."""
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    ws = await gateway.client.ws_connect(gateway.url(path), autoping=False, **kwargs)
    kind, _ = await seen(camera)
    assert kind == "open"
    return ws


async def received(ws: ClientWebSocketResponse) -> aiohttp.WSMessage:
    """The next frame the browser gets (bounded wait)."""
    return await asyncio.wait_for(ws.receive(), WAIT)


async def test_text_and_binary_both_ways(gateway: Service, camera: TestServer) -> None:
    ws = await opened(gateway, camera)
    await ws.send_str("hello camera")
    assert await seen(camera) == ("text", "hello camera")
    assert (await received(ws)).data == "hello camera"
    await ws.send_bytes(b"\x00\xffframe")
    assert await seen(camera) == ("binary", b"\x00\xffframe")
    echoed = await received(ws)
    assert (echoed.type, echoed.data) == (WSMsgType.BINARY, b"\x00\xffframe")
    await ws.close()


async def test_browser_ping_reaches_the_camera_and_its_pong_comes_back(
    gateway: Service, camera: TestServer
) -> None:
    ws = await opened(gateway, camera)
    await ws.ping(b"are you there")
    assert await seen(camera) == ("ping", b"are you there")
    pong = await received(ws)
    assert (pong.type, pong.data) == (WSMsgType.PONG, b"are you there")
    await ws.close()


async def test_browser_close_code_reaches_the_camera(gateway: Service, camera: TestServer) -> None:
    ws = await opened(gateway, camera)
    await ws.close(code=4000, message=b"tab closed")
    assert await seen(camera) == ("close", 4000)


async def test_camera_close_code_reaches_the_browser(gateway: Service, camera: TestServer) -> None:
    ws = await opened(gateway, camera)
    await ws.send_str("close:4321")
    message = await received(ws)
    assert (message.type, message.data, message.extra) == (WSMsgType.CLOSE, 4321, "asked to")


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (("camera.v2", "other"), "camera.v2"),
        (("other", "camera.v1"), "camera.v1"),
        (("other",), None),
    ],
)
async def test_subprotocol_is_the_cameras_choice(
    gateway: Service, camera: TestServer, offered: tuple[str, ...], chosen: str | None
) -> None:
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    ws = await gateway.client.ws_connect(gateway.url("/observed"), protocols=offered)
    assert await seen(camera) == ("open", ("/observed", chosen))
    assert ws.protocol == chosen
    await ws.close()


async def test_cross_site_handshake_with_a_cookie_is_refused(
    gateway: Service, camera: TestServer
) -> None:
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await gateway.client.ws_connect(
            gateway.url("/observed"), headers={"Origin": "https://evil.example"}
        )
    assert refused.value.status == 403
    assert camera.app[WS_SEEN].empty()  # the camera never saw the handshake
    own = str(gateway.server.make_url("/")).rstrip("/")
    ws = await gateway.client.ws_connect(gateway.url("/observed"), headers={"Origin": own})
    assert (await seen(camera))[0] == "open"
    await ws.close()


# What takes access away, done by the viewer or by an admin, and the close code it means.
Action = Callable[[Service, ClientSession], Awaitable[aiohttp.ClientResponse]]


async def _logout(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    return await gateway.request("POST", "/camauth/api/logout")


async def _own_password(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    body = {"old_password": VIEWER_PASSWORD, "password": NEW_PASSWORD}
    return await gateway.request("PUT", "/camauth/api/auth/password", json=body)


async def _admin_sets_password(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    url = gateway.url("/camauth/api/users/viewer/password")
    return await admin.put(url, json={"password": NEW_PASSWORD})


async def _role_that_may_not(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    role = {"name": "snapshots", "rules": [{"paths": ["/"], "methods": ["GET"]}]}
    created = await admin.post(gateway.url("/camauth/api/roles"), json=role)
    assert created.status == 201, await created.text()
    return await _set_role(gateway, admin, "snapshots")


async def _role_admin(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    return await _set_role(gateway, admin, "admin")


async def _set_role(gateway: Service, admin: ClientSession, role: str) -> aiohttp.ClientResponse:
    return await admin.put(gateway.url("/camauth/api/users/viewer/role"), json={"role": role})


async def _delete_user(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    return await admin.delete(gateway.url("/camauth/api/users/viewer"))


async def _revoke_sessions(gateway: Service, admin: ClientSession) -> aiohttp.ClientResponse:
    return await admin.post(gateway.url("/camauth/api/users/viewer/revoke_sessions"))


REVOCATIONS: list[tuple[str, Action, int]] = [
    ("logout", _logout, 4001),
    ("own-password-change", _own_password, 4001),
    ("admin-sets-password", _admin_sets_password, 4001),
    ("role-that-may-not", _role_that_may_not, 4003),
    ("user-deleted", _delete_user, 4001),
    ("admin-revokes-sessions", _revoke_sessions, 4001),
]


async def admin_session(gateway: Service) -> ClientSession:
    """Another browser, logged in as admin."""
    admin = await gateway.fresh_client()
    body = {"username": "admin", "password": ADMIN_PASSWORD}
    answer = await admin.post(gateway.url("/camauth/api/login"), json=body)
    assert answer.status == 200
    return admin


@pytest.mark.parametrize(
    ("action", "code"),
    [pytest.param(action, code, id=name) for name, action, code in REVOCATIONS],
)
async def test_access_ending_closes_the_websocket_and_the_stream(
    gateway: Service, camera: TestServer, action: Action, code: int
) -> None:
    ws = await opened(gateway, camera)
    stream = await gateway.request("GET", "/mjpeg")
    assert (await asyncio.wait_for(stream.content.readexactly(7), WAIT)) == b"--frame"
    admin = await admin_session(gateway)
    answer = await action(gateway, admin)
    assert answer.status in (200, 204), await answer.text()
    message = await received(ws)
    # The code in the close frame, as a browser's onclose reports it (the client's own
    # close_code turns into 1006 when the gateway drops the connection before its reply).
    assert (message.type, message.data) == (WSMsgType.CLOSE, code)
    assert await seen(camera) == ("close", 1001)  # the camera is told the client went away
    with pytest.raises(aiohttp.ClientPayloadError):  # the MJPEG stream is cut, not ended
        await asyncio.wait_for(stream.content.read(), WAIT)


async def test_more_access_keeps_the_websocket(gateway: Service, camera: TestServer) -> None:
    """The control for the table above: a change that takes nothing away closes nothing."""
    ws = await opened(gateway, camera)
    stream = await gateway.request("GET", "/mjpeg")
    answer = await _role_admin(gateway, await admin_session(gateway))
    assert answer.status == 200
    await ws.send_str("still here")
    assert (await received(ws)).data == "still here"
    for _ in range(3):  # frames keep coming
        await asyncio.wait_for(stream.content.readuntil(b"\xff\xd9"), WAIT)
    stream.close()
    await ws.close()


@pytest.mark.parametrize(
    ("name", "prefix", "path"),
    [
        ("go2rtc", "/", "api/ws?src=front"),
        ("go2rtc", "/go2rtc/", "api/ws?src=front"),
        ("frigate", "/", "ws"),
        ("frigate", "/frigate/", "ws"),
    ],
)
async def test_camera_ui_websocket_at_root_and_under_a_prefix(
    start_gateway: GatewayFactory, camera: TestServer, name: str, prefix: str, path: str
) -> None:
    gateway = await start_gateway({"name": name, "url": camera_url(camera), "path": prefix})
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    ws = await gateway.client.ws_connect(gateway.url(prefix + path))
    assert await seen(camera) == ("open", ("/" + path, None))
    await ws.send_str('{"type": "webrtc/offer"}')
    assert await seen(camera) == ("text", '{"type": "webrtc/offer"}')
    assert (await received(ws)).data == '{"type": "webrtc/offer"}'
    await ws.close()
