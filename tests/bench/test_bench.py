"""The benchmark (bench/, script/bench): a development tool that runs, and is never shipped."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .runner import ROOT, run_bench

ADDON = ROOT / "camauth_addon"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_nothing_in_the_add_on_imports_the_benchmark() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in ADDON.rglob("*.py")
        if any(name == "bench" or name.startswith("bench.") for name in _imported_modules(path))
    ]
    assert offenders == []
    assert not (ADDON / "camauth" / "bench.py").exists()


SCENARIOS = (
    "bare aiohttp GET /",
    "/api/auth valid cookie",
    "/api/auth Bearer token",
    "/api/auth API key",
    "/api/auth no credentials (401)",
    "POST /api/login over rate limit (429)",
    "POST /api/login wrong pw [bcrypt-bound]",
    "/api/auth valid cookie, during storm",
    "the storm: wrong pw, botnet-like",
)
TARGETS = (
    "forward-auth, valid cookie",
    "forward-auth, bearer token",
    "forward-auth, API key",
    "login over the rate limit (429, no hashing)",
    "forward-auth p99, wrong-password storm",
    "idle RSS after start",
    "idle RSS after",
    "start to healthy",
    "flood: known device's admin login",
    "flood: new device's login",
)


@pytest.mark.slow
def test_the_benchmark_runs_and_prints_every_scenario_and_verdict() -> None:
    """A smoke test: it runs and reports; what it measures is never asserted here."""
    output = run_bench("--duration", "0.3", "--rounds", "2", "--no-wrk", "--flood-give-up", "2")
    lines = output.splitlines()
    for label in SCENARIOS:
        assert any(line.lstrip().startswith(label) for line in lines), label
    section = lines[lines.index(next(line for line in lines if line.startswith("PRODUCT.md"))) :]
    for target in TARGETS:
        line = next((line for line in section if line.startswith(target)), None)
        assert line is not None, target
        assert line.split()[-1] in ("met", "MET", "-"), line  # met, NOT MET, or not measured
