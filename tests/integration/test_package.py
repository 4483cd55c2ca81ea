"""The integration's fixed files agree with its code and with Home Assistant's rules
(what hassfest would check for a core integration, as far as a custom one can be)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.core import HomeAssistant
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component

from custom_components.camauth.binary_sensor import BINARY_SENSORS, USER_BINARY_SENSORS
from custom_components.camauth.const import DOMAIN, PASSWORD_REFUSALS
from custom_components.camauth.event import LOGIN_ACTIVITY
from custom_components.camauth.issues import GENERIC_WARNING, KNOWN_WARNINGS
from custom_components.camauth.sensor import SENSORS, USER_SENSORS

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "custom_components/camauth"
# Home Assistant 2026.2's Integration Quality Scale.
RULES = {
    "bronze": [
        "action-setup", "appropriate-polling", "brands", "common-modules",
        "config-flow-test-coverage", "config-flow", "dependency-transparency", "docs-actions",
        "docs-high-level-description", "docs-installation-instructions",
        "docs-removal-instructions", "entity-event-setup", "entity-unique-id",
        "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
        "docs-installation-parameters", "entity-unavailable", "integration-owner",
        "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    ],
    "gold": [
        "devices", "diagnostics", "discovery-update-info", "discovery", "docs-data-update",
        "docs-examples", "docs-known-limitations", "docs-supported-devices",
        "docs-supported-functions", "docs-troubleshooting", "docs-use-cases",
        "dynamic-devices", "entity-category", "entity-device-class",
        "entity-disabled-by-default", "entity-translations", "exception-translations",
        "icon-translations", "reconfiguration-flow", "repair-issues", "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}  # fmt: skip


def _json(name: str) -> Any:
    return json.loads((PACKAGE / name).read_text(encoding="utf-8"))


def _strings() -> Any:
    return _json("strings.json")


def test_manifest() -> None:
    manifest = _json("manifest.json")
    assert manifest["domain"] == DOMAIN
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] == "service"
    assert manifest["requirements"] == []  # nothing beyond what Home Assistant ships
    assert manifest["codeowners"]
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://github.com/camauth/camauth")
    # hassfest's order: domain, name, then the rest alphabetically.
    assert list(manifest) == ["domain", "name", *sorted(set(manifest) - {"domain", "name"})]


def test_hacs() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert hacs["name"] == _json("manifest.json")["name"]
    assert hacs["homeassistant"] == "2026.2.0"
    assert [path.name for path in (ROOT / "custom_components").iterdir()] == [DOMAIN]


def test_quality_scale_is_platinum_rule_by_rule() -> None:
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]
    assert set(rules) == {rule for tier in RULES.values() for rule in tier}
    for name, rule in rules.items():
        if isinstance(rule, str):
            assert rule == "done", name
        else:
            assert rule["status"] in ("done", "exempt"), name
            assert rule["comment"].strip(), name


def test_brand_images() -> None:
    for name in ("icon.png", "icon@2x.png", "logo.png", "logo@2x.png"):
        assert (PACKAGE / "brand" / name).read_bytes().startswith(b"\x89PNG"), name


def _translation_keys_in_code() -> set[str]:
    source = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.glob("*.py"))
    return set(re.findall(r'translation_key="([a-z_]+)"', source))


def test_every_exception_and_issue_has_its_text() -> None:
    strings = _strings()
    entity_keys = {
        description.translation_key
        for description in (*SENSORS, *USER_SENSORS, *BINARY_SENSORS, *USER_BINARY_SENSORS)
    } | {LOGIN_ACTIVITY.translation_key}
    used = _translation_keys_in_code() - entity_keys
    assert used <= set(strings["exceptions"])
    # CamAuth's password refusals, in the actions' errors and in the repair dialog.
    assert set(strings["exceptions"]) >= PASSWORD_REFUSALS
    fix_errors = strings["issues"]["admin_password_generated"]["fix_flow"]["error"]
    assert PASSWORD_REFUSALS | {"password_rejected"} <= set(fix_errors)
    issues = {"admin_password_generated", "auth_disabled", GENERIC_WARNING, *KNOWN_WARNINGS}
    assert issues == set(strings["issues"])
    assert {"description"} <= set(strings["issues"]["auth_disabled"])
    for key, text in strings["exceptions"].items():
        assert text["message"].strip(), key


@pytest.mark.parametrize(
    ("platform", "descriptions"),
    [
        ("sensor", (*SENSORS, *USER_SENSORS)),
        ("binary_sensor", (*BINARY_SENSORS, *USER_BINARY_SENSORS)),
        ("event", (LOGIN_ACTIVITY,)),
    ],
)
def test_every_entity_has_a_name_and_an_icon(platform: str, descriptions: Any) -> None:
    names = _strings()["entity"][platform]
    icons = _json("icons.json")["entity"][platform]
    keys = {description.translation_key for description in descriptions}
    assert keys == set(names) == set(icons)
    for key in keys:
        assert names[key]["name"].strip()


async def test_actions_are_described_translated_and_have_icons(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    described = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    strings = _strings()["services"]
    icons = _json("icons.json")["services"]
    assert registered == set(described) == set(strings) == set(icons)
    for service, spec in described.items():
        assert set(spec["fields"]) == set(strings[service]["fields"]), service
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    assert set(descriptions["unlock"]["fields"]) == {
        "config_entry_id",
        "username",
        "address",
        "all",
    }
    # What Home Assistant shows, from translations/en.json.
    translated = await async_get_translations(hass, "en", "services", {DOMAIN})
    assert translated[f"component.{DOMAIN}.services.reset_password.name"] == "Reset password"
    assert translated[f"component.{DOMAIN}.services.unlock.fields.address.name"] == "Address"


def test_event_types_are_translated() -> None:
    event = _strings()["entity"]["event"]["login_activity"]
    assert list(event["state_attributes"]["event_type"]["state"]) == LOGIN_ACTIVITY.event_types


def test_translations_share_english_keys() -> None:
    english = _strings()

    def keys(tree: Any, prefix: str = "") -> set[str]:
        if not isinstance(tree, dict):
            return {prefix}
        return {k for name, value in tree.items() for k in keys(value, f"{prefix}.{name}")}

    for path in sorted((PACKAGE / "translations").glob("*.json")):
        translated = json.loads(path.read_text(encoding="utf-8"))
        assert keys(translated) == keys(english), path.name
        for placeholder_source, text in _leaves(english).items():
            wanted = set(re.findall(r"\{(\w+)\}", text))
            found = set(re.findall(r"\{(\w+)\}", _leaves(translated)[placeholder_source]))
            assert found == wanted, (path.name, placeholder_source)


def _leaves(tree: Any, prefix: str = "") -> dict[str, str]:
    if not isinstance(tree, dict):
        return {prefix: str(tree)}
    leaves: dict[str, str] = {}
    for name, value in tree.items():
        leaves |= _leaves(value, f"{prefix}.{name}")
    return leaves
