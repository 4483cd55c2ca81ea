"""Per-request cost without the network: CamAuth and the bare handler, in this process.

``python -m bench.inproc [--requests N] [--profile FILE] SCENARIO...`` builds the bare app and
CamAuth's real app (real services on a temporary SQLite database, bcrypt at its lowest cost
so that setting up is quick) and feeds each app's aiohttp request handler one raw HTTP/1.1
request at a time through an in-memory transport, as a keep-alive connection would, waiting
for each answer before the next. No sockets, no system calls, no other process: what is left
is exactly the Python side of a request (parsing, routing, middleware, CamAuth, the answer),
so the figures hold still on a busy machine. It prints CPU microseconds per request and the
ratio to the bare handler.

For decisions that must not depend on the machine at all, count instructions, which
callgrind does reproducibly; the setup cancels out of the difference of two runs::

    valgrind --tool=callgrind --callgrind-out-file=/tmp/a python -m bench.inproc -n 2000 cookie
    valgrind --tool=callgrind --callgrind-out-file=/tmp/b python -m bench.inproc -n 4000 cookie
    # instructions per request = (Ir of b - Ir of a) / 2000

``--profile FILE`` writes a cProfile of the measured requests (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import math
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from camauth.core.lockouts import Attempt
from camauth.core.passwords import PasswordHasher
from camauth.core.services import Services, open_services
from camauth.http.app import create_app

try:  # the front door (CamAuth since its forward-auth work); older ones run as plain apps
    from camauth.http.app import GatewayRunner
except ImportError:  # pragma: no cover - measuring an older CamAuth
    GatewayRunner = web.AppRunner  # type: ignore[misc,assignment]
from camauth.options import parse_options

from .servers import COOKIE_NAME

PEER = ("127.0.0.1", 40000)
ADMIN_PASSWORD = "bench " + secrets.token_urlsafe(12)


class _Transport(asyncio.Transport):
    """Collects what the server writes; a full answer wakes whoever waits for it."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0
        self.waiter: asyncio.Future[None] | None = None
        self.last = b""
        self._closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return PEER if name == "peername" else default

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        chunk = bytes(data)
        if chunk.startswith(b"HTTP/1.1 "):
            self.answers += 1
            self.last = chunk
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(bytes(chunk) for chunk in chunks))

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        return None

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


def raw_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """A request as a client sends it."""
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True, slots=True)
class Case:
    """One scenario: which app, which request, which status it must get."""

    name: str
    app: str  # "bare" or "camauth"
    request: bytes
    status: int


async def _ok(request: web.Request) -> web.Response:
    return web.Response(status=200)


def bare_app() -> web.Application:
    """The reference of the benchmark: a bare aiohttp handler answering 200."""
    app = web.Application()
    app.router.add_get("/", _ok)
    return app


@contextlib.asynccontextmanager
async def camauth_app(data_dir: Path) -> AsyncIterator[tuple[web.Application, dict[str, bytes]]]:
    """CamAuth as the benchmark runs it (127.0.0.1 a trusted proxy), and its scenarios."""
    settings = parse_options({"auth": {"trusted_proxies": ["127.0.0.1/32"]}})
    services: Services = await open_services(
        data_dir, settings.auth, "x" * 64, hasher=PasswordHasher(rounds=4)
    )
    try:
        await services.users.create("admin", ADMIN_PASSWORD, "admin")
        done = await services.logins.login("admin", ADMIN_PASSWORD, "127.0.0.1")
        key = await services.keys.create("bench", "viewer", ())
        token = done.result.token
        now = time.time()
        for number in range(20):  # 127.0.0.1 fails until it is over the limit: 429 at once
            services.lockouts.failed(Attempt("127.0.0.1", f"nobody-{number}", False, now), now)
        yield (
            create_app(settings, services),
            {
                "cookie": raw_request("GET", "/api/auth", {"Cookie": f"{COOKIE_NAME}={token}"}),
                "bearer": raw_request("GET", "/api/auth", {"Authorization": f"Bearer {token}"}),
                "api_key": raw_request("GET", "/api/auth", {"X-API-Key": key.secret}),
                "anonymous": raw_request("GET", "/api/auth", {}),
                "throttled": raw_request(
                    "POST",
                    "/api/login",
                    {"Content-Type": "application/json"},
                    b'{"username": "admin", "password": "wrong"}',
                ),
                "uri": raw_request(
                    "GET",
                    "/api/auth",
                    {"Cookie": f"{COOKIE_NAME}={token}", "X-Forwarded-Uri": "/api/events?x=1"},
                ),
                "new_uri": raw_request(  # every request about another path (video segments)
                    "GET",
                    "/api/auth",
                    {"Cookie": f"{COOKIE_NAME}={token}", "X-Forwarded-Uri": "/cams/a/seg{n}.ts"},
                ),
            },
        )
    finally:
        await services.close()


async def _serve(app: web.Application, bare: bool) -> tuple[web.AppRunner, _Transport, Any]:
    # CamAuth as ``camauth serve`` runs it (with its front door), the bare app as aiohttp does.
    runner_class = web.AppRunner if bare else GatewayRunner
    runner = runner_class(app, access_log=None, handle_signals=False)
    await runner.setup()
    server = runner.server
    if server is None:
        raise RuntimeError("the runner has no server")
    transport = _Transport()
    protocol = server()
    protocol.connection_made(transport)
    return runner, transport, protocol


async def _drive(transport: _Transport, protocol: Any, request: bytes, count: int) -> None:
    loop = asyncio.get_running_loop()
    # "{n}" in a request: each one names something new (made before the clock starts).
    requests = (
        [request.replace(b"{n}", b"%d" % n) for n in range(count)] if b"{n}" in request else None
    )
    for number in range(count):
        transport.waiter = loop.create_future()
        protocol.data_received(requests[number] if requests else request)
        await transport.waiter


async def measure(app: web.Application, case: Case, count: int, profile: str | None) -> float:
    """CPU microseconds per request of one case (after a warm-up)."""
    runner, transport, protocol = await _serve(app, case.app == "bare")
    try:
        await _drive(transport, protocol, case.request, min(1000, count))
        status = int(transport.last.split(b" ", 2)[1])
        if status != case.status:
            raise RuntimeError(f"{case.name}: status {status}, expected {case.status}")
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        await _drive(transport, protocol, case.request, count)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(f"{profile}.{case.name}")
        return (time.process_time() - started) / count * 1e6
    finally:
        protocol.connection_lost(None)
        await runner.cleanup()


EXPECTED = {
    "bare": 200,
    "cookie": 200,
    "bearer": 200,
    "api_key": 200,
    "anonymous": 401,
    "uri": 200,
    "new_uri": 200,
    "throttled": 429,
}


async def run(
    names: list[str], count: int, rounds: int, profile: str | None, no_bare: bool = False
) -> None:
    """Measure each scenario ``rounds`` times, interleaved with the bare handler."""
    with tempfile.TemporaryDirectory(prefix="camauth-inproc-") as work:
        async with camauth_app(Path(work)) as (app, requests):
            bare = bare_app()
            cases = [
                *([] if no_bare else [Case("bare", "bare", raw_request("GET", "/", {}), 200)]),
                *(Case(n, "camauth", requests[n], EXPECTED[n]) for n in names if n != "bare"),
            ]
            times: dict[str, list[float]] = {case.name: [] for case in cases}
            for _ in range(rounds):
                for case in cases:
                    target = bare if case.app == "bare" else app
                    times[case.name].append(await measure(target, case, count, profile))
    bare_runs = sorted(times.get("bare", [math.nan]))
    bare_us = bare_runs[len(bare_runs) // 2]
    bare_least = bare_runs[0]
    # Another process can only add time: the least of several runs is the steadier figure.
    print(f"{'scenario':<10} {'us/req median':>14} {'x bare':>7} {'least':>7} {'x bare':>7}   all")
    for name, runs in times.items():
        ordered = sorted(runs)
        median, least = ordered[len(ordered) // 2], ordered[0]
        every = " ".join(f"{value:.1f}" for value in runs)
        print(
            f"{name:<10} {median:>14.2f} {bare_us / median:>7.3f} {least:>7.2f} "
            f"{bare_least / least:>7.3f}   {every}"
        )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bench.inproc``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.inproc", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        default=["cookie", "bearer", "api_key", "anonymous"],
        choices=sorted(EXPECTED),
    )
    parser.add_argument("-n", "--requests", type=int, default=20_000, help="requests per run")
    parser.add_argument("-r", "--rounds", type=int, default=3, help="runs of each scenario")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile data to FILE.<scenario>")
    parser.add_argument(
        "--no-bare", action="store_true", help="skip the bare handler (for an outside profiler)"
    )
    args = parser.parse_args(argv)
    asyncio.run(run(args.scenarios, args.requests, args.rounds, args.profile, args.no_bare))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
