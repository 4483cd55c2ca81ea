"""The proxy benchmark's report: three front ends side by side, and issue 12.8's targets.

Targets, as ratios within the same run: CamAuth's small GETs >= 0.5x nginx with
``auth_request`` to CamAuth; CamAuth streaming one large answer >= 0.8x nginx; CamAuth's
memory with many slow clients bounded: it must not grow with the answer's size.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import Result
from .report import FALLBACK_NOTE, Check, verdict

if TYPE_CHECKING:
    from .proxy import ProxyMeasurements

MB = 1024.0
SMALL_TARGET = 0.5  # CamAuth's small GETs over nginx + auth_request's
STREAM_TARGET = 0.8  # CamAuth's large download over nginx's
PER_CLIENT_MB = 1.0  # our reading of "bounded": each slow stream costs at most this much ...
PLATEAU = 1.10  # ... and the second half of the run peaks at most 10% above the first half
CAMAUTH, WITH_AUTH, PLAIN = "camauth", "nginx_auth", "nginx"
NOTES = (
    "x auth = req/s over nginx + auth_request's in the same round: the median of the rounds",
    "(range: lowest-highest). MiB/s = one client reading one large answer as fast as it can,",
    "the best of the downloads. RSS: CamAuth's process; nginx's master and worker (with",
    "auth_request, CamAuth answers nginx too: its memory is not counted there). Peak = the",
    "highest of the readings taken every 0.1 s while every slow client reads 4 KiB each 100 ms;",
    "after = once they are gone. All processes but the load generator share CPU 0.",
    "CPU us/req = each server process's CPU time (all threads, /proc/PID/stat) per answered",
    "small GET, in the round shown: CamAuth, nginx (master and worker), the upstream.",
)


@dataclass(slots=True)
class ProxyReport:
    """Everything a proxy run measured, and how."""

    load_generator: str
    duration: float
    pinning: str
    connections: int
    large_mib: float
    downloads: int
    slow_seconds: float
    labels: dict[str, str]
    measured: ProxyMeasurements
    camauth_hwm_kb: int | None = None

    def ratios(self, key: str, reference: str = WITH_AUTH) -> list[float]:
        """Small GETs' req/s over the reference's, in each round."""
        return [
            results[key].rps / results[reference].rps
            for results in self.measured.rounds
            if key in results and reference in results and results[reference].rps
        ]

    def ratio(self, key: str, reference: str = WITH_AUTH) -> float:
        """The median of the rounds' ratios (0 without any)."""
        found = self.ratios(key, reference)
        return statistics.median(found) if found else 0.0

    def typical_round(self, key: str) -> int:
        """The round with the median ratio (for the reference: with the median req/s)."""
        rounds = self.measured.rounds
        if key == WITH_AUTH:
            order = sorted(range(len(rounds)), key=lambda number: rounds[number][key].rps)
        else:
            ratios = self.ratios(key)
            order = sorted(range(len(rounds)), key=lambda number: ratios[number])
        return order[len(order) // 2]

    def typical(self, key: str) -> Result:
        """The small GETs' result of the typical round."""
        return self.measured.rounds[self.typical_round(key)][key]

    def cpu_us(self, key: str) -> dict[str, float]:
        """CPU time per answered request of each server process, in the typical round."""
        cpu = self.measured.cpu_us
        return cpu[self.typical_round(key)].get(key, {}) if cpu else {}

    def stream_ratio(self, key: str, reference: str = WITH_AUTH) -> float:
        """Large-download MiB/s over the reference's."""
        base = self.measured.mib_s.get(reference, 0.0)
        return self.measured.mib_s.get(key, 0.0) / base if base else 0.0

    def growth_kb(self, key: str) -> int | None:
        """Peak RSS with the slow clients over the idle RSS."""
        idle, slow = self.measured.idle_kb.get(key), self.measured.slow.get(key)
        return None if idle is None or slow is None or not slow.samples else slow.peak_kb - idle

    def bounded(self, key: str) -> bool | None:
        """Every slow client streamed to the end, memory per client small, and not creeping."""
        slow, growth = self.measured.slow.get(key), self.growth_kb(key)
        if slow is None or growth is None:
            return None
        first, second = slow.halves_kb()
        small = growth / MB <= PER_CLIENT_MB * slow.clients
        return slow.failed == 0 and small and second <= first * PLATEAU


def _mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / MB:.1f}"


def _range(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else ""


def targets(report: ProxyReport) -> list[Check]:
    """Issue 12.8's targets with their measurements and verdicts."""
    small = report.ratio(CAMAUTH)
    spread = _range(report.ratios(CAMAUTH))
    small_value = f"{small:.2f}x" + (f" ({spread})" if spread else "")
    stream = report.stream_ratio(CAMAUTH)
    checks = [
        Check(
            "small GETs: CamAuth / nginx + auth_request",
            small_value,
            f">= {SMALL_TARGET}x",
            small >= SMALL_TARGET,
        ),
        Check(
            "streaming: CamAuth / nginx + auth_request",
            f"{stream:.2f}x",
            f">= {STREAM_TARGET}x",
            stream >= STREAM_TARGET,
        ),
    ]
    slow = report.measured.slow.get(CAMAUTH)
    growth = report.growth_kb(CAMAUTH)
    if slow is not None and growth is not None:
        first, second = slow.halves_kb()
        value = f"+{growth / MB:.1f} MB, halves {_mb(first)}/{_mb(second)}"
        target = f"<= {PER_CLIENT_MB:g} MB/client, flat"
        what = f"CamAuth RSS, {slow.clients} slow clients bounded"
        checks.append(Check(what, value, target, report.bounded(CAMAUTH)))
    return checks


def figures(report: ProxyReport) -> list[Check]:
    """Other ratios and figures, without targets."""
    plain_small = report.ratio(CAMAUTH, PLAIN)
    auth_small = report.ratio(WITH_AUTH, PLAIN)
    found = [
        Check("small GETs: CamAuth / nginx without auth", f"{plain_small:.2f}x", "", None),
        Check("small GETs: nginx + auth_request / nginx", f"{auth_small:.2f}x", "", None),
        Check(
            "streaming: CamAuth / nginx without auth",
            f"{report.stream_ratio(CAMAUTH, PLAIN):.2f}x",
            "",
            None,
        ),
    ]
    if report.camauth_hwm_kb is not None:
        value = f"{report.camauth_hwm_kb / MB:.1f} MB"
        found.append(Check("CamAuth peak RSS of the run (VmHWM)", value, "", None))
    return found


def _check_lines(checks: list[Check]) -> list[str]:
    return [
        f"{check.what:<48} {check.value:>30}  {check.target:<28} {verdict(check.met)}"
        for check in checks
    ]


def _small_rows(report: ProxyReport) -> list[str]:
    head = f"{'Small GETs (GET /small)':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    head += f" {'x auth':>6} {'range':>9} {'status':>6} {'bad':>4}"
    groups = list(report.cpu_us(CAMAUTH)) if report.measured.cpu_us else []
    head += "".join(f" {name:>8}" for name in groups)
    over = f"{'CPU us/req:':>{len(head) - 9 * len(groups)}}" if groups else ""
    lines = [over, head, "-" * len(head)] if over else [head, "-" * len(head)]
    for key, label in report.labels.items():
        result = report.typical(key)
        ratio = report.ratio(key) if key != WITH_AUTH else 1.0
        spread = _range(report.ratios(key)) if key != WITH_AUTH else ""
        lines.append(
            f"{label:<34} {result.rps:>9.1f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f}"
            f" {ratio:>6.2f} {spread:>9} {result.status_after:>6}"
            f" {result.errors + result.unexpected:>4}"
            + "".join(f" {report.cpu_us(key).get(name, 0.0):>8.0f}" for name in groups)
        )
    return lines


def _stream_rows(report: ProxyReport) -> list[str]:
    clients = next(iter(report.measured.slow.values())).clients if report.measured.slow else 0
    head = f"{'Large answer (GET /large)':<34} {'MiB/s':>8} {'idle MB':>8} {'peak MB':>8}"
    head += f" {'growth':>7} {'after MB':>8} {'streams':>9} {'read MiB':>8}"
    lines = [f"{'':<34} {'best of':>8} {'RSS':>8} {f'{clients} slow':>8}", head, "-" * len(head)]
    measured = report.measured
    for key, label in report.labels.items():
        slow = measured.slow.get(key)
        growth = report.growth_kb(key)
        streams = f"{slow.started - slow.failed}/{slow.clients}" if slow else "-"
        read = f"{slow.received / 1024 / 1024:.1f}" if slow else "-"
        lines.append(
            f"{label:<34} {measured.mib_s.get(key, 0.0):>8.1f} {_mb(measured.idle_kb.get(key)):>8}"
            f" {_mb(slow.peak_kb if slow else None):>8}"
            f" {'-' if growth is None else f'{growth / MB:+.1f}':>7}"
            f" {_mb(measured.after_kb.get(key)):>8} {streams:>9} {read:>8}"
        )
    return lines


def render(report: ProxyReport) -> str:
    """The plain-text report: both tables, the targets with verdicts, other figures, notes."""
    rounds = len(report.measured.rounds)
    lines = [
        f"CamAuth built-in proxy benchmark: {report.load_generator}, {rounds} round(s) of "
        f"{report.duration:g} s, {report.connections} connections; large answer "
        f"{report.large_mib:g} MiB (best of {report.downloads} downloads), slow clients for "
        f"{report.slow_seconds:g} s; {report.pinning}",
        "",
        *_small_rows(report),
        "",
        *_stream_rows(report),
        "",
        f"{'Issue 12.8 targets':<48} {'measured':>30}  {'target':<28} verdict",
        "-" * 116,
        *_check_lines(targets(report)),
        "",
        "Other figures",
        "-" * 116,
        *_check_lines(figures(report)),
        "",
        *NOTES,
    ]
    if report.load_generator != "wrk":
        lines.append(FALLBACK_NOTE)
    return "\n".join(lines)


def as_json(report: ProxyReport) -> dict[str, Any]:
    """The machine-readable results."""
    measured = report.measured
    fronts = {}
    for key, label in report.labels.items():
        slow = measured.slow.get(key)
        fronts[key] = {
            "label": label,
            "small": dataclasses.asdict(report.typical(key)),
            "small_cpu_us_per_request": report.cpu_us(key),
            "small_ratio_to_nginx_auth": report.ratio(key),
            "small_ratios_to_nginx_auth": report.ratios(key),
            "large_mib_s": measured.mib_s.get(key),
            "idle_rss_kb": measured.idle_kb.get(key),
            "slow_peak_rss_kb": slow.peak_kb if slow else None,
            "slow_rss_samples_kb": slow.samples if slow else [],
            "after_rss_kb": measured.after_kb.get(key),
            "slow_clients": None
            if slow is None
            else {
                "clients": slow.clients,
                "started": slow.started,
                "failed": slow.failed,
                "received": slow.received,
            },
        }
    return {
        "load_generator": report.load_generator,
        "duration": report.duration,
        "rounds": len(measured.rounds),
        "connections": report.connections,
        "large_mib": report.large_mib,
        "pinning": report.pinning,
        "fronts": fronts,
        "targets": [dataclasses.asdict(check) for check in targets(report)],
        "figures": [dataclasses.asdict(check) for check in figures(report)],
    }
