"""Keeps one CamAuth's state: the event stream while it is up, polling while it is not."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    CamAuthAuthenticationError,
    CamAuthClient,
    CamAuthError,
    CamAuthEvent,
    ConfigWarning,
    Hello,
    Stats,
    StreamMessage,
    UserActivity,
)
from .const import (
    CONNECTED_INTERVAL,
    DISCONNECTED_INTERVAL,
    DOMAIN,
    EVENT_CAMAUTH,
    LOGGER,
    RECONNECT_MAX,
    RECONNECT_MIN,
    SAFE_DETAIL_KEYS,
)

MANUFACTURER = "CamAuth"

type CamAuthConfigEntry = ConfigEntry[CamAuthData]
type EventListener = Callable[[CamAuthEvent], None]


def create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> CamAuthClient:
    """A client for the CamAuth these entry data name, on Home Assistant's shared session."""
    session = async_get_clientsession(hass, verify_ssl=data[CONF_VERIFY_SSL])
    return CamAuthClient(session, data[CONF_URL], data[CONF_API_KEY])


@dataclass(frozen=True, slots=True)
class CamAuthSnapshot:
    """What the entities show: the latest statistics and configuration warnings."""

    stats: Stats
    warnings: tuple[ConfigWarning, ...]


@dataclass(slots=True)
class CamAuthData:
    """The runtime data of a CamAuth config entry."""

    client: CamAuthClient
    coordinator: CamAuthCoordinator


class CamAuthCoordinator(DataUpdateCoordinator[CamAuthSnapshot]):
    """Follows ``/api/ws``; polls ``/api/stats`` (and warnings) while the stream is down."""

    config_entry: CamAuthConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: CamAuthConfigEntry, client: CamAuthClient
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=DISCONNECTED_INTERVAL,
        )
        self.client = client
        # Both flows set the unique id: CamAuth's instance id.
        self.instance_id = cast(str, entry.unique_id)
        self.connected = False
        self._stream: asyncio.Task[None] | None = None
        self._reconnect: CALLBACK_TYPE | None = None
        self._backoff = RECONNECT_MIN
        self._event_listeners: list[EventListener] = []

    # --- polling ----------------------------------------------------------------------------

    async def _async_update_data(self) -> CamAuthSnapshot:
        try:
            stats = await self.client.stats()
            warnings = await self.client.warnings()
        except CamAuthAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"error": str(err)},
            ) from err
        except CamAuthError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        if stats.instance_id != self.instance_id:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="wrong_instance",
                translation_placeholders={"url": self.client.url},
            )
        return CamAuthSnapshot(stats, tuple(warnings))

    # --- the event stream -------------------------------------------------------------------

    @callback
    def async_start_stream(self) -> None:
        """Open the event stream (and keep reopening it) until the entry unloads."""
        self._reconnect = None
        self._stream = self.config_entry.async_create_background_task(
            self.hass, self._follow_stream(), f"{DOMAIN} event stream"
        )

    async def _follow_stream(self) -> None:
        try:
            async for message in self.client.listen():
                self._handle_message(message)
        except CamAuthAuthenticationError as err:
            self._stream_lost()
            self.async_set_update_error(err)  # logs it, once
            self.config_entry.async_start_reauth(self.hass)
            return
        except CamAuthError as err:
            if self.connected:
                LOGGER.info("CamAuth event stream lost (%s); polling until it is back", err)
            else:
                LOGGER.debug("CamAuth event stream unavailable: %s", err)
            self._stream_lost()
        self._reconnect = async_call_later(self.hass, self._backoff, self._async_reconnect)
        self._backoff = min(self._backoff * 2, RECONNECT_MAX)
        await self.async_refresh()

    @callback
    def _stream_lost(self) -> None:
        self.connected = False
        self.update_interval = DISCONNECTED_INTERVAL

    @callback
    def _async_reconnect(self, _now: datetime) -> None:
        self.async_start_stream()

    @callback
    def _handle_message(self, message: StreamMessage) -> None:
        if isinstance(message, CamAuthEvent):
            self._handle_event(message)
            return
        if isinstance(message, Hello):
            if not self.last_update_success:
                LOGGER.info("CamAuth is reachable again")
            self.connected = True
            self._backoff = RECONNECT_MIN
            self.update_interval = CONNECTED_INTERVAL
        self.async_set_updated_data(CamAuthSnapshot(message.stats, self.data.warnings))

    @callback
    def _handle_event(self, event: CamAuthEvent) -> None:
        data: dict[str, Any] = {
            "type": event.type,
            "username": event.username,
            "client": event.client,
            "time": event.timestamp.isoformat(),
            "config_entry_id": self.config_entry.entry_id,
            "device_id": self.device_id,
        }
        data |= {key: event.detail[key] for key in SAFE_DETAIL_KEYS if key in event.detail}
        if isinstance(until := data.get("until"), int | float):
            data["until"] = datetime.fromtimestamp(until, UTC).isoformat()
        self.hass.bus.async_fire(EVENT_CAMAUTH, data)
        for listener in list(self._event_listeners):
            listener(event)
        # The figures come from /api/stats: one refresh for a burst of events.
        self.config_entry.async_create_task(
            self.hass, self.async_request_refresh(), f"{DOMAIN} refresh after event"
        )

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call ``listener`` with every CamAuth event; returns the function that stops it."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    async def async_shutdown(self) -> None:
        """Close the stream and cancel reconnects, then what the base class cancels."""
        if self._reconnect is not None:
            self._reconnect()
            self._reconnect = None
        if self._stream is not None:
            self._stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stream
            self._stream = None
        await super().async_shutdown()

    # --- devices ----------------------------------------------------------------------------

    @property
    def device_id(self) -> str | None:
        """The registry id of the CamAuth service device."""
        device = dr.async_get(self.hass).async_get_device({(DOMAIN, self.instance_id)})
        return device.id if device else None

    def user_identifier(self, user_key: str) -> tuple[str, str]:
        """The device identifier of one CamAuth user."""
        return (DOMAIN, f"{self.instance_id}_user_{user_key}")

    @property
    def device_info(self) -> DeviceInfo:
        """The CamAuth service device."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.instance_id)},
            name=self.config_entry.title,
            manufacturer=MANUFACTURER,
            model="Authentication gateway",
            sw_version=self.data.stats.version,
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=self.client.url,
        )

    def user_device_info(self, user: UserActivity) -> DeviceInfo:
        """The device of one CamAuth user, attached to the service device."""
        return DeviceInfo(
            identifiers={self.user_identifier(user.key)},
            name=user.username,
            manufacturer=MANUFACTURER,
            model=f"{user.role.capitalize()} user",
            entry_type=DeviceEntryType.SERVICE,
            via_device=(DOMAIN, self.instance_id),
        )

    def user(self, user_key: str) -> UserActivity | None:
        """The current activity of one user, or None when CamAuth no longer has them."""
        return next((u for u in self.data.stats.user_activity if u.key == user_key), None)

    def is_current_device(self, device: dr.DeviceEntry) -> bool:
        """Whether a device still stands for this CamAuth or one of its users."""
        current = {(DOMAIN, self.instance_id)} | {
            self.user_identifier(user.key) for user in self.data.stats.user_activity
        }
        return bool(device.identifiers & current)

    @callback
    def async_sync_devices(self) -> None:
        """Drop the devices of users CamAuth no longer has; keep versions and roles current."""
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            if not self.is_current_device(device):
                registry.async_update_device(device.id, remove_config_entry_id=entry_id)
            elif (DOMAIN, self.instance_id) in device.identifiers:
                registry.async_update_device(device.id, sw_version=self.data.stats.version)
        for user in self.data.stats.user_activity:
            found = registry.async_get_device({self.user_identifier(user.key)})
            if found is not None:
                registry.async_update_device(found.id, model=f"{user.role.capitalize()} user")
