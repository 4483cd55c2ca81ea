"""What is measured, against which server, in which order."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
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


FORWARD_AUTH_KEYS = ("cookie", "bearer", "api_key", "anonymous")


@dataclass(slots=True)
class Measurements:
    """Every round's results (each scenario beside the bare handler measured just before it).

    The machine is shared: a neighbour's burst can halve any one figure. So every ratio is
    taken within a round, against the bare handler measured moments before, and the report
    shows the median over the rounds (and their range) instead of one run's luck.
    """

    rounds: list[dict[str, Result]] = field(default_factory=list)
    once: dict[str, Result] = field(default_factory=dict)  # the bcrypt-bound wrong logins

    def reference(self, key: str, number: int) -> Result:
        """The bare handler's result a scenario of a round is compared with."""
        return self.rounds[number]["bare_t" if key == "throttled" else "bare"]

    def ratios(self, key: str) -> list[float]:
        """Requests/s over the bare handler's, in each round."""
        found = []
        for number, results in enumerate(self.rounds):
            bare = self.reference(key, number).rps
            if key in results and bare:
                found.append(results[key].rps / bare)
        return found

    def cpu_ratios(self, key: str) -> list[float]:
        """The bare handler's CPU time per request over this scenario's, in each round."""
        found = []
        for number, results in enumerate(self.rounds):
            bare, this = self.reference(key, number).cpu_us, results.get(key)
            if bare and this is not None and this.cpu_us:
                found.append(bare / this.cpu_us)
        return found

    def storm_slowdowns(self) -> list[float]:
        """Forward-auth's p99 during the storm over its idle p99, in each round."""
        return [
            results["storm"].p99_ms / results["cookie"].p99_ms
            for results in self.rounds
            if "storm" in results and results["cookie"].p99_ms
        ]

    def typical(self, key: str) -> Result | None:
        """The round's result with the median ratio (the bare handler's: median req/s)."""
        if key in self.once:
            return self.once[key]
        runs = [results[key] for results in self.rounds if key in results]
        if not runs:
            return None
        if key.startswith("bare") or key == "storm_logins":
            return sorted(runs, key=lambda run: run.rps)[len(runs) // 2]
        ratios = self.ratios(key) if key != "storm" else self.storm_slowdowns()
        order = sorted(range(len(runs)), key=lambda number: ratios[number])
        return runs[order[len(order) // 2]]

    def served(self) -> int:
        """Requests the main CamAuth answered (for its memory figure)."""
        keys = (*FORWARD_AUTH_KEYS, "storm", "storm_logins")
        total = sum(r.requests for results in self.rounds for k, r in results.items() if k in keys)
        return total + sum(result.requests for result in self.once.values())


def ensure_locked_out(throttled: Scenario, seconds: float) -> None:
    """Make sure this client stays over its limit for ``seconds`` more (fail again if not)."""
    status, headers, _ = http_call(
        throttled.port,
        "POST",
        "/api/login",
        login_body(throttled.login_prefix + "probe"),
        JSON_BODY,
    )
    if status == 429 and int(headers.get("Retry-After", "0")) > seconds + 2:
        return
    print("  locking this client out on the rate-limited CamAuth ...", file=sys.stderr)
    prime_rate_limit(throttled.port, f"{throttled.login_prefix}prime-{secrets.token_hex(3)}-")


def run_all(
    gen: LoadGenerator,
    fleet: Fleet,
    scenarios: dict[str, Scenario],
    duration: float,
    rounds: int,
) -> Measurements:
    """The 429 flood first (then that server stops), warm-ups, then everything else.

    Each round measures the bare handler, then the scenarios compared with it: first the
    429 path (while the client is locked out), then forward-auth and the storm. The
    bcrypt-bound logins come last: their queued logins outlive the load generator.
    """
    measured = Measurements([{} for _ in range(rounds)])
    throttled, bare = scenarios["throttled"], scenarios["bare"]
    gen.measure(bare, WARMUP)
    for results in measured.rounds:
        ensure_locked_out(throttled, duration)
        results["bare_t"] = run_one(gen, bare, duration, fleet.bare.proc.pid)
        results["throttled"] = run_one(gen, throttled, duration, fleet.limited.proc.pid)
    stop_process(fleet.limited.proc)
    gen.measure(scenarios["cookie"], WARMUP)
    for results in measured.rounds:
        results["bare"] = run_one(gen, bare, duration, fleet.bare.proc.pid)
        for key in FORWARD_AUTH_KEYS:
            results[key] = run_one(gen, scenarios[key], duration, fleet.main.proc.pid)
        results.update(run_storm(gen, scenarios["cookie"], scenarios["storm_logins"], duration))
    measured.once["wrong"] = run_one(gen, scenarios["wrong"], duration, fleet.main.proc.pid)
    return measured
