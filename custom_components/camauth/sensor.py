"""CamAuth's figures: failed logins, sessions, users, lockouts and last logins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api import Stats, UserActivity
from .coordinator import CamAuthConfigEntry, CamAuthCoordinator
from .entity import CamAuthEntity, CamAuthUserEntity, async_add_user_entities

# Coordinator-based: no updates of our own to limit.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CamAuthSensorEntityDescription(SensorEntityDescription):
    """A sensor of the CamAuth service device."""

    value_fn: Callable[[Stats], StateType | datetime]
    attributes_fn: Callable[[Stats], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class CamAuthUserSensorEntityDescription(SensorEntityDescription):
    """A sensor of one user's device."""

    value_fn: Callable[[UserActivity], StateType | datetime]
    attributes_fn: Callable[[UserActivity], dict[str, Any]] | None = None


def _lockouts(stats: Stats) -> dict[str, Any]:
    return {
        "lockouts": [
            {
                "kind": lockout.kind,
                "key": lockout.key,
                "started_at": lockout.started_at.isoformat(),
                "until": lockout.until.isoformat(),
            }
            for lockout in stats.lockouts
        ]
    }


def _last_login(stats: Stats) -> dict[str, Any]:
    last = stats.last_login
    return {
        "username": last.username if last else None,
        "client": last.client if last else None,
    }


SENSORS: tuple[CamAuthSensorEntityDescription, ...] = (
    CamAuthSensorEntityDescription(
        key="failed_logins_last_hour",
        translation_key="failed_logins_last_hour",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda stats: stats.failed_logins_last_hour,
    ),
    CamAuthSensorEntityDescription(
        key="failed_logins_last_day",
        translation_key="failed_logins_last_day",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda stats: stats.failed_logins_last_day,
    ),
    CamAuthSensorEntityDescription(
        key="failed_logins_total",
        translation_key="failed_logins_total",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=False,
        value_fn=lambda stats: stats.failed_logins_total,
    ),
    CamAuthSensorEntityDescription(
        key="active_sessions",
        translation_key="active_sessions",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda stats: stats.active_sessions,
    ),
    CamAuthSensorEntityDescription(
        key="users",
        translation_key="users",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda stats: stats.users_total,
    ),
    CamAuthSensorEntityDescription(
        key="active_lockouts",
        translation_key="active_lockouts",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda stats: len(stats.lockouts),
        attributes_fn=_lockouts,
    ),
    CamAuthSensorEntityDescription(
        key="last_login",
        translation_key="last_login",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda stats: stats.last_login.timestamp if stats.last_login else None,
        attributes_fn=_last_login,
    ),
)

USER_SENSORS: tuple[CamAuthUserSensorEntityDescription, ...] = (
    CamAuthUserSensorEntityDescription(
        key="last_login",
        translation_key="user_last_login",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda user: user.last_login,
        attributes_fn=lambda user: {"client": user.last_login_client},
    ),
    CamAuthUserSensorEntityDescription(
        key="active_sessions",
        translation_key="user_active_sessions",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda user: user.active_sessions,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CamAuthConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the service's sensors now and each user's as users appear."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(CamAuthSensor(coordinator, description) for description in SENSORS)
    entry.async_on_unload(
        async_add_user_entities(
            coordinator,
            async_add_entities,
            lambda user: [
                CamAuthUserSensor(coordinator, description, user) for description in USER_SENSORS
            ],
        )
    )


class CamAuthSensor(CamAuthEntity, SensorEntity):
    """A figure of the whole CamAuth."""

    entity_description: CamAuthSensorEntityDescription

    def __init__(
        self, coordinator: CamAuthCoordinator, description: CamAuthSensorEntityDescription
    ) -> None:
        super().__init__(coordinator, description)

    @property
    def native_value(self) -> StateType | datetime:
        """The figure."""
        return self.entity_description.value_fn(self.coordinator.data.stats)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the figure has them."""
        attributes = self.entity_description.attributes_fn
        return attributes(self.coordinator.data.stats) if attributes else None


class CamAuthUserSensor(CamAuthUserEntity, SensorEntity):
    """A figure of one user."""

    entity_description: CamAuthUserSensorEntityDescription

    def __init__(
        self,
        coordinator: CamAuthCoordinator,
        description: CamAuthUserSensorEntityDescription,
        user: UserActivity,
    ) -> None:
        super().__init__(coordinator, description, user)

    @property
    def native_value(self) -> StateType | datetime:
        """The figure (None once the user is gone: the entity is unavailable then)."""
        user = self.user
        return self.entity_description.value_fn(user) if user else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, where the figure has them."""
        user, attributes = self.user, self.entity_description.attributes_fn
        return attributes(user) if user and attributes else None
