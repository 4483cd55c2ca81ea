"""The layers hold: the domain and storage never import aiohttp; handlers and commands never
reach storage, only the services (CRAFT.md, "A shape that would carry the next features")."""

from __future__ import annotations

import ast
from pathlib import Path

import camauth

PACKAGE = Path(camauth.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module a source file imports (relative ones resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (PACKAGE / folder).rglob("*.py"))


def offenders(folders: tuple[str, ...], forbidden: str) -> dict[str, list[str]]:
    found = {}
    for path in sources(*folders):
        bad = sorted(
            name for name in imports_of(path) if name.split(".")[:2] == forbidden.split(".")
        )
        if forbidden == "aiohttp":
            bad = sorted(name for name in imports_of(path) if name.split(".")[0] == "aiohttp")
        if bad:
            found[str(path.relative_to(PACKAGE))] = bad
    return found


def test_the_domain_and_storage_do_not_know_http() -> None:
    assert sources("core", "storage")
    assert offenders(("core", "storage"), "aiohttp") == {}


def test_handlers_and_commands_ask_the_services_never_storage() -> None:
    assert sources("http", "cli", "supervisor")
    assert offenders(("http", "cli", "supervisor"), "camauth.storage") == {}


def test_the_rule_sees_a_violation() -> None:
    """The check itself can fail: core/services.py does import storage (as it should)."""
    assert offenders(("core",), "camauth.storage")
