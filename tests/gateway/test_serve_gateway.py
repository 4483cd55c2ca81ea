"""The built-in proxy as a user gets it: ``camauth serve`` with upstreams and TLS.

Done when: the first-start banner's password logs in over HTTPS, the camera UI is at ``/``,
its WebSocket works, logging out closes it, and SIGTERM with a stream and a WebSocket open
stops the process with exit 0. Bad upstream options stop it with one line naming the option.
"""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer

from tests.service.conftest import free_port
from tests.service.test_serve_process import assert_config_error, run_camauth, serve_command

from .camera import PAGE, WS_SEEN
from .conftest import camera_options
from .raw import WAIT
from .served import admin_login, logged_in, origin
from .test_tls import CA, Pair, client_context


async def _held_open(
    browser: ClientSession, base: str, context: ssl.SSLContext
) -> tuple[aiohttp.ClientResponse, aiohttp.ClientWebSocketResponse]:
    """An MJPEG stream with its first bytes read, and a WebSocket that echoed once."""
    stream = await browser.get(f"{base}/mjpeg", ssl=context)
    assert (await asyncio.wait_for(stream.content.readexactly(7), WAIT)) == b"--frame"
    ws = await browser.ws_connect(f"{base}/ws", ssl=context)
    await ws.send_str("hello over TLS")
    assert (await asyncio.wait_for(ws.receive(), WAIT)).data == "hello over TLS"
    return stream, ws


async def test_done_when_served_over_https(tmp_path: Path, camera: TestServer) -> None:
    pair = Pair(tmp_path / "fullchain.pem", tmp_path / "privkey.pem")
    pair.write(CA)
    options = camera_options(
        camera, ssl=True, certfile=str(pair.certfile), keyfile=str(pair.keyfile)
    )
    context = client_context(CA)
    async with logged_in(tmp_path, options, context=context) as (served, browser):
        base = origin(served, tls=True)
        async with browser.get(f"{base}/", ssl=context) as page:
            assert (page.status, await page.text()) == (200, PAGE)
        stream, ws = await _held_open(browser, base, context)
        await browser.post(f"{base}/camauth/api/logout", ssl=context)
        closed = await asyncio.wait_for(ws.receive(), WAIT)
        assert (closed.type, closed.data) == (WSMsgType.CLOSE, 4001)
        with pytest.raises(aiohttp.ClientPayloadError):  # the stream ends with the session
            await asyncio.wait_for(stream.content.read(), WAIT)
        await admin_login(browser, served, context=context)  # in again, then stop CamAuth
        stream, ws = await _held_open(browser, base, context)
        status = await asyncio.to_thread(served.stop, signal.SIGTERM)  # bounded: STOP_TIMEOUT
        closed = await asyncio.wait_for(ws.receive(), WAIT)
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(stream.content.read(), WAIT)
    text = served.stderr()
    assert status == 0, text
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert "Stopping" in text
    assert "Traceback" not in text


async def test_browser_close_code_reaches_the_camera_through_the_process(
    tmp_path: Path, camera: TestServer
) -> None:
    async with logged_in(tmp_path, camera_options(camera)) as (served, browser):
        ws = await browser.ws_connect(f"{origin(served)}/ws")
        await ws.close(code=4000, message=b"tab closed")
        seen = camera.app[WS_SEEN]
        assert (await asyncio.wait_for(seen.get(), WAIT))[0] == "open"
        assert await asyncio.wait_for(seen.get(), WAIT) == ("close", 4000)


UP = {"name": "camera", "url": "http://127.0.0.1:5000"}


def bad(*upstreams: dict[str, Any], **options: Any) -> dict[str, Any]:
    """An options document with these upstreams and other options."""
    return {"upstreams": list(upstreams), **options}


# Each: the options, the option the one line names, and the reason it gives.
BAD_UPSTREAMS = [
    pytest.param(bad({**UP, "url": "ftp://x/"}), "upstreams.0.url", "http://", id="url-scheme"),
    pytest.param(
        bad({**UP, "url": "http://admin:pw@x"}), "upstreams.0.url", "credentials", id="url-login"
    ),
    pytest.param(bad(UP, {**UP, "path": "/b/"}), "upstreams.1.name", "is taken", id="same-name"),
    pytest.param(bad(UP, {**UP, "name": "b"}), "upstreams.1.path", "already", id="same-place"),
    pytest.param(bad({**UP, "path": "/api/"}), "upstreams.0.path", "own", id="own-prefix"),
    pytest.param(bad({**UP, "via": "x"}), "upstreams.0.via", "unknown option", id="unknown-key"),
    pytest.param(
        bad(UP, ssl=True, certfile="/nowhere/cert.pem"),
        "'certfile'",
        "/nowhere/cert.pem",
        id="missing-certfile",
    ),
]


@pytest.mark.parametrize(("options", "option", "reason"), BAD_UPSTREAMS)
def test_bad_upstream_options_stop_with_one_line(
    tmp_path: Path, options: dict[str, Any], option: str, reason: str
) -> None:
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    command = serve_command(tmp_path / "data", free_port(), "--options", str(path))
    assert_config_error(run_camauth(*command[3:]), option, reason)
