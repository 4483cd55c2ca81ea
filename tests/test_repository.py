"""The repository's fixed files agree: add-on config, options, translations, versions, packaging."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import voluptuous as vol
import yaml
from packaging.requirements import Requirement

import camauth
from camauth.const import DEFAULT_PORT, VERSION
from camauth.options import OPTIONS_SCHEMA, Settings, parse_options

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "camauth_addon"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "camauth_gen_translations", ROOT / "script/gen_translations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _config() -> dict[str, Any]:
    return dict(_yaml(ADDON / "config.yaml"))


def _strings() -> dict[str, Any]:
    return dict(_yaml(ROOT / "translations/en.yaml"))


# --- option names, as the service, the Supervisor and the translations spell them -------------


def _option_names(schema: vol.Schema, prefix: str = "") -> set[str]:
    """Dotted names of every option the service accepts, groups and their members alike."""
    names = set()
    for marker, value in schema.schema.items():
        name = f"{prefix}{marker.schema}"
        names.add(name)
        if isinstance(value, vol.Schema):
            names |= _option_names(value, f"{name}.")
    return names


def _schema_names(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted names in config.yaml's schema (a list holds its element's type: a leaf)."""
    names = set()
    for name, value in tree.items():
        names.add(f"{prefix}{name}")
        if isinstance(value, dict):
            names |= _schema_names(value, f"{prefix}{name}.")
    return names


def _translated_names(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted names in a Supervisor ``configuration`` translation (groups nest in ``fields``)."""
    names = set()
    for name, entry in tree.items():
        names.add(f"{prefix}{name}")
        if isinstance(entry, dict) and isinstance(entry.get("fields"), dict):
            names |= _translated_names(entry["fields"], f"{prefix}{name}.")
    return names


def _translation_entries(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    entries = {}
    for name, entry in tree.items():
        entries[f"{prefix}{name}"] = entry
        if isinstance(entry, dict) and isinstance(entry.get("fields"), dict):
            entries |= _translation_entries(entry["fields"], f"{prefix}{name}.")
    return entries


def test_config_schema_names_every_option_and_nothing_else() -> None:
    assert _schema_names(_config()["schema"]) == _option_names(OPTIONS_SCHEMA)


def test_config_defaults_name_only_options_of_the_schema() -> None:
    assert _schema_names(_config()["options"]) <= _schema_names(_config()["schema"])


def test_every_option_has_a_translation_and_nothing_else_has_one() -> None:
    configuration = _strings()["addon"]["configuration"]
    assert _translated_names(configuration) == _option_names(OPTIONS_SCHEMA)
    for name, entry in _translation_entries(configuration).items():
        assert isinstance(entry, dict), name
        assert isinstance(entry.get("name"), str), name  # the Supervisor requires a name
        assert entry["name"].strip(), name
        assert isinstance(entry.get("description"), str), name
        assert entry["description"].strip(), name


def test_every_port_is_described_and_translated() -> None:
    config = _config()
    assert set(config["ports"]) == {f"{DEFAULT_PORT}/tcp"}
    assert set(config["ports_description"]) == set(config["ports"])
    assert set(_strings()["addon"]["network"]) == set(config["ports"])


# --- the Supervisor's view of the defaults --------------------------------------------------

_TYPE = re.compile(r"(?P<kind>bool|str|password|int|list)(?:\((?P<args>[^)]*)\))?(?P<optional>\?)?")


def _check_value(typ: str, value: Any, where: str) -> list[str]:
    """Whether one default passes one Supervisor type, for the types this add-on uses."""
    match = _TYPE.fullmatch(typ)
    if match is None:
        return [f"{where}: type {typ!r} is not one this test knows"]
    kind, args = match["kind"], match["args"]
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("str", "password"):
        ok = isinstance(value, str)
    elif kind == "list":
        ok = isinstance(value, str) and value in (args or "").split("|")
    else:
        low, _, high = (args or ",").partition(",")
        ok = (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (not low or value >= int(low))
            and (not high or value <= int(high))
        )
    return [] if ok else [f"{where}: {value!r} does not pass {typ!r}"]


def _supervisor_problems(schema: dict[str, Any], options: dict[str, Any], prefix: str) -> list[str]:
    """What the Supervisor would refuse in these options.

    It refuses a value of the wrong type, and a schema entry without a value unless its type
    ends in ``?``; a nested group is never optional, so even an empty one needs a default.
    """
    problems = [f"{prefix}{key}: not in the schema" for key in options if key not in schema]
    for key, typ in schema.items():
        where = f"{prefix}{key}"
        if key not in options:
            element = typ[0] if isinstance(typ, list) and typ else typ
            if not (isinstance(element, str) and element.endswith("?")):
                problems.append(f"{where}: required by the schema but has no default")
            continue
        value = options[key]
        if isinstance(typ, dict):
            if not isinstance(value, dict):
                problems.append(f"{where}: expected a group")
            else:
                problems += _supervisor_problems(typ, value, f"{where}.")
        elif isinstance(typ, list):
            if not isinstance(value, list):
                problems.append(f"{where}: expected a list")
            else:
                for item in value:
                    problems += _check_value(typ[0], item, where)
        else:
            problems += _check_value(typ, value, where)
    return problems


def test_addon_defaults_pass_the_supervisor_schema() -> None:
    config = _config()
    assert _supervisor_problems(config["schema"], config["options"], "") == []


def test_the_supervisor_check_of_this_test_can_fail() -> None:
    schema = {"proxy": {"header_map": {"user": "str?"}, "separator": "str?"}, "n": "int(1,5)"}
    assert _supervisor_problems(schema, {"proxy": {}, "n": 3}, "") == [
        "proxy.header_map: required by the schema but has no default"
    ]
    assert _supervisor_problems(schema, {"proxy": {"header_map": {}}, "n": 9}, "") == [
        "n: 9 does not pass 'int(1,5)'"
    ]


def _validator(dotted: str) -> Any:
    validator: Any = OPTIONS_SCHEMA
    for part in dotted.split("."):
        validator = next(v for m, v in validator.schema.items() if m.schema == part)
    return validator


def _find(validator: Any, kind: type) -> Any:
    if isinstance(validator, kind):
        return validator
    for inner in getattr(validator, "validators", ()):
        found = _find(inner, kind)
        if found is not None:
            return found
    return None


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    leaves = {}
    for name, value in tree.items():
        if isinstance(value, dict):
            leaves |= _leaves(value, f"{prefix}{name}.")
        else:
            leaves[f"{prefix}{name}"] = value
    return leaves


def test_supervisor_bounds_and_choices_are_the_services() -> None:
    checked = 0
    for name, typ in _leaves(_config()["schema"]).items():
        match = _TYPE.fullmatch(typ) if isinstance(typ, str) else None
        if match is None or match["kind"] not in ("int", "list"):
            continue
        if match["kind"] == "int":
            bounds = _find(_validator(name), vol.Range)
            low, _, high = match["args"].partition(",")
            supervisor = tuple(int(bound) if bound else None for bound in (low, high))
            assert (bounds.min, bounds.max) == supervisor, name
        else:
            choices = _find(_validator(name), vol.In)
            assert tuple(choices.container) == tuple(match["args"].split("|")), name
        checked += 1
    assert checked == 6


def test_addon_defaults_are_the_service_defaults() -> None:
    assert parse_options(_config()["options"]) == Settings()


def test_versions_move_together() -> None:
    manifest = json.loads((ROOT / "custom_components/camauth/manifest.json").read_text())
    assert _config()["version"] == VERSION == camauth.__version__ == manifest["version"]


# --- translations ---------------------------------------------------------------------------


def test_generated_translations_are_current() -> None:
    assert _load_generator().stale() == []


def test_generator_check_notices_edits_and_orphans(tmp_path: Path) -> None:
    generator = _load_generator()
    shutil.copytree(ROOT / "translations", tmp_path / "translations")
    assert generator.main([], root=tmp_path) == 0
    assert generator.main(["--check"], root=tmp_path) == 0
    written = tmp_path / "camauth_addon/translations/en.yaml"
    assert written.read_text(encoding="utf-8").startswith(
        "# Generated from translations/en.yaml by script/gen_translations.py: do not edit.\n"
    )
    written.write_text(written.read_text(encoding="utf-8") + "# hand edit\n", encoding="utf-8")
    assert generator.stale(tmp_path) == [written]
    assert generator.main(["--check"], root=tmp_path) == 1
    orphan = tmp_path / "camauth_addon/translations/xx.yaml"
    orphan.write_text("configuration: {}\n", encoding="utf-8")
    assert generator.main([], root=tmp_path) == 0
    assert not orphan.exists()
    assert generator.main(["--check"], root=tmp_path) == 0
    # The integration's strings: its translations, and strings.json for English only.
    integration = tmp_path / "custom_components/camauth"
    assert (integration / "strings.json").read_text(encoding="utf-8") == (
        integration / "translations/en.json"
    ).read_text(encoding="utf-8")
    assert (
        json.loads((integration / "strings.json").read_text(encoding="utf-8"))
        == (_strings()["integration"])
    )
    stray = integration / "translations/xx.json"
    stray.write_text("{}", encoding="utf-8")
    assert generator.stale(tmp_path) == [stray]
    # A section with no writer is refused, not silently dropped.
    source = tmp_path / "translations/en.yaml"
    source.write_text(source.read_text(encoding="utf-8") + "bogus: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"en\.yaml: needs every section"):
        generator.stale(tmp_path)
    other = tmp_path / "translations/xx.yaml"
    other.write_text("bogus: {}\n", encoding="utf-8")
    source.write_text(source.read_text(encoding="utf-8").replace("bogus: {}\n", ""))
    with pytest.raises(ValueError, match="no writer for 'bogus'"):
        generator.stale(tmp_path)


# --- the image -------------------------------------------------------------------------------


def test_dockerfile_and_build_yaml_name_the_same_python_base() -> None:
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(
        r"^ARG BUILD_FROM=ghcr\.io/home-assistant/base-python:(\S+)$", dockerfile, re.M
    )
    assert match is not None
    tag = match[1]
    assert re.search(r"^FROM \$\{BUILD_FROM\}$", dockerfile, re.M)
    build_from = _yaml(ADDON / "build.yaml")["build_from"]
    assert set(build_from) == set(_config()["arch"]) == {"aarch64", "amd64"}
    for arch, image in build_from.items():
        assert image == f"ghcr.io/home-assistant/{arch}-base-python:{tag}"


def test_dockerfile_installs_the_package_the_tests_install() -> None:
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install --no-cache-dir /opt/camauth$", dockerfile, re.M)
    copied = {
        source
        for line in re.findall(r"^COPY (.+) /opt/camauth/?\S*$", dockerfile, re.M)
        for source in line.split()
    }
    project = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # Everything the build reads: the project file, its readme and the package.
    assert {"pyproject.toml", project["readme"], "camauth"} <= copied
    assert re.search(r"^ENV CAMAUTH_DATA_DIR=/data$", dockerfile, re.M)


def test_run_script_execs_the_service_on_the_addon_port() -> None:
    run = ADDON / "run.sh"
    assert os.access(run, os.X_OK)
    lines = run.read_text(encoding="utf-8").splitlines()
    # init: false means no s6, so with-contenv would find no environment to hand on.
    assert lines[0] == "#!/bin/sh"
    assert _config()["init"] is False
    command = [line for line in lines if not line.startswith("#") and line.strip()]
    port = int(next(iter(_config()["ports"])).split("/")[0])
    assert command == [
        f"exec camauth serve --data-dir /data --options /data/options.json "
        f"--host 0.0.0.0 --port {port}"
    ]


def test_repository_metadata() -> None:
    repository = _yaml(ROOT / "repository.yaml")
    assert repository["name"] == "CamAuth add-ons"
    assert repository["url"] == _config()["url"] == "https://github.com/camauth/camauth"
    assert repository["maintainer"]


# --- pip install ./camauth_addon -------------------------------------------------------------


def _distributions(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions these requirements need, their own needs included."""
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = requirement.name.lower().replace("_", "-")
        if key in found:
            continue
        found[key] = metadata.distribution(requirement.name)
        todo += [Requirement(text) for text in found[key].requires or []]
    return list(found.values())


def _copy_distributions(distributions: list[metadata.Distribution], target: Path) -> None:
    """Copy each distribution's files (packages, modules, metadata) into one directory."""
    target.mkdir()
    for distribution in distributions:
        tops = {
            file.parts[0]
            for file in distribution.files or []
            if file.parts[0] not in ("..", "__pycache__") and not file.parts[0].endswith(".pth")
        }
        for top in tops:
            source = Path(str(distribution.locate_file(top)))
            if source.is_dir():
                shutil.copytree(source, target / top, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, target / top)


@pytest.mark.slow
def test_pip_install_of_the_addon_gives_a_working_command(tmp_path: Path) -> None:
    # A copy, so the build leaves nothing in the checkout and no stale build/ can leak in.
    source = tmp_path / "camauth_addon"
    shutil.copytree(
        ADDON, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    pyproject = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    # The new environment sees exactly the declared dependencies (and what they need) and the
    # build backend, copied from this test environment: pip checks them itself (no --no-deps)
    # and downloads nothing (--no-index), so a dependency missing from pyproject.toml fails
    # the install or the imports below.
    needed = pyproject["project"]["dependencies"] + pyproject["build-system"]["requires"]
    deps = tmp_path / "deps"
    _copy_distributions(_distributions(needed), deps)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "camauth-test-deps.pth").write_text(f"{deps}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    python = str(venv / "bin/python")

    def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env=env,
            timeout=600,
        )

    installed = run(
        python, "-m", "pip", "install", "--no-index", "--no-build-isolation", str(source)
    )
    assert "Successfully installed camauth-" in installed.stdout
    assert "Requirement already satisfied: aiohttp" in installed.stdout

    camauth_cmd = str(venv / "bin/camauth")
    assert run(camauth_cmd, "--version").stdout == f"camauth {VERSION}\n"
    data = tmp_path / "data"
    added = run(camauth_cmd, "users", "--data-dir", str(data), "add", "alice", "--generate")
    assert added.stdout.startswith("Generated password for alice: ")
    bob = ["add", "bob", "--role", "admin", "--password-stdin"]
    run(camauth_cmd, "users", "--data-dir", str(data), *bob, stdin="a long unusual passphrase\n")
    listed = run(camauth_cmd, "users", "--data-dir", str(data), "list")
    assert listed.stdout == "alice\tviewer\nbob\tadmin\n"

    # Every module imports with only the declared dependencies in reach, from the installed
    # copy (not this checkout), and the package carries its data files.
    probe = (
        "import importlib, pathlib, pkgutil, camauth\n"
        "for m in pkgutil.walk_packages(camauth.__path__, 'camauth.'):\n"
        "    if m.name != 'camauth.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "print(pathlib.Path(camauth.__file__).parent)\n"
    )
    package = Path(run(python, "-c", probe).stdout.strip())
    assert package.is_relative_to(venv)
    for shipped in ("static/login.html", "data/common-passwords.txt", "openapi.json", "py.typed"):
        assert (package / shipped).is_file(), shipped


def _shim(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "python3.13"
    shim.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    shim.chmod(0o755)
    return shim


def test_find_python_skips_a_broken_shim(tmp_path: Path) -> None:
    broken = _shim(tmp_path / "broken", "echo 'pyenv: python3.13: command not found' >&2; exit 127")
    working = _shim(tmp_path / "working", f'exec "{sys.executable}" "$@"')
    path = f"{broken.parent}:{working.parent}:/usr/bin:/bin"
    env = {**os.environ, "PATH": path, "PYTHON": str(broken)}
    found = subprocess.run(
        [str(ROOT / "script/find-python")], env=env, capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(working)
    assert "is not a working Python 3.13" in found.stderr


def test_find_python_refuses_another_version(tmp_path: Path) -> None:
    other = _shim(tmp_path / "other", 'exec /usr/bin/python3 "$@"')  # Debian's 3.11
    env = {**os.environ, "PATH": f"{other.parent}:/usr/bin:/bin", "PYTHON": str(other)}
    found = subprocess.run(
        [str(ROOT / "script/find-python")], env=env, capture_output=True, text=True, check=False
    )
    assert found.stdout.strip() != str(other)
