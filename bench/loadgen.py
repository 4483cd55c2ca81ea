"""Load generators: ``wrk`` (one thread on its own CPU) and an in-process aiohttp fallback."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import shutil
import signal
import subprocess  # nosec B404  # starts wrk, with fixed arguments
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp

from .model import WRONG_PASSWORD, Result, Scenario, login_body, percentile
from .processes import LOADGEN_CPU, REQUEST_TIMEOUT, Pinning

MAX_REQUESTS_PER_WORKER = 2_000_000  # the fallback's bound in count, besides its deadline
STORM_LEAD = 1.0  # seconds the storm runs before, and after, the measured scenario
COUNTED = ("200", "401", "403", "429", "other", "busy")  # answers counted by status


class Background(Protocol):
    """A load running on its own until it is stopped."""

    def stop(self) -> Result:
        """End the load now; what it measured."""
        ...


class LoadGenerator(Protocol):
    """Runs a scenario for some seconds, optionally with a storm running alongside."""

    name: str

    def measure(
        self, main: Scenario, duration: float, storm: Scenario | None = None
    ) -> tuple[Result, Result | None]:
        """The main scenario's result, and the storm's."""
        ...

    def start(self, scenario: Scenario, max_seconds: float) -> Background:
        """Start a load that runs until stopped, or for at most ``max_seconds``."""
        ...


def unexpected(scenario: Scenario, counts: dict[str, int]) -> int:
    """Answers with another status than the scenario expects."""
    answered = sum(counts.get(key, 0) for key in COUNTED if key != "busy")
    return answered - counts.get(str(scenario.expect), 0)


# --- wrk ----------------------------------------------------------------------------------


_LUA_COUNT = """
threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c200, c401, c403, c429, cother, cbusy = 0, 0, 0, 0, 0, 0 end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 403 then c403 = c403 + 1
  elseif status == 429 then
    c429 = c429 + 1
    if COUNT_BUSY and body and string.find(body, '"busy"', 1, true) then cbusy = cbusy + 1 end
  else cother = cother + 1 end
end
function done(summary, latency, requests)
  for _, name in ipairs({"200", "401", "403", "429", "other", "busy"}) do
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("c" .. name) end
    io.write("camauth-bench " .. name .. ": " .. total .. "\\n")
  end
end
"""

_LUA_LOGIN = """
n = 0
function request()
  n = n + 1
  local a = n
  if ADDRESSES > 0 then a = n % ADDRESSES end
  if NET > 0 then
    local high, low = math.floor(a / 256) % 256, a % 256
    wrk.headers["X-Forwarded-For"] = "10." .. NET .. "." .. high .. "." .. low
  end
  local name = PREFIX .. n
  if #NAMES > 0 then name = NAMES[(n % #NAMES) + 1] end
  return wrk.format(nil, nil, nil, HEAD .. name .. TAIL)
end
"""


def lua_script(scenario: Scenario) -> str:
    """A wrk script: method, headers, a login body each time, and counts of the answers."""
    lines = [f"wrk.method = {json.dumps(scenario.method)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in scenario.headers]
    lines.append(f"COUNT_BUSY = {'true' if scenario.count_busy else 'false'}")
    if scenario.delay_ms > 0:  # wrk waits this long before each request of a connection
        lines.append(f"function delay() return {scenario.delay_ms:.0f} end")
    if scenario.is_login:
        names = ", ".join(json.dumps(name) for name in scenario.usernames)
        lines.append(f"NET = {scenario.forwarded_net}")
        lines.append(f"ADDRESSES = {scenario.addresses}")
        lines.append(f"PREFIX = {json.dumps(scenario.login_prefix)}")
        lines.append(f"NAMES = {{{names}}}")
        lines.append("HEAD = " + json.dumps('{"username": "'))
        lines.append("TAIL = " + json.dumps('", "password": "' + WRONG_PASSWORD + '"}'))
        lines.append(_LUA_LOGIN)
    return "\n".join([*lines, _LUA_COUNT])


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


def parse_wrk(output: str, scenario: Scenario) -> Result:
    """Requests/sec, 50% and 99% latencies and error counts of ``wrk --latency`` (our script)."""
    counts = {key: int(_wrk_find(rf"camauth-bench {key}: (\d+)", output)) for key in COUNTED}
    sockets = re.search(r"Socket errors:([^\n]*)", output)
    errors = sum(int(n) for n in re.findall(r"\d+", sockets.group(1))) if sockets else 0
    return Result(
        rps=float(_wrk_find(r"Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_wrk_ms(_wrk_find(r"\s50%\s+(\S+)", output)),
        p99_ms=_wrk_ms(_wrk_find(r"\s99%\s+(\S+)", output)),
        requests=int(_wrk_find(r"(\d+) requests in", output)),
        errors=errors,
        unexpected=unexpected(scenario, counts),
        counts=counts,
    )


@dataclass(slots=True)
class _WrkRun:
    """A wrk process running in the background; SIGINT makes wrk stop and print its summary."""

    load: WrkLoad
    proc: subprocess.Popen[str]
    scenario: Scenario
    seconds: float

    def stop(self) -> Result:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.load.finish(self.proc, self.scenario, self.seconds)


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

    def finish(self, proc: subprocess.Popen[str], scenario: Scenario, seconds: float) -> Result:
        """Wait for wrk to end (it stops itself after ``seconds``) and parse its summary."""
        try:
            output, _ = proc.communicate(timeout=seconds + REQUEST_TIMEOUT + 10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        return parse_wrk(output, scenario)

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
            result = self.finish(self._start(main, seconds), main, seconds)
        finally:
            storm_result = None
            if background is not None and storm is not None:
                storm_result = self.finish(background, storm, seconds + 2 * lead)
        return result, storm_result

    def start(self, scenario: Scenario, max_seconds: float) -> Background:
        """Run wrk in the background, for at most ``max_seconds``."""
        seconds = max(1, math.ceil(max_seconds))
        return _WrkRun(self, self._start(scenario, seconds), scenario, seconds)


# --- the in-process fallback --------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def _count(tally: _Tally, scenario: Scenario, status: int, body: bytes) -> None:
    key = str(status) if str(status) in COUNTED else "other"
    tally.counts[key] += 1
    if status == 429 and scenario.count_busy and b'"busy"' in body:
        tally.counts["busy"] += 1


async def _worker(
    http: aiohttp.ClientSession,
    scenario: Scenario,
    deadline: float,
    tally: _Tally,
    ids: Iterator[int],
    stop: asyncio.Event,
) -> None:
    headers = dict(scenario.headers)
    for _ in range(MAX_REQUESTS_PER_WORKER):
        if time.perf_counter() >= deadline or stop.is_set():
            return
        body = None
        if scenario.is_login:
            number = next(ids)
            body = login_body(scenario.username(number))
            if scenario.forwarded_net:
                headers["X-Forwarded-For"] = scenario.address(number)
        started = time.perf_counter()
        try:
            async with http.request(scenario.method, scenario.url, headers=headers, data=body) as r:
                answer = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError):
            tally.errors += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        _count(tally, scenario, status, answer)
        if scenario.delay_ms > 0:
            await asyncio.sleep(scenario.delay_ms / 1000)


async def _cancel_on(stop: asyncio.Event, workers: list[asyncio.Task[None]]) -> None:
    """A stopped load ends at once: requests still waiting (for bcrypt) are abandoned."""
    await stop.wait()
    for worker in workers:
        worker.cancel()


async def aio_load(
    scenario: Scenario, duration: float, stop: asyncio.Event | None = None
) -> Result:
    """``connections`` concurrent keep-alive clients for ``duration`` seconds (or until stop)."""
    connector = aiohttp.TCPConnector(limit=scenario.connections)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    tally = _Tally()
    jar = aiohttp.DummyCookieJar()
    stop = stop or asyncio.Event()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=jar) as http:
        ids = itertools.count(1)
        started = time.perf_counter()
        deadline = started + duration
        workers = [
            asyncio.create_task(_worker(http, scenario, deadline, tally, ids, stop))
            for _ in range(scenario.connections)
        ]
        watcher = asyncio.create_task(_cancel_on(stop, workers))
        await asyncio.gather(*workers, return_exceptions=True)
        watcher.cancel()
        elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies)
    counts = {key: tally.counts.get(key, 0) for key in COUNTED}
    return Result(
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        requests=len(latencies),
        errors=tally.errors,
        unexpected=unexpected(scenario, counts),
        counts=counts,
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


class _AioRun:
    """The fallback's load on an event loop of its own, in a thread."""

    def __init__(self, scenario: Scenario, max_seconds: float) -> None:
        self._ready = threading.Event()
        self._result: list[Result] = []
        self._thread = threading.Thread(
            target=lambda: self._result.append(asyncio.run(self._run(scenario, max_seconds))),
            name="bench-background-load",
            daemon=True,
        )
        self._thread.start()
        self._ready.wait()

    async def _run(self, scenario: Scenario, max_seconds: float) -> Result:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        return await aio_load(scenario, max_seconds, self._stop)

    def stop(self) -> Result:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the load ended already
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=REQUEST_TIMEOUT + 10)
        if not self._result:
            raise RuntimeError("the background load did not finish")
        return self._result[0]


@dataclass(slots=True)
class AioLoad:
    """The fallback without wrk: asyncio and aiohttp in this process (itself a bottleneck)."""

    name: str = "in-process asyncio+aiohttp (wrk not used)"

    def measure(
        self, main: Scenario, duration: float, storm: Scenario | None = None
    ) -> tuple[Result, Result | None]:
        """Run the scenario (and the storm) on a fresh event loop."""
        return asyncio.run(_aio_measure(main, duration, storm))

    def start(self, scenario: Scenario, max_seconds: float) -> Background:
        """The load in a thread of this process, for at most ``max_seconds``."""
        return _AioRun(scenario, max_seconds)


def make_generator(no_wrk: bool, pin: Pinning, workdir: Path) -> LoadGenerator:
    """The wrk load generator when it is on PATH (and allowed), else the fallback."""
    wrk = None if no_wrk else shutil.which("wrk")
    return WrkLoad(wrk, pin, workdir) if wrk else AioLoad()
