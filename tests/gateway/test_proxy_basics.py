"""The built-in proxy: only a session gets through, and what gets through is what was judged."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer
from yarl import URL

from tests.service.conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, free_port

from .conftest import GatewayFactory, camera_url

HTML = {"Accept": "text/html", "Sec-Fetch-Mode": "navigate"}


async def test_browser_without_session_is_sent_to_login_and_back(gateway: Service) -> None:
    response = await gateway.request(
        "GET", "/live/front?zoom=2", headers=HTML, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == "/camauth/login?rd=%2Flive%2Ffront%3Fzoom%3D2"


async def test_api_call_without_session_gets_401_pointing_at_login(gateway: Service) -> None:
    response = await gateway.request(
        "GET", "/api/stats", headers={"Referer": gateway.url("/review")}, allow_redirects=False
    )
    assert response.status == 401
    assert (await response.json())["code"] == "unauthorized"
    assert response.headers["Location"] == "/camauth/login?rd=%2Freview"


async def test_camauth_is_under_its_prefix_and_the_rest_is_the_camera_uis(gateway: Service) -> None:
    response = await gateway.request("POST", "/api/login", json={})
    assert response.status == 401  # the camera UI's /api/login, out of reach without a session
    await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
    response = await gateway.request("POST", "/api/login", json={})
    assert (await response.json())["path"] == "/api/login"
    assert (await gateway.request("GET", "/camauth/api/profile")).status == 200
    body = await (await gateway.request("GET", "/api/profile")).json()
    assert body["path"] == "/api/profile"
    assert body["headers"]["Remote-User"] == "admin"
    assert body["headers"]["Remote-Role"] == "admin"


async def test_viewer_watches_but_changes_nothing(gateway: Service) -> None:
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    assert (await gateway.request("GET", "/api/stats")).status == 200
    assert (await gateway.request("POST", "/api/webrtc?src=front", data=b"v=0")).status == 200
    refused = await gateway.request("POST", "/api/config/set", json={})
    assert refused.status == 403
    assert (await refused.json())["code"] == "read_only"


async def test_refusal_is_a_page_for_a_browser(gateway: Service) -> None:
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    response = await gateway.request("DELETE", "/api/events/1", headers=HTML)
    assert response.status == 403
    page = await response.text()
    assert "Viewers can look but not change anything." in page
    assert 'href="/camauth/static/camauth/camauth.css"' in page


async def test_the_camera_ui_gets_camauths_word_not_the_clients(gateway: Service) -> None:
    token = await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    spoofed = {
        "Remote-User": "admin",
        "Remote-Role": "admin",
        "X-Forwarded-For": "10.9.9.9",
        "X-Forwarded-Host": "evil.example",
        "X-Auth-Request-User": "admin",
        "X-Proxy-Secret": "guess",
        "Cookie": f"camauth_token={token}; camera_session=abc",
        "Connection": "X-Drop-Me",
        "X-Drop-Me": "1",
    }
    client = await gateway.fresh_client()
    response = await client.get(gateway.url("/api/echo"), headers=spoofed)
    headers = (await response.json())["headers"]
    assert headers["Remote-User"] == "viewer"
    assert headers["Remote-Role"] == "viewer"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Host"] == f"127.0.0.1:{gateway.server.port}"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["Cookie"] == "camera_session=abc"
    for name in ("X-Auth-Request-User", "X-Proxy-Secret", "X-Drop-Me"):
        assert name not in headers


async def test_bearer_token_stays_with_camauth_and_basic_credentials_pass(gateway: Service) -> None:
    token = await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
    client = await gateway.fresh_client()
    response = await client.get(
        gateway.url("/api/echo"), headers={"Authorization": f"Bearer {token}"}
    )
    assert "Authorization" not in (await response.json())["headers"]
    await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
    basic = {"Authorization": "Basic Y2FtOmNhbQ=="}
    response = await gateway.request("GET", "/api/echo", headers=basic)
    assert (await response.json())["headers"]["Authorization"] == "Basic Y2FtOmNhbQ=="


async def test_judged_path_is_the_path_sent(gateway: Service) -> None:
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    url = URL(gateway.url("/live/..//api/%65cho/./x?a=1"), encoded=True)
    body = await (await gateway.client.get(url)).json()
    assert body["path"] == "/api/echo/x"
    assert body["query"] == "a=1"
    refused = await gateway.client.get(URL(gateway.url("/api/a%2Fb"), encoded=True))
    assert refused.status == 400
    assert (await refused.json())["code"] == "path_refused"


async def test_get_with_a_body_is_refused(gateway: Service) -> None:
    await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
    response = await gateway.request("GET", "/api/echo", data=b"smuggled")
    assert response.status == 400
    assert (await response.json())["code"] == "body_not_allowed"


async def test_upload_streams_through(gateway: Service) -> None:
    await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
    blob = bytes(range(256)) * 4096 * 8  # 8 MiB, far past CamAuth's own body limit

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(blob), 65536):
            yield blob[start : start + 65536]

    for data in (blob, chunks()):
        body = await (await gateway.request("POST", "/upload", data=data)).json()
        assert body == {"size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


async def test_websocket_is_bridged_both_ways(gateway: Service) -> None:
    await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
    async with gateway.client.ws_connect(gateway.url("/ws"), protocols=("camera.v1",)) as ws:
        assert ws.protocol == "camera.v1"
        await ws.send_str("hello")
        assert (await ws.receive()).data == "hello"
        await ws.send_bytes(b"\x00\x01")
        assert (await ws.receive()).data == b"\x00\x01"
        await ws.send_str("close:4321")
        message = await ws.receive()
        assert message.type is WSMsgType.CLOSE
        assert ws.close_code == 4321


async def test_websocket_needs_a_session(gateway: Service) -> None:
    client = await gateway.fresh_client()
    response = await client.get(
        gateway.url("/ws"),
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 401


async def test_revoked_session_loses_its_websocket_and_stream(gateway: Service) -> None:
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    ws = await gateway.client.ws_connect(gateway.url("/ws"))
    stream = await gateway.request("GET", "/mjpeg")
    assert (await stream.content.readexactly(20)).startswith(b"--frame")
    admin = await gateway.fresh_client()
    await admin.post(
        gateway.url("/camauth/api/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    revoked = await admin.post(gateway.url("/camauth/api/users/viewer/revoke_sessions"))
    assert revoked.status == 200, await revoked.text()
    message = await asyncio.wait_for(ws.receive(), 10)
    assert message.type is WSMsgType.CLOSE
    assert ws.close_code == 4001
    with pytest.raises(aiohttp.ClientPayloadError):
        await asyncio.wait_for(stream.content.read(), 10)


async def test_redirects_and_cookies_of_an_upstream_under_a_prefix(
    start_gateway: GatewayFactory, camera: TestServer
) -> None:
    gateway = await start_gateway({"name": "cam", "url": camera_url(camera), "path": "/cam/"})
    await gateway.login("admin", ADMIN_PASSWORD)  # without an upstream at /, /api is CamAuth's
    for to, expected in (
        ("/live", "/cam/live"),
        (f"{camera_url(camera)}/live?x=1", "/cam/live?x=1"),
        ("https://elsewhere.example/", "https://elsewhere.example/"),
    ):
        response = await gateway.request("GET", f"/cam/redirect?to={to}", allow_redirects=False)
        assert response.headers["Location"] == expected
    response = await gateway.request("GET", "/cam/cookie")
    assert response.headers.getall("Set-Cookie") == ["camera_session=abc; HttpOnly; Path=/cam/"]
    echoed = await (await gateway.request("GET", "/cam/api/echo")).json()
    assert echoed["path"] == "/api/echo"
    assert echoed["headers"]["X-Forwarded-Prefix"] == "/cam"


async def test_dead_and_silent_upstreams_answer_502_and_504(
    start_gateway: GatewayFactory, camera: TestServer
) -> None:
    gateway = await start_gateway(
        {"name": "dead", "url": f"http://127.0.0.1:{free_port()}", "path": "/dead/"},
        {"name": "slow", "url": camera_url(camera), "path": "/slow/", "timeout": 1},
    )
    await gateway.login("admin", ADMIN_PASSWORD)
    dead = await gateway.request("GET", "/dead/")
    assert (dead.status, (await dead.json())["code"]) == (502, "upstream_unavailable")
    slow = await gateway.request("GET", "/slow/never")
    assert (slow.status, (await slow.json())["code"]) == (504, "upstream_timeout")
    page = await gateway.request("GET", "/dead/", headers=HTML)
    assert page.status == 502
    assert "text/html" in page.headers["Content-Type"]
