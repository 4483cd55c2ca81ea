"""The lockout-notification blueprint: valid for Home Assistant, and working end to end.

The phone is the one part a test cannot run: the blueprint's notification step is Home
Assistant's own ``mobile_app`` device action, checked here for shape and then swapped for an
event carrying the same rendered title, message and buttons. Everything else (the trigger on
a real lockout, the templates, waiting for the button, the CamAuth actions) runs as written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import Blueprint, BlueprintInputs
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from .conftest import VIEWER_PASSWORD, CamAuth, until

BLUEPRINT = Path(__file__).parents[2] / "blueprints/automation/camauth/notify_lockout.yaml"
PHONE = "0123456789abcdef0123456789abcdef"  # the device id the user picks
NOTIFIED = "camauth_test_phone_notified"
AUTOMATION = "automation.camauth_lockouts"


def _blueprint() -> Blueprint:
    return Blueprint(
        load_yaml_dict(str(BLUEPRINT)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def test_blueprint_is_valid() -> None:
    blueprint = _blueprint()
    assert blueprint.validate() is None
    assert set(blueprint.inputs) == {"notify_device", "answer_time"}
    assert blueprint.metadata["source_url"].endswith(
        "/blueprints/automation/camauth/notify_lockout.yaml"
    )


def _automation() -> dict[str, Any]:
    """The blueprint with its inputs filled in, its phone swapped for an event."""
    inputs = BlueprintInputs(
        _blueprint(),
        {
            "use_blueprint": {
                "path": "camauth/notify_lockout.yaml",
                "input": {"notify_device": PHONE},
            }
        },
    )
    inputs.validate()
    config = inputs.async_substitute()
    notify = config["actions"][1]
    assert (notify["domain"], notify["type"], notify["device_id"]) == (
        "mobile_app",
        "notify",
        PHONE,
    )
    # A device action as Home Assistant reads one, with only the fields of mobile_app's notify.
    cv.script_action(notify)
    fields = ("title", "message", "data")
    assert set(notify) == {"domain", "type", "device_id", *fields}
    config["actions"][1] = {"event": NOTIFIED, "event_data": {k: notify[k] for k in fields}}
    return {"id": "camauth_lockouts", "alias": "CamAuth lockouts"} | config


async def _lockouts(camauth: CamAuth) -> list[tuple[str, str]]:
    _, body = await camauth.call("GET", "/api/lockouts")
    return sorted((lockout["kind"], lockout["key"]) for lockout in body)


async def _press(hass: HomeAssistant, camauth: CamAuth, action: str, left: list[Any]) -> None:
    """Press a notification button (what the Companion app fires), wait for CamAuth."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    for _ in range(500):
        if await _lockouts(camauth) == left:
            return
        await asyncio.sleep(0.02)
    assert await _lockouts(camauth) == left


@pytest.fixture
async def notified(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> AsyncIterator[list[Event]]:
    """The blueprint's automation, running; the notifications it sends."""
    notified: list[Event] = async_capture_events(hass, NOTIFIED)
    assert await async_setup_component(hass, "automation", {"automation": _automation()})
    await hass.async_block_till_done()
    assert hass.states.get(AUTOMATION).state == "on"
    yield notified
    # Runs still waiting for a button end with the automation (tests skip that at shutdown).
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": AUTOMATION}, blocking=True
    )


async def test_lockout_notification_and_its_buttons(
    hass: HomeAssistant, camauth: CamAuth, notified: list[Event]
) -> None:
    for _ in range(3):
        assert await camauth.login("viewer", "wrong password") == 401
    assert await _lockouts(camauth) == [("client", "127.0.0.1"), ("username", "viewer")]
    await until(hass, lambda: len(notified) == 2, block=False)
    by_kind = {"username" if "user" in e.data["message"] else "client": e.data for e in notified}
    assert by_kind["client"]["title"] == "CamAuth lockout"
    assert by_kind["client"]["message"].endswith("locked out the address 127.0.0.1.")
    assert by_kind["username"]["message"].endswith("locked out the user viewer.")
    client_buttons = by_kind["client"]["data"]["actions"]
    user_buttons = by_kind["username"]["data"]["actions"]
    assert [button["title"] for button in client_buttons] == ["Unlock"]
    assert [button["title"] for button in user_buttons] == ["Unlock", "Revoke sessions"]
    assert len({button["action"] for button in [*client_buttons, *user_buttons]}) == 3

    await _press(hass, camauth, user_buttons[0]["action"], [("client", "127.0.0.1")])
    await _press(hass, camauth, client_buttons[0]["action"], [])


async def test_revoke_sessions_button(
    hass: HomeAssistant, camauth: CamAuth, notified: list[Event]
) -> None:
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    for _ in range(3):
        assert await camauth.login("viewer", "wrong password") == 401
    await until(hass, lambda: len(notified) == 2, block=False)
    [user] = [e.data for e in notified if "user" in e.data["message"]]
    revoked = async_capture_events(hass, "camauth_event")
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": user["data"]["actions"][1]["action"]}
    )
    await until(hass, lambda: any(e.data.get("type") == "logout" for e in revoked), block=False)
    assert (await camauth.stats())["active_sessions"] == 0
