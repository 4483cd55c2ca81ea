"""The add-on image's HEALTHCHECK: what Docker and the Supervisor's watchdog run, run here."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.test_utils import TestServer

from camauth.const import DEFAULT_PORT

from .conftest import Service, free_port

DOCKERFILE = Path(__file__).resolve().parents[2] / "camauth_addon/Dockerfile"
URL = re.compile(r"http://[^'\"\s]+")


def _healthcheck() -> tuple[dict[str, str], list[str]]:
    """The HEALTHCHECK instruction's flags and its exec-form command."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    found = re.findall(r"^HEALTHCHECK\s+(.*)$", text, re.M)
    assert len(found) == 1, found
    options, _, command = found[0].partition("CMD ")
    flags = dict(re.findall(r"--([a-z-]+)=(\S+)", options))
    assert re.sub(r"--[a-z-]+=\S+", "", options).strip() == ""  # nothing else before CMD
    return flags, json.loads(command)  # the exec form: no shell needed in the image


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", value)
    assert match is not None, value
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


def test_healthcheck_asks_the_gateway_at_a_sane_pace() -> None:
    flags, command = _healthcheck()
    assert set(flags) == {"interval", "timeout", "start-period", "retries"}
    interval, timeout = _seconds(flags["interval"]), _seconds(flags["timeout"])
    start_period = _seconds(flags["start-period"])
    assert 10 <= interval <= 300
    assert 1 <= timeout < interval
    assert 10 <= start_period <= 120  # a first start hashes the admin password
    assert 2 <= int(flags["retries"]) <= 5
    # Only what the base-python image has: its Python and the standard library.
    assert command[0] == "python3"
    script = command[-1]
    assert re.search(r"^import urllib\.request\b", script)
    # The check gives up before Docker kills it, so a slow answer counts as a failure.
    client_timeout = re.search(r"timeout=(\d+(?:\.\d+)?)", script)
    assert client_timeout is not None
    assert float(client_timeout[1]) < timeout
    urls = URL.findall(script)
    assert len(urls) == 1
    url = urlsplit(urls[0])
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", DEFAULT_PORT, "/api/health")


async def _run_check(port: int) -> int:
    """Run the HEALTHCHECK command as written, against ``port`` on 127.0.0.1."""
    _, command = _healthcheck()
    script = URL.sub(lambda m: m[0].replace(f":{DEFAULT_PORT}/", f":{port}/"), command[-1])
    assert f":{port}/api/health" in script
    # This interpreter stands in for the image's python3; the arguments are the image's.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:-1],
        script,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=60)


async def test_healthcheck_passes_against_a_running_camauth(service: Service) -> None:
    port = service.server.port
    assert port is not None
    assert await _run_check(port) == 0


async def test_healthcheck_fails_when_nothing_listens() -> None:
    assert await _run_check(free_port()) == 1


async def test_healthcheck_fails_on_an_error_answer() -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "down"}, status=503)

    app = web.Application()
    app.router.add_get("/api/health", broken)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        assert server.port is not None
        assert await _run_check(server.port) == 1
    finally:
        await server.close()
