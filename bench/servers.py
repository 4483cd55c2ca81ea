"""The servers a run measures: a bare aiohttp handler and CamAuth instances, one process each."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import subprocess  # nosec B404  # starts the servers, with fixed arguments
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from aiohttp import web

from .model import JSON_BODY, login_body
from .processes import (
    HOST,
    REQUEST_TIMEOUT,
    SERVER_CPU,
    Headers,
    Pinning,
    free_port,
    http_call,
    proc_status_kb,
    stop_process,
)

ROOT = Path(__file__).resolve().parents[1]  # the repository: ``python -m bench`` runs here
HEALTH_TIMEOUT = 30.0  # seconds a server may take to answer its health check
COOKIE_NAME = "camauth_token"
DEVICE_COOKIE = "camauth_device"
PASSWORD_LINE = re.compile(r"\*\s+Password:\s+(\S+)\s+\*")


# --- the bare server ----------------------------------------------------------------------


async def _ok(request: web.Request) -> web.Response:
    return web.Response(status=200)


def run_bare_server(port: int) -> None:
    """The reference: a bare aiohttp handler answering 200, in this process."""
    app = web.Application()
    app.router.add_get("/", _ok)
    web.run_app(app, host=HOST, port=port, print=None, access_log=None)


# --- starting and stopping ----------------------------------------------------------------


@dataclass(slots=True)
class Server:
    """A running server process and how long it took to answer its health check."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    start_to_healthy: float


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if http_call(port, "GET", path)[0] == 200:
                return
        time.sleep(0.005)
    raise RuntimeError(f"no 200 on {path} within {HEALTH_TIMEOUT:g} s; see {log}")


def spawn(
    stack: contextlib.ExitStack,
    name: str,
    argv: list[str],
    health: str,
    log: Path,
    pin: Pinning,
    port: int | None = None,
) -> Server:
    """Start a server on CPU 0; it is stopped when ``stack`` closes (or fails to start).

    ``{port}`` in ``argv`` becomes a free port, or ``port`` when the server's own
    configuration already names it (nginx's); the health check asks that port.
    """
    port = port or free_port()
    argv = [arg.replace("{port}", str(port)) for arg in argv]
    # The bare server is this package: it must be importable whatever the current directory.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    started = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603  # nosec B603  # our interpreter, fixed arguments
            [*pin.prefix(SERVER_CPU), *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    stack.callback(stop_process, proc)
    pin.after_spawn(proc.pid, SERVER_CPU)
    _wait_healthy(proc, port, health, log)
    return Server(name, port, proc, log, time.perf_counter() - started)


def spawn_bare(stack: contextlib.ExitStack, work: Path, pin: Pinning) -> Server:
    """The bare handler, in a process of its own (``python -m bench --bare-server PORT``)."""
    argv = [sys.executable, "-m", "bench", "--bare-server", "{port}"]
    return spawn(stack, "bare", argv, "/", work / "bare.log", pin)


def camauth_argv(data_dir: Path) -> list[str]:
    """``python -m camauth serve`` on a data directory and a port to fill in."""
    serve = [sys.executable, "-m", "camauth", "serve", "--data-dir", str(data_dir)]
    return [*serve, "--host", HOST, "--port", "{port}"]


def spawn_camauth(
    stack: contextlib.ExitStack,
    name: str,
    data_dir: Path,
    options: dict[str, Any],
    pin: Pinning,
    health: str = "/api/health",
) -> Server:
    """Start CamAuth with these options on a fresh or existing data directory."""
    data_dir.mkdir(mode=0o700, exist_ok=True)
    (data_dir / "options.json").write_text(json.dumps(options), encoding="utf-8")
    log = data_dir.parent / f"{name}.log"
    return spawn(stack, name, camauth_argv(data_dir), health, log, pin)


def banner_password(log: Path) -> str:
    """The admin password printed once by the first start."""
    found = PASSWORD_LINE.search(log.read_text(errors="replace"))
    if found is None:
        raise RuntimeError(f"no password banner in {log}")
    return found.group(1)


# --- the fleet ----------------------------------------------------------------------------


@dataclass(slots=True)
class Fleet:
    """Every server of a run."""

    bare: Server
    main: Server  # trusts 127.0.0.1 as a proxy: storms come from many addresses
    limited: Server  # default limits, restarted once: answers the flood with 429
    limited_first_start: float
    password: str
    rss_idle_kb: int | None


BEHIND_PROXY: dict[str, Any] = {"auth": {"trusted_proxies": [f"{HOST}/32"]}}


def start_fleet(stack: contextlib.ExitStack, work: Path, pin: Pinning) -> Fleet:
    """The bare server, CamAuth, and a rate-limited CamAuth (started, stopped, restarted)."""
    bare = spawn_bare(stack, work, pin)
    main = spawn_camauth(stack, "camauth", work / "camauth", BEHIND_PROXY, pin)
    rss_idle = proc_status_kb(main.proc.pid, "VmRSS")
    first = spawn_camauth(stack, "limited", work / "limited", {}, pin)
    stop_process(first.proc)
    limited = spawn_camauth(stack, "limited", work / "limited", {}, pin)
    password = banner_password(main.log)
    return Fleet(bare, main, limited, first.start_to_healthy, password, rss_idle)


# --- logging in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an admin's login and an API key give: the three ways to pass forward-auth."""

    cookie: str  # the camauth_token cookie's value
    token: str  # the same session's token, for Authorization: Bearer
    api_key: str  # an X-API-Key
    device: str | None = None  # the camauth_device cookie this browser got


def cookies_of(headers: http.client.HTTPMessage) -> SimpleCookie:
    """The cookies an answer sets."""
    jar: SimpleCookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return jar


def log_in(
    port: int,
    username: str,
    password: str,
    headers: Headers = (),
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One login: status, headers and body of the answer."""
    body = json.dumps({"username": username, "password": password})
    return http_call(port, "POST", "/api/login", body, JSON_BODY + headers, timeout)


def login(port: int, password: str, headers: Headers = ()) -> Credentials:
    """Log in as admin and create an API key: the credentials the scenarios present."""
    status, answer, raw = log_in(port, "admin", password, headers)
    if status != 200:
        raise RuntimeError(f"login failed with {status}: {raw[:200]!r}")
    token = token_of(raw)
    jar = cookies_of(answer)
    cookie = jar[COOKIE_NAME].value if COOKIE_NAME in jar else token
    device = jar[DEVICE_COOKIE].value if DEVICE_COOKIE in jar else None
    return Credentials(cookie, token, create_api_key(port, token), device)


def token_of(raw: bytes) -> str:
    """The token of a successful login's answer."""
    return str(json.loads(raw)["token"])


def admin_call(port: int, token: str, method: str, path: str, body: dict[str, Any]) -> Any:
    """An admin's API call with a bearer token; its JSON answer (a 2xx is expected)."""
    headers = (*JSON_BODY, ("Authorization", f"Bearer {token}"))
    status, _, raw = http_call(port, method, path, json.dumps(body), headers)
    if not 200 <= status < 300:
        raise RuntimeError(f"{method} {path} answered {status}: {raw[:200]!r}")
    return json.loads(raw)


def create_api_key(port: int, token: str) -> str:
    """A new API key (viewer) for the forward-auth scenarios."""
    created = admin_call(port, token, "POST", "/api/keys", {"name": "bench", "role": "viewer"})
    return str(created["key"])


def prime_rate_limit(port: int, prefix: str, tries: int = 10) -> int:
    """Fail a login about once a second until this client is locked out; returns the tries."""
    for number in range(1, tries + 1):
        body = login_body(f"{prefix}{number}")
        status, headers, _ = http_call(port, "POST", "/api/login", body, JSON_BODY)
        if status == 429 and int(headers.get("Retry-After", "0")) > 2:
            return number
        time.sleep(1.05)
    return tries
