"""Large answers through a front end: one fast download, and many slow readers at once."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .processes import HOST, REQUEST_TIMEOUT, Headers

MIB = 1024 * 1024
READ_BUFFER = 1024 * 1024  # the fast client's reads
SLOW_READ = 4096  # what a slow client reads at a time ...
SLOW_PAUSE = 0.1  # ... and how long it waits between two reads
SAMPLE_EVERY = 0.1  # seconds between two readings of the front end's memory


def download(port: int, path: str, headers: Headers) -> tuple[int, float, int]:
    """Read one answer as fast as possible: its status, seconds and bytes."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    buffer = memoryview(bytearray(READ_BUFFER))
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers=dict(headers))
        response = conn.getresponse()
        total = 0
        while read := response.readinto(buffer):
            total += read
        return response.status, time.perf_counter() - started, total
    finally:
        conn.close()


def best_download(port: int, path: str, headers: Headers, tries: int) -> float:
    """MiB/s of the fastest of ``tries`` complete downloads (0 if none completed with 200)."""
    best = 0.0
    expected = None
    for _ in range(tries):
        status, seconds, size = download(port, path, headers)
        expected = expected or size
        if status == 200 and size == expected and seconds > 0:
            best = max(best, size / MIB / seconds)
    return best


@dataclass(slots=True)
class SlowRun:
    """What the slow clients did, and the front end's memory meanwhile."""

    clients: int
    started: int = 0  # clients whose answer began with 200
    failed: int = 0  # clients refused, cut off or never answered
    received: int = 0  # bytes, all clients together
    samples: list[int] = field(default_factory=list)  # the front end's RSS in kB, in order

    @property
    def peak_kb(self) -> int:
        """The highest RSS seen."""
        return max(self.samples, default=0)

    def halves_kb(self) -> tuple[int, int]:
        """The highest RSS of the first half of the run, and of the second half."""
        half = len(self.samples) // 2
        first, second = self.samples[:half], self.samples[half:]
        return max(first, default=0), max(second, default=0)


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter, int]  # and the body's length


async def _ask(port: int, path: str, headers: Headers, run: SlowRun) -> Stream | None:
    """Connect, ask for the answer, read its head: the open stream if it is a 200."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers)]
    try:
        reader, writer = await asyncio.open_connection(HOST, port, limit=SLOW_READ)
    except OSError:
        run.failed += 1
        return None
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        head = b""
    if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
        run.failed += 1
        await _close(writer)
        return None
    run.started += 1
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    return reader, writer, int(length.group(1)) if length else -1


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _read_slowly(stream: Stream, seconds: float, run: SlowRun) -> None:
    """Read 4 KiB every 100 ms for ``seconds``; a stream cut short counts as failed."""
    reader, writer, length = stream
    until = time.monotonic() + seconds
    got = 0
    try:
        while time.monotonic() < until:
            data = await asyncio.wait_for(reader.read(SLOW_READ), REQUEST_TIMEOUT)
            if not data:
                run.failed += 1  # cut off before its end
                return
            got += len(data)
            run.received += len(data)
            if got == length:
                return  # all of it (no end of file follows: the connection is kept alive)
            await asyncio.sleep(SLOW_PAUSE)
    except (OSError, TimeoutError):
        run.failed += 1
    finally:
        await _close(writer)


async def _sample(rss: Callable[[], int | None], run: SlowRun, seconds: float) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        size = rss()
        if size is not None:
            run.samples.append(size)
        await asyncio.sleep(SAMPLE_EVERY)


async def _slow_readers(
    target: tuple[int, str, Headers], clients: int, seconds: float, rss: Callable[[], int | None]
) -> SlowRun:
    run = SlowRun(clients)
    port, path, headers = target
    # Every client gets its answer's head first; then all of them read, slowly, together.
    asked = await asyncio.gather(*(_ask(port, path, headers, run) for _ in range(clients)))
    streams = [stream for stream in asked if stream is not None]
    sampler = asyncio.create_task(_sample(rss, run, seconds))
    await asyncio.gather(*(_read_slowly(stream, seconds, run) for stream in streams))
    await sampler
    return run


def slow_readers(
    target: tuple[int, str, Headers], clients: int, seconds: float, rss: Callable[[], int | None]
) -> SlowRun:
    """``clients`` connections each reading the answer 4 KiB every 100 ms for ``seconds``.

    ``rss`` reads the front end's memory; it is sampled while they all read.
    """
    return asyncio.run(_slow_readers(target, clients, seconds, rss))
