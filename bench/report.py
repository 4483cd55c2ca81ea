"""The report: every figure next to its PRODUCT.md target, with a verdict."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .model import Result, Scenario
from .processes import proc_status_kb
from .servers import Fleet

MB = 1024.0

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
