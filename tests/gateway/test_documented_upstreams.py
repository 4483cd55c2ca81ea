"""The other upstream snippets of DOCS.md (go2rtc, MediaMTX, host names, TLS), run as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from camauth.const import VERSION
from camauth.options import parse_options
from tests.docs import yaml_snippets
from tests.service.conftest import VIEWER_PASSWORD

from .conftest import FrigateFactory, GatewayFactory, Service, camera_url, served_at

_PLACEHOLDER = re.compile(r"<[^>]+>")


def _upstreams(heading: str) -> list[dict[str, Any]]:
    """The ``upstreams`` option of the one snippet under a heading of DOCS.md."""
    (snippet,) = yaml_snippets(heading)
    upstreams: list[dict[str, Any]] = snippet["upstreams"]
    return upstreams


async def _as_viewer(start_gateway: GatewayFactory, upstreams: list[dict[str, Any]]) -> Service:
    gateway = await start_gateway(*upstreams)
    await gateway.login("viewer", VIEWER_PASSWORD, "/camauth/api/login")
    return gateway


def test_every_documented_upstream_option_is_valid() -> None:
    snippets = yaml_snippets("Serving camera UIs (built-in proxy)")
    found = [snippet["upstreams"] for snippet in snippets if "upstreams" in snippet]
    assert len(found) == 5  # Frigate (twice), go2rtc, MediaMTX, host names
    for upstreams in found:
        filled = [{**up, "url": _PLACEHOLDER.sub("example", up["url"])} for up in upstreams]
        assert len(parse_options({"upstreams": filled}).upstreams) == len(upstreams)


def test_documented_tls_options_read_the_ssl_folder() -> None:
    (snippet,) = yaml_snippets("TLS")
    settings = parse_options(snippet)
    assert settings.tls.enabled
    assert (settings.tls.certfile, settings.tls.keyfile) == (
        Path("/ssl/fullchain.pem"),
        Path("/ssl/privkey.pem"),
    )
    assert settings.auth.cookie_secure


async def test_go2rtc_under_its_prefix_lets_a_viewer_watch_only(
    start_gateway: GatewayFactory, camera: TestServer
) -> None:
    gateway = await _as_viewer(start_gateway, served_at(_upstreams("go2rtc"), camera))
    echoed = await (await gateway.request("GET", "/go2rtc/api/streams")).json()
    assert (echoed["path"], echoed["headers"]["X-Forwarded-Prefix"]) == ("/api/streams", "/go2rtc")
    offer = await gateway.request("POST", "/go2rtc/api/webrtc?src=front", data=b"v=0")
    assert offer.status == 200
    change = await gateway.request("PUT", "/go2rtc/api/streams?name=x&src=rtsp://x")
    assert change.status == 403
    async with gateway.client.ws_connect(gateway.url("/go2rtc/ws")) as ws:
        await ws.send_str("hello")
        assert (await ws.receive()).data == "hello"


async def test_mediamtx_under_its_prefix_takes_a_viewers_whep_offer(
    start_gateway: GatewayFactory, camera: TestServer
) -> None:
    gateway = await _as_viewer(start_gateway, served_at(_upstreams("MediaMTX"), camera))
    offer = await gateway.request("POST", "/mediamtx/front/whep", data=b"v=0")
    assert (offer.status, (await offer.json())["path"]) == (200, "/front/whep")
    assert (await gateway.request("POST", "/mediamtx/v3/config/set", json={})).status == 403


async def test_each_host_name_gets_its_own_upstream(
    start_gateway: GatewayFactory, start_frigate: FrigateFactory, camera: TestServer
) -> None:
    frigate_up, go2rtc_up = _upstreams("One upstream per host name")
    frigate = await start_frigate({"auth": {"enabled": False}})
    gateway = await _as_viewer(
        start_gateway,
        [{**frigate_up, "url": camera_url(frigate)}, {**go2rtc_up, "url": camera_url(camera)}],
    )
    for host, expected in ((frigate_up["host"], "0.16.0"), (go2rtc_up["host"], '"path"')):
        answer = await gateway.request("GET", "/api/version", headers={"Host": host})
        assert answer.status == 200
        assert expected in await answer.text()
    unknown = await gateway.request("GET", "/api/version", headers={"Host": "other.example.com"})
    assert (await unknown.json())["version"] == VERSION  # no upstream there: CamAuth's own
