"""The repository's fixed files agree: add-on config, options, translations, versions, packaging."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import zlib
from importlib import metadata
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import voluptuous as vol
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

import camauth
from camauth.const import (
    DATABASE_FILE,
    DEFAULT_INGRESS_PORT,
    DEFAULT_PORT,
    JWT_SECRET_FILE,
    OPTIONS_FILE,
    VERSION,
)
from camauth.core.roles import ROLE_NAME
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


_MATCH = re.compile(r"match\((?P<pattern>.*)\)(?P<optional>\?)?")


def _check_value(typ: str, value: Any, where: str) -> list[str]:
    """Whether one default passes one Supervisor type, for the types this add-on uses."""
    pattern = _MATCH.fullmatch(typ)
    if pattern is not None:  # the Supervisor matches the regular expression against the value
        ok = isinstance(value, str) and re.match(pattern["pattern"], value) is not None
        return [] if ok else [f"{where}: {value!r} does not pass {typ!r}"]
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
    # The third level (proxy -> header_map -> user) is checked like any other.
    options = {"proxy": {"header_map": {"user": 5}}, "n": 3}
    assert _supervisor_problems(schema, options, "") == [
        "proxy.header_map.user: 5 does not pass 'str?'"
    ]


# --- config.yaml's own shape, as the Supervisor and the add-on linter read it ------------------

# A schema leaf: one of the Supervisor's types, with its optional arguments, optionally `?`.
_ELEMENT = re.compile(
    r"(?:bool|email|url|port|device(?:\(subsystem=[a-z]+\))?"
    r"|(?:str|password)(?:\(\d*,\d*\))?"
    r"|(?:int|float)(?:\(-?[\d.]*,-?[\d.]*\))?"
    r"|match\(.*\)|list\(.+\))\??"
)

# Supervisor 2025.09.1 (home-assistant/supervisor#6171, commit ac9947d5) was the first to take
# a group inside a group in `schema`. Home Assistant 2025.10.0 was published on 2025-10-01,
# when the stable channel's Supervisor was 2025.09.3 (home-assistant/version, stable.json);
# 2025.9.4, the release before, went out with Supervisor 2025.09.0, which lacks it.
NESTED_GROUPS_SINCE = "2025.10.0"


def _shape_problems(schema: dict[str, Any], *, nested_groups: bool) -> list[str]:
    """What a Supervisor refuses in the shape of a `schema`, before or after #6171.

    After: each option is a leaf, a group of options, or a list of one leaf or group (no list
    in a list), to any depth. Before: an option may be a group (or a list of groups), but such
    a group holds only leaves and lists of leaves.
    """
    problems = []
    for key, value in schema.items():
        problems += _element_problems(value, str(key), None if nested_groups else 1)
    return problems


def _element_problems(tree: Any, where: str, groups: int | None) -> list[str]:
    """One schema element; ``groups`` is how many group levels may still open (None: any)."""
    inner = None if groups is None else groups - 1
    problems = []
    if isinstance(tree, str):
        if not _ELEMENT.fullmatch(tree):
            problems.append(f"{where}: unknown type {tree!r}")
    elif isinstance(tree, list):
        if len(tree) != 1 or isinstance(tree[0], list):
            problems.append(f"{where}: a list holds exactly one leaf or group")
        else:
            problems += _element_problems(tree[0], where, groups)
    elif not isinstance(tree, dict):
        problems.append(f"{where}: {tree!r} is not a type")
    elif groups == 0:
        problems.append(f"{where}: a group inside a group needs Supervisor 2025.09.1")
    else:
        for key, value in tree.items():
            problems += _element_problems(value, f"{where}.{key}", inner)
    return problems


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_schema_shape_passes_the_supervisor_that_home_assistant_requires() -> None:
    config = _config()
    schema = config["schema"]
    assert _shape_problems(schema, nested_groups=True) == []
    needs_nested = _shape_problems(schema, nested_groups=False)
    # proxy.header_map is the one group inside a group; if it is ever flattened, the minimum
    # version should come down again.
    assert needs_nested == ["proxy.header_map: a group inside a group needs Supervisor 2025.09.1"]
    assert isinstance(config["homeassistant"], str)  # a string, as the linter wants
    assert config["homeassistant"] == NESTED_GROUPS_SINCE


def test_the_schema_shape_check_can_fail() -> None:
    three = {"proxy": {"header_map": {"user": "str?"}}}
    assert _shape_problems(three, nested_groups=True) == []
    assert _shape_problems(three, nested_groups=False) == [
        "proxy.header_map: a group inside a group needs Supervisor 2025.09.1"
    ]
    two = {"proxy": {"names": ["str"], "x": "int(1,5)?"}, "ups": [{"url": "url", "p": ["str"]}]}
    assert _shape_problems(two, nested_groups=False) == []
    assert _shape_problems({"ups": [{"a": {"b": "str"}}]}, nested_groups=False) == [
        "ups.a: a group inside a group needs Supervisor 2025.09.1"
    ]
    assert _shape_problems({"a": [["str"]], "b": "string", "c": 5}, nested_groups=True) == [
        "a: a list holds exactly one leaf or group",
        "b: unknown type 'string'",
        "c: 5 is not a type",
    ]


def test_ingress_reaches_the_services_ingress_port_and_nothing_publishes_it() -> None:
    config = _config()
    assert config["ingress"] is True
    # The Supervisor's default is 8099; the linter wants a default left out (see below).
    port = config.get("ingress_port", 8099)
    assert isinstance(port, int)
    assert not isinstance(port, bool)
    assert 1 <= port <= 65535
    assert port == DEFAULT_INGRESS_PORT
    # Only the Supervisor may reach the panel: its port is not mapped to the host.
    published = {int(str(key).split("/")[0]) for key in config["ports"]}
    assert port not in published


def test_sidebar_panel_and_home_assistant_apis() -> None:
    config = _config()
    assert re.fullmatch(r"mdi:[a-z0-9]+(?:-[a-z0-9]+)*", config["panel_icon"])
    assert config["panel_title"] == "CamAuth"
    assert config["auth_api"] is True
    assert config["hassio_api"] is True
    assert config["discovery"] == ["camauth"]
    assert "panel_admin" not in config  # the default, admins only: the panel manages users


def test_backups_keep_the_data_and_skip_only_what_sqlite_rebuilds() -> None:
    patterns = _config()["backup_exclude"]
    assert isinstance(patterns, list)
    assert patterns
    assert all(isinstance(pattern, str) and pattern.strip() for pattern in patterns)
    # The Supervisor matches each pattern with PurePath.match on the full path it sees.
    data = PurePosixPath("/data/addons/data/local_camauth")

    def excluded(name: str) -> bool:
        return any((data / name).match(pattern) for pattern in patterns)

    for kept in (DATABASE_FILE, f"{DATABASE_FILE}-wal", JWT_SECRET_FILE, OPTIONS_FILE):
        assert not excluded(kept), kept
    assert excluded(f"{DATABASE_FILE}-shm")


# What the add-on linter (frenck/action-addon-linter, config.schema.json) knows: every key it
# accepts, and the defaults it refuses to see written out ("should be removed, it uses a
# default value"). The Supervisor silently drops a key it does not know, so a misspelt
# `panel_icons` would otherwise go unnoticed.
_LINTER_DEFAULTS: dict[str, Any] = {
    "advanced": False, "apparmor": True, "audio": False, "auth_api": False, "backup": "hot",
    "boot": "auto", "devicetree": False, "docker_api": False, "full_access": False,
    "gpio": False, "hassio_api": False, "hassio_role": "default", "homeassistant_api": False,
    "host_dbus": False, "host_ipc": False, "host_network": False, "host_pid": False,
    "host_uts": False, "ingress": False, "ingress_port": 8099, "ingress_stream": False,
    "init": True, "journald": False, "kernel_modules": False, "legacy": False,
    "options": {}, "panel_admin": True, "panel_icon": "mdi:puzzle", "realtime": False,
    "schema": {}, "stage": "stable", "startup": "application", "stdin": False, "timeout": 10,
    "tmpfs": False, "uart": False, "udev": False, "ulimits": {}, "usb": False, "video": False,
}  # fmt: skip
_LINTER_KEYS = set(_LINTER_DEFAULTS) | {
    "arch", "backup_exclude", "backup_post", "backup_pre", "breaking_versions", "codenotary",
    "description", "devices", "discovery", "environment", "homeassistant", "image",
    "ingress_entry", "machine", "map", "name", "panel_title", "ports", "ports_description",
    "privileged", "services", "slug", "url", "version", "watchdog", "webui",
}  # fmt: skip


def test_config_passes_the_add_on_linters_rules() -> None:
    config = _config()
    assert set(config) <= _LINTER_KEYS
    assert {"arch", "description", "name", "slug", "version"} <= set(config)
    written_defaults = [key for key, value in _LINTER_DEFAULTS.items() if config.get(key) == value]
    assert written_defaults == []
    assert "watchdog" not in config  # obsolete: the image's HEALTHCHECK does the job
    assert "webui" not in config  # not with ingress


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
    assert checked == 5
    role = _leaves(_config()["schema"])["proxy.default_role"]
    assert role == f"match(^{ROLE_NAME.pattern}$)"  # the names a role may have


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
    with pytest.raises(ValueError, match="no writer for 'bogus'"):
        generator.stale(tmp_path)


LANGUAGES = ("de", "en", "es", "fr", "nl")


def _leaves_of(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if not isinstance(tree, dict):
        return {path: tree}
    found: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        found |= _leaves_of(value, (*path, str(key)))
    return found


def test_every_language_has_exactly_englishs_keys() -> None:
    generator = _load_generator()
    assert sorted(generator.sources()) == [f"{lang}.yaml" for lang in LANGUAGES]
    assert generator.key_differences() == []
    written = sorted(path.name for path in (ADDON / "translations").iterdir())
    assert written == [f"{lang}.yaml" for lang in LANGUAGES]


# What a translation keeps exactly as English has it: numbers, paths, header names, quoted
# examples without spaces ("1/second;5/minute;20/hour", "admin", ","), acronyms.
_LITERAL = re.compile(r'"[^"\s]+"|/[\w./-]+|\b(?:X|Remote)-[\w-]+|\b\d+\b|\b[A-Z]{3,}\b')


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_keep_names_units_and_examples(lang: str) -> None:
    english = _leaves_of(_strings())
    translated = _leaves_of(_yaml(ROOT / f"translations/{lang}.yaml"))
    for path, text in english.items():
        where = ".".join(path)
        assert isinstance(translated[path], str), where
        assert translated[path].strip(), where
        assert translated[path] != text or len(text) < 12, f"{where} is not translated"
        for literal in _LITERAL.findall(text):
            assert literal in translated[path], f"{where}: {literal} changed"


# The pages: their templates ({{t:key}}) and scripts (t("key"), t(`prefix.${…}`)) ask for
# strings by key; the words themselves live only in translations/.
STATIC = ADDON / "camauth/static"
PAGE_FILES = ["login.html", "logout.html", "panel.html", "login.js", "logout.js", "panel.js"]
_TEMPLATE_KEY = re.compile(r"\{\{t:([a-z_.]+)\}\}")
_SCRIPT_KEY = re.compile(r"\bt\(\s*\"([a-z_.]+)\"")
_SCRIPT_PREFIX = re.compile(r"\bt\(\s*`([a-z_.]+)\$\{")
# A sentence in a script's string literal: a capitalised word, then a lower-case one.
_SENTENCE = re.compile(r"""(["'`])[^"'`\n]*\b[A-Z][a-z]+ [a-z]+[^"'`\n]*\1""")


def _page_strings() -> dict[str, Any]:
    strings: dict[str, Any] = json.loads((STATIC / "i18n/en.json").read_text(encoding="utf-8"))
    return strings


def _string_at(strings: dict[str, Any], key: str) -> Any:
    node: Any = strings
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def test_every_string_the_pages_ask_for_exists() -> None:
    strings = _page_strings()
    asked = 0
    for name in PAGE_FILES:
        text = (STATIC / name).read_text(encoding="utf-8")
        for key in _TEMPLATE_KEY.findall(text) + _SCRIPT_KEY.findall(text):
            asked += 1
            assert isinstance(_string_at(strings, key), str), f"{name}: no string {key}"
        for prefix in _SCRIPT_PREFIX.findall(text):
            group, _, start = prefix.rpartition(".")
            found = _string_at(strings, group)
            assert isinstance(found, dict), f"{name}: no group {group}"
            assert any(key.startswith(start) for key in found), f"{name}: nothing at {prefix}"
    assert asked > 150


def test_the_pages_hard_code_no_words() -> None:
    """Text in the templates is a placeholder or the product's name; scripts say no sentences."""
    for name in PAGE_FILES:
        text = (STATIC / name).read_text(encoding="utf-8")
        if name.endswith(".html"):
            body = re.sub(r"<script[^>]*>.*?</script>|<!--.*?-->", "", text, flags=re.S)
            for words in re.findall(r">([^<]+)<", body):
                left = re.sub(r"\{\{[^}]*\}\}|CamAuth|[\s\u2013\u00b7]", "", words)
                assert left == "", f"{name}: {words.strip()!r} is not translated"
            for attribute in re.findall(r'(?:aria-label|title|alt|placeholder)="([^"]*)"', body):
                assert re.sub(r"\{\{[^}]*\}\}|CamAuth|[\s\u2013]", "", attribute) == "", name
        else:
            code = re.sub(r"^\s*//.*$", "", text, flags=re.M)
            found = [match.group(0) for match in _SENTENCE.finditer(code)]
            assert found == [], f"{name}: words in the script: {found}"


def test_generator_check_notices_missing_and_extra_keys(tmp_path: Path) -> None:
    generator = _load_generator()
    shutil.copytree(ROOT / "translations", tmp_path / "translations")
    assert generator.main([], root=tmp_path) == 0

    def edit(lang: str, change: Any) -> None:
        source = tmp_path / f"translations/{lang}.yaml"
        strings = yaml.safe_load(source.read_text(encoding="utf-8"))
        change(strings)
        source.write_text(yaml.safe_dump(strings, allow_unicode=True), encoding="utf-8")

    edit("de", lambda s: s["addon"]["configuration"]["auth"]["fields"].pop("enabled"))
    edit("fr", lambda s: s["addon"]["configuration"]["jwt_secret"].update(example="x"))
    edit("nl", lambda s: s["addon"]["network"].pop("8971/tcp"))
    assert generator.key_differences(tmp_path) == [
        "translations/de.yaml: addon: missing configuration.auth.fields.enabled",
        "translations/fr.yaml: addon: configuration.jwt_secret.example is not in en.yaml",
        "translations/nl.yaml: addon: missing network.8971/tcp",
    ]
    assert generator.main(["--check"], root=tmp_path) == 1
    assert generator.main([], root=tmp_path) == 1  # writes, but says what is wrong

    # Any section, not only the add-on's: one English has and a language lacks, or the reverse.
    edit("en", lambda s: s.update(panel={"title": "CamAuth"}))
    edit("es", lambda s: s.update(bot={"title": "CamAuth"}))
    differences = generator.key_differences(tmp_path)
    assert "translations/de.yaml: no 'panel' section, en.yaml has one" in differences
    assert "translations/es.yaml: 'bot' is not a section of en.yaml" in differences


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
    ingress = _config().get("ingress_port", 8099)  # the Supervisor's default
    assert " ".join(line.strip().rstrip("\\").strip() for line in command) == (
        f"exec camauth serve --data-dir /data --options /data/options.json "
        f"--host 0.0.0.0 --port {port} --ingress-port {ingress}"
    )


def _png(path: Path) -> tuple[int, int, int, int]:
    """Width, height, colour type and the top-left pixel's alpha, read with the stdlib."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path.name
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    header = data[16:29]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(kind + header)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), path.name
    chunks, offset = b"", 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            chunks += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    # The first pixel of the first row is stored as it is, whatever the row's filter.
    first_row = zlib.decompressobj().decompress(chunks, 1 + 4 * width)
    alpha = first_row[4] if colour == 6 else 255
    return width, height, colour, alpha


@pytest.mark.parametrize(("name", "size"), [("icon", (128, 128)), ("logo", (250, 100))])
def test_icon_and_logo_are_pngs_of_the_sizes_home_assistant_asks_for(
    name: str, size: tuple[int, int]
) -> None:
    png = ADDON / f"{name}.png"
    width, height, colour, corner_alpha = _png(png)
    assert (width, height) == size
    assert colour == 6  # RGBA: drawn on a transparent background
    assert corner_alpha == 0
    assert png.stat().st_size < 64 * 1024
    # Made from a source in the repository, at the same size (script/render_art.py).
    svg = (ADDON / "art" / f"{name}.svg").read_text(encoding="utf-8")
    root = re.search(r"<svg\b[^>]*>", svg)
    assert root is not None
    assert f'width="{size[0]}"' in root[0]
    assert f'height="{size[1]}"' in root[0]


def _apparmor_rules() -> tuple[str, list[str]]:
    """The profile's text and its rules (comments and blank lines dropped)."""
    text = (ADDON / "apparmor.txt").read_text(encoding="utf-8")
    rules = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not (line.lstrip().startswith("#") and "include" not in line)
    ]
    return text, rules


def test_apparmor_profile_is_the_add_ons_and_allows_only_what_camauth_needs() -> None:
    text, rules = _apparmor_rules()
    # The Supervisor reads the name from the one line starting "profile " and wants the slug.
    names = re.findall(r"^profile ([^ ]+).*$", text, re.M)
    assert names == [_config()["slug"]] == ["camauth"]
    assert rules[0] == "#include <tunables/global>"
    assert rules[1] == "profile camauth flags=(attach_disconnected,mediate_deleted) {"
    assert rules[2] == "#include <abstractions/base>"
    assert rules[-1] == "}"
    assert "apparmor" not in _config()  # on by default; this file is then the profile
    for rule in (
        "/run.sh rix,",  # the entry point, run by BusyBox's sh
        "/bin/busybox ix,",
        "/usr/local/bin/python3* ix,",
        "/usr/local/bin/camauth rix,",
        "/usr/local/lib/python3*/** r,",  # the standard library and site-packages
        "/data/** rwk,",
        "deny /data/options.json wl,",
        "/ssl/** r,",
        "network inet tcp,",
        "network inet6 tcp,",
    ):
        assert rule in rules, rule
    # Nothing that opens everything: no bare file/network/capability rule, no write outside
    # /data and /tmp (and the terminal), no execution of anything but the four programs.
    blanket = {"file,", "network,", "capability,", "mount,", "ptrace,", "signal,", "unix,"}
    assert not blanket & set(rules)
    assert not [rule for rule in rules if rule.startswith(("capability", "change_profile"))]
    paths = [rule for rule in rules if rule.startswith(("/", "owner /"))]
    writable = [rule.split()[-2] for rule in paths if "w" in rule.split()[-1]]
    assert writable == ["/data/**", "/tmp/**", "/dev/tty", "/dev/pts/*"]  # noqa: S108
    executable = [rule.split()[0] for rule in paths if "x" in rule.split()[-1]]
    assert executable == [
        "/run.sh",
        "/bin/busybox",
        "/usr/local/bin/python3*",
        "/usr/local/bin/camauth",
    ]
    assert not [rule for rule in paths if rule.split()[0] in ("/**", "/", "/usr/**")]


def test_apparmor_profile_compiles() -> None:
    parser = shutil.which("apparmor_parser") or "/usr/sbin/apparmor_parser"
    if not os.access(parser, os.X_OK):
        pytest.skip("apparmor_parser is not installed (Debian package apparmor)")
    result = subprocess.run(
        [parser, "--skip-kernel-load", "--skip-cache", "--skip-read-cache", "--quiet",
         str(ADDON / "apparmor.txt")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


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
    data.mkdir(mode=0o700)
    nothing = subprocess.run(
        [camauth_cmd, "users", "list", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert nothing.returncode == 1
    assert "no CamAuth database" in nothing.stderr
    assert list(data.iterdir()) == []  # nothing was created
    database = str(data / "camauth.db")
    create = f"import pathlib, camauth.storage.db as db; db.connect(pathlib.Path({database!r}))"
    run(python, "-c", create)  # what a first `camauth serve` does
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


# --- the image builds without a compiler ------------------------------------------------------

# The add-on's architectures as pip's platform tags name the machines.
_MACHINES = {"amd64": "x86_64", "aarch64": "aarch64"}


def _unreachable_index() -> str | None:
    """Why pip's package index cannot be reached from here, or None when it can.

    A plain TCP connect with a short timeout, in a child process (pytest-socket, loaded with
    Home Assistant's test plugin, blocks sockets in this one).
    """
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")
    hosts = [urlsplit(index).hostname or "pypi.org"]
    if hosts == ["pypi.org"]:
        hosts.append("files.pythonhosted.org")  # where PyPI's files are
    probe = (
        "import socket, sys\n"
        "for host in sys.argv[1:]:\n"
        "    socket.create_connection((host, 443), timeout=3).close()\n"
    )
    try:
        subprocess.run(
            [sys.executable, "-c", probe, *hosts], capture_output=True, check=True, timeout=15
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return f"the package index ({', '.join(hosts)}) cannot be reached from this machine"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["amd64", "aarch64"])
def test_every_dependency_has_a_musllinux_wheel(arch: str, tmp_path: Path) -> None:
    """`pip install` in the Alpine base image finds a wheel for everything: no compiler.

    pip resolves the service's dependencies and theirs for the image's Python on musl for
    this machine, accepting wheels only. Markers are evaluated on this machine, so a
    dependency only an aarch64 board would pull in is not seen here.
    """
    assert arch in _config()["arch"]
    reason = _unreachable_index()
    if reason is not None:
        pytest.skip(reason)
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG BUILD_FROM=\S+/base-python:(\d+)\.(\d+)-alpine", dockerfile, re.M)
    assert base is not None
    python = f"{base[1]}.{base[2]}"
    assert python == "3.13"
    machine = _MACHINES[arch]
    platform = f"musllinux_1_2_{machine}"  # Alpine 3.23 ships musl 1.2
    project = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = project["dependencies"]
    env = os.environ | {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet",
         "--only-binary=:all:", "--platform", platform, "--python-version", python,
         "--implementation", "cp", "--dest", str(tmp_path), *dependencies],
        capture_output=True, text=True, check=False, env=env, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]

    files = sorted(path.name for path in tmp_path.iterdir())
    assert files
    assert [name for name in files if not name.endswith(".whl")] == []
    projects = set()
    for name in files:
        project, _, _, tags = parse_wheel_filename(name)
        projects.add(project)
        fits = [
            tag
            for tag in tags
            if tag.platform == "any"
            or (tag.platform.startswith("musllinux_1_") and tag.platform.endswith(f"_{machine}"))
        ]
        assert fits, f"{name} is not a wheel for {platform}"
    declared = {canonicalize_name(Requirement(text).name) for text in dependencies}
    assert declared <= projects
    assert len(projects) > len(declared)  # their own dependencies came too


def test_every_error_code_the_api_answers_has_words_in_every_language() -> None:
    """The pages show an error by its code: none may fall back to CamAuth's English text."""
    document = json.loads((ADDON / "camauth/openapi.json").read_text(encoding="utf-8"))
    codes = set(re.findall(r'"code": "([a-z_]+)"', json.dumps(document)))
    codes |= {"internal_error", "not_found", "method_not_allowed", "body_too_large"}
    assert len(codes) > 20
    for source in sorted((ROOT / "translations").glob("*.yaml")):
        errors = _yaml(source)["pages"]["errors"]
        missing = sorted(codes - set(errors))
        assert not missing, f"{source.name} has no words for {missing}"
