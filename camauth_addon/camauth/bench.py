"""Benchmark of the forward-auth hot path, as ratios to a bare aiohttp handler.

``python -m camauth.bench`` starts, on free loopback ports, a bare aiohttp app answering 200
and CamAuth itself (``python -m camauth serve`` on a temporary data directory), logs in as
``admin`` with the password of the first-start banner, then loads each scenario with ``wrk``
(or, without it, an in-process asyncio/aiohttp load generator) and prints requests/s, p50,
p99 and the ratio to the bare handler measured in the same run, next to the targets of
PRODUCT.md ("Performance targets"). Servers run on CPU 0 and the load generator on CPU 1
when the machine has two cores. It only measures and prints: nothing here asserts.

The wrong-password logins come as from a botnet: each with a fresh unknown username and a
fresh client address (``X-Forwarded-For``; the main CamAuth trusts 127.0.0.1 as its proxy),
so no rate limit applies and every one of them reaches bcrypt. A second CamAuth, with the
default options, answers the "over the rate limit" flood from this one client address.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import http.client
import itertools
import json
import math
import os
import re
import secrets
import shutil
import socket
import subprocess  # nosec B404  # starts the servers and wrk, with fixed arguments
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from aiohttp import web

HOST = "127.0.0.1"
SERVER_CPU = 0
LOADGEN_CPU = 1
HEALTH_TIMEOUT = 30.0  # seconds a server may take to answer its health check
REQUEST_TIMEOUT = 30.0  # bcrypt-bound logins queue for seconds; never count them as errors
MAX_REQUESTS_PER_WORKER = 2_000_000  # the fallback's bound in count, besides its deadline
STORM_LEAD = 1.0  # seconds the storm runs before, and after, the measured scenario
WARMUP = 1.0
WRONG_PASSWORD = "wrong-password-for-bench"  # noqa: S105  # nosec B105
COOKIE_NAME = "camauth_token"
PASSWORD_LINE = re.compile(r"\*\s+Password:\s+(\S+)\s+\*")
JSON_BODY = (("Content-Type", "application/json"),)
MB = 1024.0

Headers = tuple[tuple[str, str], ...]


# --- the bare server --------------------------------------------------------------------


async def _ok(request: web.Request) -> web.Response:
    return web.Response(status=200)


def run_bare_server(port: int) -> None:
    """The reference: a bare aiohttp handler answering 200, in this process."""
    app = web.Application()
    app.router.add_get("/", _ok)
    web.run_app(app, host=HOST, port=port, print=None, access_log=None)


# --- processes, pinning, plain HTTP -------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Pinning:
    """Which CPU each side runs on, when the machine has two to give."""

    enabled: bool
    taskset: str | None

    @classmethod
    def detect(cls, wanted: bool) -> Pinning:
        """Pin only on Linux with CPUs 0 and 1 both allowed."""
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        able = wanted and {SERVER_CPU, LOADGEN_CPU} <= cpus
        return cls(able, shutil.which("taskset") if able else None)

    def prefix(self, cpu: int) -> list[str]:
        """``taskset -c CPU`` to run a command on one CPU (all of its threads)."""
        return [self.taskset, "-c", str(cpu)] if self.enabled and self.taskset else []

    def after_spawn(self, pid: int, cpu: int) -> None:
        """Without taskset, pin a fresh child before it starts any thread."""
        if self.enabled and not self.taskset:
            os.sched_setaffinity(pid, {cpu})

    def pin_self(self) -> None:
        """The in-process load generator runs on the load generator's CPU."""
        if self.enabled:
            os.sched_setaffinity(0, {LOADGEN_CPU})

    def describe(self) -> str:
        """One line for the report."""
        if not self.enabled:
            return "not pinned"
        how = "taskset" if self.taskset else "sched_setaffinity"
        return f"servers on CPU {SERVER_CPU}, load generator on CPU {LOADGEN_CPU} ({how})"


def http_call(
    port: int, method: str, path: str, body: str | None = None, headers: Headers = ()
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request over a fresh connection: status, headers, body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after five seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def proc_status_kb(pid: int, name: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status in kB, if there is one."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    found = re.search(rf"^{name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process and all its threads, from /proc/PID/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # fields 3 onwards; utime and stime are 14, 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- servers ------------------------------------------------------------------------------


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
    stack: contextlib.ExitStack, name: str, argv: list[str], health: str, log: Path, pin: Pinning
) -> Server:
    """Start a server on CPU 0; it is stopped when ``stack`` closes (or fails to start)."""
    port = free_port()
    argv = [arg.replace("{port}", str(port)) for arg in argv]
    started = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603  # nosec B603  # our interpreter, fixed arguments
            [*pin.prefix(SERVER_CPU), *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack.callback(stop_process, proc)
    pin.after_spawn(proc.pid, SERVER_CPU)
    _wait_healthy(proc, port, health, log)
    return Server(name, port, proc, log, time.perf_counter() - started)


def camauth_argv(data_dir: Path) -> list[str]:
    """``python -m camauth serve`` on a data directory and a port to fill in."""
    serve = [sys.executable, "-m", "camauth", "serve", "--data-dir", str(data_dir)]
    return [*serve, "--host", HOST, "--port", "{port}"]


def spawn_camauth(
    stack: contextlib.ExitStack, name: str, data_dir: Path, options: dict[str, Any], pin: Pinning
) -> Server:
    """Start CamAuth with these options on a fresh or existing data directory."""
    data_dir.mkdir(mode=0o700, exist_ok=True)
    (data_dir / "options.json").write_text(json.dumps(options), encoding="utf-8")
    log = data_dir.parent / f"{name}.log"
    return spawn(stack, name, camauth_argv(data_dir), "/api/health", log, pin)


def banner_password(log: Path) -> str:
    """The admin password printed once by the first start."""
    found = PASSWORD_LINE.search(log.read_text(errors="replace"))
    if found is None:
        raise RuntimeError(f"no password banner in {log}")
    return found.group(1)


# --- scenarios and results ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of request, sent over ``connections`` keep-alive connections."""

    key: str
    label: str
    port: int
    path: str
    connections: int
    method: str = "GET"
    headers: Headers = ()
    login_prefix: str = ""  # set: POST a wrong password for a fresh username each time
    expect: int = 200
    forwarded_net: int = 0  # set: each login from a fresh address 10.NET.x.y

    @property
    def url(self) -> str:
        """Where the requests go."""
        return f"http://{HOST}:{self.port}{self.path}"


def forwarded_for(net: int, number: int) -> str:
    """The client address of the ``number``-th login of a storm: 10.NET.x.y."""
    return f"10.{net}.{number // 256 % 256}.{number % 256}"


def login_body(prefix: str, number: int) -> str:
    """A wrong-password login for an unknown, never repeated username."""
    return json.dumps({"username": f"{prefix}{number}", "password": WRONG_PASSWORD})


@dataclass(slots=True)
class Result:
    """What one load run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # connect/read/write errors and timeouts
    unexpected: int  # answers with another status than the expected one
    status_after: int = 0  # one request right after the run
    cpu_us: float | None = None  # the server's CPU time (all threads) per answered request


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class LoadGenerator(Protocol):
    """Runs a scenario for some seconds, optionally with a storm running alongside."""

    name: str

    def measure(
        self, main: Scenario, duration: float, storm: Scenario | None = None
    ) -> tuple[Result, Result | None]:
        """The main scenario's result, and the storm's."""
        ...


# --- wrk ----------------------------------------------------------------------------------


_LUA_COUNT_UNEXPECTED = """
threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) unexpected = 0 end
function response(status, headers, body)
  if status ~= EXPECT then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("unexpected") end
  io.write("camauth-bench unexpected: " .. total .. "\\n")
end
"""

_LUA_LOGIN = """
n = 0
function request()
  n = n + 1
  if NET > 0 then
    local high, low = math.floor(n / 256) % 256, n % 256
    wrk.headers["X-Forwarded-For"] = "10." .. NET .. "." .. high .. "." .. low
  end
  return wrk.format(nil, nil, nil, HEAD .. n .. TAIL)
end
"""


def lua_script(scenario: Scenario) -> str:
    """A wrk script: method, headers, a fresh login each time, and a count of wrong statuses."""
    lines = [f"wrk.method = {json.dumps(scenario.method)}", f"EXPECT = {scenario.expect}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in scenario.headers]
    if scenario.login_prefix:
        lines.append(f"NET = {scenario.forwarded_net}")
        lines.append("HEAD = " + json.dumps('{"username": "' + scenario.login_prefix))
        lines.append("TAIL = " + json.dumps('", "password": "' + WRONG_PASSWORD + '"}'))
        lines.append(_LUA_LOGIN)
    return "\n".join([*lines, _LUA_COUNT_UNEXPECTED])


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _wrk_find(pattern: str, output: str) -> str:
    found = re.search(pattern, output)
    if found is None:
        raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
    return found.group(1)


def _wrk_ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:
        raise RuntimeError(f"unexpected wrk latency {text!r}")
    return float(found.group(1)) * _WRK_UNITS[found.group(2)]


def parse_wrk(output: str) -> Result:
    """Requests/sec, 50% and 99% latencies and error counts of ``wrk --latency`` (our script)."""
    requests = int(_wrk_find(r"(\d+) requests in", output))
    unexpected = int(_wrk_find(r"camauth-bench unexpected: (\d+)", output))
    sockets = re.search(r"Socket errors:([^\n]*)", output)
    errors = sum(int(n) for n in re.findall(r"\d+", sockets.group(1))) if sockets else 0
    return Result(
        rps=float(_wrk_find(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_wrk_ms(_wrk_find(r"\s50%\s+(\S+)", output)),
        p99_ms=_wrk_ms(_wrk_find(r"\s99%\s+(\S+)", output)),
        requests=requests,
        errors=errors,
        unexpected=unexpected,
    )


@dataclass(slots=True)
class WrkLoad:
    """wrk, one thread on the load generator's CPU, its output parsed."""

    wrk: str
    pin: Pinning
    workdir: Path
    name: str = "wrk"

    def _start(self, scenario: Scenario, seconds: int) -> subprocess.Popen[str]:
        script = self.workdir / f"{scenario.key}.lua"
        script.write_text(lua_script(scenario), encoding="utf-8")
        argv = [self.wrk, "-t1", f"-c{scenario.connections}", f"-d{seconds}s", "--latency"]
        argv += ["--timeout", f"{REQUEST_TIMEOUT:g}s", "-s", str(script), scenario.url]
        proc = subprocess.Popen(  # noqa: S603  # nosec B603  # wrk from PATH, fixed arguments
            [*self.pin.prefix(LOADGEN_CPU), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.pin.after_spawn(proc.pid, LOADGEN_CPU)
        return proc

    def _finish(self, proc: subprocess.Popen[str], scenario: Scenario, seconds: float) -> Result:
        try:
            output, _ = proc.communicate(timeout=seconds + REQUEST_TIMEOUT + 10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        return parse_wrk(output)

    def measure(
        self, main: Scenario, duration: float, storm: Scenario | None = None
    ) -> tuple[Result, Result | None]:
        """Run wrk on ``main``; a storm is a second wrk started first and ending last."""
        seconds = max(1, round(duration))
        lead = max(1, math.ceil(STORM_LEAD))
        background = None
        if storm is not None:
            background = self._start(storm, seconds + 2 * lead)
            time.sleep(lead)
        try:
            result = self._finish(self._start(main, seconds), main, seconds)
        finally:
            storm_result = None
            if background is not None and storm is not None:
                storm_result = self._finish(background, storm, seconds + 2 * lead)
        return result, storm_result


# --- the in-process fallback --------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    unexpected: int = 0


async def _worker(
    http: aiohttp.ClientSession,
    scenario: Scenario,
    deadline: float,
    tally: _Tally,
    ids: Iterator[int],
) -> None:
    headers = dict(scenario.headers)
    for _ in range(MAX_REQUESTS_PER_WORKER):
        if time.perf_counter() >= deadline:
            return
        body = None
        if scenario.login_prefix:
            number = next(ids)
            body = login_body(scenario.login_prefix, number)
            if scenario.forwarded_net:
                headers["X-Forwarded-For"] = forwarded_for(scenario.forwarded_net, number)
        started = time.perf_counter()
        try:
            async with http.request(scenario.method, scenario.url, headers=headers, data=body) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError):
            tally.errors += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.unexpected += status != scenario.expect


async def aio_load(scenario: Scenario, duration: float) -> Result:
    """``connections`` concurrent keep-alive clients for ``duration`` seconds."""
    connector = aiohttp.TCPConnector(limit=scenario.connections)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    tally = _Tally()
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=jar) as http:
        ids = itertools.count(1)
        started = time.perf_counter()
        deadline = started + duration
        workers = (
            _worker(http, scenario, deadline, tally, ids) for _ in range(scenario.connections)
        )
        await asyncio.gather(*workers)
        elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies)
    return Result(
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        requests=len(latencies),
        errors=tally.errors,
        unexpected=tally.unexpected,
    )


async def _aio_measure(
    main: Scenario, duration: float, storm: Scenario | None
) -> tuple[Result, Result | None]:
    if storm is None:
        return await aio_load(main, duration), None
    background = asyncio.create_task(aio_load(storm, duration + 2 * STORM_LEAD))
    await asyncio.sleep(STORM_LEAD)
    try:
        result = await aio_load(main, duration)
    finally:
        storm_result = await background
    return result, storm_result


@dataclass(slots=True)
class AioLoad:
    """The fallback without wrk: asyncio and aiohttp in this process (itself a bottleneck)."""

    name: str = "in-process asyncio+aiohttp (wrk not used)"

    def measure(
        self, main: Scenario, duration: float, storm: Scenario | None = None
    ) -> tuple[Result, Result | None]:
        """Run the scenario (and the storm) on a fresh event loop."""
        return asyncio.run(_aio_measure(main, duration, storm))


def make_generator(no_wrk: bool, pin: Pinning, workdir: Path) -> LoadGenerator:
    """The wrk load generator when it is on PATH (and allowed), else the fallback."""
    wrk = None if no_wrk else shutil.which("wrk")
    return WrkLoad(wrk, pin, workdir) if wrk else AioLoad()


# --- the run ------------------------------------------------------------------------------


@dataclass(slots=True)
class Fleet:
    """Every server of a run."""

    bare: Server
    main: Server  # trusts 127.0.0.1 as a proxy: storms come from many addresses
    limited: Server  # default limits, restarted once: answers the flood with 429
    limited_first_start: float
    password: str
    rss_idle_kb: int | None


def start_fleet(stack: contextlib.ExitStack, work: Path, pin: Pinning) -> Fleet:
    """The bare server, CamAuth, and a rate-limited CamAuth (started, stopped, restarted)."""
    bare_argv = [sys.executable, "-m", "camauth.bench", "--bare-server", "{port}"]
    bare = spawn(stack, "bare", bare_argv, "/", work / "bare.log", pin)
    behind_proxy = {"auth": {"trusted_proxies": [f"{HOST}/32"]}}
    main = spawn_camauth(stack, "camauth", work / "camauth", behind_proxy, pin)
    rss_idle = proc_status_kb(main.proc.pid, "VmRSS")
    first = spawn_camauth(stack, "limited", work / "limited", {}, pin)
    stop_process(first.proc)
    limited = spawn_camauth(stack, "limited", work / "limited", {}, pin)
    password = banner_password(main.log)
    return Fleet(bare, main, limited, first.start_to_healthy, password, rss_idle)


def login(port: int, password: str) -> tuple[str, str]:
    """Log in as admin: the ``camauth_token`` cookie value and the token of the body."""
    body = json.dumps({"username": "admin", "password": password})
    status, headers, raw = http_call(port, "POST", "/api/login", body, JSON_BODY)
    if status != 200:
        raise RuntimeError(f"login failed with {status}: {raw[:200]!r}")
    token = str(json.loads(raw)["token"])
    jar: SimpleCookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    cookie = jar[COOKIE_NAME].value if COOKIE_NAME in jar else token
    return cookie, token


def prime_rate_limit(port: int, prefix: str, tries: int = 10) -> int:
    """Fail a login about once a second until this client is locked out; returns the tries."""
    for number in range(1, tries + 1):
        body = login_body(prefix, number)
        status, headers, _ = http_call(port, "POST", "/api/login", body, JSON_BODY)
        if status == 429 and int(headers.get("Retry-After", "0")) > 2:
            return number
        time.sleep(1.05)
    return tries


THROTTLED = "POST /api/login over rate limit (429)"
WRONG = "POST /api/login wrong pw [bcrypt-bound]"
STORM = "  the storm: wrong pw, botnet-like"


def _auth(key: str, label: str, port: int, connections: int, **extra: Any) -> Scenario:
    return Scenario(key, label, port, "/api/auth", connections, **extra)


def _login(key: str, label: str, port: int, connections: int, prefix: str, net: int) -> Scenario:
    expect = 429 if key == "throttled" else 401
    return Scenario(
        key, label, port, "/api/login", connections, "POST", JSON_BODY, prefix, expect, net
    )


def build_scenarios(
    fleet: Fleet, cookie: str, token: str, connections: int, login_connections: int
) -> dict[str, Scenario]:
    """Every scenario, in the order of the report."""
    run_id = secrets.token_hex(4)
    main, conns, logins = fleet.main.port, connections, login_connections
    limited = fleet.limited.port
    with_cookie = (("Cookie", f"{COOKIE_NAME}={cookie}"),)
    with_bearer = (("Authorization", f"Bearer {token}"),)
    return {
        "bare": Scenario("bare", "bare aiohttp handler GET /", fleet.bare.port, "/", conns),
        "cookie": _auth("cookie", "/api/auth valid cookie", main, conns, headers=with_cookie),
        "bearer": _auth("bearer", "/api/auth Bearer token", main, conns, headers=with_bearer),
        "anonymous": _auth("anonymous", "/api/auth no credentials (401)", main, conns, expect=401),
        "throttled": _login("throttled", THROTTLED, limited, conns, f"flood-{run_id}-", 0),
        "wrong": _login("wrong", WRONG, main, logins, f"bench-{run_id}-", 11),
        "storm_logins": _login("storm_logins", STORM, main, logins, f"storm-{run_id}-", 12),
    }


def status_after(scenario: Scenario) -> int:
    """The status of one more request of the scenario."""
    if not scenario.login_prefix:
        return http_call(scenario.port, scenario.method, scenario.path, None, scenario.headers)[0]
    body = login_body(scenario.login_prefix + "check-", 1)
    headers = scenario.headers
    if scenario.forwarded_net:  # an address the run itself never uses
        headers += (("X-Forwarded-For", f"10.{scenario.forwarded_net}.255.255"),)
    return http_call(scenario.port, scenario.method, scenario.path, body, headers)[0]


def run_one(gen: LoadGenerator, scenario: Scenario, duration: float, pid: int) -> Result:
    """Measure one scenario and the server's CPU time, then check the status it now gets."""
    print(f"  {scenario.label} ...", file=sys.stderr, flush=True)
    before = cpu_seconds(pid)
    result, _ = gen.measure(scenario, duration)
    after = cpu_seconds(pid)
    if before is not None and after is not None and result.requests:
        result.cpu_us = (after - before) / result.requests * 1e6
    result.status_after = status_after(scenario)
    return result


def run_storm(
    gen: LoadGenerator, cookie: Scenario, storm: Scenario, duration: float
) -> dict[str, Result]:
    """The valid-cookie scenario while wrong-password logins hammer bcrypt."""
    print("  /api/auth valid cookie during a wrong-password storm ...", file=sys.stderr)
    result, storm_result = gen.measure(cookie, duration, storm)
    result.status_after = status_after(cookie)
    results = {"storm": result}
    if storm_result is not None:
        storm_result.status_after = status_after(storm)
        results["storm_logins"] = storm_result
    return results


def best_of(*runs: Result) -> Result:
    """The fastest run, with the least CPU time per request of any run."""
    best = max(runs, key=lambda run: run.rps)
    cpus = [run.cpu_us for run in runs if run.cpu_us is not None]
    return dataclasses.replace(best, cpu_us=min(cpus) if cpus else None)


def run_all(
    gen: LoadGenerator, fleet: Fleet, scenarios: dict[str, Scenario], duration: float
) -> dict[str, Result]:
    """The 429 flood first (then that server stops), warm-ups, then everything else.

    The bare handler runs twice, around the cheap CamAuth scenarios, and the faster run is
    the reference, so a noisy neighbour can only make CamAuth's ratios look worse. The
    bcrypt-bound ones come last: their queued logins outlive the load generator.
    """
    throttled = scenarios["throttled"]
    print("  locking this client out on the rate-limited CamAuth ...", file=sys.stderr)
    prime_rate_limit(throttled.port, throttled.login_prefix + "prime-")
    results = {"throttled": run_one(gen, throttled, duration, fleet.limited.proc.pid)}
    stop_process(fleet.limited.proc)
    for key in ("bare", "cookie"):
        gen.measure(scenarios[key], WARMUP)
    for key in ("bare_1", "cookie", "bearer", "anonymous", "bare_2", "wrong"):
        server = fleet.bare if key.startswith("bare") else fleet.main
        results[key] = run_one(gen, scenarios[key.partition("_")[0]], duration, server.proc.pid)
    results["bare"] = best_of(results["bare_1"], results["bare_2"])
    results.update(run_storm(gen, scenarios["cookie"], scenarios["storm_logins"], duration))
    return results


# --- the report ---------------------------------------------------------------------------

ORDER = (
    *("bare", "bare_1", "bare_2", "cookie", "bearer", "anonymous", "throttled", "wrong"),
    *("storm", "storm_logins"),
)
NOTES = (
    "x bare = req/s over the bare handler's (best of its 2 runs); the targets are on this.",
    "us/req = the server's CPU time (all threads, /proc/PID/stat) per answered request;",
    "x CPU = bare us/req (least of 2) over this one: the same ratio, blind to a busy machine",
    "as long as the load generator keeps the server saturated.",
    "status = one request sent right after the run; bad = connection errors, timeouts and",
    "answers with another status than expected. Wrong-password logins each come with a",
    "fresh unknown username and X-Forwarded-For address (127.0.0.1 is a trusted proxy of",
    "the main CamAuth), so no rate limit applies and every one of them reaches bcrypt.",
)
FALLBACK_NOTE = (
    "The in-process load generator is slower than the servers: they are not saturated, so\n"
    "req/s ratios are compressed towards 1 and latencies include the client's own queueing."
)
LABELS = {
    "bare": "bare aiohttp GET / (best of 2 = 1.00)",
    "bare_1": "  bare run 1",
    "bare_2": "  bare run 2",
    "storm": "/api/auth valid cookie, during storm",
}
RSS_TARGET_MB = 60.0
RSS_FLAT_MB = 5.0  # our reading of "flat": the idle RSS grows by at most this much
START_TARGET = 1.5


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against its target; ``met`` is None when there is no target."""

    what: str
    value: str
    target: str
    met: bool | None


@dataclass(slots=True)
class Report:
    """Everything a run measured."""

    load_generator: str
    duration: float
    pinning: str
    scenarios: dict[str, Scenario]
    results: dict[str, Result]
    checks: list[Check]

    def ratio(self, key: str) -> float:
        """Requests/s of a scenario over the bare handler's."""
        bare = self.results["bare"].rps
        return self.results[key].rps / bare if bare else 0.0

    def cpu_ratio(self, key: str) -> float | None:
        """The bare handler's server CPU time per request over this scenario's."""
        bare, this = self.results["bare"].cpu_us, self.results[key].cpu_us
        return bare / this if bare and this else None


def scenario_of(report: Report, key: str) -> tuple[Scenario, str]:
    """The scenario a result row measured, and the row's label."""
    base = "cookie" if key == "storm" else key.partition("_")[0] if key[:4] == "bare" else key
    scenario = report.scenarios[base]
    return scenario, LABELS.get(key, scenario.label)


def row_target(report: Report, key: str) -> tuple[str, bool | None]:
    """The PRODUCT.md target of a scenario row, and whether it is met."""
    ratio = report.ratio(key)
    if key in ("cookie", "bearer"):
        return ">= 0.85x bare", ratio >= 0.85
    if key == "throttled":
        return ">= 0.5x bare", ratio >= 0.5
    if key == "storm":
        idle = report.results["cookie"].p99_ms
        slower = report.results["storm"].p99_ms / idle if idle else math.inf
        return f"p99 <= 2x idle p99 (is {slower:.2f}x)", slower <= 2.0
    if key.startswith("bare"):
        return "reference" if key == "bare" else "", None
    return "none" + (" (bcrypt-bound)" if key in ("wrong", "storm_logins") else ""), None


def verdict(met: bool | None) -> str:
    """The verdict column: met, NOT MET, or - without a target."""
    return "-" if met is None else ("met" if met else "NOT MET")


def memory_checks(fleet: Fleet, served: int) -> list[Check]:
    """Idle RSS at start and after the run, and the peak, of the main CamAuth."""
    pid = fleet.main.proc.pid
    idle, after = fleet.rss_idle_kb, proc_status_kb(pid, "VmRSS")
    peak = proc_status_kb(pid, "VmHWM")
    checks = []
    if idle is not None:
        met = idle / MB <= RSS_TARGET_MB
        checks.append(Check("idle RSS after start", f"{idle / MB:.1f} MB", "<= 60 MB", met))
    if idle is not None and after is not None:
        grew = (after - idle) / MB
        met = after / MB <= RSS_TARGET_MB and grew <= RSS_FLAT_MB
        value = f"{after / MB:.1f} MB ({grew:+.1f} MB)"
        what = f"idle RSS after {served:,} requests"
        checks.append(Check(what, value, f"<= 60 MB, flat (<= +{RSS_FLAT_MB:g} MB)", met))
    if peak is not None:
        checks.append(Check("peak RSS (VmHWM)", f"{peak / MB:.1f} MB", "none", None))
    return checks


def start_checks(fleet: Fleet) -> list[Check]:
    """Start to healthy: first starts (they hash the new admin's password) and a restart."""
    starts = [
        ("start to healthy, first start", fleet.main.start_to_healthy),
        ("start to healthy, 2nd instance first start", fleet.limited_first_start),
        ("start to healthy, restart", fleet.limited.start_to_healthy),
    ]
    return [Check(what, f"{s:.3f} s", "<= 1.5 s", s <= START_TARGET) for what, s in starts]


def render(report: Report) -> str:
    """The plain-text table."""
    head = f"{'Scenario':<40} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>6}"
    head += f" {'us/req':>6} {'x CPU':>5} {'status':>6} {'bad':>4}  {'target':<30} verdict"
    lines = [
        f"CamAuth forward-auth benchmark: {report.load_generator}, "
        f"{report.duration:g} s per scenario, {report.pinning}",
        "",
        head,
        "-" * len(head),
    ]
    for key in ORDER:
        if key in report.results:
            lines.append(_row(report, key))
    lines += ["", f"{'Figure':<46} {'value':>22}  {'target':<30} verdict", "-" * len(head)]
    for check in report.checks:
        lines.append(f"{check.what:<46} {check.value:>22}  {check.target:<30} {verdict(check.met)}")
    lines += ["", *NOTES]
    if report.load_generator != "wrk":
        lines.append(FALLBACK_NOTE)
    return "\n".join(lines)


def _row(report: Report, key: str) -> str:
    result = report.results[key]
    scenario, label = scenario_of(report, key)
    target, met = row_target(report, key)
    bad = result.errors + result.unexpected
    cpu = "-" if result.cpu_us is None else f"{result.cpu_us:.0f}"
    cpu_ratio = report.cpu_ratio(key)
    cpu_x = "-" if cpu_ratio is None else f"{cpu_ratio:.2f}"
    return (
        f"{label:<40} {scenario.connections:>5} {result.rps:>9.1f} {result.p50_ms:>8.2f} "
        f"{result.p99_ms:>8.2f} {report.ratio(key):>6.3f} {cpu:>6} {cpu_x:>5} "
        f"{result.status_after:>6} {bad:>4}  {target:<30} {verdict(met)}"
    )


def as_json(report: Report) -> dict[str, Any]:
    """The machine-readable results."""
    scenarios = {}
    for key in ORDER:
        if key not in report.results:
            continue
        target, met = row_target(report, key)
        scenario, label = scenario_of(report, key)
        scenarios[key] = {
            "label": label,
            "connections": scenario.connections,
            **dataclasses.asdict(report.results[key]),
            "ratio_to_bare": report.ratio(key),
            "cpu_ratio_to_bare": report.cpu_ratio(key),
            "target": target,
            "met": met,
        }
    return {
        "load_generator": report.load_generator,
        "duration": report.duration,
        "pinning": report.pinning,
        "scenarios": scenarios,
        "figures": [dataclasses.asdict(check) for check in report.checks],
    }


# --- the command --------------------------------------------------------------------------


def run_bench(args: argparse.Namespace) -> Report:
    """Start everything, measure everything, stop everything."""
    pin = Pinning.detect(not args.no_pin)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camauth-bench-")))
        print("Starting the bare server and CamAuth ...", file=sys.stderr)
        fleet = start_fleet(stack, work, pin)
        pin.pin_self()
        gen = make_generator(args.no_wrk, pin, work)
        cookie, token = login(fleet.main.port, fleet.password)
        scenarios = build_scenarios(fleet, cookie, token, args.connections, args.login_connections)
        print(f"Measuring with {gen.name}:", file=sys.stderr)
        results = run_all(gen, fleet, scenarios, args.duration)
        time.sleep(1.0)  # let the storm's queued logins drain before reading the idle RSS
        served = sum(r.requests for k, r in results.items() if not k.startswith(("ba", "th")))
        checks = start_checks(fleet) + memory_checks(fleet, served)
        return Report(gen.name, args.duration, pin.describe(), scenarios, results, checks)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m camauth.bench",
        description="Benchmark CamAuth's forward-auth against a bare aiohttp handler.",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--login-connections", type=int, default=8, help="connections for bcrypt-bound logins"
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--no-wrk", action="store_true", help="use the in-process load generator")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m camauth.bench``."""
    args = build_parser().parse_args(argv)
    if args.bare_server:
        run_bare_server(args.bare_server)
        return 0
    if args.duration <= 0 or args.connections < 1 or args.login_connections < 1:
        build_parser().error("--duration and the connection counts must be positive")
    report = run_bench(args)
    print(render(report))
    if args.json:
        print(json.dumps(as_json(report), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
