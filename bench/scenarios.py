"""What is measured, against which server, in which order."""

from __future__ import annotations

import dataclasses
import secrets
import sys
from typing import Any

from .loadgen import LoadGenerator
from .model import JSON_BODY, Result, Scenario, login_body
from .processes import cpu_seconds, http_call, stop_process
from .servers import COOKIE_NAME, Credentials, Fleet, prime_rate_limit

WARMUP = 1.0

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
    fleet: Fleet, creds: Credentials, connections: int, login_connections: int
) -> dict[str, Scenario]:
    """Every scenario, in the order of the report."""
    run_id = secrets.token_hex(4)
    main, conns, logins = fleet.main.port, connections, login_connections
    limited = fleet.limited.port
    with_cookie = (("Cookie", f"{COOKIE_NAME}={creds.cookie}"),)
    with_bearer = (("Authorization", f"Bearer {creds.token}"),)
    with_key = (("X-API-Key", creds.api_key),)
    return {
        "bare": Scenario("bare", "bare aiohttp handler GET /", fleet.bare.port, "/", conns),
        "cookie": _auth("cookie", "/api/auth valid cookie", main, conns, headers=with_cookie),
        "bearer": _auth("bearer", "/api/auth Bearer token", main, conns, headers=with_bearer),
        "api_key": _auth("api_key", "/api/auth API key", main, conns, headers=with_key),
        "anonymous": _auth("anonymous", "/api/auth no credentials (401)", main, conns, expect=401),
        "throttled": _login("throttled", THROTTLED, limited, conns, f"flood-{run_id}-", 0),
        "wrong": _login("wrong", WRONG, main, logins, f"bench-{run_id}-", 11),
        "storm_logins": _login("storm_logins", STORM, main, logins, f"storm-{run_id}-", 12),
    }


def status_after(scenario: Scenario) -> int:
    """The status of one more request of the scenario."""
    if not scenario.is_login:
        return http_call(scenario.port, scenario.method, scenario.path, None, scenario.headers)[0]
    body = login_body(scenario.login_prefix + "check-1")
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
    for key in ("bare_1", "cookie", "bearer", "api_key", "anonymous", "bare_2", "wrong"):
        server = fleet.bare if key.startswith("bare") else fleet.main
        results[key] = run_one(
            gen, scenarios[key[:4] if key.startswith("bare") else key], duration, server.proc.pid
        )
    results["bare"] = best_of(results["bare_1"], results["bare_2"])
    results.update(run_storm(gen, scenarios["cookie"], scenarios["storm_logins"], duration))
    return results
