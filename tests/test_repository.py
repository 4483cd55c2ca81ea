"""The repository's fixed files agree: add-on config, options, translations, versions."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import voluptuous as vol
import yaml

import camauth
from camauth.const import VERSION
from camauth.options import OPTIONS_SCHEMA, Settings, parse_options

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "camauth_addon"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "script/gen_translations.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config() -> dict[str, Any]:
    return dict(yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8")))


def _schema_keys(schema: vol.Schema, prefix: str = "") -> set[str]:
    """Dotted option names of a voluptuous schema, two levels deep as the Supervisor allows."""
    keys = set()
    for marker, value in schema.schema.items():
        name = f"{prefix}{marker.schema}"
        keys.add(name)
        if isinstance(value, vol.Schema) and not prefix:
            keys |= _schema_keys(value, f"{name}.")
    return keys


def _nested_keys(tree: dict[str, Any], prefix: str = "", children: str | None = None) -> set[str]:
    keys = set()
    for name, value in tree.items():
        keys.add(f"{prefix}{name}")
        inner = value.get(children) if children and isinstance(value, dict) else value
        if isinstance(inner, dict) and not prefix:
            keys |= _nested_keys(inner, f"{name}.", children)
    return keys


def test_generated_translations_are_current() -> None:
    assert _load_generator().stale() == []


def test_config_schema_names_every_option_and_nothing_else() -> None:
    documented = _nested_keys(_config()["schema"])
    # header_map's fields are one option group the Supervisor shows as such.
    documented = {key for key in documented if not key.startswith("proxy.header_map.")}
    assert documented == _schema_keys(OPTIONS_SCHEMA)


def test_every_option_has_a_translation() -> None:
    strings = yaml.safe_load((ROOT / "translations/en.yaml").read_text(encoding="utf-8"))
    translated = _nested_keys(strings["addon"]["configuration"], children="fields")
    assert translated == _schema_keys(OPTIONS_SCHEMA)


def test_versions_move_together() -> None:
    assert _config()["version"] == VERSION == camauth.__version__


def test_addon_defaults_are_the_service_defaults() -> None:
    assert parse_options(_config()["options"]) == Settings()


def test_dockerfile_installs_the_package_the_tests_install() -> None:
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir /opt/camauth" in dockerfile
    assert "exec camauth serve --data-dir /data" in (ADDON / "run.sh").read_text(encoding="utf-8")


@pytest.mark.slow
def test_pip_install_of_the_addon_gives_a_working_command(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The dependencies (and setuptools) come from this test environment, behind the new venv's
    # own site-packages, so nothing is downloaded; the package itself is built and installed.
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "test-dependencies.pth").write_text("\n".join(sys.path[1:]) + "\n")
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run([*pip, "--no-build-isolation", str(ADDON)], check=True, timeout=600)
    camauth_cmd = str(venv / "bin/camauth")
    version = subprocess.run([camauth_cmd, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"camauth {VERSION}"
    data = tmp_path / "data"
    subprocess.run(
        [camauth_cmd, "users", "--data-dir", str(data), "add", "alice", "--generate"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = subprocess.run(
        [camauth_cmd, "users", "--data-dir", str(data), "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout == "alice\tviewer\n"
    installed = subprocess.run(
        [str(venv / "bin/python"), "-c", "import camauth, pathlib; print(camauth.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    package = Path(installed.stdout.strip()).parent
    assert package.is_relative_to(venv)  # the installed copy, not this checkout
    for shipped in ("static/login.html", "data/common-passwords.txt", "openapi.json"):
        assert (package / shipped).is_file(), shipped
