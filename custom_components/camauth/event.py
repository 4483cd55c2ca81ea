"""The "login activity" event entity: CamAuth's events for automations built in the UI."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CamAuthEvent
from .const import ACTIVITY_EVENT_TYPES
from .coordinator import CamAuthConfigEntry
from .entity import CamAuthEntity

# Coordinator-based: no updates of our own to limit.
PARALLEL_UPDATES = 0

LOGIN_ACTIVITY = EventEntityDescription(
    key="login_activity",
    translation_key="login_activity",
    event_types=ACTIVITY_EVENT_TYPES,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CamAuthConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the login activity entity."""
    async_add_entities([CamAuthLoginActivity(entry.runtime_data.coordinator, LOGIN_ACTIVITY)])


class CamAuthLoginActivity(CamAuthEntity, EventEntity):
    """Logins, failures, lockouts, logouts and password changes as they happen."""

    async def async_added_to_hass(self) -> None:
        """Follow CamAuth's events."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self._handle_event))

    @callback
    def _handle_event(self, event: CamAuthEvent) -> None:
        if event.type not in self.event_types:
            return
        self._trigger_event(event.type, {"username": event.username, "client": event.client})
        self.async_write_ha_state()
