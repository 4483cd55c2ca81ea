"""The proxy benchmark (``script/bench proxy``) runs and reports every front end and target."""

from __future__ import annotations

import json

import pytest

from tests.proxies.harness import require_binary

from .runner import run_bench

FRONTS = {
    "camauth": "CamAuth upstreams",
    "nginx_auth": "nginx + auth_request",
    "nginx": "nginx, no auth",
}
TARGETS = (
    "small GETs: CamAuth / nginx + auth_request",
    "streaming: CamAuth / nginx + auth_request",
    "CamAuth RSS, 3 slow clients bounded",
)


def _number(text: str) -> float:
    return float(text.strip().rstrip("x").lstrip("+"))


@pytest.mark.slow
def test_the_proxy_benchmark_runs_and_reports_every_front_end() -> None:
    """A smoke test with a tiny load: it runs and reports; its speed is never asserted.

    nginx is needed (skipped without it locally, failed under CI); without wrk the benchmark
    uses its in-process load generator, which CI then exercises.
    """
    require_binary("nginx")
    output = run_bench(
        "proxy",
        "--duration",
        "1",
        "--rounds",
        "1",
        "--large-mib",
        "2",
        "--downloads",
        "1",
        "--slow-clients",
        "3",
        "--slow-seconds",
        "0.5",
        "--json",
    )
    text, _, raw = output.partition("\n{")
    lines = text.splitlines()
    for label in FRONTS.values():  # a row in each table: small GETs, then the large answer
        rows = [line for line in lines if line.startswith(label + " ")]
        assert len(rows) == 2, label
        assert all(_number(row[34:].split()[0]) > 0 for row in rows), rows
    for target in TARGETS:
        line = next((line for line in lines if line.startswith(target)), None)
        assert line is not None, target
        assert line.split()[-1] in ("met", "MET"), line  # met or NOT MET
    report = json.loads("{" + raw)
    assert set(report["fronts"]) == set(FRONTS)
    for key, front in report["fronts"].items():
        assert front["label"] == FRONTS[key]
        assert front["small"]["rps"] > 0
        assert front["small"]["errors"] == 0
        assert front["small"]["status_after"] == 200
        assert front["large_mib_s"] > 0
        assert front["idle_rss_kb"] > 0
        assert front["slow_peak_rss_kb"] > 0
        assert front["slow_clients"]["started"] == 3
    assert [check["what"] for check in report["targets"]] == list(TARGETS)
    assert all(isinstance(check["met"], bool) for check in report["targets"])
