"""Request smuggling: whatever framing a client tries, the camera sees only what was judged.

Each case is sent as raw bytes to the gateway, whose upstream is a raw TCP server that
parses strictly and records every request (tests/gateway/raw.py). The smuggled request
carries no credential: if the gateway itself read it as a request, it answered 401 and the
camera never saw it; if the camera sees it, it went past the judge. A case may be refused
(4xx) or normalised, never both framed one way for the judge and another for the camera.
The same cases run with aiohttp's C parser (in-process) and its pure-Python parser
(``camauth serve`` with ``AIOHTTP_NO_EXTENSIONS=1``, as an image without the C parser).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from camauth.http.middlewares import parser_rejects_control_characters
from tests.service.conftest import ADMIN_PASSWORD
from tests.service.test_serve_process import clean_env

from .conftest import GatewayFactory, port_of
from .raw import Message, RecordingUpstream, exchange, recording_upstream
from .served import admin_login, gateway_process, wait_ready

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
CL_TE_BODY = b"0\r\n\r\n" + SMUGGLED
GET_ECHO = "GET /api/echo HTTP/1.1"
UPGRADE = ["Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABk"]
WEBSOCKET = ["Connection: Upgrade", "Upgrade: websocket"]  # no key: not a handshake
HANDSHAKE = [*WEBSOCKET, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
WAIT_FOR_BODY = 2.0  # how long a connection may wait for a body that never comes


def chunked(data: bytes) -> bytes:
    """``data`` as one chunk and the last chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"


def raw(request_line: str, headers: list[str], body: bytes = b"") -> bytes:
    """One request with the admin's bearer token (``{token}``, filled in later)."""
    head = [request_line, "Host: 127.0.0.1", "Authorization: Bearer {token}", *headers]
    return "".join(line + "\r\n" for line in head).encode() + b"\r\n" + body


def post(headers: list[str], body: bytes) -> bytes:
    """A POST to the camera's API."""
    return raw("POST /api/upload HTTP/1.1", headers, body)


def cl_te(coding: str) -> bytes:
    """``Content-Length`` covering a chunked end and the smuggled request, with a coding."""
    return post([f"Content-Length: {len(CL_TE_BODY)}", coding], CL_TE_BODY)


@dataclass(frozen=True)
class Case:
    """A raw payload; ``forwarded``: the bodies the camera must get, when it is well-formed.

    ``handshake``: a WebSocket handshake, which the gateway makes to the camera itself (the
    raw double answers 200, not 101, so the gateway answers 502).
    """

    name: str
    payload: bytes
    forwarded: tuple[bytes, ...] | None = None
    handshake: bool = False


CASES = [
    Case("cl-te", cl_te("Transfer-Encoding: chunked")),
    Case("te-cl", post(["Transfer-Encoding: chunked", "Content-Length: 4"], chunked(SMUGGLED))),
    Case("te-xchunked", cl_te("Transfer-Encoding: xchunked")),
    Case("te-leading-space", cl_te("Transfer-Encoding:  chunked")),
    Case("te-tab", cl_te("Transfer-Encoding:\tchunked")),
    Case("te-trailing-tab", cl_te("Transfer-Encoding: chunked\t")),
    Case("te-space-before-colon", cl_te("Transfer-Encoding : chunked")),
    Case("te-chunked-identity", cl_te("Transfer-Encoding: chunked, identity")),
    Case("te-identity-chunked", cl_te("Transfer-Encoding: identity, chunked")),
    Case("te-duplicated", cl_te("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity")),
    Case("te-folded", cl_te("Transfer-Encoding:\r\n chunked")),
    Case("te-vertical-tab", cl_te("Transfer-Encoding:\x0bchunked")),
    Case("te-upper", cl_te("Transfer-Encoding: CHUNKED")),
    Case("te-xchunked-alone", post(["Transfer-Encoding: xchunked"], chunked(SMUGGLED))),
    Case("cl-duplicated", post(["Content-Length: 5", "Content-Length: 49"], b"hello" + SMUGGLED)),
    Case("cl-list", post(["Content-Length: 5, 49"], b"hello" + SMUGGLED)),
    Case("cl-plus", post(["Content-Length: +49"], b"hello" + SMUGGLED)),
    Case("get-body", raw("GET /api/echo HTTP/1.1", [f"Content-Length: {len(SMUGGLED)}"], SMUGGLED)),
    Case(
        "get-chunked",
        raw("GET /api/echo HTTP/1.1", ["Transfer-Encoding: chunked"], chunked(SMUGGLED)),
    ),
    Case("absolute-form", raw("GET http://evil.example/api/echo HTTP/1.1", [])),
    Case("hidden-in-body", post([f"Content-Length: {len(SMUGGLED)}"], SMUGGLED), (SMUGGLED,)),
    Case("hidden-in-chunks", post(["Transfer-Encoding: chunked"], chunked(SMUGGLED)), (SMUGGLED,)),
    Case("pipelined", post(["Content-Length: 2"], b"hi") + SMUGGLED, (b"hi",)),
    Case("upgrade-post", post([*UPGRADE, "Content-Length: 5"], b"hello" + SMUGGLED)),
    Case("upgrade-websocket-post", post([*WEBSOCKET, "Content-Length: 5"], b"hello" + SMUGGLED)),
    Case("upgrade-get", raw(GET_ECHO, UPGRADE) + SMUGGLED),
    Case("upgrade-websocket-get", raw(GET_ECHO, HANDSHAKE) + SMUGGLED, handshake=True),
]


def findings(case: Case, answers: list[Message], upstream: RecordingUpstream) -> list[str]:
    """What went wrong in one case: empty when the camera saw only what was judged."""
    found = list(upstream.problems())
    requests = upstream.requests()
    host = f"127.0.0.1:{upstream.port}"
    for request in requests:
        if "smuggled" in request.target or not request.target.startswith("/"):
            found.append(f"camera got {request.start!r}")
        if request.values("Host") != [host]:
            found.append(f"camera got Host {request.values('Host')}")
    passed = [answer for answer in answers if 200 <= answer.status < 300]
    if len(requests) > len(passed) + case.handshake:
        found.append(f"{len(requests)} requests reached the camera, {len(passed)} answered")
    if not case.handshake:
        found += [f"answered {answer.status}" for answer in answers if answer.status >= 500]
    if case.forwarded is not None and [request.body for request in requests] != list(
        case.forwarded
    ):
        found.append(f"camera got bodies {[request.body for request in requests]}")
    return found


async def run_case(case: Case, port: int, token: str, upstream: RecordingUpstream) -> list[str]:
    """Send one case on a fresh connection; what went wrong (see :func:`findings`)."""
    upstream.clear()
    payload = case.payload.replace(b"{token}", token.encode())
    answers = await exchange(port, payload, wait=WAIT_FOR_BODY)
    if answers and answers[-1].body == b'{"status": "ok"}':
        answers = answers[:-1]  # the closer's own answer
    return findings(case, answers, upstream)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_smuggling_with_the_c_parser(start_gateway: GatewayFactory, case: Case) -> None:
    assert parser_rejects_control_characters()  # llhttp is the parser in this process
    async with recording_upstream() as upstream:
        gateway = await start_gateway({"name": "camera", "url": upstream.url})
        token = await gateway.login("admin", ADMIN_PASSWORD, "/camauth/api/login")
        assert await run_case(case, port_of(gateway), token, upstream) == []


@pytest.mark.parametrize("name", ["cl-te", "te-cl", "cl-duplicated", "pipelined"])
async def test_control_without_the_gateway_the_smuggling_is_caught(name: str) -> None:
    """The same payloads sent straight to the camera double are reported: the checks bite."""
    [case] = [case for case in CASES if case.name == name]
    async with recording_upstream() as upstream:
        answers = await exchange(upstream.port, case.payload, wait=WAIT_FOR_BODY)
        found = findings(case, answers, upstream)
        smuggling = ("smuggled", "Malformed", "reached the camera")
        assert [finding for finding in found if any(word in finding for word in smuggling)]


async def test_smuggling_with_the_pure_python_parser(tmp_path: Path) -> None:
    env = clean_env(AIOHTTP_NO_EXTENSIONS="1")
    probe = "import aiohttp.http_parser as p; print(p.HttpRequestParser.__module__)"
    parser = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert parser.stdout.strip() == "aiohttp.http_parser"  # not the C extension
    async with recording_upstream() as upstream:
        options = {"upstreams": [{"name": "camera", "url": upstream.url}]}
        with gateway_process(tmp_path, options, env=env) as served:
            await wait_ready(served)
            async with aiohttp.ClientSession() as client:
                token = await admin_login(client, served)
            failed = {}
            for case in CASES:
                if found := await run_case(case, served.port, token, upstream):
                    failed[case.name] = found
            assert failed == {}
