"""Load generators: ``wrk`` (one thread on its own CPU) and an in-process aiohttp fallback."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import shutil
import subprocess  # nosec B404  # starts wrk, with fixed arguments
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp

from .model import WRONG_PASSWORD, Result, Scenario, forwarded_for, login_body, percentile
from .processes import LOADGEN_CPU, REQUEST_TIMEOUT, Pinning

MAX_REQUESTS_PER_WORKER = 2_000_000  # the fallback's bound in count, besides its deadline
STORM_LEAD = 1.0  # seconds the storm runs before, and after, the measured scenario


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
