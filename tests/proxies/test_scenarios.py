"""One scenario, four real proxies: nginx, NPM's nginx, Caddy and Traefik on their recipes.

Clients come from other loopback addresses than the proxy's: 127.0.0.3 is an attacker
behind the proxy, 127.0.0.4 a family member.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urljoin

import pytest
from aiohttp import ClientSession, WSServerHandshakeError

from tests.service.conftest import ADMIN_PASSWORD, VIEWER_PASSWORD
from tests.service.test_locked_database import due_for_renewal

from .harness import TIMEOUT, client_from
from .stack import BROWSER, FAMILY, SCRIPT, Stack, sign_in, status_of
from .upstream import BOUNDARY, FRAMES, SDP_ANSWER

PORCH_PASSWORD = "amber lighthouse kettle 5"
RETURN_TO = re.compile(r'name="camauth-return-to" content="([^"]*)"')


async def test_a_browser_signs_in_on_the_camera_host_and_returns(stack: Stack) -> None:
    async with client_from(FAMILY) as client:
        first = await client.get(
            stack.url("/review?camera=front"), headers=BROWSER, allow_redirects=False
        )
        assert first.status == 302, await first.text()
        location = first.headers["Location"]
        assert location == "/camauth/login?rd=%2Freview%3Fcamera%3Dfront"
        page = await client.get(urljoin(stack.base, location), headers=BROWSER)
        assert page.status == 200
        found = RETURN_TO.search(await page.text())
        assert found is not None
        return_to = found.group(1).replace("&amp;", "&")
        assert return_to == "/review?camera=front"
        await sign_in(client, stack, "admin", ADMIN_PASSWORD)
        back = await client.get(stack.url(return_to), headers=BROWSER, allow_redirects=False)
        assert back.status == 200
        assert "<p>admin" in await back.text()
        # The admin panel is under the same prefix, on the camera's host.
        assert await status_of(client, "GET", stack.url("/camauth/admin"), headers=BROWSER) == 200
    assert stack.camera.reached("/review?camera=front")


async def test_an_anonymous_script_gets_a_plain_401(stack: Stack) -> None:
    async with client_from(FAMILY) as client:
        response = await client.get(stack.url("/api/stats"), headers=SCRIPT, allow_redirects=False)
        assert response.status == 401
        assert "Location" not in response.headers
    assert stack.camera.seen == []


async def test_a_large_upload_goes_through(stack: Stack) -> None:
    body = b"x" * (1024 * 1024)
    async with client_from(FAMILY) as client:
        await sign_in(client, stack, "admin", ADMIN_PASSWORD)
        response = await client.post(stack.url("/api/upload"), data=body, timeout=TIMEOUT)
        assert response.status == 200, await response.text()
        assert await response.json() == {"size": len(body)}


async def test_the_websocket_needs_a_session(stack: Stack) -> None:
    async with client_from(FAMILY) as client:
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(stack.url("/ws"))
        assert refused.value.status == 401
        await sign_in(client, stack, "viewer", VIEWER_PASSWORD)
        async with client.ws_connect(stack.url("/ws")) as ws:
            await ws.send_str("ping")
            assert await ws.receive_str(timeout=30) == "echo:ping"


async def test_a_viewer_watches_the_mjpeg_stream_as_it_comes(stack: Stack) -> None:
    first = f"--{BOUNDARY}\r\n".encode()
    async with client_from(FAMILY) as client:
        await sign_in(client, stack, "viewer", VIEWER_PASSWORD)
        response = await client.get(stack.url("/api/front/stream.mjpeg"))
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        # The first frame arrives while the camera is still sending (not buffered to the end).
        body = await response.content.readuntil(b"fake-jpeg-0")
        assert body.startswith(first)
        stack.camera.watched.set()
        body += await response.read()
    assert body.count(first) == FRAMES
    assert b"fake-jpeg-%d" % (FRAMES - 1) in body


async def test_a_viewer_may_offer_webrtc_but_not_change_settings(stack: Stack) -> None:
    offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"
    async with client_from(FAMILY) as client:
        await sign_in(client, stack, "viewer", VIEWER_PASSWORD)
        answer = await client.post(
            stack.url("/api/webrtc?src=front"),
            data=offer,
            headers={"Content-Type": "application/sdp"},
        )
        assert answer.status == 200
        assert await answer.text() == SDP_ANSWER
        for method in ("POST", "PUT", "DELETE"):
            assert await status_of(client, method, stack.url("/api/config"), json={}) == 403
    assert not stack.camera.reached("/api/config")


async def add_porch_user(stack: Stack) -> str:
    """An admin creates a role that sees only the ``front`` camera, and a user with it.

    Returns that user's session token.
    """
    role = {
        "name": "porch",
        "description": "The front camera only",
        "rules": [{"paths": ["/api/*/latest.*", "/api/*/stream.*"], "methods": ["GET"]}],
        "presets": ["go2rtc_webrtc"],
        "cameras": ["front"],
    }
    user = {"username": "porch", "password": PORCH_PASSWORD, "role": "porch"}
    async with client_from(FAMILY) as admin:
        await sign_in(admin, stack, "admin", ADMIN_PASSWORD)
        assert await status_of(admin, "POST", stack.url("/camauth/api/roles"), json=role) == 201
        assert await status_of(admin, "POST", stack.url("/camauth/api/users"), json=user) == 201
    async with client_from(FAMILY) as client:
        return await sign_in(client, stack, "porch", PORCH_PASSWORD)


async def test_a_camera_limited_role_sees_only_its_camera(stack: Stack) -> None:
    token = await add_porch_user(stack)
    bearer = {"Authorization": f"Bearer {token}"}
    offer = {"data": "v=0\r\n", "headers": {**bearer, "Content-Type": "application/sdp"}}
    async with client_from(FAMILY) as client:
        get = stack.url("/api/front/latest.jpg")
        assert await status_of(client, "GET", get, headers=bearer) == 200
        get = stack.url("/api/back/latest.jpg")
        assert await status_of(client, "GET", get, headers=bearer) == 403
        assert await status_of(client, "POST", stack.url("/api/webrtc?src=front"), **offer) == 200
        assert await status_of(client, "POST", stack.url("/api/webrtc?src=back"), **offer) == 403
        assert await status_of(client, "GET", stack.url("/api/config"), headers=bearer) == 403
    assert not stack.camera.reached("/api/back/latest.jpg")


async def raw_request(stack: Stack, method: str, target: str, token: str) -> int:
    """Send a request target byte for byte (no client normalises it); returns the status."""
    host = stack.base.removeprefix("http://")
    address, port = host.split(":")
    reader, writer = await asyncio.open_connection(address, int(port), local_addr=(FAMILY, 0))
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), TIMEOUT.total)
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


# Other spellings of a target the porch role may not reach, and of /api/config.
DISGUISED = [
    ("GET", "/api/front/../back/latest.jpg"),
    ("GET", "/api/front/%2e%2e/back/latest.jpg"),
    ("GET", "/api/front/%2E%2E/back/latest.jpg"),
    ("GET", "/api/front%2F..%2Fback/latest.jpg"),
    ("GET", "/api/front/latest.jpg/..%2F..%2Fback/latest.jpg"),
    ("GET", "//api/back/latest.jpg"),
    ("GET", "/api//back/latest.jpg"),
    ("GET", "/api/%62ack/latest.jpg"),
    ("GET", "/api/./back/latest.jpg"),
    ("POST", "/api/webrtc/../../api/config"),
    ("POST", "/api/webrtc/%2e%2e/%2e%2e/api/config"),
    ("POST", "/api/webrtc%2F..%2F..%2Fapi/config"),
]


# Other spellings of the front camera's snapshot, which the porch role may see.
ALLOWED_SPELLINGS = [
    "/api/front/latest.jpg",
    "/api/%66ront/latest.jpg",
    "/api/x/../front/latest.jpg",
]


async def test_disguised_paths_are_judged_as_their_target(stack: Stack) -> None:
    token = await add_porch_user(stack)
    for method, target in DISGUISED:
        # CamAuth sees the raw path (X-Original-URI, X-Forwarded-Uri) and judges its target.
        assert await raw_request(stack, method, target, token) == 403, (stack.peer, target)
    assert stack.camera.seen == [], stack.peer
    for target in ALLOWED_SPELLINGS:
        assert await raw_request(stack, "GET", target, token) == 200, (stack.peer, target)


async def test_logout_locks_the_session_out_at_once(stack: Stack) -> None:
    async with client_from(FAMILY) as client:
        token = await sign_in(client, stack, "viewer", VIEWER_PASSWORD)
        assert await status_of(client, "GET", stack.url("/api/stats"), headers=SCRIPT) == 200
        assert await status_of(client, "POST", stack.url("/camauth/api/logout")) == 200
    async with ClientSession(timeout=TIMEOUT) as stale:  # the old cookie, sent again
        cookie = {"Cookie": f"camauth_token={token}", **SCRIPT}
        assert await status_of(stale, "GET", stack.url("/api/stats"), headers=cookie) == 401
        bearer = {"Authorization": f"Bearer {token}", **SCRIPT}
        assert await status_of(stale, "GET", stack.url("/api/stats"), headers=bearer) == 401


async def guess_passwords(stack: Stack, source: str, attempts: int, spoof: bool) -> list[int]:
    """Wrong-password logins through the proxy; ``spoof`` adds a fresh X-Forwarded-For."""
    statuses = []
    wrong = {"username": "admin", "password": "wrong password guess"}
    async with client_from(source) as client:
        for n in range(attempts):
            headers = {"X-Forwarded-For": f"198.51.100.{n}"} if spoof else {}
            url = stack.url("/camauth/api/login")
            statuses.append(await status_of(client, "POST", url, json=wrong, headers=headers))
    return statuses


@pytest.mark.parametrize("spoof", [False, True])
async def test_the_client_behind_the_proxy_is_the_one_locked_out(stack: Stack, spoof: bool) -> None:
    assert await guess_passwords(stack, "127.0.0.3", 6, spoof) == [401] * 5 + [429]
    keys = {lockout.key for lockout in stack.service.services.lockouts.lockouts()}
    assert keys == {"127.0.0.3"}, stack.peer
    async with client_from(FAMILY) as client:  # the family member is not affected
        await sign_in(client, stack, "admin", ADMIN_PASSWORD)


async def test_identity_headers_from_the_client_never_reach_the_camera(stack: Stack) -> None:
    spoofed = {
        "Remote-User": "admin",
        "Remote-Role": "admin",
        "Remote-Groups": "admins",
        "Remote_User": "admin",
        "Remote-Email": "boss@example.com",
    }
    async with client_from(FAMILY) as client:
        await sign_in(client, stack, "viewer", VIEWER_PASSWORD)
        response = await client.get(stack.url("/api/profile"), headers={**SCRIPT, **spoofed})
        assert response.status == 200
        seen = await response.json()
    assert (seen["Remote-User"], seen["Remote-Role"]) == ("viewer", "viewer")
    unsent = ("Remote-Groups", "Remote-Email", "Remote_User")
    assert {name: seen[name] for name in unsent} == dict.fromkeys(unsent), stack.peer


# DOCS: nginx, NPM and Traefik hand a renewed session cookie on; Caddy has no way to.
PASSES_RENEWALS = {"nginx": True, "npm": True, "traefik": True, "caddy": False}


async def test_a_renewed_session_cookie_reaches_the_browser(stack: Stack) -> None:
    async with client_from(FAMILY) as client:
        token = await sign_in(client, stack, "viewer", VIEWER_PASSWORD)
    cookie = {"Cookie": f"camauth_token={due_for_renewal(token)}", **SCRIPT}
    async with (
        ClientSession(timeout=TIMEOUT) as browser,
        browser.get(stack.url("/api/stats"), headers=cookie) as response,
    ):
        assert response.status == 200
        renewed = [c for c in response.headers.getall("Set-Cookie", []) if "camauth_token=" in c]
    assert bool(renewed) is PASSES_RENEWALS[stack.peer], (stack.peer, renewed)


async def test_a_login_posted_from_another_site_is_refused(stack: Stack) -> None:
    foreign = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    login = {"username": "admin", "password": ADMIN_PASSWORD}
    async with client_from(FAMILY) as client:
        url = stack.url("/camauth/api/login")
        assert await status_of(client, "POST", url, json=login, headers=foreign) == 403
        # The proxy keeps the browser's host, so CamAuth sees its own pages' origin as such.
        assert await status_of(client, "POST", url, json=login, headers=stack.same_origin()) == 200
