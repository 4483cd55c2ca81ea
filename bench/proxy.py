"""The built-in proxy against nginx: ``script/bench proxy [options]`` (issue 12.8).

One bare aiohttp upstream (``bench.upstream``) behind three front ends, on the same
machine and the same CPU: (a) CamAuth with the upstream at ``/`` (option ``upstreams``),
(b) nginx with ``auth_request`` to CamAuth's ``/camauth/api/auth`` (the documented recipe),
(c) nginx without authentication. Each is measured alike: small GETs with a valid session
cookie (wrk, interleaved rounds, so every ratio is taken within a round), the throughput of
one large streamed answer read as fast as possible (the best of a few downloads), and the
front end's memory idle and while many slow clients each read the large answer 4 KiB every
100 ms. ``bench.proxy_report`` prints it against the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loadgen import LoadGenerator, make_generator
from .model import JSON_BODY, Result, Scenario
from .nginx import Nginx, rss_kb, start_nginx
from .processes import HOST, Headers, Pinning, cpu_seconds, http_call, proc_status_kb
from .proxy_report import ProxyReport, as_json, render
from .servers import (
    COOKIE_NAME,
    Server,
    banner_password,
    cookies_of,
    spawn,
    spawn_camauth,
    token_of,
)
from .streams import SlowRun, best_download, slow_readers
from .upstream import run_upstream_server

WARMUP = 1.0
SETTLE = 1.0  # seconds for closed connections to be let go before reading memory
CAMAUTH_HEALTH = "/camauth/api/health"  # with an upstream at /, CamAuth's own paths move


@dataclass(frozen=True, slots=True)
class Front:
    """One front end of the upstream: where to ask, with which headers, whose memory counts."""

    key: str
    label: str
    port: int
    headers: Headers
    pids: tuple[int, ...]

    def rss_kb(self) -> int | None:
        """The front end's resident memory now (nginx: master and worker)."""
        return rss_kb(list(self.pids))


@dataclass(slots=True)
class ProxyMeasurements:
    """Everything measured, by front end key."""

    rounds: list[dict[str, Result]] = field(default_factory=list)
    cpu_us: list[dict[str, dict[str, float]]] = field(default_factory=list)  # per round, front
    mib_s: dict[str, float] = field(default_factory=dict)
    idle_kb: dict[str, int | None] = field(default_factory=dict)
    after_kb: dict[str, int | None] = field(default_factory=dict)
    slow: dict[str, SlowRun] = field(default_factory=dict)


def start_upstream(
    stack: contextlib.ExitStack, work: Path, pin: Pinning, large_mib: float
) -> Server:
    """The bare upstream, in a process of its own."""
    argv = [sys.executable, "-m", "bench", "proxy", "--upstream-server", "{port}"]
    argv += ["--large-mib", f"{large_mib:g}"]
    return spawn(stack, "upstream", argv, "/small", work / "upstream.log", pin)


def camauth_options(upstream: Server) -> dict[str, Any]:
    """CamAuth serving the upstream at ``/``, trusting nginx on 127.0.0.1 for forward-auth."""
    camera = {"name": "camera", "url": f"http://{HOST}:{upstream.port}", "path": "/"}
    return {"auth": {"trusted_proxies": [f"{HOST}/32"]}, "upstreams": [camera]}


def session_cookie(port: int, password: str) -> str:
    """Log in as admin once (``/camauth/api/login``): the ``camauth_token`` cookie's value."""
    body = json.dumps({"username": "admin", "password": password})
    status, answer, raw = http_call(port, "POST", "/camauth/api/login", body, JSON_BODY)
    if status != 200:
        raise RuntimeError(f"login failed with {status}: {raw[:200]!r}")
    jar = cookies_of(answer)
    return jar[COOKIE_NAME].value if COOKIE_NAME in jar else token_of(raw)


def fronts_of(camauth: Server, nginx: Nginx, cookie: str) -> list[Front]:
    """The three front ends, in the order of the report."""
    with_cookie = (("Cookie", f"{COOKIE_NAME}={cookie}"),)
    nginx_pids = tuple(nginx.pids())
    return [
        Front("camauth", "CamAuth upstreams", camauth.port, with_cookie, (camauth.proc.pid,)),
        Front("nginx_auth", "nginx + auth_request", nginx.auth_port, with_cookie, nginx_pids),
        Front("nginx", "nginx, no auth", nginx.plain_port, (), nginx_pids),
    ]


def small_scenario(front: Front, connections: int) -> Scenario:
    """Small GETs through a front end, with its credentials."""
    label = f"{front.label} GET /small"
    return Scenario(front.key, label, front.port, "/small", connections, headers=front.headers)


def check_answers(fronts: list[Front]) -> None:
    """Every front end answers the small GET with 200 (else the figures would mean nothing)."""
    for front in fronts:
        status, _, raw = http_call(front.port, "GET", "/small", None, front.headers)
        if status != 200:
            raise RuntimeError(f"{front.label} answered {status}: {raw[:200]!r}")


def cpu_of(groups: dict[str, tuple[int, ...]]) -> dict[str, float]:
    """The CPU seconds each group of processes has used so far."""
    return {name: sum(cpu_seconds(pid) or 0.0 for pid in pids) for name, pids in groups.items()}


def measure_small(
    gen: LoadGenerator,
    fronts: list[Front],
    groups: dict[str, tuple[int, ...]],
    args: argparse.Namespace,
    into: ProxyMeasurements,
) -> None:
    """Each round: every front end one after the other (ratios are taken within a round).

    Besides wrk's figures, the CPU time per answered request of each server process
    (``groups``: CamAuth, nginx, the upstream) shows where a request's time goes.
    """
    scenarios = [small_scenario(front, args.connections) for front in fronts]
    for scenario in scenarios:
        gen.measure(scenario, WARMUP)
    for number in range(args.rounds):
        results, cpu = {}, {}
        for scenario in scenarios:
            print(f"  round {number + 1}: {scenario.label} ...", file=sys.stderr, flush=True)
            before = cpu_of(groups)
            result, _ = gen.measure(scenario, args.duration)
            after = cpu_of(groups)
            answered = max(1, result.requests)
            cpu[scenario.key] = {
                name: (after[name] - before[name]) / answered * 1e6 for name in groups
            }
            status, _, _ = http_call(scenario.port, "GET", "/small", None, scenario.headers)
            result.status_after = status
            results[scenario.key] = result
        into.rounds.append(results)
        into.cpu_us.append(cpu)


def measure_streams(fronts: list[Front], args: argparse.Namespace, into: ProxyMeasurements) -> None:
    """The fast download, then memory idle and with the slow clients, front end by front end."""
    for front in fronts:
        print(f"  {front.label}: {args.downloads} large download(s) ...", file=sys.stderr)
        into.mib_s[front.key] = best_download(front.port, "/large", front.headers, args.downloads)
    for front in fronts:
        time.sleep(SETTLE)
        into.idle_kb[front.key] = front.rss_kb()
        print(f"  {front.label}: {args.slow_clients} slow clients ...", file=sys.stderr)
        target = (front.port, "/large", front.headers)
        into.slow[front.key] = slow_readers(
            target, args.slow_clients, args.slow_seconds, front.rss_kb
        )
        time.sleep(SETTLE)
        into.after_kb[front.key] = front.rss_kb()


def run_proxy_bench(args: argparse.Namespace) -> ProxyReport:
    """Start the upstream, CamAuth and nginx; measure the three front ends; stop everything."""
    pin = Pinning.detect(not args.no_pin)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camauth-pbench-")))
        print("Starting the upstream, CamAuth and nginx ...", file=sys.stderr)
        upstream = start_upstream(stack, work, pin, args.large_mib)
        camauth = spawn_camauth(
            stack, "camauth", work / "camauth", camauth_options(upstream), pin, CAMAUTH_HEALTH
        )
        nginx = start_nginx(stack, work, pin, upstream.port, camauth.port)
        pin.pin_self()
        gen = make_generator(args.no_wrk, pin, work)
        fronts = fronts_of(
            camauth, nginx, session_cookie(camauth.port, banner_password(camauth.log))
        )
        check_answers(fronts)
        print(f"Measuring with {gen.name}:", file=sys.stderr)
        measured = ProxyMeasurements()
        groups = {
            "CamAuth": (camauth.proc.pid,),
            "nginx": tuple(nginx.pids()),
            "upstream": (upstream.proc.pid,),
        }
        measure_small(gen, fronts, groups, args, measured)
        measure_streams(fronts, args, measured)
        camauth_peak = proc_status_kb(camauth.proc.pid, "VmHWM")
        return ProxyReport(
            load_generator=gen.name,
            duration=args.duration,
            pinning=pin.describe(),
            connections=args.connections,
            large_mib=args.large_mib,
            downloads=args.downloads,
            slow_seconds=args.slow_seconds,
            labels={front.key: front.label for front in fronts},
            measured=measured,
            camauth_hwm_kb=camauth_peak,
        )


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``script/bench proxy``."""
    parser = argparse.ArgumentParser(
        prog="script/bench proxy",
        description="Benchmark CamAuth's built-in proxy against nginx (with and without "
        "auth_request to CamAuth), in front of one bare aiohttp upstream.",
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of small GETs; the report shows medians"
    )
    parser.add_argument("--connections", type=int, default=64, help="connections for small GETs")
    parser.add_argument(
        "--large-mib", type=float, default=256.0, help="size of the large streamed answer, MiB"
    )
    parser.add_argument("--downloads", type=int, default=3, help="large downloads; the best counts")
    parser.add_argument("--slow-clients", type=int, default=200, help="concurrent slow readers")
    parser.add_argument(
        "--slow-seconds", type=float, default=30.0, help="how long the slow clients read"
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--no-wrk", action="store_true", help="use the in-process load generator")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--upstream-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str]) -> int:
    """``script/bench proxy [options]``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.upstream_server:
        run_upstream_server(args.upstream_server, args.large_mib)
        return 0
    positive = (args.duration, args.large_mib, args.slow_seconds)
    counts = (args.connections, args.rounds, args.downloads, args.slow_clients)
    if min(positive) <= 0 or min(counts) < 1:
        parser.error("durations, sizes, rounds and counts must be positive")
    report = run_proxy_bench(args)
    print(render(report))
    if args.json:
        print(json.dumps(as_json(report), indent=2))
    return 0
