"""Real reverse proxies (Debian's nginx and Caddy) in front of a real CamAuth."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_socket
from aiohttp import ClientSession, CookieJar, TCPConnector, web
from aiohttp.test_utils import TestServer

from tests.service.conftest import (  # noqa: F401 - fixtures used by the tests here
    Service,
    ServiceFactory,
    free_port,
    start_service,
)

LOOPBACK_HOSTS = [f"127.0.0.{n}" for n in range(1, 10)]


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> Iterator[None]:
    """Proxies are tested over real sockets on several loopback addresses."""
    pytest_socket.socket_allow_hosts(LOOPBACK_HOSTS, allow_unix_socket=True)
    yield
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


def require_binary(name: str) -> str:
    """The path of a peer program; CI installs them, a developer may not have them."""
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; script/test installs it")
        pytest.skip(f"{name} is not installed (script/test installs it)")
    return path


async def _camera(request: web.Request) -> web.Response:
    """A stand-in camera UI that shows which identity headers reached it."""
    names = ("Remote-User", "Remote-Role", "Remote_User", "X-Forwarded-User")
    return web.json_response({name: request.headers.get(name) for name in names})


@pytest.fixture
async def camera() -> AsyncIterator[TestServer]:
    """The upstream a proxy protects."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _camera)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def client_from(address: str) -> ClientSession:
    """A client whose connections come from ``address`` (any 127.0.0.0/8 address works)."""
    connector = TCPConnector(local_addr=(address, 0), force_close=True)
    return ClientSession(connector=connector, cookie_jar=CookieJar(unsafe=True))


@pytest.fixture
def run_process() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test, always stopped afterwards."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def guess_passwords(
    url: str, source: str, attempts: int, spoof: str | None = None
) -> list[int]:
    """Wrong-password logins from ``source``; ``spoof`` adds a fresh X-Forwarded-For each time."""
    statuses = []
    async with client_from(source) as client:
        for n in range(attempts):
            headers = {"X-Forwarded-For": f"{spoof}{n}"} if spoof else {}
            response = await client.post(
                f"{url}/api/login",
                json={"username": "admin", "password": "wrong password guess"},
                headers=headers,
            )
            statuses.append(response.status)
    return statuses


def start_peer(
    processes: list[subprocess.Popen[bytes]], command: list[str], env: dict[str, str] | None = None
) -> None:
    """Start a proxy process that the ``run_process`` fixture stops afterwards."""
    processes.append(
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    )


def fill(template: str, **values: object) -> str:
    """Put values into a config template's ``@@NAME@@`` places (``$`` and ``{}`` are the peers')."""
    for name, value in values.items():
        template = template.replace(f"@@{name}@@", str(value))
    if "@@" in template:
        raise ValueError("a placeholder was left unfilled")
    return template


async def wait_for_port(host: str, port: int, attempts: int = 100) -> None:
    """Wait (bounded) until something listens on host:port."""
    for _ in range(attempts):
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise TimeoutError(f"nothing listens on {host}:{port}")
