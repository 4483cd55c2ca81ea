"""Slow clients and large uploads cost CamAuth a bounded amount of memory, not the streams.

``camauth serve`` runs as a process of its own, so its resident memory (VmRSS) is only its
own. 200 clients each hold a stream and read it slowly through a small receive buffer: with
back-pressure, CamAuth holds a few buffers per connection, whatever the stream's length (see
PER_CONNECTION; measured: about 0.5 MiB a connection, 90-100 MiB for 200, the same for 2 and
16 MiB streams). Without back-pressure it would hold each whole stream: 200 x 2 MiB = 400
MiB here, and more for longer streams. The control runs the same measurement on a proxy that
reads answers whole (buffering_proxy.py, about 460 MiB), and must exceed the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from yarl import URL

from tests.service.conftest import free_port

from .camera import big_body
from .conftest import camera_options, camera_url
from .raw import WAIT
from .served import logged_in, origin, vm_rss

KIB = 1024
CLIENTS = 200
STREAM = 2048 * KIB
# What one connection may hold at worst: the camera side's read buffer (aiohttp pauses at
# 2 x 64 KiB, but one socket read of asyncio adds up to 256 KiB beyond it), and towards the
# browser the transport's 64 KiB high-water mark plus one such chunk written whole.
PER_CONNECTION = (2 * 64 + 256) + (64 + 2 * 64 + 256)
GROWTH_BOUND = CLIENTS * PER_CONNECTION * KIB  # 162.5 MiB; the control needs 400 MiB or more
HOLD = 3.0  # seconds the clients keep reading slowly while memory is sampled
UPLOAD = 1024 * 1024 * KIB
UPLOAD_BOUND = 50 * 1024 * KIB  # one connection's buffers, many times over


@dataclass
class Proxy:
    """A process in front of the camera: its pid, port, and what a request must carry."""

    pid: int
    port: int
    headers: str = ""


@contextlib.asynccontextmanager
async def camauth(tmp_path: Path, camera: TestServer) -> AsyncIterator[Proxy]:
    """``camauth serve`` with the camera at ``/``, and the admin's bearer token."""
    async with logged_in(tmp_path, camera_options(camera)) as (served, browser):
        token = browser.cookie_jar.filter_cookies(URL(origin(served)))["camauth_token"].value
        yield Proxy(served.popen.pid, served.port, f"Authorization: Bearer {token}\r\n")


@contextlib.asynccontextmanager
async def buffering(tmp_path: Path, camera: TestServer) -> AsyncIterator[Proxy]:
    """The control: a proxy that buffers each answer whole (buffering_proxy.py)."""
    port = free_port()
    script = Path(__file__).with_name("buffering_proxy.py")
    with _process([sys.executable, str(script), str(port), camera_url(camera)]) as popen:
        await _accepting(port, popen)
        yield Proxy(popen.pid, port)


@contextmanager
def _process(command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield popen
    finally:
        popen.kill()
        popen.wait(timeout=WAIT)


async def _accepting(port: int, popen: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) until a port accepts connections."""
    for _ in range(400):
        assert popen.poll() is None
        with contextlib.suppress(ConnectionRefusedError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


async def slow_reader(proxy: Proxy, started: asyncio.Queue[int], stop: asyncio.Event) -> int:
    """Hold one stream, reading 512 bytes every 200 ms through a 4 KiB socket buffer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", proxy.port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    try:
        request = f"GET /big?size={STREAM} HTTP/1.1\r\nHost: cam\r\n{proxy.headers}\r\n"
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        started.put_nowait(int(head.split(b" ", 2)[1]))
        received = 0
        while not stop.is_set():
            received += len(await reader.read(512))
            await asyncio.sleep(0.2)
        return received
    finally:
        writer.close()


async def peak_growth(proxy: Proxy, stop: asyncio.Event) -> int:
    """How far the proxy's RSS rose above its level now, until ``stop``."""
    baseline = peak = vm_rss(proxy.pid)
    while not stop.is_set():
        peak = max(peak, vm_rss(proxy.pid))
        await asyncio.sleep(0.05)
    return peak - baseline


async def warm_up(proxy: Proxy) -> None:
    """One stream through, so that what is loaded once is not counted as growth."""
    stop = asyncio.Event()
    stop.set()
    started: asyncio.Queue[int] = asyncio.Queue()
    await asyncio.wait_for(slow_reader(proxy, started, stop), WAIT)


async def growth_with_slow_readers(proxy: Proxy) -> int:
    """The RSS growth while CLIENTS slow readers each hold a stream for HOLD seconds."""
    await warm_up(proxy)
    stop, started = asyncio.Event(), asyncio.Queue[int]()
    sampler = asyncio.create_task(peak_growth(proxy, stop))
    readers = [asyncio.create_task(slow_reader(proxy, started, stop)) for _ in range(CLIENTS)]
    try:
        statuses = [await asyncio.wait_for(started.get(), 30) for _ in range(CLIENTS)]
        assert statuses == [200] * CLIENTS
        await asyncio.sleep(HOLD)  # the clients read slowly meanwhile; memory is sampled
    finally:
        stop.set()
        received = await asyncio.gather(*readers)
    assert all(0 < size < STREAM for size in received)  # each stream still going
    return await sampler


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["camauth", "buffering-control"])
async def test_slow_readers_cost_bounded_memory(
    tmp_path: Path, camera: TestServer, kind: str
) -> None:
    start = camauth if kind == "camauth" else buffering
    async with start(tmp_path, camera) as proxy:
        growth = await growth_with_slow_readers(proxy)
    mib = growth / 2**20
    if kind == "camauth":
        assert growth < GROWTH_BOUND, f"CamAuth grew by {mib:.0f} MiB"
    else:  # the same measurement catches unbounded buffering
        assert growth > GROWTH_BOUND, f"the buffering control grew by only {mib:.0f} MiB"


async def generated(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    """An upload body made as it is sent (never held whole), hashed on the way."""
    for block in big_body(size):
        digest.update(block)
        yield block


@pytest.mark.slow
async def test_a_1_gib_upload_streams_with_bounded_memory(
    tmp_path: Path, camera: TestServer
) -> None:
    async with camauth(tmp_path, camera) as proxy:
        await warm_up(proxy)
        stop = asyncio.Event()
        sampler = asyncio.create_task(peak_growth(proxy, stop))
        digest = hashlib.sha256()
        headers = dict([proxy.headers.strip().split(": ", 1)])
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.post(
                    f"http://127.0.0.1:{proxy.port}/upload",
                    data=generated(UPLOAD, digest),
                    headers=headers,
                ) as answer,
            ):
                counted = await answer.json()
        finally:
            stop.set()
        growth = await sampler
    assert counted == {"size": UPLOAD, "sha256": digest.hexdigest()}
    assert growth < UPLOAD_BOUND, f"CamAuth grew by {growth / 2**20:.0f} MiB"
