"""What camera UIs stream passes through as it is, as it comes: bytes, framing and headers."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request

from tests.service.conftest import ADMIN_PASSWORD, Service

from .camera import (
    BOUNDARY,
    COMPRESSED,
    DOWNLOAD,
    FRAME,
    SSE_RELEASE,
    big_body,
    playlist,
    segment,
)
from .conftest import GatewayFactory, port_of
from .raw import WAIT, Message, answers, canned_upstream

BIG = 64 * 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def admin_token(gateway: Service) -> str:
    """Log the shared client in as admin (cookie in its jar); the token, for raw requests."""
    return await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")


def raw_get(token: str, *targets: str, method: str = "GET") -> bytes:
    """Pipelined requests with a bearer token, as one payload (the first with ``method``)."""
    return b"".join(
        f"{method if index == 0 else 'GET'} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
        for index, target in enumerate(targets)
    )


async def camera_answer(handler: Handler, **match: str) -> tuple[str, bytes]:
    """The type and bytes the camera's own handler answers (the reference for exactness)."""
    response = await handler(make_mocked_request("GET", "/", match_info=match))
    assert isinstance(response, web.Response)
    assert isinstance(response.body, bytes)
    return response.headers["Content-Type"], response.body


async def test_hls_playlist_and_segments_are_byte_exact(gateway: Service) -> None:
    await admin_token(gateway)
    for path, handler, match in (
        ("/hls/index.m3u8", playlist, {}),
        ("/hls/segment0.ts", segment, {"number": "0"}),
        ("/hls/segment1.ts", segment, {"number": "1"}),
    ):
        response = await gateway.request("GET", path)
        kind, body = await camera_answer(handler, **match)
        assert response.headers["Content-Type"] == kind
        assert await response.read() == body


async def test_server_sent_events_arrive_before_the_stream_ends(
    gateway: Service, camera: TestServer
) -> None:
    await admin_token(gateway)
    release = camera.app[SSE_RELEASE]
    response = await gateway.request("GET", "/sse")
    assert response.headers["Content-Type"] == "text/event-stream"
    first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), WAIT)
    assert first == b"id: 0\ndata: first\n\n"
    assert not release.is_set()  # the camera is still holding the last event back
    release.set()
    assert await asyncio.wait_for(response.content.read(), WAIT) == b"id: 1\ndata: last\n\n"


async def test_chunked_answer_passes_whole(gateway: Service) -> None:
    token = await admin_token(gateway)
    [response] = await answers(port_of(gateway), raw_get(token, "/chunked"))
    assert response.status == 200
    assert response.values("Transfer-Encoding") == ["chunked"]
    assert response.body == b"one,two,three"


async def test_range_download_is_206_with_the_exact_bytes(gateway: Service) -> None:
    await admin_token(gateway)
    for asked, start, end in (("1000-1999", 1000, 1999), ("-10", len(DOWNLOAD) - 10, None)):
        response = await gateway.request("GET", "/download", headers={"Range": f"bytes={asked}"})
        assert response.status == 206
        last = len(DOWNLOAD) - 1 if end is None else end
        assert response.headers["Content-Range"] == f"bytes {start}-{last}/{len(DOWNLOAD)}"
        assert await response.read() == DOWNLOAD[start : last + 1]


async def test_head_gives_headers_and_no_body(gateway: Service) -> None:
    token = await admin_token(gateway)
    payload = raw_get(token, "/download", "/chunked", method="HEAD")
    head, after = await answers(port_of(gateway), payload, heads=1)
    assert head.status == 200
    assert head.values("Content-Length") == [str(len(DOWNLOAD))]
    assert head.body == b""
    # Had a body followed the HEAD answer, it would have been read as this answer's head.
    assert (after.status, after.body) == (200, b"one,two,three")


async def test_204_and_304_pass_without_bodies(gateway: Service) -> None:
    token = await admin_token(gateway)
    payload = raw_get(token, "/status/204", "/status/304", "/chunked")
    no_content, not_modified, after = await answers(port_of(gateway), payload)
    assert (no_content.status, not_modified.status) == (204, 304)
    assert not_modified.values("ETag") == ['"v1"']
    for empty in (no_content, not_modified):
        assert not empty.values("Transfer-Encoding")
        assert empty.values("Content-Length") in ([], ["0"])
    assert (after.status, after.body) == (200, b"one,two,three")


async def test_large_stream_arrives_intact(gateway: Service) -> None:
    await admin_token(gateway)
    expected = hashlib.sha256()
    for block in big_body(BIG):
        expected.update(block)
    response = await gateway.request("GET", f"/big?size={BIG}")
    assert response.headers["Content-Length"] == str(BIG)
    received, size = hashlib.sha256(), 0
    async for chunk in response.content.iter_any():
        received.update(chunk)
        size += len(chunk)
    assert size == BIG
    assert received.hexdigest() == expected.hexdigest()


async def test_compressed_answer_passes_undecoded(gateway: Service) -> None:
    token = await admin_token(gateway)
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        response = await client.get(
            gateway.url("/gzip"),
            headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"},
        )
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Content-Length"] == str(len(COMPRESSED))
        assert await response.read() == COMPRESSED


async def test_mjpeg_frames_arrive_continuously(gateway: Service) -> None:
    await admin_token(gateway)
    response = await gateway.request("GET", "/mjpeg")
    assert BOUNDARY in response.headers["Content-Type"]
    for _ in range(5):  # the camera sends one every 50 ms, and never ends
        part = await asyncio.wait_for(response.content.readuntil(b"\xff\xd9"), WAIT)
        assert part.endswith(FRAME)
    response.close()


async def test_camera_cannot_set_camauths_cookie(gateway: Service) -> None:
    token = await admin_token(gateway)
    response = await gateway.request("GET", "/cookie")
    assert response.headers.getall("Set-Cookie") == ["camera_session=abc; Path=/; HttpOnly"]
    kept = gateway.client.cookie_jar.filter_cookies(gateway.server.make_url("/"))
    assert kept["camauth_token"].value == token


async def test_hop_by_hop_headers_named_by_the_camera_are_dropped(gateway: Service) -> None:
    token = await admin_token(gateway)
    [response] = await answers(port_of(gateway), raw_get(token, "/hop"))
    assert response.values("X-Camera-Kept") == ["yes"]
    assert response.values("X-Camera-Hop") == []
    assert response.values("Keep-Alive") == []
    assert "x-camera-hop" not in ",".join(response.values("Connection")).lower()


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
async def test_answer_that_ends_with_the_connection_is_framed_for_the_browser(
    start_gateway: GatewayFactory, version: str
) -> None:
    """Cheap cameras stream MJPEG with neither length nor chunks: the end is the close."""
    body = b"--frame\r\n" + FRAME * 50
    canned = f"{version} 200 OK\r\nContent-Type: image/jpeg\r\nConnection: close\r\n\r\n"
    async with canned_upstream(canned.encode() + body) as url:
        gateway = await start_gateway({"name": "camera", "url": url})
        token = await admin_token(gateway)
        [response] = await answers(port_of(gateway), raw_get(token, "/stream"))
    assert response.status == 200
    assert response.body == body  # whole, and framed: the closer's answer came after it


def echoed(message: Message) -> dict[str, str]:
    """The headers the camera's echo API says reached it."""
    return dict(json.loads(message.body)["headers"])


async def test_request_hop_by_hop_headers_do_not_reach_the_camera(gateway: Service) -> None:
    token = await admin_token(gateway)
    sent = (
        "GET /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nTE: trailers\r\nUpgrade: h2c\r\n"
        "Proxy-Authorization: Basic cHJveHk6c2VjcmV0\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
        "Connection: TE, HTTP2-Settings\r\nX-Camera-Wants: this\r\n\r\n"
    )
    [response] = await answers(port_of(gateway), sent.encode())
    assert response.status == 200, response.body
    headers = {name.lower() for name in echoed(response)}
    assert "x-camera-wants" in headers
    for name in ("te", "upgrade", "proxy-authorization", "http2-settings"):
        assert name not in headers
