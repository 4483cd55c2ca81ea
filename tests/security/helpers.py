"""Shared helpers: raw HTTP over asyncio sockets, event collection, quick logins."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from multidict import CIMultiDict

from camauth.core.events import Event, EventBus
from tests.service.conftest import Service

# Property tests write nothing to disk and never fail on a slow machine's timing.
PROPERTY = settings(
    database=None, deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow]
)

INVALID_CREDENTIALS = {"error": "Invalid username or password", "code": "invalid_credentials"}
TOO_MANY = {"error": "Too many failed logins, try again later", "code": "rate_limited"}
AUTH_REQUIRED = {"error": "Authentication required", "code": "unauthorized"}
ADMIN_REQUIRED = {"error": "Admin role required", "code": "admin_required"}


@dataclass
class RawResponse:
    """What came back over a raw socket (status None when the server just closed)."""

    status: int | None
    headers: CIMultiDict[str]
    body: bytes

    def json_body(self) -> Any:
        """The body decoded as JSON."""
        import json  # noqa: PLC0415 - only the raw tests need it

        return json.loads(self.body.decode("utf-8"))


def parse_raw(data: bytes) -> RawResponse:
    """Split a raw HTTP/1.1 response into status, headers and body."""
    if not data:
        return RawResponse(None, CIMultiDict(), b"")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.add(name.strip(), value.strip())
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return RawResponse(status, headers, body)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    """One response: headers, then a Content-Length or chunked body, else until EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as err:
        return err.partial
    lowered = head.lower()
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", lowered)
    if match:
        return head + await reader.readexactly(int(match.group(1)))
    if b"\r\ntransfer-encoding: chunked" in lowered:
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            body += size_line
            size = int(size_line.split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return head + body
    return head + await reader.read()


async def raw_exchange(port: int, data: bytes, *, timeout: float = 15) -> RawResponse:
    """Send bytes on a new connection and read one response (or what came before close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        received = await asyncio.wait_for(_read_response(reader), timeout)
    except (ConnectionResetError, BrokenPipeError):
        received = b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            await writer.wait_closed()
    return parse_raw(received)


def raw_get(path: str, port: int, *headers: str, method: str = "GET") -> bytes:
    """A well-formed request with extra header lines, closing the connection afterwards."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *headers]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Collector:
    """Every event emitted on a bus while the test runs."""

    bus: EventBus
    items: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bus.subscribe(self.items.append)

    def of(self, type_: str) -> list[Event]:
        """The events of one type, in order."""
        return [event for event in self.items if event.type == type_]


async def token_for(service: Service, username: str, password: str) -> str:
    """A bearer token from a separate client (the shared cookie jar is left alone)."""
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), json={"username": username, "password": password}
    )
    body = await response.json()
    assert response.status == 200, body
    return str(body["token"])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


async def login_status(
    service: Service, username: str, password: str, **kwargs: Any
) -> tuple[int, Any, str | None]:
    """Status, JSON body and Retry-After of one login through the server."""
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), json={"username": username, "password": password}, **kwargs
    )
    return response.status, await response.json(), response.headers.get("Retry-After")
