"""The CamAuth integration: logins, failed logins and lockouts of a CamAuth gateway."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import CamAuthConfigEntry, CamAuthCoordinator, CamAuthData, create_client
from .issues import async_delete_issues, async_update_issues
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, whether or not a CamAuth is set up yet."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CamAuthConfigEntry) -> bool:
    """Connect to CamAuth, add its entities, then follow its event stream."""
    client = create_client(hass, entry.data)
    coordinator = CamAuthCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = CamAuthData(client, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    @callback
    def follow_changes() -> None:
        coordinator.async_sync_devices()
        async_update_issues(hass, entry)

    follow_changes()
    entry.async_on_unload(coordinator.async_add_listener(follow_changes))
    coordinator.async_start_stream()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CamAuthConfigEntry) -> bool:
    """Remove the entities; the coordinator closes the stream as the entry unloads."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        async_delete_issues(hass, entry)
    return unloaded


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: CamAuthConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing the device of a user CamAuth no longer has."""
    return not entry.runtime_data.coordinator.is_current_device(device)
