"""Diagnostics: the key, tokens and addresses redacted; a snapshot of the rest."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props
from syrupy.matchers import path_type

from .conftest import VIEWER_PASSWORD, CamAuth, settle, until

# What differs from run to run: ids and times (the rest is the snapshot).
VOLATILE = props("entry_id", "created_at", "modified_at", "unique_id", "instance_id")
TIMES = path_type(
    {r".*\.(timestamp|started_at|until|last_login)": (str,), r".*\.retry_after": (int,)},
    regex=True,
    strict=False,
)


def _event_type(hass: HomeAssistant) -> str | None:
    state = hass.states.get("event.camauth_login_activity")
    return state.attributes.get("event_type") if state else None


async def test_diagnostics(
    hass: HomeAssistant,
    camauth: CamAuth,
    init_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
) -> None:
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    for _ in range(3):
        assert await camauth.login("admin", "wrong password") == 401
    await until(hass, lambda: _event_type(hass) == "lockout_started")
    await settle(hass, lambda: hass.states.get("sensor.camauth_active_lockouts").state == "2")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = str(diagnostics)
    assert camauth.api_key not in text
    assert "127.0.0.1" not in text
    assert diagnostics == snapshot(exclude=VOLATILE, matcher=TIMES)
