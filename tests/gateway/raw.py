"""HTTP/1.1 on raw sockets: exact bytes out, strict framing in, and an upstream that records.

The framing rules are the strict ones (RFC 9112 6.3): a message with both
``Transfer-Encoding`` and ``Content-Length``, a coding other than exactly ``chunked``, or two
different lengths is *malformed*, never guessed at; that is what lets a test say that what
reached the camera was one well-framed request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024
WAIT = 10.0  # seconds any single read may take before a test gives up


class Malformed(Exception):
    """A message whose framing is ambiguous or broken."""


@dataclass
class Message:
    """One HTTP message as it was on the wire."""

    start: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def values(self, name: str) -> list[str]:
        """Every value of a header (case-insensitive name), in order."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def status(self) -> int:
        """A response's status code."""
        return int(self.start.split(" ", 2)[1])

    @property
    def target(self) -> str:
        """A request's target, as written on the request line."""
        return self.start.split(" ", 2)[1]


def _parse_head(raw: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or name != name.strip() or not name:
            raise Malformed(f"bad header line {line!r}")
        headers.append((name, value.strip(" \t")))
    return lines[0], headers


def _length(message: Message) -> int | None:
    """The body length a message declares, or None for chunked; Malformed if ambiguous."""
    codings = message.values("Transfer-Encoding")
    lengths = message.values("Content-Length")
    if codings:
        if lengths or codings != ["chunked"]:
            raise Malformed(f"Transfer-Encoding {codings} with Content-Length {lengths}")
        return None
    if len(set(lengths)) > 1 or any(not value.isdigit() for value in lengths):
        raise Malformed(f"Content-Length {lengths}")
    return int(lengths[0]) if lengths else 0


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = (await reader.readuntil(b"\r\n"))[:-2]
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return bytes(body)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise Malformed("chunk without CRLF")


async def read_message(
    reader: asyncio.StreamReader, *, bodyless: bool = False, until_eof: bool = False
) -> Message:
    """One message; ``bodyless`` for answers to HEAD and 1xx/204/304.

    ``until_eof``: a response without a length runs to the end of the connection.
    Raises IncompleteReadError at a clean end of the connection.
    """
    raw = await reader.readuntil(b"\r\n\r\n")
    return await read_rest(reader, raw, bodyless=bodyless, until_eof=until_eof)


async def read_rest(
    reader: asyncio.StreamReader, raw: bytes, *, bodyless: bool, until_eof: bool
) -> Message:
    """A message whose head (``raw``, up to the blank line) is read already."""
    if len(raw) > HEAD_LIMIT:
        raise Malformed("head too large")
    start, headers = _parse_head(raw[:-4])
    message = Message(start, headers)
    if bodyless or (start.startswith("HTTP/") and bodyless_status(message)):
        return message
    length = _length(message)
    if length is None:
        message.body = await _chunked(reader)
    elif length or not until_eof or message.values("Content-Length"):
        message.body = await reader.readexactly(length)
    else:
        message.body = await reader.read()
    return message


def bodyless_status(message: Message) -> bool:
    """Whether a response's status means it has no body."""
    return message.status in (204, 304) or 100 <= message.status < 200


# Ends every raw exchange: the gateway answers it itself, then closes the connection.
CLOSER = b"GET /camauth/api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


async def exchange(
    port: int, payload: bytes, *, heads: int = 0, wait: float = WAIT
) -> list[Message]:
    """Send ``payload`` as it is, then :data:`CLOSER`; every response until the end.

    ``heads``: how many of the first responses answer HEAD requests (no body follows).
    A connection still open after ``wait`` seconds (a request waiting for a body that never
    comes) gives what was answered so far.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    found: list[Message] = []
    try:
        writer.write(payload + CLOSER)
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_responses(reader, heads, found), wait)
        return found
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def answers(port: int, payload: bytes, *, heads: int = 0) -> list[Message]:
    """The responses to the requests in ``payload``, checked to end with the closer's."""
    found = await exchange(port, payload, heads=heads)
    assert found, "no response at all"
    assert (found[-1].status, found[-1].body) == (200, b'{"status": "ok"}'), found[-1]
    return found[:-1]


async def _responses(reader: asyncio.StreamReader, heads: int, found: list[Message]) -> None:
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return
        response = await read_rest(reader, raw, bodyless=len(found) < heads, until_eof=True)
        found.append(response)


@dataclass
class Recorded:
    """What one connection to the recording upstream carried."""

    requests: list[Message] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    leftover: bytes = b""


@dataclass
class RecordingUpstream:
    """A camera double on a raw TCP server: parses strictly, answers 200 "ok", keeps all."""

    connections: list[Recorded] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        """The address an upstream option names."""
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[Message]:
        """Every request received, on every connection."""
        return [request for seen in self.connections for request in seen.requests]

    def problems(self) -> list[str]:
        """Everything that was not one well-framed request after another."""
        found = [problem for seen in self.connections for problem in seen.malformed]
        found += [f"leftover {seen.leftover!r}" for seen in self.connections if seen.leftover]
        return found

    def clear(self) -> None:
        """Forget what was seen so far (connections the gateway keeps alive stay)."""
        for seen in self.connections:
            seen.requests.clear()
            seen.malformed.clear()
            seen.leftover = b""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection: keep-alive, one answer per well-framed request."""
        seen = Recorded()
        self.connections.append(seen)
        try:
            while True:
                request = await read_message(reader)
                seen.requests.append(request)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                if "close" in ",".join(request.values("Connection")).lower():
                    return
        except asyncio.IncompleteReadError as err:
            seen.leftover = err.partial
        except (Malformed, ValueError, asyncio.LimitOverrunError) as err:
            seen.malformed.append(repr(err))
        except ConnectionError:
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def recording_upstream() -> AsyncIterator[RecordingUpstream]:
    """A running :class:`RecordingUpstream` on 127.0.0.1."""
    upstream = RecordingUpstream()
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    try:
        yield upstream
    finally:
        server.close()
        server.close_clients()  # the gateway keeps its connections alive in a pool
        await server.wait_closed()


@contextlib.asynccontextmanager
async def canned_upstream(answer: bytes) -> AsyncIterator[str]:
    """An upstream that answers every request with ``answer`` and closes; its address."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        server.close_clients()
        await server.wait_closed()
