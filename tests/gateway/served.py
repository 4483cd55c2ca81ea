"""CamAuth as the add-on runs it, ``camauth serve`` in a process of its own, with upstreams.

The process is started with an ``options.json`` in its data folder (as the Supervisor writes
it); with an upstream at ``/``, only ``/camauth/…`` is CamAuth's, so readiness and login go
there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.service.test_serve_process import START_TIMEOUT, Served, clean_env, serving


@contextmanager
def gateway_process(
    workdir: Path, options: dict[str, Any], *, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """``camauth serve`` with ``options`` as its options.json; killed when the block ends."""
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    (data / "options.json").write_text(json.dumps(options), encoding="utf-8")
    with serving(workdir, data, env=env or clean_env(), healthy=False) as served:
        yield served


def origin(served: Served, *, tls: bool = False) -> str:
    """``http(s)://127.0.0.1:<port>`` of a served gateway."""
    return f"{'https' if tls else 'http'}://127.0.0.1:{served.port}"


async def wait_ready(served: Served, *, context: ssl.SSLContext | None = None) -> None:
    """Poll CamAuth's own health check until it answers 200; bounded by START_TIMEOUT."""
    url = origin(served, tls=context is not None) + "/camauth/api/health"
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            if served.popen.poll() is not None:
                raise AssertionError(f"camauth exited: {served.stderr()}")
            try:
                async with client.get(url, ssl=context or False) as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"camauth was not ready within {START_TIMEOUT} s: {served.stderr()}")


async def admin_login(
    client: aiohttp.ClientSession, served: Served, *, context: ssl.SSLContext | None = None
) -> str:
    """Log in with the first-start banner's password (cookie in ``client``); the token."""
    url = origin(served, tls=context is not None) + "/camauth/api/login"
    body = {"username": "admin", "password": served.banner_password()}
    async with client.post(url, json=body, ssl=context or False) as answer:
        assert answer.status == 200, await answer.text()
        return str((await answer.json())["token"])


@contextlib.asynccontextmanager
async def logged_in(
    workdir: Path, options: dict[str, Any], *, context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[Served, aiohttp.ClientSession]]:
    """A ready ``camauth serve`` and a browser logged in as its first admin."""
    with gateway_process(workdir, options) as served:
        await wait_ready(served, context=context)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            await admin_login(browser, served, context=context)
            yield served, browser


def vm_rss(pid: int) -> int:
    """A process's resident memory in bytes (``VmRSS`` of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")
