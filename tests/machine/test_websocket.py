"""``/api/ws``: who may connect, what they receive, and what happens to a client never reading."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError

from camauth.const import VERSION
from camauth.http.app_keys import WEBSOCKETS
from camauth.http.ws import QUEUE_SIZE
from tests.service.conftest import VIEWER_PASSWORD, Service

from .helpers import WAIT, admin_key, create_key, open_stream, wait_until

READERS = 50
BIG = "x" * 64_000  # large events fill a stalled client's socket buffers quickly
SMALL_PER_ROUND = 15  # small events then overflow its queue (QUEUE_SIZE messages) cheaply
MAX_BYTES = 16 * 1024 * 1024  # a bound ~3x what Linux loopback buffers hold; then give up


async def handshake_status(service: Service, headers: dict[str, str]) -> int:
    """The status of a refused WebSocket handshake."""
    async with ClientSession() as session:
        with pytest.raises(WSServerHandshakeError) as refused:
            await session.ws_connect(service.url("/api/ws"), headers=headers)
    return refused.value.status


async def test_only_admins_of_this_site_may_connect(service: Service) -> None:
    key = await admin_key(service)
    viewer_key = (await create_key(service, "viewer-key", "viewer"))["key"]
    webhook_key = (await create_key(service, "hook", "admin", ["/triggers/"]))["key"]
    viewer_token = await service.login("viewer", VIEWER_PASSWORD)
    assert await handshake_status(service, {}) == 401
    assert await handshake_status(service, {"X-API-Key": webhook_key}) == 401
    assert await handshake_status(service, {"X-API-Key": viewer_key}) == 403
    assert await handshake_status(service, {"Authorization": f"Bearer {viewer_token}"}) == 403
    foreign = {"X-API-Key": key, "Origin": "https://evil.example"}
    assert await handshake_status(service, foreign) == 403
    async with ClientSession() as session:
        ws = await session.ws_connect(service.url("/api/ws"), headers={"X-API-Key": key})
        hello = await ws.receive_json(timeout=WAIT)
        assert hello["type"] == "hello"
        assert hello["version"] == VERSION
        assert "failed_logins_total" in hello["stats"]
        await ws.close()


async def test_fifty_readers_get_every_event_and_a_client_that_never_reads_is_dropped(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="camauth.events")  # no 64 kB log lines per event
    key = await admin_key(service)
    streams = service.server.app[WEBSOCKETS]
    async with ClientSession() as session:
        readers = [await open_stream(session, service, key) for _ in range(READERS)]
        # A real client that never calls receive(): its socket buffers fill, then the
        # server's sender for it blocks, then its queue of QUEUE_SIZE messages overflows.
        stuck = await session.ws_connect(service.url("/api/ws"), headers={"X-API-Key": key})
        assert await wait_until(lambda: len(streams) == READERS + 1)

        received: list[list[int]] = [[] for _ in readers]

        async def read(index: int) -> None:
            while True:
                message = await readers[index].receive()
                if message.type != WSMsgType.TEXT:
                    return
                data = json.loads(message.data)
                if data["type"] == "event":
                    received[index].append(data["event"]["detail"]["n"])

        tasks = [asyncio.create_task(read(i)) for i in range(READERS)]
        try:
            sent = 0
            emitted_bytes = 0

            def emit(**detail: object) -> None:
                nonlocal sent
                service.services.bus.emit("logout", username=f"u{sent}", n=sent, **detail)
                sent += 1

            while len(streams) > READERS and emitted_bytes < MAX_BYTES:
                emit(pad=BIG)
                emitted_bytes += len(BIG)
                for _ in range(SMALL_PER_ROUND):
                    emit()
                # Readers keep up (their queues never come near QUEUE_SIZE): wait for them.
                assert await wait_until(lambda: min(map(len, received)) == sent)
            assert sent > QUEUE_SIZE
            # Dropped means gone from the server's set, not merely told to go.
            assert await wait_until(lambda: len(streams) == READERS), (
                f"the client that never reads is still connected after {sent} events "
                f"({emitted_bytes} bytes)"
            )
            emit()  # the survivors still receive
            assert await wait_until(lambda: min(map(len, received)) == sent)
            for numbers in received:
                assert numbers == list(range(sent))
        finally:
            for ws in readers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), WAIT)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stuck.close(), WAIT)
