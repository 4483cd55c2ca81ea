"""Set-up, unload and reload of a CamAuth entry against a real CamAuth."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import coordinator_of, until


async def test_setup_unload_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.camauth_failed_logins_last_hour").state == "0"
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await until(hass, lambda: coordinator_of(entry).connected)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.camauth_failed_logins_last_hour").state == "unavailable"
