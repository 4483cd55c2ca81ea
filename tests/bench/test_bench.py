"""The benchmark (bench/, script/bench): a development tool that runs, and is never shipped."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
